import Hummingbird
import SQLKit
import StratusCore

/// Role grants on projects, domains and the system, for users and groups; OS-INHERIT grants
/// (`/v3/OS-INHERIT/…/inherited_to_projects`: made on a domain or project, held on every
/// project below it); and `GET /v3/role_assignments` with `effective`, `include_names`,
/// `include_subtree` and the `scope.*`, `user.id`, `group.id`, `role.id` filters.
struct AssignmentRoutes: Sendable {
    let service: IdentityService
    let assignments = AssignmentStore()
    let roles = RoleStore()
    let projects = ProjectStore()
    let domains = DomainStore()
    let users = UserStore()
    let groups = GroupStore()

    /// Where a grant is made, as its URL names it.
    enum TargetKind: String, CaseIterable, Sendable { case project, domain, system }
    /// Who holds a grant, as its URL names it.
    enum ActorKind: String, CaseIterable, Sendable { case user, group }

    func add(to r: inout RouteTable) {
        for target in TargetKind.allCases {
            for actor in ActorKind.allCases {
                let base =
                    target == .system
                    ? "/v3/system/\(actor.rawValue)s/{actor_id}/roles"
                    : "/v3/\(target.rawValue)s/{\(target.rawValue)_id}/\(actor.rawValue)s/{actor_id}/roles"
                r.get(base) { req, ctx in try await listGrants(req, ctx, target, actor) }
                r.put(base + "/{role_id}") { req, ctx in try await createGrant(req, ctx, target, actor) }
                r.head(base + "/{role_id}") { req, ctx in try await checkGrant(req, ctx, target, actor) }
                r.get(base + "/{role_id}") { req, ctx in try await checkGrant(req, ctx, target, actor) }
                r.delete(base + "/{role_id}") { req, ctx in try await revokeGrant(req, ctx, target, actor) }
                guard target != .system else { continue }
                let inherit = "/v3/OS-INHERIT/\(target.rawValue)s/{\(target.rawValue)_id}/\(actor.rawValue)s/{actor_id}/roles"
                let one = inherit + "/{role_id}/inherited_to_projects"
                r.put(one) { req, ctx in try await createGrant(req, ctx, target, actor, inherited: true) }
                r.head(one) { req, ctx in try await checkGrant(req, ctx, target, actor, inherited: true) }
                r.get(one) { req, ctx in try await checkGrant(req, ctx, target, actor, inherited: true) }
                r.delete(one) { req, ctx in try await revokeGrant(req, ctx, target, actor, inherited: true) }
                // keystone lists inherited grants of domains only
                if target == .domain {
                    r.get(inherit + "/inherited_to_projects") { req, ctx in try await listGrants(req, ctx, target, actor, inherited: true) }
                }
            }
        }
        r.get("/v3/role_assignments", listAssignments)
    }

    /// GET the roles granted to the actor on the target: 200. 404 unknown target or actor; 403 by policy.
    @Sendable func listGrants(
        _ req: Request,
        _ ctx: StratusContext,
        _ target: TargetKind,
        _ actor: ActorKind,
        inherited: Bool = false
    ) async throws -> Response {
        let action =
            target == .system
            ? (actor == .user ? IdentityPolicy.listSystemGrantsForUser : IdentityPolicy.listSystemGrantsForGroup) : IdentityPolicy.listGrants
        let resolved = try await resolve(req, ctx, target, actor, action: action, withRole: false)
        let found = try await service.read { sql in try await roles.granted(to: resolved.actor, on: resolved.target, inherited: inherited, in: sql) }
        return .json(["roles": .array(found.map { RoleRoutes.json($0, req) }), "links": collectionLinks(req)])
    }

    /// PUT a grant (idempotent): 204. 404 unknown target, actor or role; 403 for a domain role
    /// outside its domain, or by policy.
    @Sendable func createGrant(
        _ req: Request,
        _ ctx: StratusContext,
        _ target: TargetKind,
        _ actor: ActorKind,
        inherited: Bool = false
    ) async throws -> Response {
        let action =
            target == .system
            ? (actor == .user ? IdentityPolicy.createSystemGrantForUser : IdentityPolicy.createSystemGrantForGroup) : IdentityPolicy.createGrant
        let resolved = try await resolve(req, ctx, target, actor, action: action, withRole: true)
        let role = resolved.role!
        if let roleDomain = role.domainID, target == .project, resolved.targetDomainID != roleDomain {
            throw OpenStackError.forbidden("Domain-specific role \(role.id) can only be granted within its domain.")
        }
        let grant = RoleGrant(actor: resolved.actor, target: resolved.target, roleID: role.id, inherited: inherited)
        // NOTE: an existing grant is not rewritten, so it does not drop this process's cached validations.
        if try await !service.read({ sql in try await assignments.exists(grant, in: sql) }) {
            try await service.write { sql in try await assignments.add(grant, in: sql) }
        }
        return .empty()
    }

