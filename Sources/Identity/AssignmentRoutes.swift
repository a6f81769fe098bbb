import Hummingbird
import SQLKit
import StratusCore

/// Role grants on projects, domains and the system, for users and groups, and
/// `GET /v3/role_assignments` with `effective`, `include_names` and the `scope.*`, `user.id`,
/// `group.id`, `role.id` filters.
extension IdentityService {
    enum GrantTarget: String, CaseIterable { case project, domain, system }
    enum GrantActor: String, CaseIterable { case user, group }

    static func assignmentType(_ t: GrantTarget, _ a: GrantActor) -> String {
        (a == .user ? "User" : "Group") + (t == .project ? "Project" : t == .domain ? "Domain" : "System")
    }

    func addAssignmentRoutes(_ r: inout RouteTable) {
        for target in GrantTarget.allCases {
            for actor in GrantActor.allCases {
                let base = target == .system ? "/v3/system/\(actor.rawValue)s/{actor_id}/roles"
                    : "/v3/\(target.rawValue)s/{\(target.rawValue)_id}/\(actor.rawValue)s/{actor_id}/roles"
                r.get(base) { req, ctx in try await self.listGrants(req, ctx, target, actor) }
                r.put(base + "/{role_id}") { req, ctx in try await self.changeGrant(req, ctx, target, actor, verb: "create") }
                r.head(base + "/{role_id}") { req, ctx in try await self.changeGrant(req, ctx, target, actor, verb: "check") }
                r.get(base + "/{role_id}") { req, ctx in try await self.changeGrant(req, ctx, target, actor, verb: "check") }
                r.delete(base + "/{role_id}") { req, ctx in try await self.changeGrant(req, ctx, target, actor, verb: "revoke") }
            }
        }
        r.get("/v3/role_assignments") { req, _ in try await self.listRoleAssignments(req) }
    }

    /// Resolves target, actor (and role) with 404s, then enforces keystone's grant policy.
    func grantContext(_ req: Request, _ ctx: StratusContext, _ target: GrantTarget, _ actor: GrantActor, action: String, withRole: Bool)
        async throws -> (targetID: String, actorID: String, role: (any SQLRow)?)
    {
        var policyTarget: [String: JSON] = [:]
        var targetID = "system"
        if target != .system {
            targetID = ctx.parameters.get("\(target.rawValue)_id")!
            let row = try await fetch(target.rawValue, targetID)
            policyTarget[target.rawValue] = ["id": .string(targetID), "domain_id": .string(target == .domain ? targetID : row.str("domain_id"))]
        }
        let actorID = ctx.parameters.get("actor_id")!
        let actorRow = try await fetch(actor == .user ? "identity_user" : "identity_group", actorID, noun: actor.rawValue)
        policyTarget[actor.rawValue] = ["id": .string(actorID), "domain_id": .string(actorRow.str("domain_id"))]
        var role: (any SQLRow)?
        if withRole {
            let roleRow = try await fetch("role", ctx.parameters.get("role_id")!)
            let d = roleRow.str("domain_id")
            policyTarget["role"] = ["id": .string(roleRow.str("id")), "name": .string(roleRow.str("name")),
                                    "domain_id": d == IdentityService.globalRoleDomain ? .null : .string(d)]
            role = roleRow
        }
        _ = try await authorize(req, action, target: ["target": .object(policyTarget)])
        return (targetID, actorID, role)
    }

