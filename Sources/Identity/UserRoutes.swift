import Hummingbird
import SQLKit
import StratusCore

/// `/v3/users`: CRUD (passwords hashed with bcrypt; a password change or disabling revokes the
/// user's tokens), filters `name`, `domain_id`, `enabled`; change own password; the user's groups.
extension IdentityService {
    func addUserRoutes(_ r: inout RouteTable) {
        r.get("/v3/users") { req, _ in
            let domainFilter = req.query("domain_id")
            let (_, domain) = try await self.authorizeList(req, "identity:list_users", domainFilter: domainFilter)
            var q: SQLQueryString = "SELECT * FROM identity_user WHERE 1 = 1"
            if let name = req.query("name") { q += " AND name = \(bind: name)" }
            if let d = domain { q += " AND domain_id = \(bind: d)" }
            if let enabled = req.query("enabled") { q += " AND enabled = \(bind: queryBool(enabled))" }
            let rows = try await self.rows(q + " ORDER BY name")
            return .json(["users": .array(rows.map { self.userJSON($0, req) }), "links": collectionLinks(req)])
        }
        r.post("/v3/users") { req, ctx in
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "user")
            let name = try b.name(required: true)!
            let domain = try b.string("domain_id", maxLength: 64) ?? self.settings.defaultDomainID
            _ = try await self.fetch("domain", domain)
            _ = try await self.authorize(req, "identity:create_user", target: ["target": ["user": ["domain_id": .string(domain)]]])
            let password = try b.string("password", nullable: true, maxLength: self.settings.maxPasswordLength)
            let enabled = try b.bool("enabled") ?? true
            let defaultProject = try b.string("default_project_id", nullable: true, maxLength: 64)
            if let defaultProject { _ = try await self.fetch("project", defaultProject) }
            let extra = b.extra(excluding: ["name", "domain_id", "password", "enabled", "default_project_id", "options", "federated"])
            let hash: String? = if let password { try await self.hasher.hash(password) } else { nil }
            let id = newID()
            let now = Clock.micros()
            let expires = self.settings.passwordExpiresDays.map { now + Int64($0) * 86_400_000_000 }
            let row = try await self.write { db in
                try await db.raw("""
                    INSERT INTO identity_user (id, name, domain_id, enabled, default_project_id, password_hash, password_expires_at, created_at, extra)
                    VALUES (\(bind: id), \(bind: name), \(bind: domain), \(bind: enabled), \(bind: defaultProject), \(bind: hash),
                      \(bind: hash == nil ? nil : expires), \(bind: now), \(bind: JSON.object(extra).serialized()))
                    """).run()
                return try await db.raw("SELECT * FROM identity_user WHERE id = \(bind: id)").first()!
            }
            return .json(["user": self.userJSON(row, req)], status: .created)
        }
        r.get("/v3/users/{user_id}") { req, ctx in
            let row = try await self.userForAction(req, ctx, "identity:get_user")
            return .json(["user": self.userJSON(row, req)])
        }
        r.patch("/v3/users/{user_id}") { req, ctx in
            let row = try await self.userForAction(req, ctx, "identity:update_user")
            let id = row.str("id")
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "user")
            let name = try b.name(required: false)
            let enabled = try b.bool("enabled")
            let password = try b.string("password", nullable: true, maxLength: self.settings.maxPasswordLength)
            let defaultProject = try b.string("default_project_id", nullable: true, maxLength: 64)
            if let defaultProject { _ = try await self.fetch("project", defaultProject) }
            if let d = try b.string("domain_id"), d != row.str("domain_id") { throw invalid("domain_id", "a user cannot move to another domain") }
            let extra = b.extra(excluding: ["name", "domain_id", "password", "enabled", "default_project_id", "options", "federated"])
            let hash: String? = if let password { try await self.hasher.hash(password) } else { nil }
            let expires = self.settings.passwordExpiresDays.map { Clock.micros() + Int64($0) * 86_400_000_000 }
            let updated = try await self.write { db in
                if let name { try await db.raw("UPDATE identity_user SET name = \(bind: name) WHERE id = \(bind: id)").run() }
                if let enabled {
                    try await db.raw("UPDATE identity_user SET enabled = \(bind: enabled) WHERE id = \(bind: id)").run()
                    if !enabled { try await self.revoke(db: db, userID: id) }
                }
                if b.has("default_project_id") {
                    try await db.raw("UPDATE identity_user SET default_project_id = \(bind: defaultProject) WHERE id = \(bind: id)").run()
                }
                if b.has("password") {
                    try await db.raw("UPDATE identity_user SET password_hash = \(bind: hash), password_expires_at = \(bind: expires), failed_auth_count = 0 WHERE id = \(bind: id)").run()
                    try await self.revoke(db: db, userID: id)
                }
                if !extra.isEmpty {
                    let current = try await db.raw("SELECT extra FROM identity_user WHERE id = \(bind: id)").first()?.json("extra") ?? [:]
                    try await db.raw("UPDATE identity_user SET extra = \(bind: JSON.object(current.merging(extra) { _, b in b }).serialized()) WHERE id = \(bind: id)").run()
                }
                return try await db.raw("SELECT * FROM identity_user WHERE id = \(bind: id)").first()!
            }
            return .json(["user": self.userJSON(updated, req)])
        }
        r.delete("/v3/users/{user_id}") { req, ctx in
            let row = try await self.userForAction(req, ctx, "identity:delete_user")
            let id = row.str("id")
            try await self.write { db in
                try await db.raw("DELETE FROM assignment WHERE actor_id = \(bind: id)").run()
                try await db.raw("DELETE FROM credential WHERE user_id = \(bind: id)").run()
                try await db.raw("DELETE FROM identity_user WHERE id = \(bind: id)").run()
                try await self.revoke(db: db, userID: id)
            }
            return .empty()
        }
        // Change own password: no policy (keystone's is unenforced); the original password is the proof.
        r.post("/v3/users/{user_id}/password") { req, ctx in
            let id = ctx.parameters.get("user_id")!
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "user")
            let original = try b.string("original_password", required: true, maxLength: self.settings.maxPasswordLength)!
            let password = try b.string("password", required: true, maxLength: self.settings.maxPasswordLength)!
            // The original password is the proof of identity: same checks, lockout and failure
            // counting as a login (an expired password may be changed, that is the point).
            let row = try await self.db.read { db in
                try await db.raw("SELECT u.*, d.enabled AS denabled FROM identity_user u JOIN domain d ON d.id = u.domain_id WHERE u.id = \(bind: id)").first()
            }
            _ = try await self.checkPassword(original, row: row)
            let newHash = try await self.hasher.hash(password)
            let expires = self.settings.passwordExpiresDays.map { Clock.micros() + Int64($0) * 86_400_000_000 }
            try await self.write { db in
                try await db.raw("UPDATE identity_user SET password_hash = \(bind: newHash), password_expires_at = \(bind: expires), failed_auth_count = 0 WHERE id = \(bind: id)").run()
                try await self.revoke(db: db, userID: id)
            }
            return .empty()
        }
        r.get("/v3/users/{user_id}/groups") { req, ctx in
            let userID = ctx.parameters.get("user_id")!
            _ = try await self.fetch("identity_user", userID, noun: "user")
            _ = try await self.authorize(req, "identity:list_groups_for_user", target: ["user_id": .string(userID), "target": ["user": ["id": .string(userID)]]])
            let rows = try await self.db.read { db in
                try await db.raw("SELECT g.* FROM identity_group g JOIN group_membership m ON m.group_id = g.id WHERE m.user_id = \(bind: userID) ORDER BY g.name").all()
            }
            return .json(["groups": .array(rows.map { self.groupJSON($0, req) }), "links": collectionLinks(req)])
        }
    }

    /// Loads `{user_id}` (404 first) and enforces `action` with keystone's user target.
    func userForAction(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> any SQLRow {
        let id = ctx.parameters.get("user_id")!
        let row = try await fetch("identity_user", id, noun: "user")
        _ = try await authorize(req, action, target: ["target": ["user": ["id": .string(id), "domain_id": .string(row.str("domain_id"))]]])
        return row
    }

    func userJSON(_ row: any SQLRow, _ req: Request) -> JSON {
        let id = row.str("id")
        var base: [String: JSON] = [
            "id": .string(id), "name": .string(row.str("name")), "domain_id": .string(row.str("domain_id")),
            "enabled": .bool(row.bool("enabled")), "options": [:],
            "password_expires_at": row.int("password_expires_at").map { .string(Clock.iso(micros: $0, zulu: false)) } ?? .null,
            "links": ["self": .string(req.baseURL + "/v3/users/" + id)],
        ]
        if let p = row.optStr("default_project_id") { base["default_project_id"] = .string(p) }
        return merged(base, row.json("extra"))
    }
}
