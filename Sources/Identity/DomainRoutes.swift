import Hummingbird
import SQLKit
import StratusCore

/// `/v3/domains`: create, list (filters `name`, `enabled`), show, update, delete (only once disabled).
extension IdentityService {
    func addDomainRoutes(_ r: inout RouteTable) {
        r.get("/v3/domains") { req, _ in
            _ = try await self.authorize(req, "identity:list_domains")
            var q: SQLQueryString = "SELECT * FROM domain WHERE 1 = 1"
            if let name = req.query("name") { q += " AND name = \(bind: name)" }
            if let enabled = req.query("enabled") { q += " AND enabled = \(bind: queryBool(enabled))" }
            let rows = try await self.rows(q + " ORDER BY name")
            return .json(["domains": .array(rows.map { self.domainJSON($0, req) }), "links": collectionLinks(req)])
        }
        r.post("/v3/domains") { req, ctx in
            _ = try await self.authorize(req, "identity:create_domain")
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "domain")
            let name = try b.name(required: true)!
            let description = try b.string("description", nullable: true, maxLength: 65535)
            let enabled = try b.bool("enabled") ?? true
            let id = try b.string("explicit_domain_id", maxLength: 64) ?? newID()
            let extra = b.extra(excluding: ["name", "description", "enabled", "explicit_domain_id", "tags", "options"])
            let row = try await self.write { db in
                try await db.raw("INSERT INTO domain (id, name, description, enabled, extra) VALUES (\(bind: id), \(bind: name), \(bind: description), \(bind: enabled), \(bind: JSON.object(extra).serialized()))").run()
                return try await db.raw("SELECT * FROM domain WHERE id = \(bind: id)").first()!
            }
            return .json(["domain": self.domainJSON(row, req)], status: .created)
        }
        r.get("/v3/domains/{domain_id}") { req, ctx in
            let id = ctx.parameters.get("domain_id")!
            let row = try await self.fetch("domain", id)
            _ = try await self.authorize(req, "identity:get_domain", target: ["target": ["domain": ["id": .string(id)]]])
            return .json(["domain": self.domainJSON(row, req)])
        }
        r.patch("/v3/domains/{domain_id}") { req, ctx in
            let id = ctx.parameters.get("domain_id")!
            _ = try await self.fetch("domain", id)
            _ = try await self.authorize(req, "identity:update_domain", target: ["target": ["domain": ["id": .string(id)]]])
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "domain")
            let name = try b.name(required: false)
            let description = try b.string("description", nullable: true, maxLength: 65535)
            let enabled = try b.bool("enabled")
            if id == self.settings.defaultDomainID, enabled == false {
                throw OpenStackError.forbidden("The default domain cannot be disabled.")
            }
            let row = try await self.write { db in
                if let name { try await db.raw("UPDATE domain SET name = \(bind: name) WHERE id = \(bind: id)").run() }
                if b.has("description") { try await db.raw("UPDATE domain SET description = \(bind: description) WHERE id = \(bind: id)").run() }
                if let enabled { try await db.raw("UPDATE domain SET enabled = \(bind: enabled) WHERE id = \(bind: id)").run() }
                return try await db.raw("SELECT * FROM domain WHERE id = \(bind: id)").first()!
            }
            return .json(["domain": self.domainJSON(row, req)])
        }
        r.delete("/v3/domains/{domain_id}") { req, ctx in
            let id = ctx.parameters.get("domain_id")!
            _ = try await self.fetch("domain", id)
            _ = try await self.authorize(req, "identity:delete_domain", target: ["target": ["domain": ["id": .string(id)]]])
            try await self.write { db in
                if try await db.raw("SELECT enabled FROM domain WHERE id = \(bind: id)").first()?.bool("enabled") != false {
                    throw OpenStackError.forbidden("Cannot delete a domain that is enabled, please disable it first.")
                }
                try await db.raw("DELETE FROM credential WHERE user_id IN (SELECT id FROM identity_user WHERE domain_id = \(bind: id))").run()
                try await db.raw("DELETE FROM assignment WHERE actor_id IN (SELECT id FROM identity_user WHERE domain_id = \(bind: id)) OR actor_id IN (SELECT id FROM identity_group WHERE domain_id = \(bind: id))").run()
                for table in ["identity_user", "identity_group"] {
                    try await db.raw("DELETE FROM \(unsafeRaw: table) WHERE domain_id = \(bind: id)").run()
                }
                try await db.raw("DELETE FROM assignment WHERE target_id IN (SELECT id FROM project WHERE domain_id = \(bind: id)) OR target_id = \(bind: id)").run()
                try await db.raw("DELETE FROM project WHERE domain_id = \(bind: id)").run()
                try await db.raw("DELETE FROM role WHERE domain_id = \(bind: id)").run()
                try await db.raw("DELETE FROM domain WHERE id = \(bind: id)").run()
            }
            return .empty()
        }
    }

    func domainJSON(_ row: any SQLRow, _ req: Request) -> JSON {
        let id = row.str("id")
        return merged(["id": .string(id), "name": .string(row.str("name")), "description": .string(row.optStr("description") ?? ""),
                       "enabled": .bool(row.bool("enabled")), "tags": [], "options": [:],
                       "links": ["self": .string(req.baseURL + "/v3/domains/" + id)]], row.json("extra"))
    }

    /// Authorizes a list call that can be narrowed to a domain: the `domain_id` filter, else the
    /// domain of a domain-scoped token (keystone's rule). Without either, the target has no
    /// `domain_id`, so `domain_id:%(target.domain_id)s` checks fail as in oslo.policy.
    func authorizeList(_ req: Request, _ action: String, domainFilter: String?) async throws -> (Caller, String?) {
        let caller = try await authenticate(req)
        let domain = domainFilter ?? caller.domainID
        let target: [String: JSON] = domain.map { ["target": ["domain_id": .string($0)]] } ?? [:]
        try enforcer.authorize(action, target: target, caller: caller)
        return (caller, domain)
    }

    /// Runs a built-up read query.
    func rows(_ q: SQLQueryString) async throws -> [any SQLRow] {
        try await db.read { db in try await db.raw(q).all() }
    }

    /// The row of `table` with `id`, or keystone's 404 ("Could not find project: x.").
    func fetch(_ table: String, _ id: String, noun: String? = nil) async throws -> any SQLRow {
        let row = try await db.read { db in try await db.raw("SELECT * FROM \(unsafeRaw: table) WHERE id = \(bind: id)").first() }
        guard let row else {
            let name = noun ?? table.replacingOccurrences(of: "identity_", with: "")
            throw OpenStackError.notFound("Could not find \(name): \(id).")
        }
        return row
    }
}
