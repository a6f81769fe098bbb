import Foundation
import SQLKit
import StratusStorage
import Testing

@testable import Identity

/// A migrated, empty identity database (SQLite, or PostgreSQL: see TestDatabase).
private func openDatabase() async throws -> Database {
    let db = try await TestDatabase.open()
    try await IdentityMigrations.migrator.migrate(db)
    return db
}

/// Row-level fixtures the domain cascade reaches: users, groups, roles, assignments, credentials.
enum IdentityFixtures {
    static func domain(_ id: String, enabled: Bool = true, in sql: any SQLDatabase) async throws {
        try await DomainStore().create(DomainRecord(id: id, name: "name-" + id, enabled: enabled, extra: [:]), in: sql)
    }

    static func project(_ id: String, domain: String, parent: String? = nil, enabled: Bool = true, in sql: any SQLDatabase) async throws {
        try await ProjectStore().create(
            ProjectRecord(
                id: id,
                name: "name-" + id,
                domainID: domain,
                parentID: parent ?? domain,
                enabled: enabled,
                extra: [:]
            ),
            in: sql
        )
    }

    static func user(_ id: String, domain: String, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "identity_user").columns("id", "name", "domain_id", "enabled", "created_at")
            .values(SQLBind(id), SQLBind(id), SQLBind(domain), SQLBind(true), SQLBind(Int64(0))).run()
    }

    static func group(_ id: String, domain: String, members: [String] = [], in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "identity_group").columns("id", "name", "domain_id").values(SQLBind(id), SQLBind(id), SQLBind(domain)).run()
        for m in members {
            try await sql.insert(into: "group_membership").columns("user_id", "group_id").values(SQLBind(m), SQLBind(id)).run()
        }
    }

    static func role(_ id: String, domain: String = "<<null>>", in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "role").columns("id", "name", "domain_id").values(SQLBind(id), SQLBind(id), SQLBind(domain)).run()
    }

    static func assign(_ type: String, _ actor: String, on target: String, role: String, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "assignment").columns("type", "actor_id", "target_id", "role_id")
            .values(SQLBind(type), SQLBind(actor), SQLBind(target), SQLBind(role)).run()
    }

    static func credential(_ id: String, user: String, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "credential").columns("id", "user_id", "type", "encrypted_blob", "key_hash")
            .values(SQLBind(id), SQLBind(user), SQLBind("ec2"), SQLBind("x"), SQLBind("k")).run()
    }

    /// The ids in `table` (its `column`), sorted.
    static func ids(_ table: String, column: String = "id", in db: Database) async throws -> [String] {
        try await db.read { sql in
            try await sql.select().column(column).from(table).orderBy(column).all().map { try $0.decode(column: column, as: String.self) }
        }
    }
}

@Suite("Domain store")
struct DomainStoreTests {
    let domains = DomainStore()

