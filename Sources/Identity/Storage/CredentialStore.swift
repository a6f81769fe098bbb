import SQLKit
import StratusCore
import StratusStorage

/// A credential (EC2 key, TOTP secret, …) as stored in `credential`: the blob stays encrypted here.
struct CredentialRecord: Sendable, Equatable {
    var id: String
    var userID: String
    var projectID: String?
    var type: String
    /// The Fernet token of the blob, made with the primary credential key.
    var encryptedBlob: String
    /// SHA-256 (hex) of the key that encrypted the blob.
    var keyHash: String
    var extra: [String: JSON] = [:]
}

/// Credentials in the identity database (`credential`).
struct CredentialStore: Sendable {
    /// One `credential` row; a missing or mistyped column throws.
    struct Row: Decodable {
        var id: String
        var userId: String
        var projectId: String?
        var type: String
        var encryptedBlob: String
        var keyHash: String
        var extra: String
    }

    /// The record of a `credential` row.
    static func record(_ row: any SQLRow) throws -> CredentialRecord {
        let r = try row.decode(Row.self)
        return CredentialRecord(
            id: r.id,
            userID: r.userId,
            projectID: r.projectId,
            type: r.type,
            encryptedBlob: r.encryptedBlob,
            keyHash: r.keyHash,
            extra: try UserStore.jsonObject(r.extra)
        )
    }

    /// The credential with `id`; `IdentityError.notFound(kind: "credential")` when absent.
    func get(_ id: String, in sql: any SQLDatabase) async throws -> CredentialRecord {
        guard let row = try await sql.select().column("*").from("credential").where("id", .equal, id).first() else {
            throw IdentityError.notFound(kind: "credential", id: id)
        }
        return try Self.record(row)
    }

    /// Credentials matching every given filter, by id.
    func list(userID: String? = nil, type: String? = nil, in sql: any SQLDatabase) async throws -> [CredentialRecord] {
        var q = sql.select().column("*").from("credential")
        if let userID { q = q.where("user_id", .equal, userID) }
        if let type { q = q.where("type", .equal, type) }
        return try await q.orderBy("id").all().map(Self.record)
    }

    /// Inserts `credential`; a taken id throws `IdentityError.duplicate`.
    func create(_ credential: CredentialRecord, in sql: any SQLDatabase) async throws {
        do {
            try await sql.insert(into: "credential").columns("id", "user_id", "project_id", "type", "encrypted_blob", "key_hash", "extra")
                .values(
                    SQLBind(credential.id),
                    SQLBind(credential.userID),
                    SQLBind(credential.projectID),
                    SQLBind(credential.type),
                    SQLBind(credential.encryptedBlob),
                    SQLBind(credential.keyHash),
                    SQLBind(JSON.object(credential.extra).serialized())
                )
                .run()
        } catch {
            throw IdentityError.translating(StorageError.classify(error) ?? error)
        }
    }

    /// Replaces the sealed blob (the one thing a PATCH changes) and returns the credential; 404 when absent.
    func reseal(_ id: String, _ sealed: (encryptedBlob: String, keyHash: String), in sql: any SQLDatabase) async throws -> CredentialRecord {
        _ = try await get(id, in: sql)
        try await sql.update("credential").where("id", .equal, id)
            .set("encrypted_blob", to: sealed.encryptedBlob).set("key_hash", to: sealed.keyHash).run()
        return try await get(id, in: sql)
    }

    /// Deletes the credential.
    func delete(_ id: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "credential").where("id", .equal, id).run()
    }

    /// Deletes every credential of `userID` (the user is being deleted: `credential.user_id` has no foreign key).
    func deleteAll(ofUser userID: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "credential").where("user_id", .equal, userID).run()
    }

    /// Every credential's id, sealed blob and key hash (for key maintenance).
    func sealed(in sql: any SQLDatabase) async throws -> [(id: String, encryptedBlob: String, keyHash: String)] {
        struct Sealed: Decodable {
            var id: String
            var encryptedBlob: String
            var keyHash: String
        }
        return try await sql.select().columns("id", "encrypted_blob", "key_hash").from("credential").orderBy("id").all()
            .map { row in
                let s = try row.decode(Sealed.self)
                return (s.id, s.encryptedBlob, s.keyHash)
            }
    }

    /// Replaces one credential's sealed blob and key hash.
    func reseal(_ id: String, encryptedBlob: String, keyHash: String, in sql: any SQLDatabase) async throws {
        try await sql.update("credential").set("encrypted_blob", to: encryptedBlob).set("key_hash", to: keyHash).where("id", .equal, id).run()
    }
}
