import Hummingbird
import StratusCore

/// `/v3/groups`: CRUD, filters `name`, `domain_id`; membership under `/v3/groups/{id}/users`.
struct GroupRoutes: Sendable {
    let service: IdentityService
    let groups = GroupStore()
    let users = UserStore()
    let domains = DomainStore()
    let assignments = AssignmentStore()

    func add(to r: inout RouteTable) {
        r.get("/v3/groups", list)
        r.post("/v3/groups", create)
        r.get("/v3/groups/{group_id}", get)
        r.patch("/v3/groups/{group_id}", update)
        r.delete("/v3/groups/{group_id}", delete)
        r.get("/v3/groups/{group_id}/users", listUsers)
        r.put("/v3/groups/{group_id}/users/{user_id}", addUser)
        r.head("/v3/groups/{group_id}/users/{user_id}", checkUser)
        r.get("/v3/groups/{group_id}/users/{user_id}", checkUser)
        r.delete("/v3/groups/{group_id}/users/{user_id}", removeUser)
    }

    /// GET groups, filtered by `name` and `domain_id` (default: a domain-scoped caller's domain): 200. 403 by policy.
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (_, listed) = try await service.authorizeList(req, IdentityPolicy.listGroups, domainFilter: req.query("domain_id"), entity: "group")
        if listed.isEmpty { return .json(["groups": [], "links": collectionLinks(req)]) }
        let domain = listed.domainID
        let name = req.query("name")
        let limit = service.settings.listLimits.identity
        let rows = try await service.read { sql in
            try await groups.list(name: name, matching: req.nameFilters, domainID: domain, limit: limit.fetch, in: sql)
        }
        let (found, truncated) = limit.apply(rows)
        return collectionBody("groups", found.map { Self.json($0, req) }, truncated: truncated, req)
    }

    /// POST a group (in `domain_id`, default the default domain): 201. 400 invalid body; 404 unknown domain;
    /// 409 name taken in the domain; 403 by policy.
    @Sendable func create(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "group")
        let name = try b.name(required: true)!
        let domain = try b.string("domain_id", maxLength: 64) ?? service.settings.defaultDomainID
        _ = try await service.read { sql in try await domains.get(domain, in: sql) }
        _ = try await service.authorize(req, IdentityPolicy.createGroup, target: ["target": ["group": ["domain_id": .string(domain)]]])
        let description = try b.string("description", nullable: true, maxLength: 65535)
        let group = GroupRecord(
            id: newID(),
            name: name,
            domainID: domain,
            description: description,
            extra: b.extra(excluding: ["name", "domain_id", "description"])
        )
        let created = try await service.write { sql in
            try await groups.create(group, in: sql)
            return try await groups.get(group.id, in: sql)
        }
        return .json(["group": Self.json(created, req)], status: .created)
    }

    /// GET one group: 200. 404 unknown; 403 by policy.
    @Sendable func get(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let group = try await authorized(req, ctx, IdentityPolicy.getGroup)
        return .json(["group": Self.json(group, req)])
    }

    /// PATCH a group's name or description: 200. 400 invalid body; 404 unknown; 409 name taken; 403 by policy.
    @Sendable func update(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let group = try await authorized(req, ctx, IdentityPolicy.updateGroup)
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "group")
        let name = try b.name(required: false)
        let description = try b.string("description", nullable: true, maxLength: 65535)
        if let d = try b.string("domain_id"), d != group.domainID { throw invalid("domain_id", "a group cannot move to another domain") }
        let extra = b.extra(excluding: ["name", "domain_id", "description", "id"])
        let updated = try await service.write { sql in
            try await groups.update(group.id, name: name, description: b.has("description") ? .some(description) : nil, extra: extra, in: sql)
        }
        return .json(["group": Self.json(updated, req)])
    }

    /// DELETE a group with its role assignments (memberships cascade): 204. 404 unknown; 403 by policy.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let group = try await authorized(req, ctx, IdentityPolicy.deleteGroup)
        try await service.write { sql in
            try await assignments.removeAll(actorID: group.id, in: sql)
            try await groups.delete(group.id, in: sql)
        }
        return .empty()
    }

    /// GET the members of a group: 200. 404 unknown group; 403 by policy.
    @Sendable func listUsers(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (group, caller) = try await authorizedWithCaller(req, ctx, IdentityPolicy.listUsersInGroup)
        // keystone: a domain-scoped caller sees only its domain's users
        let tokenDomain = caller.domainID
        let members = try await service.read { sql in try await groups.users(inGroup: group.id, in: sql) }
            .filter { user in tokenDomain.map { $0 == user.domainID } ?? true }
        return .json(["users": .array(members.map { UserRoutes.json($0, req) }), "links": collectionLinks(req)])
    }

    /// PUT a user into a group (again is no change): 204. 404 unknown group or user; 403 by policy.
    @Sendable func addUser(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (group, user) = try await membership(req, ctx, IdentityPolicy.addUserToGroup)
        try await service.write { sql in try await groups.addMember(user, to: group, in: sql) }
        return .empty()
    }

    /// HEAD or GET whether a user is a member: 204. 404 unknown group or user, or not a member; 403 by policy.
    @Sendable func checkUser(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (group, user) = try await membership(req, ctx, IdentityPolicy.checkUserInGroup)
        guard try await service.read({ sql in try await groups.isMember(user, of: group, in: sql) }) else {
            throw Self.notMember(user, group)
        }
        return .empty()
    }

    /// DELETE a user from a group; the user's tokens are revoked (group roles may be gone): 204.
    /// 404 unknown group or user, or not a member; 403 by policy.
    @Sendable func removeUser(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (group, user) = try await membership(req, ctx, IdentityPolicy.removeUserFromGroup)
        guard try await service.read({ sql in try await groups.isMember(user, of: group, in: sql) }) else {
            throw Self.notMember(user, group)
        }
        try await service.write { sql in
            try await groups.removeMember(user, from: group, in: sql)
            try await service.revoke(db: sql, userID: user)
        }
        return .empty()
    }

    /// Loads `{group_id}` (404 first) and enforces `action` with keystone's group target.
    func authorized(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> GroupRecord {
        try await authorizedWithCaller(req, ctx, action).group
    }

    /// `authorized`, also returning the caller the policy was checked for.
    func authorizedWithCaller(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> (group: GroupRecord, caller: Caller) {
        let id = try ctx.parameters.require("group_id")
        let group = try await service.read { sql in try await groups.get(id, in: sql) }
        let caller = try await service.authorize(
            req,
            action,
            target: ["target": ["group": ["id": .string(id), "domain_id": .string(group.domainID)]]]
        )
        return (group, caller)
    }

    /// Loads `{group_id}` and `{user_id}` (404 each, group first), enforces `action`; returns their ids.
    func membership(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> (group: String, user: String) {
        let (g, u) = (try ctx.parameters.require("group_id"), try ctx.parameters.require("user_id"))
        let (group, user) = try await service.read { sql in (try await groups.get(g, in: sql), try await users.get(u, in: sql)) }
        _ = try await service.authorize(
            req,
            action,
            target: [
                "target": [
                    "group": ["id": .string(group.id), "domain_id": .string(group.domainID)],
                    "user": ["id": .string(user.id), "domain_id": .string(user.domainID)],
                ]
            ]
        )
        return (group.id, user.id)
    }

    /// keystone's 404 for a user outside the group.
    static func notMember(_ user: String, _ group: String) -> OpenStackError {
        .notFound("User \(user) is not a member of group \(group).")
    }

    /// keystone's group representation: `extra` attributes merged under the known ones.
    static func json(_ group: GroupRecord, _ req: Request) -> JSON {
        merged(
            [
                "id": .string(group.id), "name": .string(group.name), "domain_id": .string(group.domainID),
                "description": .string(group.description ?? ""),
                "links": ["self": .string(req.baseURL + "/v3/groups/" + group.id)],
            ],
            group.extra
        )
    }
}
