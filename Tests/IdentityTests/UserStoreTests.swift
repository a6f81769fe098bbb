import Foundation
import SQLKit
import StratusCore
import StratusStorage
import Testing

@testable import Identity

/// A migrated, empty identity database (SQLite, or PostgreSQL: see TestDatabase). with domains `default` and `other`.
private func openUserDatabase() async throws -> Database {
    let db = try await TestDatabase.open()
    try await IdentityMigrations.migrator.migrate(db)
    try await db.write { sql in
        try await sql.raw("INSERT INTO domain (id, name, enabled) VALUES ('default', 'Default', \(bind: true))").run()
        try await sql.raw("INSERT INTO domain (id, name, enabled) VALUES ('other', 'Other', \(bind: true))").run()
    }
    return db
}

/// A user with the columns a test does not care about defaulted.
private func user(_ id: String, _ name: String, domain: String = "default", enabled: Bool = true) -> UserRecord {
    UserRecord(id: id, name: name, domainID: domain, enabled: enabled, createdAt: 1_000)
}

@Suite("User store")
struct UserStoreTests {
    let users = UserStore()

    @Test("an unknown user is a 404 naming the user; the lookups return nil")
    func notFound() async throws {
        let db = try await openUserDatabase()
        await #expect(throws: IdentityError.notFound(kind: "user", id: "nope")) {
            try await db.read { sql in try await users.get("nope", in: sql) }
        }
        let (byID, byName) = try await db.read { sql in
            (try await users.find(id: "nope", in: sql), try await users.find(name: "nope", domainID: "default", in: sql))
        }
        #expect(byID == nil && byName == nil)
        await #expect(throws: IdentityError.notFound(kind: "user", id: "nope")) {
            try await db.write { sql in try await users.delete("nope", in: sql) }
        }
        await db.close()
    }

    @Test("every column comes back typed, extra and options parsed")
    func roundTrip() async throws {
        let db = try await openUserDatabase()
        let alice = UserRecord(
            id: "u1",
            name: "alice",
            domainID: "default",
            enabled: false,
            defaultProjectID: "p1",
            passwordHash: "$2b$hash",
            passwordExpiresAt: 5_000,
            failedAuthCount: 2,
            lastFailedAuthAt: 4_000,
            createdAt: 1_000,
            extra: ["email": "a@example.com"],
            options: ["lock_password": true]
        )
        let (got, found) = try await db.write { sql in
            try await users.create(alice, in: sql)
            return (try await users.get("u1", in: sql), try await users.find(name: "alice", domainID: "default", in: sql))
        }
        #expect(got == alice)
        #expect(found == alice)
        await db.close()
    }

    @Test("a row without every column throws instead of reading defaults")
    func missingColumnThrows() async throws {
        let db = try await openUserDatabase()
        try await db.write { sql in try await users.create(user("u1", "alice"), in: sql) }
        let row = try await db.read { sql in try await sql.raw("SELECT id, name FROM identity_user").first() }
        #expect(throws: (any Error).self) { try UserStore.record(try #require(row)) }
        await db.close()
    }

    @Test("name, domain and enabled filters narrow the list, sorted by name")
    func listing() async throws {
        let db = try await openUserDatabase()
        try await db.write { sql in
            try await users.create(user("u1", "carol"), in: sql)
            try await users.create(user("u2", "alice", enabled: false), in: sql)
            try await users.create(user("u3", "alice", domain: "other"), in: sql)
        }
        let (all, named, inOther, disabled) = try await db.read { sql in
            (
                try await users.list(in: sql), try await users.list(name: "alice", in: sql),
                try await users.list(domainID: "other", in: sql), try await users.list(domainID: "default", enabled: false, in: sql)
            )
        }
        #expect(all.map(\.name) == ["alice", "alice", "carol"])
        #expect(Set(named.map(\.id)) == ["u2", "u3"])
        #expect(inOther.map(\.id) == ["u3"])
        #expect(disabled.map(\.id) == ["u2"])
        await db.close()
    }

    @Test("a name taken in the same domain is a duplicate, in another domain it is not")
    func duplicate() async throws {
        let db = try await openUserDatabase()
        try await db.write { sql in try await users.create(user("u1", "alice"), in: sql) }
        await #expect(throws: IdentityError.duplicate) {
            try await db.write { sql in try await users.create(user("u2", "alice"), in: sql) }
        }
        try await db.write { sql in try await users.create(user("u3", "alice", domain: "other"), in: sql) }
        await #expect(throws: IdentityError.duplicate) {
            try await db.write { sql in
                try await users.create(user("u4", "bob"), in: sql)
                _ = try await users.update("u4", UserChanges(name: "alice"), in: sql)
            }
        }
        await db.close()
    }

    @Test("update renames, disables, clears the default project and merges extra attributes")
    func update() async throws {
        let db = try await openUserDatabase()
        var alice = user("u1", "alice")
        alice.defaultProjectID = "p1"
        alice.extra = ["email": "a@example.com", "team": "x"]
        let stored = alice
        let updated = try await db.write { sql in
            try await users.create(stored, in: sql)
            return try await users.update(
                "u1",
                UserChanges(name: "alicia", enabled: false, defaultProjectID: .some(nil), extra: ["team": "y"]),
                in: sql
            )
        }
        #expect(updated.name == "alicia" && updated.enabled == false && updated.defaultProjectID == nil)
        #expect(updated.extra == ["email": "a@example.com", "team": "y"])
        let unchanged = try await db.write { sql in try await users.update("u1", UserChanges(), in: sql) }
        #expect(unchanged == updated)
        await db.close()
    }

    @Test("failed logins count up, restart after the lockout window, and reset on success or a new password")
    func lockoutCounters() async throws {
        let db = try await openUserDatabase()
        try await db.write { sql in try await users.create(user("u1", "alice"), in: sql) }
        func counters() async throws -> (Int64, Int64?) {
            let u = try await db.read { sql in try await users.get("u1", in: sql) }
            return (u.failedAuthCount, u.lastFailedAuthAt)
        }
        try await db.write { sql in
            try await users.recordFailedLogin("u1", at: 100, in: sql)
            try await users.recordFailedLogin("u1", at: 200, lockoutWindow: 1_000, in: sql)
        }
        #expect(try await counters() == (2, 200))
        try await db.write { sql in try await users.recordFailedLogin("u1", at: 5_000, lockoutWindow: 1_000, in: sql) }
        #expect(try await counters() == (1, 5_000), "the previous failure aged out of the window")
        try await db.write { sql in try await users.resetFailedLogins("u1", in: sql) }
        #expect(try await counters().0 == 0)
        try await db.write { sql in
            try await users.recordFailedLogin("u1", at: 6_000, in: sql)
            try await users.setPassword("u1", hash: "$2b$new", expiresAt: 9_000, in: sql)
        }
        let after = try await db.read { sql in try await users.get("u1", in: sql) }
        #expect(after.failedAuthCount == 0 && after.passwordHash == "$2b$new" && after.passwordExpiresAt == 9_000)
        await db.close()
    }

    @Test("deleting a user drops its group memberships and application credentials")
    func deleteCascades() async throws {
        let db = try await openUserDatabase()
        try await db.write { sql in
            try await users.create(user("u1", "alice"), in: sql)
            try await GroupStore().create(GroupRecord(id: "g1", name: "devs", domainID: "default"), in: sql)
            try await GroupStore().addMember("u1", to: "g1", in: sql)
            try await ApplicationCredentialStore().create(
                ApplicationCredentialRecord(id: "a1", name: "ci", secretHash: "h", userID: "u1", unrestricted: false, createdAt: 1),
                in: sql
            )
            try await users.delete("u1", in: sql)
        }
        let (members, apps) = try await db.read { sql in
            (try await GroupStore().users(inGroup: "g1", in: sql), try await ApplicationCredentialStore().list(userID: "u1", in: sql))
        }
        #expect(members.isEmpty && apps.isEmpty)
        await db.close()
    }
}
