import SQLKit
import StratusCore
import StratusStorage

/// A local user as stored in `identity_user`: every column, typed.
struct UserRecord: Sendable, Equatable {
    var id: String
    var name: String
    var domainID: String
    var enabled: Bool
    var defaultProjectID: String?
    /// bcrypt hash; nil for a user without a password.
    var passwordHash: String?
    /// Microseconds since the epoch; nil when the password never expires.
    var passwordExpiresAt: Int64?
    /// Consecutive failed logins (lockout counter), reset by a successful login or a new password.
    var failedAuthCount: Int64 = 0
    var lastFailedAuthAt: Int64?
    var createdAt: Int64
    /// Free-form attributes keystone keeps beside the schema.
    var extra: [String: JSON] = [:]
    var options: [String: JSON] = [:]
}

/// The changes of a user PATCH; nil leaves a column as it is.
struct UserChanges: Sendable {
    var name: String?
    var enabled: Bool?
    /// `.some(nil)` clears the default project.
    var defaultProjectID: String??
    /// Merged over the stored `extra` (new keys win).
    var extra: [String: JSON] = [:]
    /// Resource options to set (a value) or remove (null), see `UserOptions`.
    var options: [String: JSON] = [:]
}

/// Users in the identity database (`identity_user`), their passwords and lockout counters.
struct UserStore: Sendable {
    /// One `identity_user` row; a missing or mistyped column throws.
    struct Row: Decodable {
        var id: String
        var name: String
        var domainId: String
        var enabled: Bool
        var defaultProjectId: String?
        var passwordHash: String?
        var passwordExpiresAt: Int64?
        var failedAuthCount: Int64
        var lastFailedAuthAt: Int64?
        var createdAt: Int64
        var extra: String
        var options: String
    }

    /// The record of a row selected with `identity_user.*` (also used by the group store's joins).
    static func record(_ row: any SQLRow) throws -> UserRecord {
        let r = try row.decode(Row.self)
        return UserRecord(
            id: r.id,
            name: r.name,
            domainID: r.domainId,
            enabled: r.enabled,
            defaultProjectID: r.defaultProjectId,
            passwordHash: r.passwordHash,
            passwordExpiresAt: r.passwordExpiresAt,
            failedAuthCount: r.failedAuthCount,
            lastFailedAuthAt: r.lastFailedAuthAt,
            createdAt: r.createdAt,
            extra: try jsonObject(r.extra),
            options: try jsonObject(r.options)
        )
    }

    /// A JSON text column as an object; malformed text throws.
    static func jsonObject(_ text: String) throws -> [String: JSON] {
        guard case .object(let object) = try JSON.parse(Array(text.utf8)) else { throw NotAnObject() }
        return object
    }

    /// A JSON text column (`extra`, `options`) that does not hold an object.
    struct NotAnObject: Error {}

    /// The user with `id`; `IdentityError.notFound(kind: "user")` when absent.
    func get(_ id: String, in sql: any SQLDatabase) async throws -> UserRecord {
        guard let row = try await sql.select().column("*").from("identity_user").where("id", .equal, id).first() else {
            throw IdentityError.notFound(kind: "user", id: id)
        }
        return try Self.record(row)
    }

    /// The user with `id`, or nil.
    func find(id: String, in sql: any SQLDatabase) async throws -> UserRecord? {
        try await sql.select().column("*").from("identity_user").where("id", .equal, id).first().map(Self.record)
    }

    /// The user named `name` in `domainID`, or nil.
    func find(name: String, domainID: String, in sql: any SQLDatabase) async throws -> UserRecord? {
        try await sql.select().column("*").from("identity_user")
            .where("name", .equal, name).where("domain_id", .equal, domainID).first().map(Self.record)
    }

    /// Users matching every given filter, by name; at most `limit` rows.
    func list(
        name: String? = nil,
        matching inexact: [InexactFilter] = [],
        domainID: String? = nil,
        enabled: Bool? = nil,
        limit: Int? = nil,
        in sql: any SQLDatabase
    ) async throws -> [UserRecord] {
        var q = sql.select().column("*").from("identity_user").filter(inexact)
        if let name { q = q.where("name", .equal, name) }
        if let domainID { q = q.where("domain_id", .equal, domainID) }
        if let enabled { q = q.where("enabled", .equal, enabled) }
        if let limit { q = q.limit(limit) }
        return try await q.orderBy("name").all().map(Self.record)
    }

