import Foundation
import SQLKit
import StratusCore
import StratusStorage
import Testing

@testable import Identity

/// A migrated, empty identity database (SQLite, or PostgreSQL: see TestDatabase). with users `u1` and `u2`.
private func openCredentialDatabase() async throws -> Database {
    let db = try await TestDatabase.open()
    try await IdentityMigrations.migrator.migrate(db)
    try await db.write { sql in
        try await sql.raw("INSERT INTO domain (id, name, enabled) VALUES ('default', 'Default', \(bind: true))").run()
        try await UserStore().create(UserRecord(id: "u1", name: "alice", domainID: "default", enabled: true, createdAt: 1), in: sql)
        try await UserStore().create(UserRecord(id: "u2", name: "bob", domainID: "default", enabled: true, createdAt: 1), in: sql)
    }
    return db
}

/// A credential with an opaque (test) blob.
private func credential(_ id: String, user: String, type: String = "ec2", project: String? = "p1") -> CredentialRecord {
    CredentialRecord(id: id, userID: user, projectID: project, type: type, encryptedBlob: "blob-\(id)", keyHash: "k1")
}

@Suite("Credential store")
struct CredentialStoreTests {
    let credentials = CredentialStore()

    @Test("an unknown credential is a 404 naming the credential")
    func notFound() async throws {
        let db = try await openCredentialDatabase()
        await #expect(throws: IdentityError.notFound(kind: "credential", id: "nope")) {
            try await db.read { sql in try await credentials.get("nope", in: sql) }
        }
        await db.close()
    }

    @Test("user and type filters narrow the list, sorted by id")
    func listing() async throws {
        let db = try await openCredentialDatabase()
        try await db.write { sql in
            try await credentials.create(credential("c2", user: "u1"), in: sql)
            try await credentials.create(credential("c1", user: "u1", type: "totp", project: nil), in: sql)
            try await credentials.create(credential("c3", user: "u2"), in: sql)
        }
        let (all, alice, totp, bobsEC2) = try await db.read { sql in
            (
                try await credentials.list(in: sql), try await credentials.list(userID: "u1", in: sql),
                try await credentials.list(type: "totp", in: sql), try await credentials.list(userID: "u2", type: "ec2", in: sql)
            )
        }
        #expect(all.map(\.id) == ["c1", "c2", "c3"])
        #expect(alice.map(\.id) == ["c1", "c2"])
        #expect(totp == [credential("c1", user: "u1", type: "totp", project: nil)])
        #expect(bobsEC2.map(\.id) == ["c3"])
        await db.close()
    }

    @Test("a taken id is a duplicate")
    func duplicate() async throws {
        let db = try await openCredentialDatabase()
        try await db.write { sql in try await credentials.create(credential("c1", user: "u1"), in: sql) }
        await #expect(throws: IdentityError.duplicate) {
            try await db.write { sql in try await credentials.create(credential("c1", user: "u2"), in: sql) }
        }
        await db.close()
    }

    @Test("reseal replaces the sealed blob and its key hash, nothing else")
    func reseal() async throws {
        let db = try await openCredentialDatabase()
        let original = credential("c1", user: "u1")
        let updated = try await db.write { sql in
            try await credentials.create(original, in: sql)
            return try await credentials.reseal("c1", ("new", "k2"), in: sql)
        }
        #expect(
            updated
                == CredentialRecord(id: "c1", userID: "u1", projectID: original.projectID, type: original.type, encryptedBlob: "new", keyHash: "k2")
        )
        await #expect(throws: IdentityError.notFound(kind: "credential", id: "nope")) {
            try await db.write { sql in try await credentials.reseal("nope", ("x", "k"), in: sql) }
        }
        await db.close()
    }

    @Test("deleting a user's credentials leaves other users' alone")
    func deleteAllOfUser() async throws {
        let db = try await openCredentialDatabase()
        try await db.write { sql in
            try await credentials.create(credential("c1", user: "u1"), in: sql)
            try await credentials.create(credential("c2", user: "u1"), in: sql)
            try await credentials.create(credential("c3", user: "u2"), in: sql)
            try await credentials.deleteAll(ofUser: "u1", in: sql)
            try await credentials.delete("c3", in: sql)
            try await credentials.create(credential("c4", user: "u2"), in: sql)
        }
        let left = try await db.read { sql in try await credentials.list(in: sql) }
        #expect(left.map(\.id) == ["c4"])
        await db.close()
    }
}
