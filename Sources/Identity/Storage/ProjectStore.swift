import SQLKit
import StratusCore

/// A keystone project as stored. `parentID` is the parent project, or the domain id for a
/// top-level project (keystone's convention).
struct ProjectRecord: Sendable, Equatable {
    var id: String
    var name: String
    var domainID: String
    var parentID: String?
    var description: String?
    var enabled: Bool
    /// Free-form attributes keystone keeps beside the known ones.
    var extra: [String: JSON]
}

/// Projects, their tags and their hierarchy in the identity database.
struct ProjectStore: Sendable {
    /// One `project` row, exactly as the table has it.
    struct Row: Decodable {
        var id: String
        var name: String
        var domainId: String
        var parentId: String?
        var description: String?
        var enabled: Bool
        var extra: String

        func record() throws -> ProjectRecord {
            ProjectRecord(
                id: id,
                name: name,
                domainID: domainId,
                parentID: parentId,
                description: description,
                enabled: enabled,
                extra: try UserStore.jsonObject(extra)
            )
        }
    }

    /// One `project_tag` row.
    struct TagRow: Decodable {
        var projectId: String
        var name: String
    }

    /// keystone's limit on tags per project.
    static let maxTags = 80

    /// The project `id`; `IdentityError.notFound` when there is none.
    func get(_ id: String, in sql: any SQLDatabase) async throws -> ProjectRecord {
        guard let row = try await sql.select().columns("*").from("project").where("id", .equal, id).first() else {
            throw IdentityError.notFound(kind: "project", id: id)
        }
        return try row.decode(Row.self).record()
    }

    /// The project called `name` in domain `domainID`, or nil.
    func find(name: String, domainID: String, in sql: any SQLDatabase) async throws -> ProjectRecord? {
        try await sql.select().columns("*").from("project").where("name", .equal, name).where("domain_id", .equal, domainID)
            .first()?.decode(Row.self).record()
    }

    /// Projects matching every given filter (a project must carry all of `tags`), by name; at most `limit` rows.
    func list(
        name: String? = nil,
        matching inexact: [InexactFilter] = [],
        domainID: String? = nil,
        enabled: Bool? = nil,
        parentID: String? = nil,
        tags: [String] = [],
        limit: Int? = nil,
        in sql: any SQLDatabase
    ) async throws -> [ProjectRecord] {
        let query = sql.select().columns("*").from("project").filter(inexact)
        if let name { query.where("name", .equal, name) }
        if let domainID { query.where("domain_id", .equal, domainID) }
        if let enabled { query.where("enabled", .equal, enabled) }
        if let parentID { query.where("parent_id", .equal, parentID) }
        for tag in tags {
            query.where("id", .in, SQLSubquery.select { $0.column("project_id").from("project_tag").where("name", .equal, tag) })
        }
        if let limit { query.limit(limit) }
        return try await query.orderBy("name").all().map { try $0.decode(Row.self).record() }
    }

    /// The projects below `id` (children, their children, …; not `id` itself), by id.
    func descendants(of id: String, in sql: any SQLDatabase) async throws -> [String] {
        struct Row: Decodable { var id: String }
        return try await sql.raw(
            """
            WITH RECURSIVE below(id, depth) AS (
              SELECT id, 0 FROM project WHERE parent_id = \(bind: id)
              UNION ALL
              SELECT p.id, b.depth + 1 FROM project p JOIN below b ON p.parent_id = b.id WHERE b.depth < 32)
            SELECT id FROM below ORDER BY id
            """
        ).all(decoding: Row.self).map(\.id)
    }

    /// Enabled projects of enabled domains on which `userID` holds a role, directly or through
    /// a group, or inherited from its domain or a parent project (OS-INHERIT)
    /// (`/v3/auth/projects`, `/v3/users/{id}/projects`), by name.
    func list(assignedTo userID: String, in sql: any SQLDatabase) async throws -> [ProjectRecord] {
        struct Target: Decodable { var targetId: String }
        let inheritedFrom = try await sql.select().column("target_id").from("assignment")
            .where("inherited", .equal, true).where("type", .in, ["UserProject", "GroupProject"])
            .where("target_id", .in, AssignmentStore.targetIDs(grantedTo: userID, types: ["UserProject", "GroupProject"], inherited: true))
            .all().map { try $0.decode(Target.self).targetId }
        var below: Set<String> = []
        for parent in Set(inheritedFrom) { below.formUnion(try await descendants(of: parent, in: sql)) }
        let reached = below.sorted()
        return try await sql.select().columns("*").from("project")
            .where("enabled", .equal, true)
            .where("domain_id", .in, SQLSubquery.select { $0.column("id").from("domain").where("enabled", .equal, true) })
            .where(group: {
                $0.where("id", .in, AssignmentStore.targetIDs(grantedTo: userID, types: ["UserProject", "GroupProject"]))
                    .orWhere("domain_id", .in, AssignmentStore.targetIDs(grantedTo: userID, types: ["UserDomain", "GroupDomain"], inherited: true))
                    .orWhere("id", .in, reached.isEmpty ? [""] : reached)
            })
            .orderBy("name").all().map { try $0.decode(Row.self).record() }
    }

