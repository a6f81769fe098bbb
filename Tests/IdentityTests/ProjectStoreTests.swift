import Foundation
import SQLKit
import StratusStorage
import Testing

@testable import Identity

/// A migrated, empty identity database (SQLite, or PostgreSQL: see TestDatabase). with domains `d1` and `d2`.
private func openDatabase() async throws -> Database {
    let db = try await TestDatabase.open()
    try await IdentityMigrations.migrator.migrate(db)
    try await db.write { sql in
        try await IdentityFixtures.domain("d1", in: sql)
        try await IdentityFixtures.domain("d2", in: sql)
    }
    return db
}

@Suite("Project store")
struct ProjectStoreTests {
    let projects = ProjectStore()

    @Test("an unknown project is keystone's 404 'Could not find project'")
    func unknownProject() async throws {
        let db = try await openDatabase()
        await #expect(throws: IdentityError.notFound(kind: "project", id: "nope")) {
            try await db.read { sql in try await projects.get("nope", in: sql) }
        }
        await db.close()
    }

    @Test("a name is found only in its own domain")
    func findByName() async throws {
        let db = try await openDatabase()
        try await db.write { sql in try await IdentityFixtures.project("p1", domain: "d1", in: sql) }
        #expect(try await db.read { sql in try await projects.find(name: "name-p1", domainID: "d1", in: sql) }?.id == "p1")
        #expect(try await db.read { sql in try await projects.find(name: "name-p1", domainID: "d2", in: sql) } == nil)
        await db.close()
    }

    @Test("a taken name in the same domain is a 409 duplicate; another domain may reuse it")
    func duplicateName() async throws {
        let db = try await openDatabase()
        try await db.write { sql in try await IdentityFixtures.project("p1", domain: "d1", in: sql) }
        let copy = ProjectRecord(id: "p2", name: "name-p1", domainID: "d1", parentID: "d1", enabled: true, extra: [:])
        do {
            try await db.write { sql in try await projects.create(copy, in: sql) }
            Issue.record("the duplicate was stored")
        } catch {
            #expect(IdentityError.translating(error) as? IdentityError == .duplicate)
        }
        let elsewhere = ProjectRecord(id: "p2", name: "name-p1", domainID: "d2", parentID: "d2", enabled: true, extra: [:])
        #expect(try await db.write { sql in try await projects.create(elsewhere, in: sql) } == elsewhere)
        await db.close()
    }

    @Test("creating under a parent project that is gone is a 404 for the parent")
    func missingParent() async throws {
        let db = try await openDatabase()
        let orphan = ProjectRecord(id: "p1", name: "p1", domainID: "d1", parentID: "gone", enabled: true, extra: [:])
        await #expect(throws: IdentityError.notFound(kind: "project", id: "gone")) {
            try await db.write { sql in try await projects.create(orphan, in: sql) }
        }
        await db.close()
    }

    @Test("name, domain, enabled, parent and tag filters narrow the list; several tags must all match")
    func listFilters() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await IdentityFixtures.project("a", domain: "d1", in: sql)
            try await IdentityFixtures.project("b", domain: "d1", parent: "a", enabled: false, in: sql)
            try await IdentityFixtures.project("c", domain: "d2", in: sql)
            try await projects.addTag("red", to: "a", in: sql)
            try await projects.addTag("blue", to: "a", in: sql)
            try await projects.addTag("red", to: "c", in: sql)
        }
        func ids(_ list: @escaping @Sendable (any SQLDatabase) async throws -> [ProjectRecord]) async throws -> [String] {
            try await db.read { sql in try await list(sql).map(\.id) }
        }
        #expect(try await ids { try await projects.list(in: $0) } == ["a", "b", "c"])
        #expect(try await ids { try await projects.list(domainID: "d1", in: $0) } == ["a", "b"])
        #expect(try await ids { try await projects.list(enabled: false, in: $0) } == ["b"])
        #expect(try await ids { try await projects.list(parentID: "a", in: $0) } == ["b"])
        #expect(try await ids { try await projects.list(name: "name-c", in: $0) } == ["c"])
        #expect(try await ids { try await projects.list(tags: ["red"], in: $0) } == ["a", "c"])
        #expect(try await ids { try await projects.list(tags: ["red", "blue"], in: $0) } == ["a"])
        await db.close()
    }

    @Test("an update merges extra attributes and replaces the tags it is given")
    func update() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await projects.create(
                ProjectRecord(id: "p", name: "p", domainID: "d1", parentID: "d1", enabled: true, extra: ["a": "1"]),
                tags: ["x", "y"],
                in: sql
            )
        }
        let updated = try await db.write { sql in
            try await projects.update("p", description: .some("desc"), enabled: false, extra: ["b": "2"], tags: ["z"], in: sql)
        }
        #expect(updated.extra == ["a": "1", "b": "2"] && updated.description == "desc" && !updated.enabled && updated.name == "p")
        #expect(try await db.read { sql in try await projects.tags(of: ["p"], in: sql) } == ["p": ["z"]])
        let untagged = try await db.write { sql in try await projects.update("p", name: "q", in: sql) }
        #expect(untagged.name == "q")
        #expect(try await db.read { sql in try await projects.tags(of: ["p"], in: sql) } == ["p": ["z"]], "tags kept when not given")
        await db.close()
    }

    @Test("a project with children cannot be deleted (403); a leaf goes with its tags and assignments")
    func deleteRules() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await IdentityFixtures.project("top", domain: "d1", in: sql)
            try await IdentityFixtures.project("leaf", domain: "d1", parent: "top", in: sql)
            try await projects.addTag("t", to: "leaf", in: sql)
            try await IdentityFixtures.role("member", in: sql)
            try await IdentityFixtures.assign("UserProject", "u", on: "leaf", role: "member", in: sql)
            try await IdentityFixtures.assign("UserProject", "u", on: "top", role: "member", in: sql)
        }
        await #expect(throws: IdentityError.forbidden("Cannot delete the project top as it is not a leaf in the hierarchy.")) {
            try await db.write { sql in try await projects.delete("top", in: sql) }
        }
        try await db.write { sql in try await projects.delete("leaf", in: sql) }
        #expect(try await IdentityFixtures.ids("project", in: db) == ["top"])
        #expect(try await IdentityFixtures.ids("project_tag", column: "project_id", in: db).isEmpty)
        #expect(try await IdentityFixtures.ids("assignment", column: "target_id", in: db) == ["top"])
        try await db.write { sql in try await projects.delete("top", in: sql) }
        #expect(try await IdentityFixtures.ids("project", in: db).isEmpty)
        await db.close()
    }

    @Test("adding a tag twice keeps one; the 81st tag is a 400 naming 'tags'")
    func tagRules() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await IdentityFixtures.project("p", domain: "d1", in: sql)
            try await projects.addTag("t", to: "p", in: sql)
            try await projects.addTag("t", to: "p", in: sql)
        }
        #expect(try await db.read { sql in try await projects.tags(of: ["p"], in: sql) } == ["p": ["t"]])
        #expect(try await db.read { sql in try await projects.hasTag("t", on: "p", in: sql) })
        #expect(try await db.read { sql in try await projects.hasTag("u", on: "p", in: sql) } == false)
        try await db.write { sql in for i in 1..<ProjectStore.maxTags { try await projects.addTag("t\(i)", to: "p", in: sql) } }
        await #expect(throws: IdentityError.invalidField("tags", "a project may have at most 80 tags")) {
            try await db.write { sql in try await projects.addTag("one-more", to: "p", in: sql) }
        }
        try await db.write { sql in try await projects.removeTag("t", from: "p", in: sql) }
        #expect(try await db.read { sql in try await projects.hasTag("t", on: "p", in: sql) } == false)
        await db.close()
    }

    @Test("a project with children says so; a leaf does not")
    func children() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await IdentityFixtures.project("a", domain: "d1", in: sql)
            try await IdentityFixtures.project("b", domain: "d1", parent: "a", in: sql)
            try await IdentityFixtures.project("c", domain: "d1", parent: "b", in: sql)
        }
        #expect(try await db.read { sql in try await projects.hasChildren("a", in: sql) })
        #expect(try await db.read { sql in try await projects.hasChildren("c", in: sql) } == false)
        await db.close()
    }

    @Test("a user's projects come from direct and group roles, skipping disabled projects and domains")
    func assignedTo() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await IdentityFixtures.domain("off", enabled: false, in: sql)
            try await IdentityFixtures.project("direct", domain: "d1", in: sql)
            try await IdentityFixtures.project("via-group", domain: "d2", in: sql)
            try await IdentityFixtures.project("disabled", domain: "d1", enabled: false, in: sql)
            try await IdentityFixtures.project("in-off", domain: "off", in: sql)
            try await IdentityFixtures.project("other", domain: "d1", in: sql)
            try await IdentityFixtures.user("u", domain: "d1", in: sql)
            try await IdentityFixtures.group("g", domain: "d1", members: ["u"], in: sql)
            try await IdentityFixtures.role("member", in: sql)
            for p in ["direct", "disabled", "in-off"] { try await IdentityFixtures.assign("UserProject", "u", on: p, role: "member", in: sql) }
            try await IdentityFixtures.assign("GroupProject", "g", on: "via-group", role: "member", in: sql)
            try await IdentityFixtures.assign("UserDomain", "u", on: "d1", role: "member", in: sql)
        }
        #expect(try await db.read { sql in try await projects.list(assignedTo: "u", in: sql) }.map(\.id) == ["direct", "via-group"])
        await db.close()
    }
}
