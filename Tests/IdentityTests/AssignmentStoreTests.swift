import Foundation
import SQLKit
import StratusStorage
import Testing

@testable import Identity

/// A migrated identity database with domain `d1`, projects `top` ⊃ `child`, users `u1`, `u2`,
/// group `g1` (member `u1`), and global roles `admin` ⇒ `member` ⇒ `reader` plus domain role `local`.
private func openDatabase() async throws -> Database {
    let db = try await TestDatabase.open()
    try await IdentityMigrations.migrator.migrate(db)
    try await db.write { sql in
        try await sql.raw("INSERT INTO domain (id, name, enabled) VALUES ('d1', 'One', \(bind: true))").run()
        try await sql.raw(
            """
            INSERT INTO project (id, name, domain_id, parent_id, enabled) VALUES
              ('top', 'top', 'd1', 'd1', \(bind: true)), ('child', 'child', 'd1', 'top', \(bind: true))
            """
        ).run()
        try await sql.raw(
            """
            INSERT INTO identity_user (id, name, domain_id, enabled, created_at) VALUES
              ('u1', 'alice', 'd1', \(bind: true), 0), ('u2', 'bob', 'd1', \(bind: true), 0)
            """
        ).run()
        try await sql.raw("INSERT INTO identity_group (id, name, domain_id) VALUES ('g1', 'team', 'd1')").run()
        try await sql.raw("INSERT INTO group_membership (user_id, group_id) VALUES ('u1', 'g1')").run()
        let roles = RoleStore()
        for (id, name) in [("admin", "admin"), ("member", "member"), ("reader", "reader")] {
            _ = try await roles.create(RoleRecord(id: id, name: name), in: sql)
        }
        _ = try await roles.create(RoleRecord(id: "local", name: "local", domainID: "d1"), in: sql)
        try await roles.add(RoleImplication(prior: "admin", implied: "member"), in: sql)
        try await roles.add(RoleImplication(prior: "member", implied: "reader"), in: sql)
    }
    return db
}

@Suite("Assignment store")
struct AssignmentStoreTests {
    let assignments = AssignmentStore()

    func grant(_ grants: RoleGrant..., in db: Database) async throws {
        try await db.write { sql in for g in grants { try await assignments.add(g, in: sql) } }
    }

    @Test("a grant is recorded once however often it is made, and can be revoked")
    func grantAndRevoke() async throws {
        let db = try await openDatabase()
        let g = RoleGrant(actor: .user("u1"), target: .project("top"), roleID: "member")
        try await grant(g, g, in: db)
        #expect(try await db.read { sql in try await assignments.list(.init(), in: sql) } == [g])
        #expect(try await db.read { sql in try await RoleStore().granted(to: .user("u1"), on: .project("top"), in: sql) }.map(\.id) == ["member"])
        try await db.write { sql in try await assignments.remove(g, in: sql) }
        #expect(try await db.read { sql in try await assignments.exists(g, in: sql) } == false)
        await db.close()
    }

    @Test("the listing filters by user, group, role and scope in SQL")
    func filters() async throws {
        let db = try await openDatabase()
        let onTop = RoleGrant(actor: .user("u1"), target: .project("top"), roleID: "member")
        let onDomain = RoleGrant(actor: .user("u2"), target: .domain("d1"), roleID: "admin")
        let onSystem = RoleGrant(actor: .group("g1"), target: .system, roleID: "reader")
        try await grant(onTop, onDomain, onSystem, in: db)
        func list(_ f: AssignmentStore.Filter) async throws -> [RoleGrant] { try await db.read { sql in try await assignments.list(f, in: sql) } }
        #expect(try await list(.init(userID: "u1")) == [onTop])
        #expect(try await list(.init(groupID: "g1")) == [onSystem])
        #expect(try await list(.init(roleID: "admin")) == [onDomain])
        #expect(try await list(.init(projectID: "top")) == [onTop])
        #expect(try await list(.init(domainID: "d1")) == [onDomain])
        #expect(try await list(.init(system: true)) == [onSystem])
        #expect(try await list(.init(userID: "u1", domainID: "d1")).isEmpty)
        await db.close()
    }

    @Test("the effective listing expands group grants to members and adds implied roles")
    func effectiveListing() async throws {
        let db = try await openDatabase()
        try await grant(
            RoleGrant(actor: .group("g1"), target: .project("top"), roleID: "member"),
            RoleGrant(actor: .user("u2"), target: .project("top"), roleID: "admin"),
            in: db
        )
        let all = try await db.read { sql in try await assignments.listEffective(.init(projectID: "top"), in: sql).rows }
        #expect(
            Set(all.map { "\($0.grant.actor)/\($0.grant.roleID)" }) == [
                "user(\"u1\")/member", "user(\"u1\")/reader", "user(\"u2\")/admin", "user(\"u2\")/member", "user(\"u2\")/reader",
            ]
        )
        #expect(all.first { $0.grant.actor == .user("u1") }?.viaGroup == "g1")
        let readers = try await db.read { sql in try await assignments.listEffective(.init(userID: "u1", roleID: "reader"), in: sql).rows }
        #expect(readers.count == 1 && readers[0].priorRole == "member" && readers[0].viaGroup == "g1")
        let names = try await db.read { sql in try await assignments.names(for: all, in: sql) }
        #expect(names["user:u1"]?.name == "alice" && names["project:top"]?.domainID == "d1" && names["domain:d1"]?.name == "One")
        await db.close()
    }

    @Test("effective roles on a project: via group, inherited from the domain and the parent, implied; global only")
    func effectiveRoles() async throws {
        let db = try await openDatabase()
        try await grant(
            RoleGrant(actor: .group("g1"), target: .project("child"), roleID: "reader"),
            RoleGrant(actor: .user("u2"), target: .domain("d1"), roleID: "member", inherited: true),
            RoleGrant(actor: .user("u2"), target: .project("top"), roleID: "admin", inherited: true),
            RoleGrant(actor: .user("u2"), target: .domain("d1"), roleID: "local"),
            in: db
        )
        func roles(_ user: String, _ scope: RoleGrant.Target) async throws -> [String] {
            try await db.read { sql in try await assignments.effectiveRoles(user: user, scope: scope, in: sql) }.map(\.name)
        }
        #expect(try await roles("u1", .project("child")) == ["reader"])
        #expect(try await roles("u1", .project("top")).isEmpty)
        #expect(try await roles("u2", .project("child")) == ["admin", "member", "reader"])
        #expect(try await roles("u2", .project("top")) == ["member", "reader"], "the inherited admin grant on top is for its subtree")
        #expect(try await roles("u2", .domain("d1")).isEmpty, "inherited grants skip the domain; a domain role is never named")
        #expect(
            try await db.read { sql in try await assignments.lineage(of: "child", in: sql) }
                == ProjectLineage(parents: ["top"], domainID: "d1")
        )
        await db.close()
    }

    @Test("removing by actor or target clears every grant of a deleted user, group or project")
    func removeAll() async throws {
        let db = try await openDatabase()
        try await grant(
            RoleGrant(actor: .user("u1"), target: .project("top"), roleID: "member"),
            RoleGrant(actor: .user("u2"), target: .project("child"), roleID: "member"),
            in: db
        )
        try await db.write { sql in
            try await assignments.removeAll(actorID: "u1", in: sql)
            try await assignments.removeAll(targetID: "child", in: sql)
        }
        #expect(try await db.read { sql in try await assignments.list(.init(), in: sql) }.isEmpty)
        await db.close()
    }
}
