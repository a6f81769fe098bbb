import Foundation
import SQLKit
import StratusStorage
import Testing

@testable import Identity

/// A migrated, empty identity database (SQLite, or PostgreSQL: see TestDatabase). with a `default` domain.
private func openDatabase() async throws -> Database {
    let db = try await TestDatabase.open()
    try await IdentityMigrations.migrator.migrate(db)
    try await db.write { sql in
        try await sql.raw("INSERT INTO domain (id, name, enabled) VALUES ('default', 'Default', \(bind: true))").run()
    }
    return db
}

@Suite("Role store")
struct RoleStoreTests {
    let roles = RoleStore()

    @Test("an unknown role is a 404 naming the role")
    func notFound() async throws {
        let db = try await openDatabase()
        await #expect(throws: IdentityError.notFound(kind: "role", id: "nope")) {
            try await db.read { sql in try await roles.get("nope", in: sql) }
        }
        await db.close()
    }

    @Test("global and domain roles are listed apart, and the name filter narrows")
    func listing() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            _ = try await roles.create(RoleRecord(id: "r1", name: "reader", domainID: nil, description: "reads"), in: sql)
            _ = try await roles.create(RoleRecord(id: "r2", name: "admin", domainID: nil), in: sql)
            _ = try await roles.create(RoleRecord(id: "r3", name: "admin", domainID: "default"), in: sql)
        }
        let (global, domain, named) = try await db.read { sql in
            (
                try await roles.list(domainID: nil, in: sql), try await roles.list(domainID: "default", in: sql),
                try await roles.list(domainID: nil, name: "reader", in: sql)
            )
        }
        #expect(global.map(\.id) == ["r2", "r1"], "by name")
        #expect(domain == [RoleRecord(id: "r3", name: "admin", domainID: "default")])
        #expect(named == [RoleRecord(id: "r1", name: "reader", domainID: nil, description: "reads")])
        await db.close()
    }

    @Test("a second global role with a taken name is a duplicate")
    func duplicate() async throws {
        let db = try await openDatabase()
        try await db.write { sql in _ = try await roles.create(RoleRecord(id: "r1", name: "reader"), in: sql) }
        await #expect(throws: IdentityError.duplicate) {
            try await db.write { sql in _ = try await roles.create(RoleRecord(id: "r2", name: "reader"), in: sql) }
        }
        await #expect(throws: IdentityError.duplicate) {
            try await db.write { sql in
                _ = try await roles.create(RoleRecord(id: "r3", name: "other"), in: sql)
                _ = try await roles.update("r3", name: "reader", description: nil, in: sql)
            }
        }
        await db.close()
    }

    @Test("update renames and clears the description")
    func update() async throws {
        let db = try await openDatabase()
        let updated = try await db.write { sql in
            _ = try await roles.create(RoleRecord(id: "r1", name: "reader", description: "x"), in: sql)
            return try await roles.update("r1", name: "viewer", description: .some(nil), in: sql)
        }
        #expect(updated == RoleRecord(id: "r1", name: "viewer", domainID: nil, description: nil))
        await db.close()
    }

    @Test("implied-role rules are added idempotently, listed, and removed")
    func implications() async throws {
        let db = try await openDatabase()
        let rule = RoleImplication(prior: "a", implied: "b")
        let (listed, implied, inRules) = try await db.write { sql in
            for (id, name) in [("a", "admin"), ("b", "member"), ("c", "lonely")] {
                _ = try await roles.create(RoleRecord(id: id, name: name), in: sql)
            }
            try await roles.add(rule, in: sql)
            try await roles.add(rule, in: sql)
            return (try await roles.implications(in: sql), try await roles.implied(by: "a", in: sql), try await roles.rolesInRules(in: sql))
        }
        #expect(listed == [rule])
        #expect(implied.map(\.id) == ["b"])
        #expect(inRules.map(\.id) == ["a", "b"], "a role in no rule is not read")
        try await db.write { sql in try await roles.remove(rule, in: sql) }
        #expect(try await db.read { sql in try await roles.exists(rule, in: sql) } == false)
        await db.close()
    }

    @Test("deleting a role removes its assignments, rules and application-credential delegations")
    func deleteCascades() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            _ = try await roles.create(RoleRecord(id: "a", name: "admin"), in: sql)
            _ = try await roles.create(RoleRecord(id: "b", name: "member"), in: sql)
            try await roles.add(RoleImplication(prior: "a", implied: "b"), in: sql)
            try await AssignmentStore().add(RoleGrant(actor: .user("u1"), target: .system, roleID: "a"), in: sql)
            try await sql.raw(
                """
                INSERT INTO identity_user (id, name, domain_id, enabled, created_at) VALUES ('u1', 'alice', 'default', \(bind: true), 0)
                """
            ).run()
            try await sql.raw(
                """
                INSERT INTO application_credential (id, name, secret_hash, user_id, unrestricted, created_at)
                VALUES ('ac', 'app', 'x', 'u1', \(bind: false), 0)
                """
            ).run()
            try await sql.raw("INSERT INTO application_credential_role (application_credential_id, role_id) VALUES ('ac', 'a')").run()
        }
        try await db.write { sql in try await roles.delete("a", in: sql) }
        let counts = try await db.read { sql in
            var out: [Int] = []
            for table in ["assignment", "implied_role", "application_credential_role"] {
                out.append(try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()!.decode(column: "n", as: Int.self))
            }
            return out
        }
        #expect(counts == [0, 0, 0])
        #expect(try await db.read { sql in try await roles.get("b", in: sql) }.name == "member")
        await db.close()
    }
}