    /// Whether any project has `id` as its parent.
    func hasChildren(_ id: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("id").from("project").where("parent_id", .equal, id).limit(1).first() != nil
    }

    /// Inserts `project` with `tags`; `StorageError.uniqueViolation` when the name is taken in
    /// its domain, `IdentityError.notFound` when its parent project vanished meanwhile.
    @discardableResult
    func create(_ project: ProjectRecord, tags: [String] = [], in sql: any SQLDatabase) async throws -> ProjectRecord {
        if let parent = project.parentID, parent != project.domainID { _ = try await get(parent, in: sql) }
        try await sql.insert(into: "project")
            .columns("id", "name", "domain_id", "parent_id", "description", "enabled", "extra")
            .values(
                SQLBind(project.id),
                SQLBind(project.name),
                SQLBind(project.domainID),
                SQLBind(project.parentID),
                SQLBind(project.description),
                SQLBind(project.enabled),
                SQLBind(JSON.object(project.extra).serialized())
            )
            .run()
        try await insertTags(Set(tags), into: project.id, in: sql)
        return try await get(project.id, in: sql)
    }

    /// Changes the given attributes (`description: .some(nil)` clears it); `extra` is merged into
    /// the stored attributes and `tags`, when given, replace the project's tags.
    func update(
        _ id: String,
        name: String? = nil,
        description: String?? = nil,
        enabled: Bool? = nil,
        extra: [String: JSON] = [:],
        tags: [String]? = nil,
        in sql: any SQLDatabase
    ) async throws -> ProjectRecord {
        let current = try await get(id, in: sql)
        let update = sql.update("project").where("id", .equal, id)
        var changed = [
            update.set("name", ifGiven: name),
            update.set("description", ifGiven: description),
            update.set("enabled", ifGiven: enabled),
        ].contains(true)
        if !extra.isEmpty {
            update.set("extra", to: JSON.object(current.extra.merging(extra) { _, new in new }).serialized())
            changed = true
        }
        if changed { try await update.run() }
        if let tags {
            try await sql.delete(from: "project_tag").where("project_id", .equal, id).run()
            try await insertTags(Set(tags), into: id, in: sql)
        }
        return try await get(id, in: sql)
    }

    /// Deletes a leaf project with its tags and the role assignments on it. 404 unknown; 403
    /// while it has child projects. Runs in the caller's transaction.
    func delete(_ id: String, in sql: any SQLDatabase) async throws {
        _ = try await get(id, in: sql)
        if try await hasChildren(id, in: sql) {
            throw IdentityError.forbidden("Cannot delete the project \(id) as it is not a leaf in the hierarchy.")
        }
        try await sql.delete(from: "assignment").where("target_id", .equal, id).run()
        try await sql.delete(from: "project_tag").where("project_id", .equal, id).run()
        try await sql.delete(from: "project").where("id", .equal, id).run()
    }

    // MARK: Tags

    /// The tags of each of `projects`, sorted; projects without tags are absent.
    func tags(of projects: [String], in sql: any SQLDatabase) async throws -> [String: [String]] {
        guard !projects.isEmpty else { return [:] }
        let rows = try await sql.select().columns("project_id", "name").from("project_tag").where("project_id", .in, projects)
            .orderBy("name").all(decoding: TagRow.self, keyDecodingStrategy: .convertFromSnakeCase)
        return Dictionary(grouping: rows, by: \.projectId).mapValues { $0.map(\.name) }
    }

    /// Whether project `id` carries `tag`.
    func hasTag(_ tag: String, on id: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("name").from("project_tag").where("project_id", .equal, id).where("name", .equal, tag)
            .first() != nil
    }

    /// Adds `tag` to project `id` (idempotent); `IdentityError.invalidField` when it already has `maxTags` others.
    func addTag(_ tag: String, to id: String, in sql: any SQLDatabase) async throws {
        try await removeTag(tag, from: id, in: sql)
        let count =
            try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("project_tag")
            .where("project_id", .equal, id).first(decodingColumn: "n", as: Int.self) ?? 0
        if count >= Self.maxTags { throw IdentityError.invalidField("tags", "a project may have at most \(Self.maxTags) tags") }
        try await insertTags([tag], into: id, in: sql)
    }

    /// Removes `tag` from project `id`; nothing happens when it is not there.
    func removeTag(_ tag: String, from id: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "project_tag").where("project_id", .equal, id).where("name", .equal, tag).run()
    }

    private func insertTags(_ tags: Set<String>, into id: String, in sql: any SQLDatabase) async throws {
        guard !tags.isEmpty else { return }
        let insert = sql.insert(into: "project_tag").columns("project_id", "name")
        for tag in tags.sorted() { insert.values(SQLBind(id), SQLBind(tag)) }
        try await insert.run()
    }
}