    @Test("an unknown domain is keystone's 404 'Could not find domain'")
    func unknownDomain() async throws {
        let db = try await openDatabase()
        await #expect(throws: IdentityError.notFound(kind: "domain", id: "nope")) {
            try await db.read { sql in try await domains.get("nope", in: sql) }
        }
        #expect(try await db.read { sql in try await domains.find(name: "nope", in: sql) } == nil)
        await db.close()
    }

    @Test("a created domain reads back with its extra attributes, by id and by name")
    func createAndRead() async throws {
        let db = try await openDatabase()
        let record = DomainRecord(id: "d1", name: "Engineering", description: "eng", enabled: true, extra: ["color": "blue"])
        let created = try await db.write { sql in try await domains.create(record, in: sql) }
        #expect(created == record)
        #expect(try await db.read { sql in try await domains.find(name: "Engineering", in: sql) } == record)
        await db.close()
    }

    @Test("a second domain with a taken name is a 409 duplicate")
    func duplicateName() async throws {
        let db = try await openDatabase()
        try await db.write { sql in try await IdentityFixtures.domain("d1", in: sql) }
        do {
            try await db.write { sql in
                try await domains.create(DomainRecord(id: "d2", name: "name-d1", enabled: true, extra: [:]), in: sql)
            }
            Issue.record("the duplicate was stored")
        } catch {
            #expect(IdentityError.translating(error) as? IdentityError == .duplicate)
        }
        await db.close()
    }

    @Test("the name and enabled filters narrow the list, which is sorted by name")
    func listFilters() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await IdentityFixtures.domain("b", in: sql)
            try await IdentityFixtures.domain("a", enabled: false, in: sql)
            try await IdentityFixtures.domain("c", in: sql)
        }
        let all = try await db.read { sql in try await domains.list(in: sql) }
        #expect(all.map(\.id) == ["a", "b", "c"])
        #expect(try await db.read { sql in try await domains.list(enabled: true, in: sql) }.map(\.id) == ["b", "c"])
        #expect(try await db.read { sql in try await domains.list(name: "name-b", in: sql) }.map(\.id) == ["b"])
        #expect(try await db.read { sql in try await domains.list(name: "name-a", enabled: true, in: sql) }.isEmpty)
        await db.close()
    }

    @Test("an update changes only what it names; an explicit nil clears the description")
    func update() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await domains.create(DomainRecord(id: "d1", name: "one", description: "first", enabled: true, extra: [:]), in: sql)
        }
        let renamed = try await db.write { sql in try await domains.update("d1", name: "uno", in: sql) }
        #expect(renamed.name == "uno" && renamed.description == "first" && renamed.enabled)
        let cleared = try await db.write { sql in try await domains.update("d1", description: .some(nil), enabled: false, in: sql) }
        #expect(cleared.description == nil && !cleared.enabled && cleared.name == "uno")
        await #expect(throws: IdentityError.notFound(kind: "domain", id: "zz")) {
            try await db.write { sql in try await domains.update("zz", name: "x", in: sql) }
        }
        await db.close()
    }

    @Test("an enabled domain cannot be deleted (403) and stays")
    func deleteEnabled() async throws {
        let db = try await openDatabase()
        try await db.write { sql in try await IdentityFixtures.domain("d1", in: sql) }
        await #expect(throws: IdentityError.forbidden("Cannot delete a domain that is enabled, please disable it first.")) {
            try await db.write { sql in try await domains.delete("d1", in: sql) }
        }
        #expect(try await IdentityFixtures.ids("domain", in: db) == ["d1"])
        await db.close()
    }

    @Test("deleting a disabled domain removes its users, groups, projects, roles, credentials and assignments, nothing else")
    func deleteCascades() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            for d in ["d1", "d2"] {
                try await IdentityFixtures.domain(d, enabled: d != "d1", in: sql)
                try await IdentityFixtures.user("u-" + d, domain: d, in: sql)
                try await IdentityFixtures.group("g-" + d, domain: d, members: ["u-" + d], in: sql)
                try await IdentityFixtures.project("p-" + d, domain: d, in: sql)
                try await ProjectStore().addTag("t", to: "p-" + d, in: sql)
                try await IdentityFixtures.role("r-" + d, domain: d, in: sql)
                try await IdentityFixtures.credential("c-" + d, user: "u-" + d, in: sql)
            }
            try await IdentityFixtures.role("member", in: sql)
            // d2's user holds roles on d1 and its project: those go with d1.
            for (actor, type) in [("u-d1", "User"), ("g-d1", "Group"), ("u-d2", "User")] {
                try await IdentityFixtures.assign(type + "Project", actor, on: "p-d1", role: "member", in: sql)
                try await IdentityFixtures.assign(type + "Domain", actor, on: "d1", role: "member", in: sql)
            }
            // d1's user holds a role on d2's project: it goes with the user.
            try await IdentityFixtures.assign("UserProject", "u-d1", on: "p-d2", role: "member", in: sql)
            try await IdentityFixtures.assign("UserProject", "u-d2", on: "p-d2", role: "member", in: sql)
        }
        try await db.write { sql in try await domains.delete("d1", in: sql) }
        #expect(try await IdentityFixtures.ids("domain", in: db) == ["d2"])
        #expect(try await IdentityFixtures.ids("identity_user", in: db) == ["u-d2"])
        #expect(try await IdentityFixtures.ids("identity_group", in: db) == ["g-d2"])
        #expect(try await IdentityFixtures.ids("project", in: db) == ["p-d2"])
        #expect(try await IdentityFixtures.ids("project_tag", column: "project_id", in: db) == ["p-d2"])
        #expect(try await IdentityFixtures.ids("role", in: db) == ["member", "r-d2"])
        #expect(try await IdentityFixtures.ids("credential", in: db) == ["c-d2"])
        #expect(try await IdentityFixtures.ids("group_membership", column: "group_id", in: db) == ["g-d2"])
        let left = try await db.read { sql in
            try await sql.select().columns("actor_id", "target_id").from("assignment").all()
                .map { "\(try $0.decode(column: "actor_id", as: String.self))@\(try $0.decode(column: "target_id", as: String.self))" }
        }
        #expect(left == ["u-d2@p-d2"])
        await db.close()
    }

    @Test("the domains a user holds a role on, directly or through a group, skip disabled domains")
    func assignedTo() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await IdentityFixtures.domain("a", in: sql)
            try await IdentityFixtures.domain("b", in: sql)
            try await IdentityFixtures.domain("c", enabled: false, in: sql)
            try await IdentityFixtures.domain("d", in: sql)
            try await IdentityFixtures.user("u", domain: "a", in: sql)
            try await IdentityFixtures.group("g", domain: "a", members: ["u"], in: sql)
            try await IdentityFixtures.role("member", in: sql)
            try await IdentityFixtures.assign("UserDomain", "u", on: "a", role: "member", in: sql)
            try await IdentityFixtures.assign("GroupDomain", "g", on: "b", role: "member", in: sql)
            try await IdentityFixtures.assign("UserDomain", "u", on: "c", role: "member", in: sql)
            try await IdentityFixtures.assign("UserProject", "u", on: "d", role: "member", in: sql)
        }
        #expect(try await db.read { sql in try await domains.list(assignedTo: "u", in: sql) }.map(\.id) == ["a", "b"])
        #expect(try await db.read { sql in try await domains.list(assignedTo: "nobody", in: sql) }.isEmpty)
        await db.close()
    }
}
