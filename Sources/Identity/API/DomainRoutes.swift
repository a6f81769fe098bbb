import Hummingbird
import StratusCore

/// `/v3/domains`: create, list (filters `name`, `enabled`), show, update, delete (only once disabled).
struct DomainRoutes: Sendable {
    let service: IdentityService
    let domains = DomainStore()

    func add(to r: inout RouteTable) {
        r.get("/v3/domains", list)
        r.post("/v3/domains", create)
        r.get("/v3/domains/{domain_id}", get)
        r.patch("/v3/domains/{domain_id}", update)
        r.delete("/v3/domains/{domain_id}", delete)
    }

    /// GET the domains, narrowed by `name` and `enabled`: 200. 403 by policy.
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        // A domain-scoped token is its own target and sees only its domain (keystone's list_domains).
        let caller = try await service.authenticate(req)
        let tokenDomain = caller.domainID
        try service.enforcer.authorize(
            IdentityPolicy.listDomains,
            target: tokenDomain.map { ["target": ["domain": ["id": .string($0)]]] } ?? [:],
            caller: caller
        )
        let name = req.query("name")
        let enabled = req.query("enabled").map(queryBool)
        let limit = service.settings.listLimits.resource
        let rows = try await service.read { sql in
            try await domains.list(id: tokenDomain, name: name, matching: req.nameFilters, enabled: enabled, limit: limit.fetch, in: sql)
        }
        let (found, truncated) = limit.apply(rows)
        return collectionBody("domains", found.map { Self.json($0, req) }, truncated: truncated, req)
    }

    /// POST a domain (`explicit_domain_id` picks its id): 201. 400 invalid body; 409 name or id taken; 403 by policy.
    @Sendable func create(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        _ = try await service.authorize(req, IdentityPolicy.createDomain)
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "domain")
        let name = try b.name(required: true, maxLength: 64)!
        let description = try b.string("description", nullable: true, maxLength: 65535)
        let enabled = try b.bool("enabled") ?? true
        let id = try b.string("explicit_domain_id", maxLength: 64) ?? newID()
        let extra = b.extra(excluding: ["name", "description", "enabled", "explicit_domain_id", "tags", "options"])
        let domain = DomainRecord(id: id, name: name, description: description, enabled: enabled, extra: extra)
        let created = try await service.write { sql in try await domains.create(domain, in: sql) }
        return .json(["domain": Self.json(created, req)], status: .created)
    }

    /// GET one domain: 200. 404 unknown; 403 by policy.
    @Sendable func get(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let domain = try await authorized(req, ctx, IdentityPolicy.getDomain)
        return .json(["domain": Self.json(domain, req)])
    }

    /// PATCH a domain's name, description or enabled flag: 200. 400 invalid body; 404 unknown;
    /// 409 name taken; 403 disabling the default domain, or by policy.
    @Sendable func update(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let domain = try await authorized(req, ctx, IdentityPolicy.updateDomain)
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "domain")
        let name = try b.name(required: false, maxLength: 64)
        let description = try b.string("description", nullable: true, maxLength: 65535)
        let enabled = try b.bool("enabled")
        if domain.id == service.settings.defaultDomainID, enabled == false {
            throw IdentityError.forbidden("The default domain cannot be disabled.")
        }
        let updated = try await service.write { sql in
            try await domains.update(
                domain.id,
                name: name,
                description: b.has("description") ? .some(description) : nil,
                enabled: enabled,
                in: sql
            )
        }
        return .json(["domain": Self.json(updated, req)])
    }

    /// DELETE a domain with its users, groups, projects, roles and assignments: 204. 404 unknown;
    /// 403 while it is enabled, or by policy.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let domain = try await authorized(req, ctx, IdentityPolicy.deleteDomain)
        try await service.write { sql in try await domains.delete(domain.id, in: sql) }
        return .empty()
    }

    /// Loads `{domain_id}` (404 before the policy check, as keystone does) and enforces `action` on it.
    private func authorized(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> DomainRecord {
        let id = try ctx.parameters.require("domain_id")
        let domain = try await service.read { sql in try await domains.get(id, in: sql) }
        _ = try await service.authorize(req, action, target: ["target": ["domain": ["id": .string(id)]]])
        return domain
    }

    /// A domain as keystone renders it: `extra` attributes beside the known ones, which win.
    static func json(_ domain: DomainRecord, _ req: Request) -> JSON {
        merged(
            [
                "id": .string(domain.id), "name": .string(domain.name), "description": .string(domain.description ?? ""),
                "enabled": .bool(domain.enabled), "tags": [], "options": [:],
                "links": ["self": .string(req.baseURL + "/v3/domains/" + domain.id)],
            ],
            domain.extra
        )
    }
}