    func changeGrant(_ req: Request, _ ctx: StratusContext, _ target: GrantTarget, _ actor: GrantActor, verb: String) async throws -> Response {
        let action = target == .system ? "identity:\(verb)_system_grant_for_\(actor.rawValue)" : "identity:\(verb)_grant"
        let (targetID, actorID, role) = try await grantContext(req, ctx, target, actor, action: action, withRole: true)
        let roleID = role!.str("id")
        let type = IdentityService.assignmentType(target, actor)
        let exists = try await db.read { db in
            try await db.raw("SELECT role_id FROM assignment WHERE type = \(bind: type) AND actor_id = \(bind: actorID) AND target_id = \(bind: targetID) AND role_id = \(bind: roleID) AND inherited = \(bind: false)").first() != nil
        }
        switch verb {
        case "create":
            let d = role!.str("domain_id")
            if d != IdentityService.globalRoleDomain, target == .project, try await fetch("project", targetID).str("domain_id") != d {
                throw OpenStackError.forbidden("Domain-specific role \(roleID) can only be granted within its domain.")
            }
            if !exists {
                try await write { db in
                    // Idempotent under concurrency: a parallel PUT of the same grant is not a conflict.
                    try await db.raw("DELETE FROM assignment WHERE type = \(bind: type) AND actor_id = \(bind: actorID) AND target_id = \(bind: targetID) AND role_id = \(bind: roleID) AND inherited = \(bind: false)").run()
                    try await db.raw("INSERT INTO assignment (type, actor_id, target_id, role_id, inherited) VALUES (\(bind: type), \(bind: actorID), \(bind: targetID), \(bind: roleID), \(bind: false))").run()
                }
            }
        case "revoke":
            guard exists else { throw OpenStackError.notFound("Could not find role assignment with role: \(roleID), \(actor.rawValue): \(actorID), \(target.rawValue): \(targetID).") }
            try await write { db in
                try await db.raw("DELETE FROM assignment WHERE type = \(bind: type) AND actor_id = \(bind: actorID) AND target_id = \(bind: targetID) AND role_id = \(bind: roleID) AND inherited = \(bind: false)").run()
            }
        default:
            guard exists else { throw OpenStackError.notFound("Could not find role assignment with role: \(roleID), \(actor.rawValue): \(actorID), \(target.rawValue): \(targetID).") }
        }
        return .empty()
    }

    func listGrants(_ req: Request, _ ctx: StratusContext, _ target: GrantTarget, _ actor: GrantActor) async throws -> Response {
        let action = target == .system ? "identity:list_system_grants_for_\(actor.rawValue)" : "identity:list_grants"
        let (targetID, actorID, _) = try await grantContext(req, ctx, target, actor, action: action, withRole: false)
        let type = IdentityService.assignmentType(target, actor)
        let roles = try await db.read { db in
            try await db.raw("SELECT r.* FROM role r JOIN assignment a ON a.role_id = r.id WHERE a.type = \(bind: type) AND a.actor_id = \(bind: actorID) AND a.target_id = \(bind: targetID) AND a.inherited = \(bind: false) ORDER BY r.name").all()
        }
        return .json(["roles": .array(roles.map { roleJSON($0, req) }), "links": collectionLinks(req)])
    }

    struct AssignmentRow: Hashable {
        var type: String
        var actorID: String
        var targetID: String
        var roleID: String
        var viaGroup: String?
        var priorRole: String?
    }

