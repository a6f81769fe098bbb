import Hummingbird
import SQLKit
import StratusCore

/// The service catalog: `/v3/regions`, `/v3/services` (filters `type`, `name`),
/// `/v3/endpoints` (filters `interface`, `service_id`, `region_id`).
extension IdentityService {
    static let interfaces: Set<String> = ["public", "internal", "admin"]

    func addCatalogRoutes(_ r: inout RouteTable) {
        // Regions
        r.get("/v3/regions") { req, _ in
            _ = try await self.authorize(req, "identity:list_regions")
            var q: SQLQueryString = "SELECT * FROM region WHERE 1 = 1"
            if let p = req.query("parent_region_id") { q += " AND parent_region_id = \(bind: p)" }
            let rows = try await self.rows(q + " ORDER BY id")
            return .json(["regions": .array(rows.map { self.regionJSON($0, req) }), "links": collectionLinks(req)])
        }
        r.post("/v3/regions") { req, ctx in try await self.createRegion(req, ctx, id: nil) }
        r.put("/v3/regions/{region_id}") { req, ctx in try await self.createRegion(req, ctx, id: ctx.parameters.get("region_id")!) }
        r.get("/v3/regions/{region_id}") { req, ctx in
            let row = try await self.fetch("region", ctx.parameters.get("region_id")!)
            _ = try await self.authorize(req, "identity:get_region")
            return .json(["region": self.regionJSON(row, req)])
        }
        r.patch("/v3/regions/{region_id}") { req, ctx in
            let id = ctx.parameters.get("region_id")!
            _ = try await self.fetch("region", id)
            _ = try await self.authorize(req, "identity:update_region")
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "region")
            let description = try b.string("description", nullable: true, maxLength: 255)
            let parent = try b.string("parent_region_id", nullable: true)
            if let parent { _ = try await self.fetch("region", parent) }
            let row = try await self.write { db in
                if b.has("description") { try await db.raw("UPDATE region SET description = \(bind: description ?? "") WHERE id = \(bind: id)").run() }
                if b.has("parent_region_id") { try await db.raw("UPDATE region SET parent_region_id = \(bind: parent) WHERE id = \(bind: id)").run() }
                return try await db.raw("SELECT * FROM region WHERE id = \(bind: id)").first()!
            }
            return .json(["region": self.regionJSON(row, req)])
        }
        r.delete("/v3/regions/{region_id}") { req, ctx in
            let id = ctx.parameters.get("region_id")!
            _ = try await self.fetch("region", id)
            _ = try await self.authorize(req, "identity:delete_region")
            try await self.write { db in
                let child = try await db.raw("SELECT id FROM region WHERE parent_region_id = \(bind: id)").first()
                let endpoint = try await db.raw("SELECT id FROM endpoint WHERE region_id = \(bind: id)").first()
                if child != nil || endpoint != nil {
                    throw OpenStackError.forbidden("Unable to delete region \(id) because it or its child regions have associated endpoints.")
                }
                try await db.raw("DELETE FROM region WHERE id = \(bind: id)").run()
            }
            return .empty()
        }
        // Services
        r.get("/v3/services") { req, _ in
            _ = try await self.authorize(req, "identity:list_services")
            var q: SQLQueryString = "SELECT * FROM service WHERE 1 = 1"
            if let t = req.query("type") { q += " AND type = \(bind: t)" }
            var rows = try await self.rows(q + " ORDER BY type")
            if let name = req.query("name") { rows = rows.filter { $0.json("extra")["name"]?.stringValue == name } }
            return .json(["services": .array(rows.map { self.serviceJSON($0, req) }), "links": collectionLinks(req)])
        }
        r.post("/v3/services") { req, ctx in
            _ = try await self.authorize(req, "identity:create_service")
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "service")
            let type = try b.string("type", required: true, maxLength: 255, minLength: 1)!
            let enabled = try b.bool("enabled") ?? true
            _ = try b.string("name", nullable: true)
            _ = try b.string("description", nullable: true, maxLength: 65535)
            let extra = b.extra(excluding: ["type", "enabled", "id"])
            let id = newID()
            let row = try await self.write { db in
                try await db.raw("INSERT INTO service (id, type, enabled, extra) VALUES (\(bind: id), \(bind: type), \(bind: enabled), \(bind: JSON.object(extra).serialized()))").run()
                return try await db.raw("SELECT * FROM service WHERE id = \(bind: id)").first()!
            }
            return .json(["service": self.serviceJSON(row, req)], status: .created)
        }
        r.get("/v3/services/{service_id}") { req, ctx in
            let row = try await self.fetch("service", ctx.parameters.get("service_id")!)
            _ = try await self.authorize(req, "identity:get_service")
            return .json(["service": self.serviceJSON(row, req)])
        }
        r.patch("/v3/services/{service_id}") { req, ctx in
            let id = ctx.parameters.get("service_id")!
            _ = try await self.fetch("service", id)
            _ = try await self.authorize(req, "identity:update_service")
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "service")
            let type = try b.string("type", maxLength: 255, minLength: 1)
            let enabled = try b.bool("enabled")
            _ = try b.string("name", nullable: true)
            let changes = b.extra(excluding: ["type", "enabled", "id"])
            let row = try await self.write { db in
                let stored = try await db.raw("SELECT extra FROM service WHERE id = \(bind: id)").first()?.json("extra") ?? [:]
                let extra = stored.merging(changes) { _, n in n }
                if let type { try await db.raw("UPDATE service SET type = \(bind: type) WHERE id = \(bind: id)").run() }
                if let enabled { try await db.raw("UPDATE service SET enabled = \(bind: enabled) WHERE id = \(bind: id)").run() }
                try await db.raw("UPDATE service SET extra = \(bind: JSON.object(extra).serialized()) WHERE id = \(bind: id)").run()
                return try await db.raw("SELECT * FROM service WHERE id = \(bind: id)").first()!
            }
            return .json(["service": self.serviceJSON(row, req)])
        }
        r.delete("/v3/services/{service_id}") { req, ctx in
            let id = ctx.parameters.get("service_id")!
            _ = try await self.fetch("service", id)
            _ = try await self.authorize(req, "identity:delete_service")
            try await self.write { db in
                try await db.raw("DELETE FROM endpoint WHERE service_id = \(bind: id)").run()
                try await db.raw("DELETE FROM service WHERE id = \(bind: id)").run()
            }
            return .empty()
        }
        // Endpoints
        r.get("/v3/endpoints") { req, _ in
            _ = try await self.authorize(req, "identity:list_endpoints")
            var q: SQLQueryString = "SELECT * FROM endpoint WHERE 1 = 1"
            if let i = req.query("interface") {
                guard IdentityService.interfaces.contains(i) else { throw invalid("interface", "'\(i)' is not one of public, internal, admin") }
                q += " AND interface = \(bind: i)"
            }
            if let s = req.query("service_id") { q += " AND service_id = \(bind: s)" }
            if let rg = req.query("region_id") { q += " AND region_id = \(bind: rg)" }
            let rows = try await self.rows(q + " ORDER BY service_id, interface")
            return .json(["endpoints": .array(rows.map { self.endpointJSON($0, req) }), "links": collectionLinks(req)])
        }
        r.post("/v3/endpoints") { req, ctx in
            _ = try await self.authorize(req, "identity:create_endpoint")
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "endpoint")
            let interface = try b.string("interface", required: true)!
            guard IdentityService.interfaces.contains(interface) else { throw invalid("interface", "'\(interface)' is not one of public, internal, admin") }
            let serviceID = try b.string("service_id", required: true, maxLength: 64)!
            let url = try b.string("url", required: true, maxLength: 225, minLength: 1)!
            guard url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("$(") else { throw invalid("url", "'\(url)' is not a valid URL") }
            let region = try b.string("region_id", nullable: true) ?? b.string("region", nullable: true)
            let enabled = try b.bool("enabled") ?? true
            guard try await self.db.read({ db in try await db.raw("SELECT id FROM service WHERE id = \(bind: serviceID)").first() }) != nil else {
                throw invalid("service_id", "service \(serviceID) does not exist")
            }
            if let region, try await self.db.read({ db in try await db.raw("SELECT id FROM region WHERE id = \(bind: region)").first() }) == nil {
                throw invalid("region_id", "region \(region) does not exist")
            }
            let id = newID()
            let row = try await self.write { db in
                try await db.raw("INSERT INTO endpoint (id, service_id, interface, region_id, url, enabled) VALUES (\(bind: id), \(bind: serviceID), \(bind: interface), \(bind: region), \(bind: url), \(bind: enabled))").run()
                return try await db.raw("SELECT * FROM endpoint WHERE id = \(bind: id)").first()!
            }
            return .json(["endpoint": self.endpointJSON(row, req)], status: .created)
        }
        r.get("/v3/endpoints/{endpoint_id}") { req, ctx in
            let row = try await self.fetch("endpoint", ctx.parameters.get("endpoint_id")!)
            _ = try await self.authorize(req, "identity:get_endpoint")
            return .json(["endpoint": self.endpointJSON(row, req)])
        }
        r.patch("/v3/endpoints/{endpoint_id}") { req, ctx in
            let id = ctx.parameters.get("endpoint_id")!
            _ = try await self.fetch("endpoint", id)
            _ = try await self.authorize(req, "identity:update_endpoint")
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "endpoint")
            let interface = try b.string("interface")
            if let interface, !IdentityService.interfaces.contains(interface) { throw invalid("interface", "'\(interface)' is not one of public, internal, admin") }
            let url = try b.string("url", maxLength: 225, minLength: 1)
            let enabled = try b.bool("enabled")
            let region = try b.string("region_id", nullable: true)
            if let region, try await self.db.read({ db in try await db.raw("SELECT id FROM region WHERE id = \(bind: region)").first() }) == nil {
                throw invalid("region_id", "region \(region) does not exist")
            }
            let serviceID = try b.string("service_id")
            if let serviceID { _ = try await self.fetch("service", serviceID) }
            let row = try await self.write { db in
                if let interface { try await db.raw("UPDATE endpoint SET interface = \(bind: interface) WHERE id = \(bind: id)").run() }
                if let url { try await db.raw("UPDATE endpoint SET url = \(bind: url) WHERE id = \(bind: id)").run() }
                if let enabled { try await db.raw("UPDATE endpoint SET enabled = \(bind: enabled) WHERE id = \(bind: id)").run() }
                if b.has("region_id") { try await db.raw("UPDATE endpoint SET region_id = \(bind: region) WHERE id = \(bind: id)").run() }
                if let serviceID { try await db.raw("UPDATE endpoint SET service_id = \(bind: serviceID) WHERE id = \(bind: id)").run() }
                return try await db.raw("SELECT * FROM endpoint WHERE id = \(bind: id)").first()!
            }
            return .json(["endpoint": self.endpointJSON(row, req)])
        }
        r.delete("/v3/endpoints/{endpoint_id}") { req, ctx in
            let id = ctx.parameters.get("endpoint_id")!
            _ = try await self.fetch("endpoint", id)
            _ = try await self.authorize(req, "identity:delete_endpoint")
            try await self.write { db in try await db.raw("DELETE FROM endpoint WHERE id = \(bind: id)").run() }
            return .empty()
        }
    }

    func createRegion(_ req: Request, _ ctx: StratusContext, id given: String?) async throws -> Response {
        _ = try await authorize(req, "identity:create_region")
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "region")
        if let given, let bodyID = try b.string("id"), bodyID != given { throw invalid("id", "conflicts with the id in the URL") }
        let id = try given ?? b.string("id", maxLength: 255, minLength: 1) ?? newID()
        let description = try b.string("description", nullable: true, maxLength: 255) ?? ""
        let parent = try b.string("parent_region_id", nullable: true)
        if let parent { _ = try await fetch("region", parent) }
        let row = try await write { db in
            try await db.raw("INSERT INTO region (id, description, parent_region_id) VALUES (\(bind: id), \(bind: description), \(bind: parent))").run()
            return try await db.raw("SELECT * FROM region WHERE id = \(bind: id)").first()!
        }
        return .json(["region": regionJSON(row, req)], status: .created)
    }

    func regionJSON(_ row: any SQLRow, _ req: Request) -> JSON {
        ["id": .string(row.str("id")), "description": .string(row.optStr("description") ?? ""),
         "parent_region_id": .optional(row.optStr("parent_region_id")), "links": ["self": .string(req.baseURL + "/v3/regions/" + row.str("id"))]]
    }

    func serviceJSON(_ row: any SQLRow, _ req: Request) -> JSON {
        merged(["id": .string(row.str("id")), "type": .string(row.str("type")), "enabled": .bool(row.bool("enabled")),
                "links": ["self": .string(req.baseURL + "/v3/services/" + row.str("id"))]], row.json("extra"))
    }

    func endpointJSON(_ row: any SQLRow, _ req: Request) -> JSON {
        let region = JSON.optional(row.optStr("region_id"))
        return ["id": .string(row.str("id")), "interface": .string(row.str("interface")), "service_id": .string(row.str("service_id")),
                "url": .string(row.str("url")), "region_id": region, "region": region, "enabled": .bool(row.bool("enabled")),
                "links": ["self": .string(req.baseURL + "/v3/endpoints/" + row.str("id"))]]
    }
}
