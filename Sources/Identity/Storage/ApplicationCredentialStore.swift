import SQLKit
import StratusCore
import StratusStorage

/// An application credential as stored in `application_credential`, with the ids of the roles
/// it delegates (`application_credential_role`).
struct ApplicationCredentialRecord: Sendable, Equatable {
    var id: String
    var name: String
    /// bcrypt hash of the secret (the secret itself is shown once, at creation).
    var secretHash: String
    var description: String?
    var userID: String
    var projectID: String?
    /// Microseconds since the epoch; nil when it never expires.
    var expiresAt: Int64?
    var unrestricted: Bool
    var createdAt: Int64
    /// The delegated roles' ids, sorted.
    var roleIDs: [String] = []
}

/// Application credentials and the roles they delegate.
struct ApplicationCredentialStore: Sendable {
    /// One `application_credential` row; a missing or mistyped column throws.
    struct Row: Decodable {
        var id: String
        var name: String
        var secretHash: String
        var description: String?
        var userId: String
        var projectId: String?
        var expiresAt: Int64?
        var unrestricted: Bool
        var createdAt: Int64
    }

    /// A delegated role as the API shows it.
    struct RoleRow: Decodable, Sendable, Equatable {
        var id: String
        var name: String
        var description: String?
    }

    /// The credential with `id` (any user's); `IdentityError.notFound(kind: "application credential")` when absent.
    func get(_ id: String, in sql: any SQLDatabase) async throws -> ApplicationCredentialRecord {
        guard let row = try await sql.select().column("*").from("application_credential").where("id", .equal, id).first() else {
            throw IdentityError.notFound(kind: "Application Credential", id: id)
        }
        return try await record(row, in: sql)
    }

    /// The credential with `id` when it belongs to `userID`, else nil (another user's is not revealed).
    func get(_ id: String, ofUser userID: String, in sql: any SQLDatabase) async throws -> ApplicationCredentialRecord? {
        guard
            let row = try await sql.select().column("*").from("application_credential")
                .where("id", .equal, id).where("user_id", .equal, userID).first()
        else { return nil }
        return try await record(row, in: sql)
    }

    /// The credential of `userID` named `name`, or nil.
    func find(name: String, userID: String, in sql: any SQLDatabase) async throws -> ApplicationCredentialRecord? {
        guard
            let row = try await sql.select().column("*").from("application_credential")
                .where("name", .equal, name).where("user_id", .equal, userID).first()
        else { return nil }
        return try await record(row, in: sql)
    }

    /// The credentials of `userID`, optionally only the one named `name`, by name.
    func list(userID: String, name: String? = nil, in sql: any SQLDatabase) async throws -> [ApplicationCredentialRecord] {
        var q = sql.select().column("*").from("application_credential").where("user_id", .equal, userID)
        if let name { q = q.where("name", .equal, name) }
        var out: [ApplicationCredentialRecord] = []
        for row in try await q.orderBy("name").all() { out.append(try await record(row, in: sql)) }
        return out
    }

    /// Inserts `credential` and its role ids; a name the user already uses throws `IdentityError.duplicate`.
    func create(_ credential: ApplicationCredentialRecord, in sql: any SQLDatabase) async throws {
        do {
            try await sql.insert(into: "application_credential")
                .columns("id", "name", "secret_hash", "description", "user_id", "project_id", "expires_at", "unrestricted", "created_at")
                .values(
                    SQLBind(credential.id),
                    SQLBind(credential.name),
                    SQLBind(credential.secretHash),
                    SQLBind(credential.description),
                    SQLBind(credential.userID),
                    SQLBind(credential.projectID),
                    SQLBind(credential.expiresAt),
                    SQLBind(credential.unrestricted),
                    SQLBind(credential.createdAt)
                )
                .run()
            for role in Set(credential.roleIDs).sorted() {
                try await sql.insert(into: "application_credential_role").columns("application_credential_id", "role_id")
                    .values(SQLBind(credential.id), SQLBind(role)).run()
            }
        } catch {
            throw IdentityError.translating(StorageError.classify(error) ?? error)
        }
    }

    /// Deletes the credential (its role rows go by ON DELETE CASCADE).
    func delete(_ id: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "application_credential").where("id", .equal, id).run()
    }

    /// The delegated roles with their names, by name (roles deleted meanwhile are left out).
    func roles(of id: String, in sql: any SQLDatabase) async throws -> [RoleRow] {
        try await sql.select().column(SQLColumn("id", table: "r")).column(SQLColumn("name", table: "r"))
            .column(SQLColumn("description", table: "r"))
            .from(SQLAlias(SQLIdentifier("role"), as: "r"))
            .join(
                SQLAlias(SQLIdentifier("application_credential_role"), as: "a"),
                method: SQLJoinMethod.inner,
                on: SQLColumn("role_id", table: "a"),
                .equal,
                SQLColumn("id", table: "r")
            )
            .where(SQLColumn("application_credential_id", table: "a"), .equal, SQLBind(id))
            .orderBy(SQLColumn("name", table: "r")).all(decoding: RoleRow.self)
    }

    /// The record of an `application_credential` row, with its role ids.
    private func record(_ row: any SQLRow, in sql: any SQLDatabase) async throws -> ApplicationCredentialRecord {
        let r = try row.decode(Row.self)
        let roleIDs = try await sql.select().column("role_id").from("application_credential_role")
            .where("application_credential_id", .equal, r.id).orderBy("role_id").all(decodingColumn: "role_id", as: String.self)
        return ApplicationCredentialRecord(
            id: r.id,
            name: r.name,
            secretHash: r.secretHash,
            description: r.description,
            userID: r.userId,
            projectID: r.projectId,
            expiresAt: r.expiresAt,
            unrestricted: r.unrestricted,
            createdAt: r.createdAt,
            roleIDs: roleIDs
        )
    }
}