    /// GET or HEAD a grant: 204. 404 unknown target, actor or role, or no such grant; 403 by policy.
    @Sendable func checkGrant(
        _ req: Request,
        _ ctx: StratusContext,
        _ target: TargetKind,
        _ actor: ActorKind,
        inherited: Bool = false
    ) async throws -> Response {
        let action =
            target == .system
            ? (actor == .user ? IdentityPolicy.checkSystemGrantForUser : IdentityPolicy.checkSystemGrantForGroup) : IdentityPolicy.checkGrant
        let resolved = try await resolve(req, ctx, target, actor, action: action, withRole: true)
        try await requireGrant(resolved, target, actor, inherited: inherited)
        return .empty()
    }

    /// DELETE a grant: 204. 404 unknown target, actor or role, or no such grant; 403 by policy.
    @Sendable func revokeGrant(
        _ req: Request,
        _ ctx: StratusContext,
        _ target: TargetKind,
        _ actor: ActorKind,
        inherited: Bool = false
    ) async throws -> Response {
        let action =
            target == .system
            ? (actor == .user ? IdentityPolicy.revokeSystemGrantForUser : IdentityPolicy.revokeSystemGrantForGroup) : IdentityPolicy.revokeGrant
        let resolved = try await resolve(req, ctx, target, actor, action: action, withRole: true)
        let grant = try await requireGrant(resolved, target, actor, inherited: inherited)
        try await service.write { sql in try await assignments.remove(grant, in: sql) }
        return .empty()
    }

    /// GET `/v3/role_assignments`: 200. 400 `effective` with `group.id`; 403 by policy.
    @Sendable func listAssignments(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        // keystone's target: a domain-scoped token's own domain, which also bounds what it sees;
        // the query's `scope.domain.id` is a filter, never a target (so `=None` matches nothing).
        let caller = try await service.authenticate(req)
        let tokenDomain = caller.domainID
        try service.enforcer.authorize(
            IdentityPolicy.listRoleAssignments,
            target: tokenDomain.map { ["target": ["domain_id": .string($0)]] } ?? [:],
            caller: caller
        )
        let scopeDomain = req.query("scope.domain.id")
        let effective = req.query("effective") != nil
        let includeNames = req.query("include_names").map(queryBool) ?? false
        let subtree = req.query("include_subtree").map(queryBool) ?? false
        let projectID = req.query("scope.project.id")
        var subtreeIDs: [String] = []
        if subtree {
            guard let projectID else {
                throw OpenStackError.badRequest("scope.project.id must be specified if include_subtree is also specified")
            }
            let project = try await service.read { sql in try await projects.get(projectID, in: sql) }
            try service.enforcer.authorize(
                IdentityPolicy.listRoleAssignmentsForTree,
                target: [
                    "target": [
                        "project": ["id": .string(project.id), "domain_id": .string(project.domainID)], "domain_id": .string(project.domainID),
                    ]
                ],
                caller: caller
            )
            subtreeIDs = try await service.read { sql in try await projects.descendants(of: projectID, in: sql) }
        }
        let filter = AssignmentStore.Filter(
            userID: req.query("user.id"),
            groupID: req.query("group.id"),
            roleID: req.query("role.id"),
            projectID: projectID,
            subtreeIDs: subtreeIDs,
            domainID: scopeDomain,
            system: req.query("scope.system") != nil,
            inheritedOnly: req.query("scope.OS-INHERIT:inherited_to") != nil,
            // keystone's tree listing is not narrowed to a domain-scoped caller's domain
            withinDomain: subtree ? nil : tokenDomain,
            limit: service.settings.listLimits.assignment.fetch
        )
        if effective && filter.groupID != nil {
            throw OpenStackError.badRequest("Combining effective and group filter will always result in an empty list.")
        }
        let limit = service.settings.listLimits.assignment
        let (kept, truncated, names) = try await service.read { sql in
            // Effective rows come from at most `limit + 1` grants; a cut there truncates too.
            let (rows, complete) =
                effective
                ? try await assignments.listEffective(filter, in: sql)
                : (try await assignments.list(filter, in: sql).map { EffectiveRoles.Assignment(grant: $0) }, true)
            let (kept, truncated) = limit.apply(rows)
            return (kept, truncated || !complete, includeNames ? try await assignments.names(for: kept, in: sql) : [:])
        }
        let list = kept.map { Self.json($0, names: names, includeNames: includeNames, base: req.baseURL + "/v3") }
        return collectionBody("role_assignments", list, truncated: truncated, req)
    }

    // MARK: Helpers

    /// What a grant URL names, resolved.
    struct Resolved: Sendable {
        var actor: RoleGrant.Actor
        var target: RoleGrant.Target
        /// The project's domain, or the domain itself; nil for the system.
        var targetDomainID: String?
        var role: RoleRecord?
    }

