import Foundation
import SQLKit
import StratusCore
import StratusStorage
import Testing

@testable import Identity

/// A migrated, empty identity database (SQLite, or PostgreSQL: see TestDatabase). with domains `default` and
/// `other` and users `u1` (alice) and `u2` (bob).
private func openGroupDatabase() async throws -> Database {
    let db = try await TestDatabase.open()
    try await IdentityMigrations.migrator.migrate(db)
    try await db.write { sql in
        try await sql.raw("INSERT INTO domain (id, name, enabled) VALUES ('default', 'Default', \(bind: true))").run()
        try await sql.raw("INSERT INTO domain (id, name, enabled) VALUES ('other', 'Other', \(bind: true))").run()
        try await UserStore().create(UserRecord(id: "u1", name: "alice", domainID: "default", enabled: true, createdAt: 1), in: sql)
        try await UserStore().create(UserRecord(id: "u2", name: "bob", domainID: "default", enabled: true, createdAt: 1), in: sql)
    }
    return db
}

@Suite("Group store")
struct GroupStoreTests {
    let groups = GroupStore()

    @Test("an unknown group is a 404 naming the group")
    func notFound() async throws {
        let db = try await openGroupDatabase()
        await #expect(throws: IdentityError.notFound(kind: "group", id: "nope")) {
            try await db.read { sql in try await groups.get("nope", in: sql) }
        }
        await #expect(throws: IdentityError.notFound(kind: "group", id: "nope")) {
            try await db.write { sql in try await groups.delete("nope", in: sql) }
        }
        await db.close()
    }

    @Test("name and domain filters narrow the list, sorted by name")
    func listing() async throws {
        let db = try await openGroupDatabase()
        try await db.write { sql in
            try await groups.create(GroupRecord(id: "g1", name: "ops", domainID: "default", description: "d", extra: ["k": "v"]), in: sql)
            try await groups.create(GroupRecord(id: "g2", name: "devs", domainID: "default"), in: sql)
            try await groups.create(GroupRecord(id: "g3", name: "devs", domainID: "other"), in: sql)
        }
        let (all, named, inOther) = try await db.read { sql in
            (try await groups.list(in: sql), try await groups.list(name: "devs", in: sql), try await groups.list(domainID: "other", in: sql))
        }
        #expect(all.map(\.name) == ["devs", "devs", "ops"])
        #expect(all.last == GroupRecord(id: "g1", name: "ops", domainID: "default", description: "d", extra: ["k": "v"]))
        #expect(Set(named.map(\.id)) == ["g2", "g3"])
        #expect(inOther.map(\.id) == ["g3"])
        await db.close()
    }

    @Test("a name taken in the same domain is a duplicate")
    func duplicate() async throws {
        let db = try await openGroupDatabase()
        try await db.write { sql in try await groups.create(GroupRecord(id: "g1", name: "ops", domainID: "default"), in: sql) }
        await #expect(throws: IdentityError.duplicate) {
            try await db.write { sql in try await groups.create(GroupRecord(id: "g2", name: "ops", domainID: "default"), in: sql) }
        }
        await #expect(throws: IdentityError.duplicate) {
            try await db.write { sql in
                try await groups.create(GroupRecord(id: "g3", name: "devs", domainID: "default"), in: sql)
                _ = try await groups.update("g3", name: "ops", description: nil, in: sql)
            }
        }
        await db.close()
    }

    @Test("update renames and clears the description")
    func update() async throws {
        let db = try await openGroupDatabase()
        let updated = try await db.write { sql in
            try await groups.create(GroupRecord(id: "g1", name: "ops", domainID: "default", description: "x"), in: sql)
            return try await groups.update("g1", name: "sre", description: .some(nil), in: sql)
        }
        #expect(updated == GroupRecord(id: "g1", name: "sre", domainID: "default", description: nil))
        await db.close()
    }

    @Test("membership: adding twice is one membership; the user's groups and the group's users follow it")
    func membership() async throws {
        let db = try await openGroupDatabase()
        try await db.write { sql in
            try await groups.create(GroupRecord(id: "g1", name: "ops", domainID: "default"), in: sql)
            try await groups.create(GroupRecord(id: "g2", name: "devs", domainID: "default"), in: sql)
            try await groups.addMember("u1", to: "g1", in: sql)
            try await groups.addMember("u1", to: "g1", in: sql)
            try await groups.addMember("u1", to: "g2", in: sql)
            try await groups.addMember("u2", to: "g1", in: sql)
        }
        let (ids, ofAlice, inOps, bobInDevs) = try await db.read { sql in
            (
                try await groups.groupIDs(ofUser: "u1", in: sql), try await groups.groups(ofUser: "u1", in: sql),
                try await groups.users(inGroup: "g1", in: sql), try await groups.isMember("u2", of: "g2", in: sql)
            )
        }
        #expect(ids == ["g1", "g2"])
        #expect(ofAlice.map(\.name) == ["devs", "ops"])
        #expect(inOps.map(\.name) == ["alice", "bob"])
        #expect(!bobInDevs)
        let (removed, again) = try await db.write { sql in
            (try await groups.removeMember("u2", from: "g1", in: sql), try await groups.removeMember("u2", from: "g1", in: sql))
        }
        #expect(removed && !again)
        await db.close()
    }

    @Test("deleting a group drops its memberships, not its members")
    func deleteCascades() async throws {
        let db = try await openGroupDatabase()
        try await db.write { sql in
            try await groups.create(GroupRecord(id: "g1", name: "ops", domainID: "default"), in: sql)
            try await groups.addMember("u1", to: "g1", in: sql)
            try await groups.delete("g1", in: sql)
        }
        let (ids, alice) = try await db.read { sql in
            (try await groups.groupIDs(ofUser: "u1", in: sql), try await UserStore().find(id: "u1", in: sql))
        }
        #expect(ids.isEmpty)
        #expect(alice != nil)
        await db.close()
    }
}