    /// Inserts `user` as given (counters included); a taken (domain, name) throws `IdentityError.duplicate`.
    func create(_ user: UserRecord, in sql: any SQLDatabase) async throws {
        do {
            try await sql.insert(into: "identity_user")
                .columns(
                    "id",
                    "name",
                    "domain_id",
                    "enabled",
                    "default_project_id",
                    "password_hash",
                    "password_expires_at",
                    "failed_auth_count",
                    "last_failed_auth_at",
                    "created_at",
                    "extra",
                    "options"
                )
                .values(
                    SQLBind(user.id),
                    SQLBind(user.name),
                    SQLBind(user.domainID),
                    SQLBind(user.enabled),
                    SQLBind(user.defaultProjectID),
                    SQLBind(user.passwordHash),
                    SQLBind(user.passwordExpiresAt),
                    SQLBind(user.failedAuthCount),
                    SQLBind(user.lastFailedAuthAt),
                    SQLBind(user.createdAt),
                    SQLBind(JSON.object(user.extra).serialized()),
                    SQLBind(JSON.object(user.options).serialized())
                )
                .run()
        } catch {
            throw IdentityError.translating(StorageError.classify(error) ?? error)
        }
    }

    /// Applies `changes` and returns the updated user; 404 when absent, a taken name is `duplicate`.
    func update(_ id: String, _ changes: UserChanges, in sql: any SQLDatabase) async throws -> UserRecord {
        let current = try await get(id, in: sql)
        var q = sql.update("identity_user").where("id", .equal, id)
        var any = false
        if let name = changes.name {
            q = q.set("name", to: name)
            any = true
        }
        if let enabled = changes.enabled {
            q = q.set("enabled", to: enabled)
            any = true
        }
        if let project = changes.defaultProjectID {
            q = q.set("default_project_id", to: project)
            any = true
        }
        if !changes.extra.isEmpty {
            q = q.set("extra", to: JSON.object(current.extra.merging(changes.extra) { _, new in new }).serialized())
            any = true
        }
        if !changes.options.isEmpty {
            q = q.set("options", to: JSON.object(UserOptions.apply(changes.options, to: current.options)).serialized())
            any = true
        }
        guard any else { return current }
        do {
            try await q.run()
        } catch {
            throw IdentityError.translating(StorageError.classify(error) ?? error)
        }
        return try await get(id, in: sql)
    }

    /// Sets (or with nil clears) the password hash and its expiry, and resets the lockout counter.
    func setPassword(_ id: String, hash: String?, expiresAt: Int64?, in sql: any SQLDatabase) async throws {
        try await sql.update("identity_user").set("password_hash", to: hash).set("password_expires_at", to: expiresAt)
            .set("failed_auth_count", to: 0).where("id", .equal, id).run()
    }

    /// Counts a failed login at `micros`. With `lockoutWindow` (microseconds), a failure after
    /// the previous one has aged out of the window starts the count again at 1.
    func recordFailedLogin(_ id: String, at micros: Int64, lockoutWindow: Int64? = nil, in sql: any SQLDatabase) async throws {
        if let lockoutWindow {
            // NOTE: one statement so concurrent failures cannot lose a count.
            try await sql.raw(
                """
                UPDATE identity_user SET last_failed_auth_at = \(bind: micros), failed_auth_count =
                  CASE WHEN last_failed_auth_at IS NULL OR last_failed_auth_at < \(bind: micros - lockoutWindow) THEN 1
                  ELSE failed_auth_count + 1 END
                WHERE id = \(bind: id)
                """
            ).run()
        } else {
            try await sql.update("identity_user").set("last_failed_auth_at", to: micros)
                .set(SQLIdentifier("failed_auth_count"), to: SQLBinaryExpression(SQLIdentifier("failed_auth_count"), .add, SQLLiteral.numeric("1")))
                .where("id", .equal, id).run()
        }
    }

    /// Clears the failed-login counter after a successful login.
    func resetFailedLogins(_ id: String, in sql: any SQLDatabase) async throws {
        try await sql.update("identity_user").set("failed_auth_count", to: 0).where("id", .equal, id).run()
    }

    /// Deletes the user; group memberships and application credentials go with it (ON DELETE
    /// CASCADE). Role assignments and credentials have no foreign key: the caller removes them
    /// (`AssignmentStore.removeAll(actorID:)`, `CredentialStore.deleteAll(ofUser:)`). 404 when absent.
    func delete(_ id: String, in sql: any SQLDatabase) async throws {
        _ = try await get(id, in: sql)
        try await sql.delete(from: "identity_user").where("id", .equal, id).run()
    }
}