    /// Resolves target, actor (and role) with 404s, then enforces keystone's grant policy.
    func resolve(
        _ req: Request,
        _ ctx: StratusContext,
        _ target: TargetKind,
        _ actor: ActorKind,
        action: String,
        withRole: Bool
    )
        async throws -> Resolved
    {
        let targetID = target == .system ? nil : try ctx.parameters.require("\(target.rawValue)_id")
        let actorID = try ctx.parameters.require("actor_id")
        let roleID = withRole ? try ctx.parameters.require("role_id") : nil
        let (targetDomain, actorDomain, role) = try await service.read { sql -> (String?, String, RoleRecord?) in
            var targetDomain: String?
            switch target {
            case .project: targetDomain = try await projects.get(targetID!, in: sql).domainID
            case .domain: targetDomain = try await domains.get(targetID!, in: sql).id
            case .system: targetDomain = nil
            }
            let actorDomain = actor == .user ? try await users.get(actorID, in: sql).domainID : try await groups.get(actorID, in: sql).domainID
            let role = roleID == nil ? nil : try await roles.get(roleID!, in: sql)
            return (targetDomain, actorDomain, role)
        }
        var policyTarget: [String: JSON] = [actor.rawValue: ["id": .string(actorID), "domain_id": .string(actorDomain)]]
        if let targetID, let targetDomain {
            policyTarget[target.rawValue] = ["id": .string(targetID), "domain_id": .string(targetDomain)]
        }
        if let role { policyTarget["role"] = RoleRoutes.policyTarget(role) }
        _ = try await service.authorize(req, action, target: ["target": .object(policyTarget)])
        let grantTarget: RoleGrant.Target =
            switch target {
            case .project: .project(targetID!)
            case .domain: .domain(targetID!)
            case .system: .system
            }
        return Resolved(actor: actor == .user ? .user(actorID) : .group(actorID), target: grantTarget, targetDomainID: targetDomain, role: role)
    }

    /// The grant `resolved` names; keystone's 404 when it does not exist.
    @discardableResult
    func requireGrant(_ resolved: Resolved, _ target: TargetKind, _ actor: ActorKind, inherited: Bool) async throws -> RoleGrant {
        let grant = RoleGrant(actor: resolved.actor, target: resolved.target, roleID: resolved.role!.id, inherited: inherited)
        guard try await service.read({ sql in try await assignments.exists(grant, in: sql) }) else {
            let key = AssignmentStore.Key(actor: grant.actor, target: grant.target)
            throw OpenStackError.notFound(
                "Could not find role assignment with role: \(grant.roleID), \(actor.rawValue): \(key.actorID), "
                    + "\(target.rawValue): \(key.targetID)."
            )
        }
        return grant
    }

    /// One `role_assignments` entry with keystone's `links` (and names when asked for).
    static func json(
        _ a: EffectiveRoles.Assignment,
        names: [String: (name: String, domainID: String?)],
        includeNames: Bool,
        base: String
    ) -> JSON {
        let (actor, actorID): (String, String) =
            switch a.grant.actor {
            case .user(let id): ("user", id)
            case .group(let id): ("group", id)
            }
        func named(_ kind: String, _ id: String) -> JSON {
            var o: [String: JSON] = ["id": .string(id)]
            if includeNames, let (name, domain) = names["\(kind):\(id)"] {
                o["name"] = .string(name)
                if let domain, domain != RoleStore.globalDomain {
                    o["domain"] = ["id": .string(domain), "name": .optional(names["domain:" + domain]?.name)]
                }
            }
            return .object(o)
        }
        var scope: [String: JSON]
        switch a.grant.target {
        case .project(let id): scope = ["project": named("project", id)]
        case .domain(let id): scope = ["domain": named("domain", id)]
        case .system: scope = ["system": ["all": true]]
        }
        // An inherited grant is listed where it was made, marked; its effective rows sit on the
        // projects below, and link back to the OS-INHERIT grant that made them.
        if a.grant.inherited { scope["OS-INHERIT:inherited_to"] = "projects" }
        let source = a.inheritedFrom ?? a.grant.target
        let inherited = a.grant.inherited || a.inheritedFrom != nil
        let targetPath =
            switch source {
            case .project(let id): "projects/\(id)"
            case .domain(let id): "domains/\(id)"
            case .system: "system"
            }
        func assignmentLink(_ who: String) -> JSON {
            let path = "\(targetPath)/\(who)/roles/\(a.priorRole ?? a.grant.roleID)"
            return .string(inherited ? "\(base)/OS-INHERIT/\(path)/inherited_to_projects" : "\(base)/\(path)")
        }
        var links: [String: JSON] = [:]
        if let g = a.viaGroup {
            links["assignment"] = assignmentLink("groups/\(g)")
            links["membership"] = .string("\(base)/groups/\(g)/users/\(actorID)")
        } else {
            links["assignment"] = assignmentLink("\(actor)s/\(actorID)")
        }
        // keystone's link names the inference rule, under a path it does not serve.
        if let p = a.priorRole { links["prior_role"] = .string("\(base)/prior_role/\(p)/implies/\(a.grant.roleID)") }
        return [
            "role": named("role", a.grant.roleID), actor: named(actor, actorID), "scope": .object(scope),
            "links": .object(links),
        ]
    }
}
