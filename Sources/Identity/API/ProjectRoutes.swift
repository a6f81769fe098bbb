import HTTPTypes
import Hummingbird
import StratusCore

/// `/v3/projects`: CRUD with `parent_id` hierarchy and tags; filters `name`, `domain_id`,
/// `enabled`, `parent_id`, `tags`; `/v3/users/{id}/projects`.
struct ProjectRoutes: Sendable {
    let service: IdentityService
    let projects = ProjectStore()
    let domains = DomainStore()
    let users = UserStore()

    /// Body keys that are not free-form `extra` attributes.
    static let known: Set<String> = ["name", "domain_id", "parent_id", "description", "enabled", "is_domain", "tags", "options"]

    func add(to r: inout RouteTable) {
        r.get("/v3/projects", list)
        r.post("/v3/projects", create)
        r.get("/v3/projects/{project_id}", get)
        r.patch("/v3/projects/{project_id}", update)
        r.delete("/v3/projects/{project_id}", delete)
        r.get("/v3/projects/{project_id}/tags", listTags)
        r.put("/v3/projects/{project_id}/tags", replaceTags)
        r.delete("/v3/projects/{project_id}/tags", deleteTags)
        r.put("/v3/projects/{project_id}/tags/{tag}", addTag)
        r.get("/v3/projects/{project_id}/tags/{tag}", checkTag)
        r.delete("/v3/projects/{project_id}/tags/{tag}", deleteTag)
        r.get("/v3/users/{user_id}/projects", listForUser)
    }

