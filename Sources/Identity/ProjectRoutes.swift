import Hummingbird
import SQLKit
import StratusCore

/// `/v3/projects`: CRUD with `parent_id` hierarchy and tags; filters `name`, `domain_id`,
/// `enabled`, `parent_id`, `tags`; `/v3/users/{id}/projects`.
extension IdentityService {
    func addProjectRoutes(_ r: inout RouteTable) {
        r.get("/v3/projects") { req, _ in
            let domainFilter = req.query("domain_id")
            let (_, domain) = try await self.authorizeList(req, "identity:list_projects", domainFilter: domainFilter)
            var q: SQLQueryString = "SELECT * FROM project WHERE 1 = 1"
            if let name = req.query("name") { q += " AND name = \(bind: name)" }
            if let d = domain { q += " AND domain_id = \(bind: d)" }
            if let enabled = req.query("enabled") { q += " AND enabled = \(bind: queryBool(enabled))" }
            if let parent = req.query("parent_id") { q += " AND parent_id = \(bind: parent)" }
            if let tags = req.query("tags") {
                for tag in tags.split(separator: ",") { q += " AND id IN (SELECT project_id FROM project_tag WHERE name = \(bind: String(tag)))" }
            }
            let rows = try await self.rows(q + " ORDER BY name")
            let tags = try await self.tags(for: rows.map { $0.str("id") })
            return .json(["projects": .array(rows.map { self.projectJSON($0, req, tags: tags) }), "links": collectionLinks(req)])
        }
        r.post("/v3/projects") { req, ctx in
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "project")
            let name = try b.name(required: true)!
            var domainID = try b.string("domain_id", nullable: true, maxLength: 64)
            let parentID = try b.string("parent_id", nullable: true, maxLength: 64)
            if try b.bool("is_domain") == true { throw invalid("is_domain", "projects acting as domains are not supported; create a domain") }
            var parentRow: (any SQLRow)?
            if let parentID {
                parentRow = try await self.db.read { db in try await db.raw("SELECT * FROM project WHERE id = \(bind: parentID)").first() }
                if parentRow == nil, try await self.db.read({ db in try await db.raw("SELECT id FROM domain WHERE id = \(bind: parentID)").first() }) == nil {
                    throw OpenStackError.notFound("Could not find project: \(parentID).")
                }
            }
            if domainID == nil { domainID = parentRow?.str("domain_id") ?? (parentID ?? self.settings.defaultDomainID) }
            let domain = domainID!
            if let parentID, (parentRow?.str("domain_id") ?? parentID) != domain {
                throw invalid("parent_id", "the parent is in another domain than domain_id \(domain)")
            }
            _ = try await self.fetch("domain", domain)
            _ = try await self.authorize(req, "identity:create_project", target: ["target": ["project": ["domain_id": .string(domain)]]])
            let tags = try b.strings("tags") ?? []
            try self.validateTags(tags)
            let id = newID()
            let extra = b.extra(excluding: ["name", "domain_id", "parent_id", "description", "enabled", "is_domain", "tags", "options"])
            let description = try b.string("description", nullable: true, maxLength: 65535)
            let enabled = try b.bool("enabled") ?? true
            let parent = parentID ?? domain
            let parentIsProject = parentRow != nil
            let row = try await self.write { db in
                if parentIsProject, try await db.raw("SELECT id FROM project WHERE id = \(bind: parent)").first() == nil {
                    throw OpenStackError.notFound("Could not find project: \(parent).")
                }
                try await db.raw("""
                    INSERT INTO project (id, name, domain_id, parent_id, description, enabled, extra)
                    VALUES (\(bind: id), \(bind: name), \(bind: domain), \(bind: parent), \(bind: description), \(bind: enabled), \(bind: JSON.object(extra).serialized()))
                    """).run()
                for tag in Set(tags) { try await db.raw("INSERT INTO project_tag (project_id, name) VALUES (\(bind: id), \(bind: tag))").run() }
                return try await db.raw("SELECT * FROM project WHERE id = \(bind: id)").first()!
            }
            return .json(["project": self.projectJSON(row, req, tags: [id: tags])], status: .created)
        }
        r.get("/v3/projects/{project_id}") { req, ctx in
            let (row, _) = try await self.projectForAction(req, ctx, "identity:get_project")
            return .json(["project": self.projectJSON(row, req, tags: try await self.tags(for: [row.str("id")]))])
        }
        r.patch("/v3/projects/{project_id}") { req, ctx in
            let (row, _) = try await self.projectForAction(req, ctx, "identity:update_project")
            let id = row.str("id")
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "project")
            let name = try b.name(required: false)
            let description = try b.string("description", nullable: true, maxLength: 65535)
            let enabled = try b.bool("enabled")
            let tags = try b.strings("tags")
            if let tags { try self.validateTags(tags) }
            if let d = try b.string("domain_id"), d != row.str("domain_id") { throw invalid("domain_id", "a project cannot move to another domain") }
            let extra = b.extra(excluding: ["name", "domain_id", "parent_id", "description", "enabled", "is_domain", "tags", "options"])
            let updated = try await self.write { db in
                if let name { try await db.raw("UPDATE project SET name = \(bind: name) WHERE id = \(bind: id)").run() }
                if b.has("description") { try await db.raw("UPDATE project SET description = \(bind: description) WHERE id = \(bind: id)").run() }
                if let enabled {
                    try await db.raw("UPDATE project SET enabled = \(bind: enabled) WHERE id = \(bind: id)").run()
                    if !enabled { try await self.revoke(db: db, projectID: id) }
                }
                if !extra.isEmpty {
                    let current = try await db.raw("SELECT extra FROM project WHERE id = \(bind: id)").first()?.json("extra") ?? [:]
                    try await db.raw("UPDATE project SET extra = \(bind: JSON.object(current.merging(extra) { _, b in b }).serialized()) WHERE id = \(bind: id)").run()
                }
                if let tags {
                    try await db.raw("DELETE FROM project_tag WHERE project_id = \(bind: id)").run()
                    for tag in Set(tags) { try await db.raw("INSERT INTO project_tag (project_id, name) VALUES (\(bind: id), \(bind: tag))").run() }
                }
                return try await db.raw("SELECT * FROM project WHERE id = \(bind: id)").first()!
            }
            return .json(["project": self.projectJSON(updated, req, tags: try await self.tags(for: [id]))])
        }
        r.delete("/v3/projects/{project_id}") { req, ctx in
            let (row, _) = try await self.projectForAction(req, ctx, "identity:delete_project")
            let id = row.str("id")
            try await self.write { db in
                if try await db.raw("SELECT id FROM project WHERE parent_id = \(bind: id)").first() != nil {
                    throw OpenStackError.forbidden("Cannot delete the project \(id) as it is not a leaf in the hierarchy.")
                }
                try await db.raw("DELETE FROM assignment WHERE target_id = \(bind: id)").run()
                try await db.raw("DELETE FROM project_tag WHERE project_id = \(bind: id)").run()
                try await db.raw("DELETE FROM project WHERE id = \(bind: id)").run()
                try await self.revoke(db: db, projectID: id)
            }
            return .empty()
        }
        // Tags
        r.get("/v3/projects/{project_id}/tags") { req, ctx in
            let (row, _) = try await self.projectForAction(req, ctx, "identity:list_project_tags")
            return .json(["tags": .array((try await self.tags(for: [row.str("id")]))[row.str("id")]?.map(JSON.string) ?? [])])
        }
        r.put("/v3/projects/{project_id}/tags/{tag}") { req, ctx in
            let (row, _) = try await self.projectForAction(req, ctx, "identity:create_project_tag")
            let tag = ctx.parameters.get("tag")!
            try self.validateTags([tag])
            let id = row.str("id")
            try await self.write { db in
                try await db.raw("DELETE FROM project_tag WHERE project_id = \(bind: id) AND name = \(bind: tag)").run()
                let count = try await db.raw("SELECT COUNT(*) AS n FROM project_tag WHERE project_id = \(bind: id)").first()?.int("n") ?? 0
                if count >= 80 { throw invalid("tags", "a project may have at most 80 tags") }
                try await db.raw("INSERT INTO project_tag (project_id, name) VALUES (\(bind: id), \(bind: tag))").run()
            }
            return .empty(.created)
        }
        r.get("/v3/projects/{project_id}/tags/{tag}") { req, ctx in
            let (row, _) = try await self.projectForAction(req, ctx, "identity:get_project_tag")
            let tag = ctx.parameters.get("tag")!
            guard (try await self.tags(for: [row.str("id")]))[row.str("id")]?.contains(tag) == true else {
                throw OpenStackError.notFound("Could not find project tag: \(tag).")
            }
            return .empty()
        }
        r.delete("/v3/projects/{project_id}/tags/{tag}") { req, ctx in
            let (row, _) = try await self.projectForAction(req, ctx, "identity:delete_project_tag")
            let tag = ctx.parameters.get("tag")!
            let id = row.str("id")
            try await self.write { db in try await db.raw("DELETE FROM project_tag WHERE project_id = \(bind: id) AND name = \(bind: tag)").run() }
            return .empty()
        }
        r.get("/v3/users/{user_id}/projects") { req, ctx in
            let userID = ctx.parameters.get("user_id")!
            let user = try await self.fetch("identity_user", userID, noun: "user")
            _ = try await self.authorize(req, "identity:list_user_projects",
                                         target: ["target": ["user": ["id": .string(userID), "domain_id": .string(user.str("domain_id"))]]])
            let rows = try await self.db.read { db in try await self.projectsWithRoles(db: db, userID: userID) }
            let tags = try await self.tags(for: rows.map { $0.str("id") })
            return .json(["projects": .array(rows.map { self.projectJSON($0, req, tags: tags) }), "links": collectionLinks(req)])
        }
    }

    /// Loads `{project_id}` (404 first, as keystone does) and enforces `action` on it.
    func projectForAction(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> (any SQLRow, Caller) {
        let id = ctx.parameters.get("project_id")!
        let row = try await fetch("project", id)
        let caller = try await authorize(req, action, target: ["target": ["project": ["id": .string(id), "domain_id": .string(row.str("domain_id"))]]])
        return (row, caller)
    }

    func validateTags(_ tags: [String]) throws {
        if tags.count > 80 { throw invalid("tags", "a project may have at most 80 tags") }
        for t in tags where t.isEmpty || t.count > 255 || t.contains(",") || t.contains("/") {
            throw invalid("tags", "'\(t)' is not a valid tag (1-255 characters, no ',' or '/')")
        }
    }

    func tags(for projects: [String]) async throws -> [String: [String]] {
        guard !projects.isEmpty else { return [:] }
        let rows = try await db.read { db in try await db.raw("SELECT project_id, name FROM project_tag WHERE project_id IN (\(binds: projects)) ORDER BY name").all() }
        var out: [String: [String]] = [:]
        for r in rows { out[r.str("project_id"), default: []].append(r.str("name")) }
        return out
    }

    func projectJSON(_ row: any SQLRow, _ req: Request, tags: [String: [String]] = [:]) -> JSON {
        let id = row.str("id")
        return merged(["id": .string(id), "name": .string(row.str("name")), "domain_id": .string(row.str("domain_id")),
                       "parent_id": .optional(row.optStr("parent_id")), "description": .string(row.optStr("description") ?? ""),
                       "enabled": .bool(row.bool("enabled")), "is_domain": false, "tags": .array((tags[id] ?? []).map(JSON.string)),
                       "options": [:], "links": ["self": .string(req.baseURL + "/v3/projects/" + id)]], row.json("extra"))
    }
}
