import Hummingbird
import StratusCore

/// `/v3/users/{user_id}/access_rules`: the access rules a user's application credentials use
/// (made with the credentials, shared between them): list (filter `service`, `path`,
/// `method`), show, delete when no credential uses them.
struct AccessRuleRoutes: Sendable {
    let service: IdentityService
    let rules = AccessRuleStore()

    static let base = "/v3/users/{user_id}/access_rules"

    func add(to r: inout RouteTable) {
        r.get(Self.base, list)
        r.get(Self.base + "/{access_rule_id}", get)
        r.delete(Self.base + "/{access_rule_id}", delete)
    }

    /// GET a user's rules: 200. 403 by policy (another user's, or through a trust).
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let userID = try await authorized(req, ctx, IdentityPolicy.listAccessRules)
        let found = try await service.read { sql in
            try await rules.list(userID: userID, service: req.query("service"), path: req.query("path"), method: req.query("method"), in: sql)
        }
        return .json(["access_rules": .array(found.map { Self.json($0, linked: req) }), "links": collectionLinks(req)])
    }

    /// GET one rule: 200. 404 unknown or another user's; 403 by policy.
    @Sendable func get(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let rule = try await owned(req, ctx, IdentityPolicy.getAccessRule)
        return .json(["access_rule": Self.json(rule, linked: req)])
    }

    /// DELETE a rule no credential uses: 204. 403 one in use, or by policy; 404 as GET.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let rule = try await owned(req, ctx, IdentityPolicy.deleteAccessRule)
        try await service.write { sql in
            guard try await !rules.inUse(rule.id, in: sql) else { throw OpenStackError.forbidden("May not delete access rule in use") }
            try await rules.delete(rule.id, in: sql)
        }
        return .empty()
    }

    /// Enforces `action` for `{user_id}` (403, also for trust-scoped tokens); returns the user id.
    func authorized(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> String {
        let userID = try ctx.parameters.require("user_id")
        let caller = try await service.authorize(req, action, target: ["target": ["user": ["id": .string(userID)]]])
        try ApplicationCredentialRoutes.requireNoTrust(caller)
        return userID
    }

    /// `{access_rule_id}` of `{user_id}` after `action`: 404 naming it when unknown or another user's.
    func owned(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> AccessRule {
        let userID = try await authorized(req, ctx, action)
        let id = try ctx.parameters.require("access_rule_id")
        guard let found = try await service.read({ sql in try await rules.find(id: id, in: sql) }), found.userID == userID else {
            throw IdentityError.notFound(kind: "Access Rule", id: id)
        }
        return found.rule
    }

    /// A rule as credentials show it: id, service, path, method.
    static func json(_ rule: AccessRule) -> JSON {
        ["id": .string(rule.id), "service": .string(rule.service), "path": .string(rule.path), "method": .string(rule.method)]
    }

    /// A rule as this API shows it, with keystone's self link (`/v3/access_rules/<id>`).
    static func json(_ rule: AccessRule, linked req: Request) -> JSON {
        var out = json(rule).objectValue!
        out["links"] = ["self": .string(req.baseURL + "/v3/access_rules/" + rule.id)]
        return .object(out)
    }
}
