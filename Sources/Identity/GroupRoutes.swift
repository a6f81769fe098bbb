import Hummingbird
import SQLKit
import StratusCore

/// `/v3/groups`: CRUD, filters `name`, `domain_id`; membership under `/v3/groups/{id}/users`.
extension IdentityService {
    func addGroupRoutes(_ r: inout RouteTable) {
        r.get("/v3/groups") { req, _ in
            let domainFilter = req.query("domain_id")
            let (_, domain) = try await self.authorizeList(req, "identity:list_groups", domainFilter: domainFilter)
            var q: SQLQueryString = "SELECT * FROM identity_group WHERE 1 = 1"
            if let name = req.query("name") { q += " AND name = \(bind: name)" }
            if let d = domain { q += " AND domain_id = \(bind: d)" }
            let rows = try await self.rows(q + " ORDER BY name")
            return .json(["groups": .array(rows.map { self.groupJSON($0, req) }), "links": collectionLinks(req)])
        }
        r.post("/v3/groups") { req, ctx in
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "group")
            let name = try b.name(required: true)!
            let domain = try b.string("domain_id", maxLength: 64) ?? self.settings.defaultDomainID
            _ = try await self.fetch("domain", domain)
            _ = try await self.authorize(req, "identity:create_group", target: ["target": ["group": ["domain_id": .string(domain)]]])
            let description = try b.string("description", nullable: true, maxLength: 65535)
            let extra = b.extra(excluding: ["name", "domain_id", "description"])
            let id = newID()
            let row = try await self.write { db in
                try await db.raw("INSERT INTO identity_group (id, name, domain_id, description, extra) VALUES (\(bind: id), \(bind: name), \(bind: domain), \(bind: description), \(bind: JSON.object(extra).serialized()))").run()
                return try await db.raw("SELECT * FROM identity_group WHERE id = \(bind: id)").first()!
            }
            return .json(["group": self.groupJSON(row, req)], status: .created)
        }
        r.get("/v3/groups/{group_id}") { req, ctx in
            let row = try await self.groupForAction(req, ctx, "identity:get_group")
            return .json(["group": self.groupJSON(row, req)])
        }
        r.patch("/v3/groups/{group_id}") { req, ctx in
            let row = try await self.groupForAction(req, ctx, "identity:update_group")
            let id = row.str("id")
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "group")
            let name = try b.name(required: false)
            let description = try b.string("description", nullable: true, maxLength: 65535)
            let updated = try await self.write { db in
                if let name { try await db.raw("UPDATE identity_group SET name = \(bind: name) WHERE id = \(bind: id)").run() }
                if b.has("description") { try await db.raw("UPDATE identity_group SET description = \(bind: description) WHERE id = \(bind: id)").run() }
                return try await db.raw("SELECT * FROM identity_group WHERE id = \(bind: id)").first()!
            }
            return .json(["group": self.groupJSON(updated, req)])
        }
        r.delete("/v3/groups/{group_id}") { req, ctx in
            let row = try await self.groupForAction(req, ctx, "identity:delete_group")
            let id = row.str("id")
            try await self.write { db in
                try await db.raw("DELETE FROM assignment WHERE actor_id = \(bind: id)").run()
                try await db.raw("DELETE FROM identity_group WHERE id = \(bind: id)").run()
            }
            return .empty()
        }
        r.get("/v3/groups/{group_id}/users") { req, ctx in
            let row = try await self.groupForAction(req, ctx, "identity:list_users_in_group")
            let id = row.str("id")
            let users = try await self.db.read { db in
                try await db.raw("SELECT u.* FROM identity_user u JOIN group_membership m ON m.user_id = u.id WHERE m.group_id = \(bind: id) ORDER BY u.name").all()
            }
            return .json(["users": .array(users.map { self.userJSON($0, req) }), "links": collectionLinks(req)])
        }
        r.put("/v3/groups/{group_id}/users/{user_id}") { req, ctx in
            let (g, u) = try await self.membershipForAction(req, ctx, "identity:add_user_to_group")
            try await self.write { db in
                try await db.raw("DELETE FROM group_membership WHERE user_id = \(bind: u) AND group_id = \(bind: g)").run()
                try await db.raw("INSERT INTO group_membership (user_id, group_id) VALUES (\(bind: u), \(bind: g))").run()
            }
            return .empty()
        }
        r.head("/v3/groups/{group_id}/users/{user_id}") { req, ctx in
            let (g, u) = try await self.membershipForAction(req, ctx, "identity:check_user_in_group")
            guard try await self.isMember(u, g) else { throw OpenStackError.notFound("User \(u) is not a member of group \(g).") }
            return .empty()
        }
        r.get("/v3/groups/{group_id}/users/{user_id}") { req, ctx in
            let (g, u) = try await self.membershipForAction(req, ctx, "identity:check_user_in_group")
            guard try await self.isMember(u, g) else { throw OpenStackError.notFound("User \(u) is not a member of group \(g).") }
            return .empty()
        }
        r.delete("/v3/groups/{group_id}/users/{user_id}") { req, ctx in
            let (g, u) = try await self.membershipForAction(req, ctx, "identity:remove_user_from_group")
            guard try await self.isMember(u, g) else { throw OpenStackError.notFound("User \(u) is not a member of group \(g).") }
            try await self.write { db in
                try await db.raw("DELETE FROM group_membership WHERE user_id = \(bind: u) AND group_id = \(bind: g)").run()
                try await self.revoke(db: db, userID: u)
            }
            return .empty()
        }
    }

    func isMember(_ user: String, _ group: String) async throws -> Bool {
        try await db.read { db in try await db.raw("SELECT user_id FROM group_membership WHERE user_id = \(bind: user) AND group_id = \(bind: group)").first() != nil }
    }

    func groupForAction(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> any SQLRow {
        let id = ctx.parameters.get("group_id")!
        let row = try await fetch("identity_group", id, noun: "group")
        _ = try await authorize(req, action, target: ["target": ["group": ["id": .string(id), "domain_id": .string(row.str("domain_id"))]]])
        return row
    }

    func membershipForAction(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> (String, String) {
        let g = try await fetch("identity_group", ctx.parameters.get("group_id")!, noun: "group")
        let u = try await fetch("identity_user", ctx.parameters.get("user_id")!, noun: "user")
        _ = try await authorize(req, action, target: ["target": [
            "group": ["id": .string(g.str("id")), "domain_id": .string(g.str("domain_id"))],
            "user": ["id": .string(u.str("id")), "domain_id": .string(u.str("domain_id"))]]])
        return (g.str("id"), u.str("id"))
    }

    func groupJSON(_ row: any SQLRow, _ req: Request) -> JSON {
        let id = row.str("id")
        return merged(["id": .string(id), "name": .string(row.str("name")), "domain_id": .string(row.str("domain_id")),
                       "description": .string(row.optStr("description") ?? ""),
                       "links": ["self": .string(req.baseURL + "/v3/groups/" + id)]], row.json("extra"))
    }
}