    /// GET the projects, narrowed by `name`, `domain_id` (else a domain-scoped token's domain),
    /// `enabled`, `parent_id` and `tags` (all of a comma-separated list): 200. 403 by policy.
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (_, listed) = try await service.authorizeList(req, IdentityPolicy.listProjects, domainFilter: req.query("domain_id"))
        if listed.isEmpty { return .json(["projects": [], "links": collectionLinks(req)]) }
        let domain = listed.domainID
        let name = req.query("name")
        let enabled = req.query("enabled").map(queryBool)
        let parent = req.query("parent_id")
        let tags = req.query("tags").map { $0.split(separator: ",").map(String.init) } ?? []
        let limit = service.settings.listLimits.resource
        let (found, truncated, tagged) = try await service.read { sql in
            let rows = try await projects.list(
                name: name,
                matching: req.nameFilters,
                domainID: domain,
                enabled: enabled,
                parentID: parent,
                tags: tags,
                limit: limit.fetch,
                in: sql
            )
            let (found, truncated) = limit.apply(rows)
            return (found, truncated, try await projects.tags(of: found.map(\.id), in: sql))
        }
        return collectionBody("projects", found.map { Self.json($0, req, tags: tagged[$0.id] ?? []) }, truncated: truncated, req)
    }

    /// POST a project under `parent_id` (a project or the domain) in `domain_id` (default: the
    /// parent's domain, else the default domain): 201. 400 invalid body, `is_domain`, or a parent
    /// in another domain; 404 unknown parent or domain; 409 name taken in the domain; 403 by policy.
    @Sendable func create(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "project")
        let name = try b.name(required: true, maxLength: 64)!
        let requestedDomain = try b.string("domain_id", nullable: true, maxLength: 64)
        let parentID = try b.string("parent_id", nullable: true, maxLength: 64)
        if try b.bool("is_domain") == true { throw invalid("is_domain", "projects acting as domains are not supported; create a domain") }
        // The parent is a project, or (keystone's convention for top-level projects) a domain.
        var parentDomain: String?
        if let parentID {
            parentDomain = try await service.read { sql in
                do { return try await projects.get(parentID, in: sql).domainID } catch IdentityError.notFound {}
                guard try await domains.exists(parentID, in: sql) else { throw IdentityError.notFound(kind: "project", id: parentID) }
                return parentID
            }
        }
        let domain = requestedDomain ?? parentDomain ?? service.settings.defaultDomainID
        if parentID != nil, parentDomain != domain {
            throw invalid("parent_id", "the parent is in another domain than domain_id \(domain)")
        }
        _ = try await service.read { sql in try await domains.get(domain, in: sql) }
        _ = try await service.authorize(req, IdentityPolicy.createProject, target: ["target": ["project": ["domain_id": .string(domain)]]])
        let tags = try b.strings("tags") ?? []
        try Self.validate(tags)
        let project = ProjectRecord(
            id: newID(),
            name: name,
            domainID: domain,
            parentID: parentID ?? domain,
            description: try b.string("description", nullable: true, maxLength: 65535),
            enabled: try b.bool("enabled") ?? true,
            extra: b.extra(excluding: Self.known)
        )
        let created = try await service.write { sql in try await projects.create(project, tags: tags, in: sql) }
        return .json(["project": Self.json(created, req, tags: tags)], status: .created)
    }

    /// GET one project: 200. 404 unknown; 403 by policy.
    @Sendable func get(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let project = try await authorized(req, ctx, IdentityPolicy.getProject)
        let tags = try await service.read { sql in try await projects.tags(of: [project.id], in: sql) }
        return .json(["project": Self.json(project, req, tags: tags[project.id] ?? [])])
    }

    /// PATCH a project's name, description, enabled flag, tags or extra attributes (disabling
    /// revokes its tokens): 200. 400 invalid body or a move to another domain; 404 unknown;
    /// 409 name taken; 403 by policy.
    @Sendable func update(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let project = try await authorized(req, ctx, IdentityPolicy.updateProject)
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "project")
        let name = try b.name(required: false, maxLength: 64)
        let description = try b.string("description", nullable: true, maxLength: 65535)
        let enabled = try b.bool("enabled")
        let tags = try b.strings("tags")
        if let tags { try Self.validate(tags) }
        if let d = try b.string("domain_id"), d != project.domainID { throw invalid("domain_id", "a project cannot move to another domain") }
        let extra = b.extra(excluding: Self.known)
        let (updated, tagged) = try await service.write { sql in
            let updated = try await projects.update(
                project.id,
                name: name,
                description: b.has("description") ? .some(description) : nil,
                enabled: enabled,
                extra: extra,
                tags: tags,
                in: sql
            )
            if enabled == false { try await service.revoke(db: sql, projectID: project.id) }
            return (updated, try await projects.tags(of: [project.id], in: sql))
        }
        return .json(["project": Self.json(updated, req, tags: tagged[project.id] ?? [])])
    }

    /// DELETE a leaf project with its tags and assignments, revoking its tokens: 204. 404 unknown;
    /// 403 while it has child projects, or by policy.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let project = try await authorized(req, ctx, IdentityPolicy.deleteProject)
        try await service.write { sql in
            try await projects.delete(project.id, in: sql)
            // keystone deletes the trusts on a deleted project
            try await service.deleteTrusts(try await TrustStore().ids(onProject: project.id, in: sql), in: sql)
            try await service.revoke(db: sql, projectID: project.id)
        }
        return .empty()
    }

    /// GET a project's tags: 200. 404 unknown project; 403 by policy.
    @Sendable func listTags(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let project = try await authorized(req, ctx, IdentityPolicy.listProjectTags)
        let tags = try await service.read { sql in try await projects.tags(of: [project.id], in: sql) }
        return Self.tagsBody(tags[project.id] ?? [], req)
    }

    /// PUT a project's whole tag list (`{"tags": [...]}`), replacing the old one: 200 with the
    /// new list. 400 invalid tag or more than 80; 404 unknown project; 403 by policy.
    @Sendable func replaceTags(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let project = try await authorized(req, ctx, IdentityPolicy.updateProjectTags)
        let body = try await req.jsonBody(limit: ctx.bodyLimit)
        guard let list = body["tags"]?.arrayValue else { throw invalid("tags", "'tags' is a required property") }
        let tags = try list.map { item -> String in
            guard let tag = item.stringValue else { throw invalid("tags", "\(item.serialized()) is not of type 'string'") }
            return tag
        }
        try Self.validate(tags)
        let stored = try await service.write { sql in
            _ = try await projects.update(project.id, tags: tags, in: sql)
            return try await projects.tags(of: [project.id], in: sql)
        }
        return Self.tagsBody(stored[project.id] ?? [], req)
    }

    /// DELETE every tag of a project: 204. 404 unknown project; 403 by policy.
    @Sendable func deleteTags(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let project = try await authorized(req, ctx, IdentityPolicy.deleteProjectTags)
        try await service.write { sql in _ = try await projects.update(project.id, tags: [], in: sql) }
        return .empty()
    }

    /// keystone's tag list answer: `{"tags": [...], "links": {"self": ".../v3"}}` (its links name the API root).
    static func tagsBody(_ tags: [String], _ req: Request) -> Response {
        .json(["tags": .array(tags.map(JSON.string)), "links": ["self": .string(req.baseURL + "/v3")]])
    }

    /// PUT one tag on a project (idempotent): 201 with its URL in `Location`. 400 invalid tag or more than 80; 404 unknown project; 403 by policy.
    @Sendable func addTag(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let project = try await authorized(req, ctx, IdentityPolicy.createProjectTag)
        let tag = try ctx.parameters.require("tag")
        try Self.validate([tag])
        try await service.write { sql in try await projects.addTag(tag, to: project.id, in: sql) }
        var headers = HTTPFields()
        headers[.location] = req.baseURL + "/v3/projects/\(project.id)/tags/\(tag)"
        return .empty(.created, headers: headers)
    }

    /// GET whether a project has a tag: 204. 404 unknown project or tag; 403 by policy.
    @Sendable func checkTag(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let project = try await authorized(req, ctx, IdentityPolicy.getProjectTag)
        let tag = try ctx.parameters.require("tag")
        guard try await service.read({ sql in try await projects.hasTag(tag, on: project.id, in: sql) }) else {
            throw IdentityError.notFound(kind: "project tag", id: tag)
        }
        return .empty()
    }

    /// DELETE one tag from a project (absent tags too): 204. 404 unknown project; 403 by policy.
    @Sendable func deleteTag(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let project = try await authorized(req, ctx, IdentityPolicy.deleteProjectTag)
        let tag = try ctx.parameters.require("tag")
        try await service.write { sql in try await projects.removeTag(tag, from: project.id, in: sql) }
        return .empty()
    }

    /// GET the enabled projects a user holds a role on, directly or through a group: 200. 404 unknown user; 403 by policy.
    @Sendable func listForUser(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let userID = try ctx.parameters.require("user_id")
        let user = try await service.read { sql in try await users.get(userID, in: sql) }
        _ = try await service.authorize(
            req,
            IdentityPolicy.listUserProjects,
            target: ["target": ["user": ["id": .string(userID), "domain_id": .string(user.domainID)]]]
        )
        let (found, tagged) = try await service.read { sql in
            let found = try await projects.list(assignedTo: userID, in: sql)
            return (found, try await projects.tags(of: found.map(\.id), in: sql))
        }
        return .json(["projects": .array(found.map { Self.json($0, req, tags: tagged[$0.id] ?? []) }), "links": collectionLinks(req)])
    }

    /// Loads `{project_id}` (404 before the policy check, as keystone does) and enforces `action` on it.
    private func authorized(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> ProjectRecord {
        let id = try ctx.parameters.require("project_id")
        let project = try await service.read { sql in try await projects.get(id, in: sql) }
        _ = try await service.authorize(
            req,
            action,
            target: ["target": ["project": ["id": .string(id), "domain_id": .string(project.domainID)]]]
        )
        return project
    }

    /// keystone's tag rules: at most 80, each 1–255 characters without `,` or `/`.
    static func validate(_ tags: [String]) throws {
        if tags.count > ProjectStore.maxTags { throw invalid("tags", "a project may have at most \(ProjectStore.maxTags) tags") }
        for t in tags where t.isEmpty || t.count > 255 || t.contains(",") || t.contains("/") {
            throw invalid("tags", "'\(t)' is not a valid tag (1-255 characters, no ',' or '/')")
        }
    }

    /// A project as keystone renders it: `extra` attributes beside the known ones, which win.
    static func json(_ project: ProjectRecord, _ req: Request, tags: [String] = []) -> JSON {
        merged(
            [
                "id": .string(project.id), "name": .string(project.name), "domain_id": .string(project.domainID),
                "parent_id": .optional(project.parentID), "description": .string(project.description ?? ""),
                "enabled": .bool(project.enabled), "is_domain": false, "tags": .array(tags.map(JSON.string)),
                "options": [:], "links": ["self": .string(req.baseURL + "/v3/projects/" + project.id)],
            ],
            project.extra
        )
    }
}