    func listRoleAssignments(_ req: Request) async throws -> Response {
        let scopeDomain = req.query("scope.domain.id")
        _ = try await authorize(req, "identity:list_role_assignments", target: scopeDomain.map { ["target": ["domain_id": .string($0)]] } ?? [:])
        let effective = req.query("effective") != nil
        let includeNames = req.query("include_names").map(queryBool) ?? false
        let userFilter = req.query("user.id")
        let groupFilter = req.query("group.id")
        let roleFilter = req.query("role.id")
        let projectFilter = req.query("scope.project.id")
        let systemFilter = req.query("scope.system")
        if effective && groupFilter != nil { throw OpenStackError.badRequest("Combining effective and group filter will always result in an empty list.") }
        let (rows, members, implied, names) = try await db.read { db in
            let all = try await db.raw("SELECT type, actor_id, target_id, role_id FROM assignment WHERE inherited = \(bind: false)").all()
            let members = try await db.raw("SELECT user_id, group_id FROM group_membership").all().map { ($0.str("group_id"), $0.str("user_id")) }
            let implied = try await db.raw("SELECT prior_role_id, implied_role_id FROM implied_role").all().map { ($0.str("prior_role_id"), $0.str("implied_role_id")) }
            var names: [String: (String, String?)] = [:]
            if includeNames {
                for r in try await db.raw("SELECT id, name, domain_id FROM role").all() { names["role:" + r.str("id")] = (r.str("name"), r.str("domain_id")) }
                for r in try await db.raw("SELECT id, name, domain_id FROM identity_user").all() { names["user:" + r.str("id")] = (r.str("name"), r.str("domain_id")) }
                for r in try await db.raw("SELECT id, name, domain_id FROM identity_group").all() { names["group:" + r.str("id")] = (r.str("name"), r.str("domain_id")) }
                for r in try await db.raw("SELECT id, name, domain_id FROM project").all() { names["project:" + r.str("id")] = (r.str("name"), r.str("domain_id")) }
                for r in try await db.raw("SELECT id, name FROM domain").all() { names["domain:" + r.str("id")] = (r.str("name"), nil) }
            }
            return (all.map { AssignmentRow(type: $0.str("type"), actorID: $0.str("actor_id"), targetID: $0.str("target_id"), roleID: $0.str("role_id")) },
                    members, implied, names)
        }
        var result = rows
        if effective {
            var expanded: [AssignmentRow] = []
            for a in result {
                if a.type.hasPrefix("Group") {
                    for (g, u) in members where g == a.actorID {
                        expanded.append(AssignmentRow(type: "User" + a.type.dropFirst(5), actorID: u, targetID: a.targetID, roleID: a.roleID, viaGroup: g))
                    }
                } else {
                    expanded.append(a)
                }
            }
            var withImplied: [AssignmentRow] = []
            for a in expanded {
                withImplied.append(a)
                var queue = [a.roleID]
                var seen: Set<String> = [a.roleID]
                while let prior = queue.popLast() {
                    for (p, i) in implied where p == prior && !seen.contains(i) {
                        seen.insert(i)
                        queue.append(i)
                        var x = a
                        x.roleID = i
                        x.priorRole = p
                        withImplied.append(x)
                    }
                }
            }
            result = uniqued(withImplied)
        }
        result = result.filter { a in
            if let u = userFilter, !(a.type.hasPrefix("User") && a.actorID == u) { return false }
            if let g = groupFilter, !(a.type.hasPrefix("Group") && a.actorID == g) { return false }
            if let r = roleFilter, a.roleID != r { return false }
            if let p = projectFilter, !(a.type.hasSuffix("Project") && a.targetID == p) { return false }
            if let d = scopeDomain, !(a.type.hasSuffix("Domain") && a.targetID == d) { return false }
            if systemFilter != nil, !a.type.hasSuffix("System") { return false }
            return true
        }
        let base = req.baseURL + "/v3"
        let list: [JSON] = result.map { a in
            let actor = a.type.hasPrefix("User") ? "user" : "group"
            let target = a.type.hasSuffix("Project") ? "project" : a.type.hasSuffix("Domain") ? "domain" : "system"
            func named(_ kind: String, _ id: String) -> JSON {
                var o: [String: JSON] = ["id": .string(id)]
                if includeNames, let (name, domain) = names["\(kind):\(id)"] {
                    o["name"] = .string(name)
                    if let domain, domain != IdentityService.globalRoleDomain {
                        o["domain"] = ["id": .string(domain), "name": .optional(names["domain:" + domain]?.0)]
                    }
                }
                return .object(o)
            }
            let scope: JSON = target == "system" ? ["system": ["all": true]] : .object([target: named(target, a.targetID)])
            let targetPath = target == "system" ? "system" : "\(target)s/\(a.targetID)"
            var links: [String: JSON] = [:]
            if let g = a.viaGroup {
                links["assignment"] = .string("\(base)/\(targetPath)/groups/\(g)/roles/\(a.priorRole ?? a.roleID)")
                links["membership"] = .string("\(base)/groups/\(g)/users/\(a.actorID)")
            } else {
                links["assignment"] = .string("\(base)/\(targetPath)/\(actor)s/\(a.actorID)/roles/\(a.priorRole ?? a.roleID)")
            }
            if let p = a.priorRole { links["prior_role"] = .string("\(base)/roles/\(p)") }
            return ["role": named("role", a.roleID), actor: named(actor, a.actorID), "scope": scope, "links": .object(links)]
        }
        return .json(["role_assignments": .array(list), "links": collectionLinks(req)])
    }
}

/// Order-preserving de-duplication.
func uniqued<T: Hashable>(_ items: [T]) -> [T] {
    var seen = Set<T>()
    return items.filter { seen.insert($0).inserted }
}
