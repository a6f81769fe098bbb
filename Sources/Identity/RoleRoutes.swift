import Hummingbird
import SQLKit
import StratusCore

/// `/v3/roles` (global and domain-specific, filter `name`, `domain_id`) and implied roles
/// (`/v3/roles/{prior}/implies/{implied}`, `/v3/role_inferences`).
extension IdentityService {
    static let globalRoleDomain = "<<null>>"

    func addRoleRoutes(_ r: inout RouteTable) {
        r.get("/v3/roles") { req, _ in
            let domainFilter = req.query("domain_id")
            _ = try await self.authorize(req, domainFilter == nil ? "identity:list_roles" : "identity:list_domain_roles",
                                         target: domainFilter.map { ["target": ["domain_id": .string($0)]] } ?? [:])
            var q: SQLQueryString = "SELECT * FROM role WHERE domain_id = \(bind: domainFilter ?? IdentityService.globalRoleDomain)"
            if let name = req.query("name") { q += " AND name = \(bind: name)" }
            let rows = try await self.rows(q + " ORDER BY name")
            return .json(["roles": .array(rows.map { self.roleJSON($0, req) }), "links": collectionLinks(req)])
        }
        r.post("/v3/roles") { req, ctx in
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "role")
            let name = try b.name(required: true)!
            let domain = try b.string("domain_id", nullable: true, maxLength: 64)
            if let domain { _ = try await self.fetch("domain", domain) }
            _ = try await self.authorize(req, domain == nil ? "identity:create_role" : "identity:create_domain_role",
                                         target: ["target": ["role": ["name": .string(name), "domain_id": .optional(domain)]]])
            let description = try b.string("description", nullable: true, maxLength: 255)
            let id = newID()
            let row = try await self.write { db in
                try await db.raw("INSERT INTO role (id, name, domain_id, description) VALUES (\(bind: id), \(bind: name), \(bind: domain ?? IdentityService.globalRoleDomain), \(bind: description))").run()
                return try await db.raw("SELECT * FROM role WHERE id = \(bind: id)").first()!
            }
            return .json(["role": self.roleJSON(row, req)], status: .created)
        }
        r.get("/v3/roles/{role_id}") { req, ctx in
            let row = try await self.roleForAction(req, ctx, "get")
            return .json(["role": self.roleJSON(row, req)])
        }
        r.patch("/v3/roles/{role_id}") { req, ctx in
            let row = try await self.roleForAction(req, ctx, "update")
            let id = row.str("id")
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "role")
            let name = try b.name(required: false)
            let description = try b.string("description", nullable: true, maxLength: 255)
            let updated = try await self.write { db in
                if let name { try await db.raw("UPDATE role SET name = \(bind: name) WHERE id = \(bind: id)").run() }
                if b.has("description") { try await db.raw("UPDATE role SET description = \(bind: description) WHERE id = \(bind: id)").run() }
                return try await db.raw("SELECT * FROM role WHERE id = \(bind: id)").first()!
            }
            return .json(["role": self.roleJSON(updated, req)])
        }
        r.delete("/v3/roles/{role_id}") { req, ctx in
            let row = try await self.roleForAction(req, ctx, "delete")
            let id = row.str("id")
            try await self.write { db in
                try await db.raw("DELETE FROM assignment WHERE role_id = \(bind: id)").run()
                try await db.raw("DELETE FROM implied_role WHERE prior_role_id = \(bind: id) OR implied_role_id = \(bind: id)").run()
                try await db.raw("DELETE FROM application_credential_role WHERE role_id = \(bind: id)").run()
                try await db.raw("DELETE FROM role WHERE id = \(bind: id)").run()
            }
            return .empty()
        }
        // Implied roles
        r.get("/v3/roles/{role_id}/implies") { req, ctx in
            let prior = try await self.fetch("role", ctx.parameters.get("role_id")!)
            _ = try await self.authorize(req, "identity:list_implied_roles")
            let implied = try await self.db.read { db in
                try await db.raw("SELECT r.* FROM role r JOIN implied_role i ON i.implied_role_id = r.id WHERE i.prior_role_id = \(bind: prior.str("id")) ORDER BY r.name").all()
            }
            return .json(["role_inference": ["prior_role": self.roleRef(prior, req), "implies": .array(implied.map { self.roleRef($0, req) })],
                          "links": ["self": .string(req.selfURL)]])
        }
        r.put("/v3/roles/{role_id}/implies/{implied_role_id}") { req, ctx in
            let (prior, implied) = try await self.inferenceForAction(req, ctx, "identity:create_implied_role")
            let (p, i) = (prior.str("id"), implied.str("id"))
            if p == i { throw invalid("implied_role_id", "a role cannot imply itself") }
            try await self.write { db in
                // Refuse cycles: the implied role must not (transitively) imply the prior one.
                if try await self.impliedClosure(db: db, [i]).contains(p) {
                    throw OpenStackError.forbidden("Role \(i) implies \(p): the inference would make a cycle.")
                }
                try await db.raw("DELETE FROM implied_role WHERE prior_role_id = \(bind: p) AND implied_role_id = \(bind: i)").run()
                try await db.raw("INSERT INTO implied_role (prior_role_id, implied_role_id) VALUES (\(bind: p), \(bind: i))").run()
            }
            return .json(self.inferenceJSON(prior, implied, req), status: .created)
        }
        r.get("/v3/roles/{role_id}/implies/{implied_role_id}") { req, ctx in
            let (prior, implied) = try await self.inferenceForAction(req, ctx, "identity:get_implied_role")
            try await self.requireInference(prior.str("id"), implied.str("id"))
            return .json(self.inferenceJSON(prior, implied, req))
        }
        r.head("/v3/roles/{role_id}/implies/{implied_role_id}") { req, ctx in
            let (prior, implied) = try await self.inferenceForAction(req, ctx, "identity:check_implied_role")
            try await self.requireInference(prior.str("id"), implied.str("id"))
            return .empty()
        }
        r.delete("/v3/roles/{role_id}/implies/{implied_role_id}") { req, ctx in
            let (prior, implied) = try await self.inferenceForAction(req, ctx, "identity:delete_implied_role")
            let (p, i) = (prior.str("id"), implied.str("id"))
            try await self.requireInference(p, i)
            try await self.write { db in try await db.raw("DELETE FROM implied_role WHERE prior_role_id = \(bind: p) AND implied_role_id = \(bind: i)").run() }
            return .empty()
        }
        r.get("/v3/role_inferences") { req, _ in
            _ = try await self.authorize(req, "identity:list_role_inference_rules")
            let (rules, roles) = try await self.db.read { db in
                (try await db.raw("SELECT prior_role_id, implied_role_id FROM implied_role").all(), try await db.raw("SELECT * FROM role").all())
            }
            let byID = Dictionary(roles.map { ($0.str("id"), $0) }, uniquingKeysWith: { a, _ in a })
            var grouped: [String: [JSON]] = [:]
            for rule in rules {
                if let implied = byID[rule.str("implied_role_id")] { grouped[rule.str("prior_role_id"), default: []].append(self.roleRef(implied, req)) }
            }
            let list: [JSON] = grouped.keys.sorted().compactMap { p in
                byID[p].map { ["prior_role": self.roleRef($0, req), "implies": .array(grouped[p]!)] }
            }
            return .json(["role_inferences": .array(list), "links": collectionLinks(req)])
        }
    }

    func requireInference(_ p: String, _ i: String) async throws {
        let exists = try await db.read { db in try await db.raw("SELECT prior_role_id FROM implied_role WHERE prior_role_id = \(bind: p) AND implied_role_id = \(bind: i)").first() != nil }
        if !exists { throw OpenStackError.notFound("\(p) does not imply \(i).") }
    }

    func inferenceForAction(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> (any SQLRow, any SQLRow) {
        let prior = try await fetch("role", ctx.parameters.get("role_id")!)
        let implied = try await fetch("role", ctx.parameters.get("implied_role_id")!)
        _ = try await authorize(req, action)
        return (prior, implied)
    }

    func inferenceJSON(_ prior: any SQLRow, _ implied: any SQLRow, _ req: Request) -> JSON {
        ["role_inference": ["prior_role": roleRef(prior, req), "implies": roleRef(implied, req)],
         "links": ["self": .string(req.baseURL + "/v3/roles/\(prior.str("id"))/implies/\(implied.str("id"))")]]
    }

    /// Loads `{role_id}` and enforces the global or domain-specific variant of `verb`.
    func roleForAction(_ req: Request, _ ctx: StratusContext, _ verb: String) async throws -> any SQLRow {
        let id = ctx.parameters.get("role_id")!
        let row = try await fetch("role", id)
        let domain = row.str("domain_id") == IdentityService.globalRoleDomain ? nil : row.str("domain_id")
        _ = try await authorize(req, domain == nil ? "identity:\(verb)_role" : "identity:\(verb)_domain_role",
                                target: ["target": ["role": ["id": .string(id), "name": .string(row.str("name")), "domain_id": .optional(domain)]]])
        return row
    }

    func roleRef(_ row: any SQLRow, _ req: Request) -> JSON {
        ["id": .string(row.str("id")), "name": .string(row.str("name")), "links": ["self": .string(req.baseURL + "/v3/roles/" + row.str("id"))]]
    }

    func roleJSON(_ row: any SQLRow, _ req: Request) -> JSON {
        let d = row.str("domain_id")
        return ["id": .string(row.str("id")), "name": .string(row.str("name")),
                "domain_id": d == IdentityService.globalRoleDomain ? .null : .string(d),
                "description": .optional(row.optStr("description")), "options": [:],
                "links": ["self": .string(req.baseURL + "/v3/roles/" + row.str("id"))]]
    }
}
