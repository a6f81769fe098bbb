import Foundation
import SQLKit
import StratusCore
import StratusStorage
import Testing

@testable import Identity

/// A migrated, empty identity database (SQLite, or PostgreSQL: see TestDatabase). with users `u1` and `u2` and
/// roles `r-admin` (admin) and `r-reader` (reader).
private func openApplicationCredentialDatabase() async throws -> Database {
    let db = try await TestDatabase.open()
    try await IdentityMigrations.migrator.migrate(db)
    try await db.write { sql in
        try await sql.raw("INSERT INTO domain (id, name, enabled) VALUES ('default', 'Default', \(bind: true))").run()
        try await UserStore().create(UserRecord(id: "u1", name: "alice", domainID: "default", enabled: true, createdAt: 1), in: sql)
        try await UserStore().create(UserRecord(id: "u2", name: "bob", domainID: "default", enabled: true, createdAt: 1), in: sql)
        try await sql.raw("INSERT INTO role (id, name, domain_id) VALUES ('r-admin', 'admin', '<<null>>')").run()
        try await sql.raw("INSERT INTO role (id, name, domain_id) VALUES ('r-reader', 'reader', '<<null>>')").run()
    }
    return db
}

/// An application credential of `user` on project `p1`.
private func appCredential(_ id: String, _ name: String, user: String = "u1", roles: [String] = []) -> ApplicationCredentialRecord {
    ApplicationCredentialRecord(
        id: id,
        name: name,
        secretHash: "$2b$h",
        description: nil,
        userID: user,
        projectID: "p1",
        expiresAt: nil,
        unrestricted: false,
        createdAt: 1_000,
        roleIDs: roles
    )
}

@Suite("Application credential store")
struct ApplicationCredentialStoreTests {
    let credentials = ApplicationCredentialStore()

    @Test("an unknown application credential is a 404; another user's is not found for this user")
    func notFound() async throws {
        let db = try await openApplicationCredentialDatabase()
        await #expect(throws: IdentityError.notFound(kind: "Application Credential", id: "nope")) {
            try await db.read { sql in try await credentials.get("nope", in: sql) }
        }
        try await db.write { sql in try await credentials.create(appCredential("a1", "ci", user: "u2"), in: sql) }
        let (mine, byName) = try await db.read { sql in
            (try await credentials.get("a1", ofUser: "u1", in: sql), try await credentials.find(name: "ci", userID: "u1", in: sql))
        }
        #expect(mine == nil && byName == nil)
        await db.close()
    }

    @Test("the delegated roles come back with the credential, once each, and by name with their names")
    func roles() async throws {
        let db = try await openApplicationCredentialDatabase()
        var ci = appCredential("a1", "ci", roles: ["r-reader", "r-admin", "r-reader"])
        ci.expiresAt = 9_000
        ci.description = "pipeline"
        let stored = ci
        let (got, found, named) = try await db.write { sql in
            try await credentials.create(stored, in: sql)
            return (
                try await credentials.get("a1", in: sql), try await credentials.find(name: "ci", userID: "u1", in: sql),
                try await credentials.roles(of: "a1", in: sql)
            )
        }
        ci.roleIDs = ["r-admin", "r-reader"]
        #expect(got == ci)
        #expect(found == ci)
        #expect(named == [.init(id: "r-admin", name: "admin"), .init(id: "r-reader", name: "reader")])
        await db.close()
    }

    @Test("a name the user already uses is a duplicate; another user may use it")
    func duplicate() async throws {
        let db = try await openApplicationCredentialDatabase()
        try await db.write { sql in try await credentials.create(appCredential("a1", "ci"), in: sql) }
        await #expect(throws: IdentityError.duplicate) {
            try await db.write { sql in try await credentials.create(appCredential("a2", "ci"), in: sql) }
        }
        try await db.write { sql in try await credentials.create(appCredential("a3", "ci", user: "u2"), in: sql) }
        await db.close()
    }

    @Test("the list holds only the user's credentials, narrowed by name, sorted by name")
    func listing() async throws {
        let db = try await openApplicationCredentialDatabase()
        try await db.write { sql in
            try await credentials.create(appCredential("a1", "zeta"), in: sql)
            try await credentials.create(appCredential("a2", "alpha"), in: sql)
            try await credentials.create(appCredential("a3", "alpha", user: "u2"), in: sql)
        }
        let (alice, named) = try await db.read { sql in
            (try await credentials.list(userID: "u1", in: sql), try await credentials.list(userID: "u1", name: "zeta", in: sql))
        }
        #expect(alice.map(\.id) == ["a2", "a1"])
        #expect(named.map(\.id) == ["a1"])
        await db.close()
    }

    @Test("deleting a credential drops its role rows; deleting its user drops the credential")
    func deleteCascades() async throws {
        let db = try await openApplicationCredentialDatabase()
        try await db.write { sql in
            try await credentials.create(appCredential("a1", "ci", roles: ["r-admin"]), in: sql)
            try await credentials.create(appCredential("a2", "cd", roles: ["r-admin"]), in: sql)
            try await credentials.delete("a1", in: sql)
        }
        let orphans = try await db.read { sql in
            try await sql.select().column("role_id").from("application_credential_role")
                .where("application_credential_id", .equal, "a1").all()
        }
        #expect(orphans.isEmpty)
        try await db.write { sql in try await UserStore().delete("u1", in: sql) }
        let left = try await db.read { sql in try await credentials.list(userID: "u1", in: sql) }
        #expect(left.isEmpty)
        await db.close()
    }
}
