import Hummingbird
import SQLKit
import StratusCore

/// `/v3/roles` (global and domain-specific, filters `name`, `domain_id`) and implied roles
/// (`/v3/roles/{prior}/implies/{implied}`, `/v3/role_inferences`).
struct RoleRoutes: Sendable {
    let service: IdentityService
    let roles = RoleStore()
    let domains = DomainStore()

    func add(to r: inout RouteTable) {
        r.get("/v3/roles", list)
        r.post("/v3/roles", create)
        r.get("/v3/roles/{role_id}", get)
        r.patch("/v3/roles/{role_id}", update)
        r.delete("/v3/roles/{role_id}", delete)
        r.get("/v3/roles/{role_id}/implies", listImplied)
        r.put("/v3/roles/{role_id}/implies/{implied_role_id}", createImplied)
        r.get("/v3/roles/{role_id}/implies/{implied_role_id}", getImplied)
        r.head("/v3/roles/{role_id}/implies/{implied_role_id}", checkImplied)
        r.delete("/v3/roles/{role_id}/implies/{implied_role_id}", deleteImplied)
        r.get("/v3/role_inferences", listInferences)
    }

    /// GET the global roles, or with `domain_id` that domain's roles; `name` filters: 200. 403 by policy.
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let domain = req.query("domain_id")
        _ = try await service.authorize(
            req,
            domain == nil ? IdentityPolicy.listRoles : IdentityPolicy.listDomainRoles,
            target: domain.map { ["target": ["domain_id": .string($0)]] } ?? [:]
        )
        let name = req.query("name")
        let limit = service.settings.listLimits.role
        let rows = try await service.read { sql in
            try await roles.list(domainID: domain, name: name, matching: req.nameFilters, limit: limit.fetch, in: sql)
        }
        let (found, truncated) = limit.apply(rows)
        return collectionBody("roles", found.map { Self.json($0, req) }, truncated: truncated, req)
    }

    /// POST a role (global, or in `domain_id`): 201. 400 invalid body; 404 unknown domain; 409 name taken; 403 by policy.
    @Sendable func create(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "role")
        let name = try b.name(required: true)!
        let domain = try b.string("domain_id", nullable: true, maxLength: 64)
        if let domain { _ = try await service.read { sql in try await domains.get(domain, in: sql) } }
        _ = try await service.authorize(
            req,
            domain == nil ? IdentityPolicy.createRole : IdentityPolicy.createDomainRole,
            target: ["target": ["role": ["name": .string(name), "domain_id": .optional(domain)]]]
        )
        let description = try b.string("description", nullable: true, maxLength: 255)
        let role = RoleRecord(id: newID(), name: name, domainID: domain, description: description)
        let created = try await service.write { sql in try await roles.create(role, in: sql) }
        return .json(["role": Self.json(created, req)], status: .created)
    }

    /// GET one role: 200. 404 unknown; 403 by policy.
    @Sendable func get(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let role = try await authorized(req, ctx, global: IdentityPolicy.getRole, domain: IdentityPolicy.getDomainRole)
        return .json(["role": Self.json(role, req)])
    }

    /// PATCH a role's name or description: 200. 400 invalid body; 404 unknown; 409 name taken; 403 by policy.
    @Sendable func update(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let role = try await authorized(req, ctx, global: IdentityPolicy.updateRole, domain: IdentityPolicy.updateDomainRole)
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "role")
        let name = try b.name(required: false)
        let description = try b.string("description", nullable: true, maxLength: 255)
        let updated = try await service.write { sql in
            try await roles.update(role.id, name: name, description: b.has("description") ? .some(description) : nil, in: sql)
        }
        return .json(["role": Self.json(updated, req)])
    }

    /// DELETE a role with its assignments, rules and delegations: 204. 404 unknown; 403 by policy.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let role = try await authorized(req, ctx, global: IdentityPolicy.deleteRole, domain: IdentityPolicy.deleteDomainRole)
        try await service.write { sql in try await roles.delete(role.id, in: sql) }
        return .empty()
    }

    /// GET the roles a role implies directly: 200. 404 unknown role; 403 by policy.
    @Sendable func listImplied(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("role_id")
        let prior = try await service.read { sql in try await roles.get(id, in: sql) }
        _ = try await service.authorize(req, IdentityPolicy.listImpliedRoles)
        let implied = try await service.read { sql in try await roles.implied(by: prior.id, in: sql) }
        return .json([
            "role_inference": ["prior_role": Self.ref(prior, req), "implies": .array(implied.map { Self.ref($0, req) })],
            "links": ["self": .string(req.selfURL)],
        ])
    }

    /// PUT an implied-role rule: 201. 400 a role implying itself; 403 when it would make a cycle
    /// or by policy; 404 unknown role.
    @Sendable func createImplied(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (prior, implied) = try await inference(req, ctx, IdentityPolicy.createImpliedRole)
        if prior.id == implied.id { throw invalid("implied_role_id", "a role cannot imply itself") }
        try await service.write { sql in
            // Refuse cycles: the implied role must not (transitively) imply the prior one.
            let rules = try await roles.implications(in: sql)
            if EffectiveRoles.closure(of: [implied.id], implications: rules).contains(prior.id) {
                throw OpenStackError.forbidden("Role \(implied.id) implies \(prior.id): the inference would make a cycle.")
            }
            try await roles.add(RoleImplication(prior: prior.id, implied: implied.id), in: sql)
        }
        return .json(Self.inferenceJSON(prior, implied, req), status: .created)
    }

    /// GET one implied-role rule: 200. 404 unknown role or rule; 403 by policy.
    @Sendable func getImplied(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (prior, implied) = try await existingInference(req, ctx, IdentityPolicy.getImpliedRole)
        return .json(Self.inferenceJSON(prior, implied, req))
    }

    /// HEAD one implied-role rule: 204. 404 unknown role or rule; 403 by policy.
    @Sendable func checkImplied(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        _ = try await existingInference(req, ctx, IdentityPolicy.checkImpliedRole)
        return .empty()
    }

    /// DELETE an implied-role rule: 204. 404 unknown role or rule; 403 by policy.
    @Sendable func deleteImplied(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (prior, implied) = try await existingInference(req, ctx, IdentityPolicy.deleteImpliedRole)
        try await service.write { sql in try await roles.remove(RoleImplication(prior: prior.id, implied: implied.id), in: sql) }
        return .empty()
    }

    /// GET every rule, grouped by prior role: 200. 403 by policy.
    @Sendable func listInferences(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        _ = try await service.authorize(req, IdentityPolicy.listRoleInferenceRules)
        let (rules, known) = try await service.read { sql in
            (try await roles.implications(in: sql), try await roles.rolesInRules(in: sql))
        }
        let byID = Dictionary(known.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var grouped: [String: [JSON]] = [:]
        for rule in rules {
            if let implied = byID[rule.implied] { grouped[rule.prior, default: []].append(Self.ref(implied, req)) }
        }
        let list: [JSON] = grouped.keys.sorted().compactMap { p in
            byID[p].map { ["prior_role": Self.ref($0, req), "implies": .array(grouped[p]!)] }
        }
        return .json(["role_inferences": .array(list)])
    }

    // MARK: Helpers

    /// Loads `{role_id}` (404) and enforces the `global` or the `domain` action, as the role is global or domain-specific.
    func authorized(_ req: Request, _ ctx: StratusContext, global: String, domain: String) async throws -> RoleRecord {
        let id = try ctx.parameters.require("role_id")
        let role = try await service.read { sql in try await roles.get(id, in: sql) }
        _ = try await service.authorize(
            req,
            role.domainID == nil ? global : domain,
            target: ["target": ["role": Self.policyTarget(role)]]
        )
        return role
    }

    /// Both roles of `/implies/{implied_role_id}` (404 each), then `action`.
    func inference(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> (RoleRecord, RoleRecord) {
        let (p, i) = (try ctx.parameters.require("role_id"), try ctx.parameters.require("implied_role_id"))
        let (prior, implied) = try await service.read { sql in (try await roles.get(p, in: sql), try await roles.get(i, in: sql)) }
        _ = try await service.authorize(req, action)
        return (prior, implied)
    }

    /// `inference`, and 404 when the rule does not exist.
    func existingInference(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> (RoleRecord, RoleRecord) {
        let (prior, implied) = try await inference(req, ctx, action)
        let rule = RoleImplication(prior: prior.id, implied: implied.id)
        guard try await service.read({ sql in try await roles.exists(rule, in: sql) }) else {
            throw OpenStackError.notFound("\(prior.id) does not imply \(implied.id).")
        }
        return (prior, implied)
    }

    /// The role as policy rules see it (`target.role.*`).
    static func policyTarget(_ role: RoleRecord) -> JSON {
        ["id": .string(role.id), "name": .string(role.name), "domain_id": .optional(role.domainID)]
    }

    static func inferenceJSON(_ prior: RoleRecord, _ implied: RoleRecord, _ req: Request) -> JSON {
        [
            "role_inference": ["prior_role": ref(prior, req), "implies": ref(implied, req)],
            "links": ["self": .string(req.baseURL + "/v3/roles/\(prior.id)/implies/\(implied.id)")],
        ]
    }

    /// `{"id", "name", "links"}` of a role.
    static func ref(_ role: RoleRecord, _ req: Request) -> JSON {
        ["id": .string(role.id), "name": .string(role.name), "links": ["self": .string(req.baseURL + "/v3/roles/" + role.id)]]
    }

    /// keystone's role document.
    static func json(_ role: RoleRecord, _ req: Request) -> JSON {
        [
            "id": .string(role.id), "name": .string(role.name), "domain_id": .optional(role.domainID),
            "description": .optional(role.description), "options": [:],
            "links": ["self": .string(req.baseURL + "/v3/roles/" + role.id)],
        ]
    }
}
