import Hummingbird
import StratusCore

/// The service catalog: `/v3/regions` (filter `parent_region_id`), `/v3/services` (filters
/// `type`, `name`), `/v3/endpoints` (filters `interface`, `service_id`, `region_id`).
struct CatalogRoutes: Sendable {
    let service: IdentityService
    let catalog = CatalogStore()

    /// The endpoint interfaces keystone accepts.
    static let interfaces: Set<String> = ["public", "internal", "admin"]

    func add(to r: inout RouteTable) {
        r.get("/v3/regions", listRegions)
        r.post("/v3/regions", createRegion)
        r.put("/v3/regions/{region_id}", createRegion)
        r.get("/v3/regions/{region_id}", getRegion)
        r.patch("/v3/regions/{region_id}", updateRegion)
        r.delete("/v3/regions/{region_id}", deleteRegion)
        r.get("/v3/services", listServices)
        r.post("/v3/services", createService)
        r.get("/v3/services/{service_id}", getService)
        r.patch("/v3/services/{service_id}", updateService)
        r.delete("/v3/services/{service_id}", deleteService)
        r.get("/v3/endpoints", listEndpoints)
        r.post("/v3/endpoints", createEndpoint)
        r.get("/v3/endpoints/{endpoint_id}", getEndpoint)
        r.patch("/v3/endpoints/{endpoint_id}", updateEndpoint)
        r.delete("/v3/endpoints/{endpoint_id}", deleteEndpoint)
    }

    // MARK: Regions

    /// GET the regions, narrowed to the children of `parent_region_id`: 200. 403 by policy.
    @Sendable func listRegions(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        _ = try await service.authorize(req, IdentityPolicy.listRegions)
        let parent = req.query("parent_region_id")
        let found = try await service.read { sql in try await catalog.regions(parentRegionID: parent, in: sql) }
        return .json(["regions": .array(found.map { Self.json($0, req) }), "links": collectionLinks(req)])
    }

    /// POST a region, or PUT one with the id in the URL: 201. 400 invalid body or an id that
    /// differs from the URL's; 404 unknown parent region; 409 id taken; 403 by policy.
    @Sendable func createRegion(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        _ = try await service.authorize(req, IdentityPolicy.createRegion)
        let given = ctx.parameters.get("region_id")
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "region")
        if let given, let bodyID = try b.string("id"), bodyID != given { throw invalid("id", "conflicts with the id in the URL") }
        let id = try given ?? b.string("id", maxLength: 255, minLength: 1) ?? newID()
        let description = try b.string("description", nullable: true, maxLength: 255) ?? ""
        let parent = try b.string("parent_region_id", nullable: true)
        let region = RegionRecord(id: id, description: description, parentRegionID: parent)
        let created = try await service.write { sql in try await catalog.create(region, in: sql) }
        return .json(["region": Self.json(created, req)], status: .created)
    }

    /// GET one region: 200. 404 unknown; 403 by policy.
    @Sendable func getRegion(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("region_id")
        let region = try await service.read { sql in try await catalog.region(id, in: sql) }
        _ = try await service.authorize(req, IdentityPolicy.getRegion)
        return .json(["region": Self.json(region, req)])
    }

    /// PATCH a region's description or parent: 200. 400 invalid body; 404 unknown region or parent; 403 by policy.
    @Sendable func updateRegion(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("region_id")
        _ = try await service.read { sql in try await catalog.region(id, in: sql) }
        _ = try await service.authorize(req, IdentityPolicy.updateRegion)
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "region")
        let description = try b.string("description", nullable: true, maxLength: 255)
        let parent = try b.string("parent_region_id", nullable: true)
        let updated = try await service.write { sql in
            try await catalog.updateRegion(
                id,
                description: b.has("description") ? description ?? "" : nil,
                parentRegionID: b.has("parent_region_id") ? .some(parent) : nil,
                in: sql
            )
        }
        return .json(["region": Self.json(updated, req)])
    }

    /// DELETE a region: 204. 404 unknown; 403 while it has child regions or endpoints, or by policy.
    @Sendable func deleteRegion(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("region_id")
        _ = try await service.read { sql in try await catalog.region(id, in: sql) }
        _ = try await service.authorize(req, IdentityPolicy.deleteRegion)
        try await service.write { sql in try await catalog.deleteRegion(id, in: sql) }
        return .empty()
    }

    // MARK: Services

    /// GET the services, narrowed by `type` and `name`: 200. 403 by policy.
    @Sendable func listServices(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        _ = try await service.authorize(req, IdentityPolicy.listServices)
        let type = req.query("type")
        let name = req.query("name")
        let found = try await service.read { sql in try await catalog.services(type: type, name: name, in: sql) }
        return .json(["services": .array(found.map { Self.json($0, req) }), "links": collectionLinks(req)])
    }

    /// POST a service (`name`, `description` and other keys kept as extra attributes): 201. 400 invalid body; 403 by policy.
    @Sendable func createService(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        _ = try await service.authorize(req, IdentityPolicy.createService)
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "service")
        let type = try b.string("type", required: true, maxLength: 255, minLength: 1)!
        let enabled = try b.bool("enabled") ?? true
        _ = try b.string("name", nullable: true)
        _ = try b.string("description", nullable: true, maxLength: 65535)
        let record = ServiceRecord(id: newID(), type: type, enabled: enabled, extra: b.extra(excluding: ["type", "enabled", "id"]))
        let created = try await service.write { sql in try await catalog.create(record, in: sql) }
        return .json(["service": Self.json(created, req)], status: .created)
    }

    /// GET one service: 200. 404 unknown; 403 by policy.
    @Sendable func getService(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("service_id")
        let found = try await service.read { sql in try await catalog.service(id, in: sql) }
        _ = try await service.authorize(req, IdentityPolicy.getService)
        return .json(["service": Self.json(found, req)])
    }

    /// PATCH a service's type, enabled flag or extra attributes (merged): 200. 400 invalid body; 404 unknown; 403 by policy.
    @Sendable func updateService(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("service_id")
        _ = try await service.read { sql in try await catalog.service(id, in: sql) }
        _ = try await service.authorize(req, IdentityPolicy.updateService)
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "service")
        let type = try b.string("type", maxLength: 255, minLength: 1)
        let enabled = try b.bool("enabled")
        _ = try b.string("name", nullable: true)
        let changes = b.extra(excluding: ["type", "enabled", "id"])
        let updated = try await service.write { sql in
            try await catalog.updateService(id, type: type, enabled: enabled, extra: changes, in: sql)
        }
        return .json(["service": Self.json(updated, req)])
    }

    /// DELETE a service with its endpoints: 204. 404 unknown; 403 by policy.
    @Sendable func deleteService(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("service_id")
        _ = try await service.read { sql in try await catalog.service(id, in: sql) }
        _ = try await service.authorize(req, IdentityPolicy.deleteService)
        try await service.write { sql in try await catalog.deleteService(id, in: sql) }
        return .empty()
    }

    // MARK: Endpoints

    /// GET the endpoints, narrowed by `interface`, `service_id` and `region_id`: 200. 400 unknown interface; 403 by policy.
    @Sendable func listEndpoints(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        _ = try await service.authorize(req, IdentityPolicy.listEndpoints)
        let interface = req.query("interface")
        if let interface { try Self.validate(interface: interface) }
        let serviceID = req.query("service_id")
        let regionID = req.query("region_id")
        let found = try await service.read { sql in
            try await catalog.endpoints(interface: interface, serviceID: serviceID, regionID: regionID, in: sql)
        }
        return .json(["endpoints": .array(found.map { Self.json($0, req) }), "links": collectionLinks(req)])
    }

    /// POST an endpoint of a service (in `region_id`, or the legacy `region`, created when
    /// missing): 201. 400 invalid body, unknown interface, a URL that is not http(s), or an
    /// unknown service or `region_id`; 403 by policy.
    @Sendable func createEndpoint(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        _ = try await service.authorize(req, IdentityPolicy.createEndpoint)
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "endpoint")
        let interface = try b.string("interface", required: true)!
        try Self.validate(interface: interface)
        let serviceID = try b.string("service_id", required: true, maxLength: 64)!
        let url = try b.string("url", required: true, maxLength: 225, minLength: 1)!
        guard url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("$(") else {
            throw invalid("url", "'\(url)' is not a valid URL")
        }
        let regionID = try b.string("region_id", nullable: true, maxLength: 255)
        let legacyRegion = try b.string("region", nullable: true, maxLength: 255)
        let region = regionID ?? legacyRegion
        let enabled = try b.bool("enabled") ?? true
        guard try await service.read({ sql in try await catalog.serviceExists(serviceID, in: sql) }) else {
            throw invalid("service_id", "service \(serviceID) does not exist")
        }
        // An unknown `region_id` is refused; the v2-era `region` alone names a region keystone
        // creates when it does not exist yet (in the endpoint's transaction).
        if regionID != nil { try await requireRegion(region) }
        let endpoint = EndpointRecord(id: newID(), serviceID: serviceID, interface: interface, regionID: region, url: url, enabled: enabled)
        let created = try await service.write { sql in
            if regionID == nil, let legacyRegion { try await catalog.ensureRegion(legacyRegion, in: sql) }
            return try await catalog.create(endpoint, in: sql)
        }
        return .json(["endpoint": Self.json(created, req)], status: .created)
    }

    /// GET one endpoint: 200. 404 unknown; 403 by policy.
    @Sendable func getEndpoint(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("endpoint_id")
        let endpoint = try await service.read { sql in try await catalog.endpoint(id, in: sql) }
        _ = try await service.authorize(req, IdentityPolicy.getEndpoint)
        return .json(["endpoint": Self.json(endpoint, req)])
    }

    /// PATCH an endpoint's interface, URL, enabled flag, region or service: 200. 400 invalid body,
    /// unknown interface or region; 404 unknown endpoint or service; 403 by policy.
    @Sendable func updateEndpoint(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("endpoint_id")
        _ = try await service.read { sql in try await catalog.endpoint(id, in: sql) }
        _ = try await service.authorize(req, IdentityPolicy.updateEndpoint)
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "endpoint")
        let interface = try b.string("interface")
        if let interface { try Self.validate(interface: interface) }
        let url = try b.string("url", maxLength: 225, minLength: 1)
        let enabled = try b.bool("enabled")
        let region = try b.string("region_id", nullable: true)
        try await requireRegion(region)
        let serviceID = try b.string("service_id")
        if let serviceID { _ = try await service.read { sql in try await catalog.service(serviceID, in: sql) } }
        let updated = try await service.write { sql in
            try await catalog.updateEndpoint(
                id,
                interface: interface,
                url: url,
                enabled: enabled,
                regionID: b.has("region_id") ? .some(region) : nil,
                serviceID: serviceID,
                in: sql
            )
        }
        return .json(["endpoint": Self.json(updated, req)])
    }

    /// DELETE an endpoint: 204. 404 unknown; 403 by policy.
    @Sendable func deleteEndpoint(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("endpoint_id")
        _ = try await service.read { sql in try await catalog.endpoint(id, in: sql) }
        _ = try await service.authorize(req, IdentityPolicy.deleteEndpoint)
        try await service.write { sql in try await catalog.deleteEndpoint(id, in: sql) }
        return .empty()
    }

    /// 400 unless `region` is nil or an existing region.
    private func requireRegion(_ region: String?) async throws {
        guard let region else { return }
        guard try await service.read({ sql in try await catalog.regionExists(region, in: sql) }) else {
            throw invalid("region_id", "region \(region) does not exist")
        }
    }

    /// 400 unless `interface` is one keystone knows.
    static func validate(interface: String) throws {
        guard interfaces.contains(interface) else { throw invalid("interface", "'\(interface)' is not one of public, internal, admin") }
    }

    // MARK: Rendering

    /// A region as keystone renders it.
    static func json(_ region: RegionRecord, _ req: Request) -> JSON {
        [
            "id": .string(region.id), "description": .string(region.description), "parent_region_id": .optional(region.parentRegionID),
            "links": ["self": .string(req.baseURL + "/v3/regions/" + region.id)],
        ]
    }

    /// A service as keystone renders it: `extra` attributes (`name`, `description`, …) beside the known ones, which win.
    static func json(_ service: ServiceRecord, _ req: Request) -> JSON {
        merged(
            [
                "id": .string(service.id), "type": .string(service.type), "enabled": .bool(service.enabled),
                "links": ["self": .string(req.baseURL + "/v3/services/" + service.id)],
            ],
            // keystone shows an unnamed service with an empty name
            service.extra["name"] == nil ? service.extra.merging(["name": ""]) { a, _ in a } : service.extra
        )
    }

    /// An endpoint as keystone renders it (`region` repeats `region_id` for v2-era clients).
    static func json(_ endpoint: EndpointRecord, _ req: Request) -> JSON {
        let region = JSON.optional(endpoint.regionID)
        return [
            "id": .string(endpoint.id), "interface": .string(endpoint.interface), "service_id": .string(endpoint.serviceID),
            "url": .string(endpoint.url), "region_id": region, "region": region, "enabled": .bool(endpoint.enabled),
            "links": ["self": .string(req.baseURL + "/v3/endpoints/" + endpoint.id)],
        ]
    }

    /// The `catalog` of a token or of `/v3/auth/catalog`.
    static func json(_ catalog: [CatalogService]) -> JSON {
        .array(
            catalog.map { s in
                [
                    "id": .string(s.id), "type": .string(s.type), "name": .string(s.name),
                    "endpoints": .array(
                        s.endpoints.map { e in
                            let region = JSON.optional(e.regionID)
                            return [
                                "id": .string(e.id), "interface": .string(e.interface), "region_id": region, "region": region, "url": .string(e.url),
                            ]
                        }
                    ),
                ]
            }
        )
    }
}
