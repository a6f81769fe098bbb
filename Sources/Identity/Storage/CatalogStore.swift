import SQLKit
import StratusCore

/// A region of the service catalog; regions form a tree through `parentRegionID`.
struct RegionRecord: Sendable, Equatable {
    var id: String
    var description: String
    var parentRegionID: String?
}

/// A catalog service. keystone keeps `name` and `description` among its free-form `extra` attributes.
struct ServiceRecord: Sendable, Equatable {
    var id: String
    var type: String
    var enabled: Bool
    var extra: [String: JSON]

    /// The service's `name`, or "" when it has none (as it appears in the token catalog).
    var name: String { extra["name"]?.stringValue ?? "" }
}

/// An endpoint: where one interface (`public`, `internal`, `admin`) of a service is reached.
struct EndpointRecord: Sendable, Equatable {
    var id: String
    var serviceID: String
    var interface: String
    var regionID: String?
    var url: String
    var enabled: Bool
}

/// One service of the catalog in a token: its enabled endpoints, URLs already substituted.
struct CatalogService: Sendable, Equatable {
    /// An endpoint as the token catalog lists it.
    struct Endpoint: Sendable, Equatable {
        var id: String
        var interface: String
        var regionID: String?
        var url: String
    }

    var id: String
    var type: String
    var name: String
    var endpoints: [Endpoint]
}

/// Regions, services and endpoints, and the catalog document built from them.
struct CatalogStore: Sendable {
    /// One `region` row.
    struct RegionRow: Decodable {
        var id: String
        var description: String
        var parentRegionId: String?

        var record: RegionRecord { RegionRecord(id: id, description: description, parentRegionID: parentRegionId) }
    }

    /// One `service` row.
    struct ServiceRow: Decodable {
        var id: String
        var type: String
        var enabled: Bool
        var extra: String

        func record() throws -> ServiceRecord {
            ServiceRecord(id: id, type: type, enabled: enabled, extra: try UserStore.jsonObject(extra))
        }
    }

    /// One `endpoint` row.
    struct EndpointRow: Decodable {
        var id: String
        var serviceId: String
        var interface: String
        var regionId: String?
        var url: String
        var enabled: Bool

        var record: EndpointRecord {
            EndpointRecord(id: id, serviceID: serviceId, interface: interface, regionID: regionId, url: url, enabled: enabled)
        }
    }

    /// One row of the service ⋈ endpoint join behind the token catalog.
    struct CatalogRow: Decodable {
        var serviceId: String
        var type: String
        var serviceExtra: String
        var endpointId: String
        var interface: String
        var regionId: String?
        var url: String
    }

    /// The placeholders keystone substitutes with the token's project in endpoint URLs.
    static let projectPlaceholders = ["$(project_id)s", "%(project_id)s", "$(tenant_id)s", "%(tenant_id)s"]

    // MARK: Catalog

    /// The catalog of a token scoped to `projectID`: enabled services with their enabled
    /// endpoints (services without any are left out), by type then interface; the project
    /// placeholders in URLs are replaced by `projectID` when there is one.
    func catalog(projectID: String?, in sql: any SQLDatabase) async throws -> [CatalogService] {
        let rows = try await sql.select()
            .column(SQLColumn("id", table: "service"), as: "service_id")
            .column(SQLColumn("type", table: "service"), as: "type")
            .column(SQLColumn("extra", table: "service"), as: "service_extra")
            .column(SQLColumn("id", table: "endpoint"), as: "endpoint_id")
            .column(SQLColumn("interface", table: "endpoint"), as: "interface")
            .column(SQLColumn("region_id", table: "endpoint"), as: "region_id")
            .column(SQLColumn("url", table: "endpoint"), as: "url")
            .from("service")
            .join("endpoint", on: SQLColumn("service_id", table: "endpoint"), .equal, SQLColumn("id", table: "service"))
            .where(SQLColumn("enabled", table: "service"), .equal, SQLBind(true))
            .where(SQLColumn("enabled", table: "endpoint"), .equal, SQLBind(true))
            .orderBy(SQLColumn("type", table: "service")).orderBy(SQLColumn("interface", table: "endpoint"))
            .all().map { try $0.decode(CatalogRow.self) }
        var services: [CatalogService] = []
        var index: [String: Int] = [:]
        for row in rows {
            if index[row.serviceId] == nil {
                index[row.serviceId] = services.count
                let name = try UserStore.jsonObject(row.serviceExtra)["name"]?.stringValue ?? ""
                services.append(CatalogService(id: row.serviceId, type: row.type, name: name, endpoints: []))
            }
            var url = row.url
            if let projectID {
                for pattern in Self.projectPlaceholders { url = url.replacingOccurrences(of: pattern, with: projectID) }
            }
            services[index[row.serviceId]!].endpoints
                .append(.init(id: row.endpointId, interface: row.interface, regionID: row.regionId, url: url))
        }
        return services
    }

    // MARK: Regions

    /// The region `id`; `IdentityError.notFound` when there is none.
    func region(_ id: String, in sql: any SQLDatabase) async throws -> RegionRecord {
        guard let row = try await sql.select().columns("*").from("region").where("id", .equal, id).first() else {
            throw IdentityError.notFound(kind: "region", id: id)
        }
        return try row.decode(RegionRow.self).record
    }

    /// Whether a region `id` exists.
    func regionExists(_ id: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("id").from("region").where("id", .equal, id).first() != nil
    }

    /// Regions, narrowed to the children of `parentRegionID` when given, by id.
    func regions(parentRegionID: String? = nil, in sql: any SQLDatabase) async throws -> [RegionRecord] {
        let query = sql.select().columns("*").from("region")
        if let parentRegionID { query.where("parent_region_id", .equal, parentRegionID) }
        return try await query.orderBy("id").all().map { try $0.decode(RegionRow.self).record }
    }

    /// Creates the root region `id` unless it exists; a concurrent creation of the same id is
    /// no error (`ON CONFLICT DO NOTHING`), so parallel endpoint creations cannot collide.
    func ensureRegion(_ id: String, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "region").columns("id", "description", "parent_region_id")
            .values(SQLBind(id), SQLBind(""), SQLLiteral.null).ignoringConflicts().run()
    }

    /// Inserts `region`; 404 when its parent is unknown; `StorageError.uniqueViolation` when the id is taken.
    @discardableResult
    func create(_ region: RegionRecord, in sql: any SQLDatabase) async throws -> RegionRecord {
        if let parent = region.parentRegionID { _ = try await self.region(parent, in: sql) }
        try await sql.insert(into: "region").columns("id", "description", "parent_region_id")
            .values(SQLBind(region.id), SQLBind(region.description), SQLBind(region.parentRegionID)).run()
        return try await self.region(region.id, in: sql)
    }

    /// Changes the given attributes (`parentRegionID: .some(nil)` makes it a root region).
    /// 404 when the region or the new parent is unknown.
    func updateRegion(
        _ id: String,
        description: String? = nil,
        parentRegionID: String?? = nil,
        in sql: any SQLDatabase
    ) async throws -> RegionRecord {
        _ = try await region(id, in: sql)
        if let parent = parentRegionID ?? nil { _ = try await region(parent, in: sql) }
        let update = sql.update("region").where("id", .equal, id)
        let changed = [
            update.set("description", ifGiven: description),
            update.set("parent_region_id", ifGiven: parentRegionID),
        ].contains(true)
        if changed { try await update.run() }
        return try await region(id, in: sql)
    }

    /// Deletes a region. 404 unknown; 403 while it has child regions or endpoints.
    func deleteRegion(_ id: String, in sql: any SQLDatabase) async throws {
        _ = try await region(id, in: sql)
        let child = try await sql.select().column("id").from("region").where("parent_region_id", .equal, id).first()
        let endpoint = try await sql.select().column("id").from("endpoint").where("region_id", .equal, id).first()
        if child != nil || endpoint != nil {
            throw IdentityError.forbidden("Unable to delete region \(id) because it or its child regions have associated endpoints.")
        }
        try await sql.delete(from: "region").where("id", .equal, id).run()
    }

    // MARK: Services

    /// The service `id`; `IdentityError.notFound` when there is none.
    func service(_ id: String, in sql: any SQLDatabase) async throws -> ServiceRecord {
        guard let row = try await sql.select().columns("*").from("service").where("id", .equal, id).first() else {
            throw IdentityError.notFound(kind: "service", id: id)
        }
        return try row.decode(ServiceRow.self).record()
    }

    /// Whether a service `id` exists.
    func serviceExists(_ id: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("id").from("service").where("id", .equal, id).first() != nil
    }

    /// Services of `type` and called `name` (kept in `extra`), when given; by type.
    func services(type: String? = nil, name: String? = nil, in sql: any SQLDatabase) async throws -> [ServiceRecord] {
        let query = sql.select().columns("*").from("service")
        if let type { query.where("type", .equal, type) }
        if let name {
            // NOTE: `name` lives in the `extra` JSON text, so the filter needs each dialect's JSON accessor.
            switch sql.dialect.name {
            case "postgresql": query.where(SQLQueryString("(CAST(extra AS jsonb) ->> 'name') = \(bind: name)"))
            default: query.where(SQLQueryString("json_extract(extra, '$.name') = \(bind: name)"))
            }
        }
        return try await query.orderBy("type").all().map { try $0.decode(ServiceRow.self).record() }
    }

    /// Inserts `service`.
    @discardableResult
    func create(_ service: ServiceRecord, in sql: any SQLDatabase) async throws -> ServiceRecord {
        try await sql.insert(into: "service").columns("id", "type", "enabled", "extra")
            .values(SQLBind(service.id), SQLBind(service.type), SQLBind(service.enabled), SQLBind(JSON.object(service.extra).serialized()))
            .run()
        return try await self.service(service.id, in: sql)
    }

    /// Changes `type` and `enabled` when given and merges `extra` over the stored attributes. 404 unknown.
    func updateService(
        _ id: String,
        type: String? = nil,
        enabled: Bool? = nil,
        extra: [String: JSON] = [:],
        in sql: any SQLDatabase
    ) async throws -> ServiceRecord {
        let current = try await service(id, in: sql)
        let update = sql.update("service").where("id", .equal, id)
            .set("extra", to: JSON.object(current.extra.merging(extra) { _, new in new }).serialized())
        if let type { update.set("type", to: type) }
        if let enabled { update.set("enabled", to: enabled) }
        try await update.run()
        return try await service(id, in: sql)
    }

    /// Deletes a service with its endpoints. 404 unknown.
    func deleteService(_ id: String, in sql: any SQLDatabase) async throws {
        _ = try await service(id, in: sql)
        try await sql.delete(from: "endpoint").where("service_id", .equal, id).run()
        try await sql.delete(from: "service").where("id", .equal, id).run()
    }

    // MARK: Endpoints

    /// The endpoint `id`; `IdentityError.notFound` when there is none.
    func endpoint(_ id: String, in sql: any SQLDatabase) async throws -> EndpointRecord {
        guard let row = try await sql.select().columns("*").from("endpoint").where("id", .equal, id).first() else {
            throw IdentityError.notFound(kind: "endpoint", id: id)
        }
        return try row.decode(EndpointRow.self).record
    }

    /// Endpoints matching every given filter, by service then interface.
    func endpoints(
        interface: String? = nil,
        serviceID: String? = nil,
        regionID: String? = nil,
        in sql: any SQLDatabase
    ) async throws -> [EndpointRecord] {
        let query = sql.select().columns("*").from("endpoint")
        if let interface { query.where("interface", .equal, interface) }
        if let serviceID { query.where("service_id", .equal, serviceID) }
        if let regionID { query.where("region_id", .equal, regionID) }
        return try await query.orderBy("service_id").orderBy("interface").all().map { try $0.decode(EndpointRow.self).record }
    }

    /// Inserts `endpoint`; `StorageError.foreignKeyViolation` when its service or region is gone.
    @discardableResult
    func create(_ endpoint: EndpointRecord, in sql: any SQLDatabase) async throws -> EndpointRecord {
        try await sql.insert(into: "endpoint").columns("id", "service_id", "interface", "region_id", "url", "enabled")
            .values(
                SQLBind(endpoint.id),
                SQLBind(endpoint.serviceID),
                SQLBind(endpoint.interface),
                SQLBind(endpoint.regionID),
                SQLBind(endpoint.url),
                SQLBind(endpoint.enabled)
            )
            .run()
        return try await self.endpoint(endpoint.id, in: sql)
    }

    /// Changes the given attributes (`regionID: .some(nil)` detaches it from its region). 404 unknown.
    func updateEndpoint(
        _ id: String,
        interface: String? = nil,
        url: String? = nil,
        enabled: Bool? = nil,
        regionID: String?? = nil,
        serviceID: String? = nil,
        in sql: any SQLDatabase
    ) async throws -> EndpointRecord {
        _ = try await endpoint(id, in: sql)
        let update = sql.update("endpoint").where("id", .equal, id)
        let changed = [
            update.set("interface", ifGiven: interface),
            update.set("url", ifGiven: url),
            update.set("enabled", ifGiven: enabled),
            update.set("region_id", ifGiven: regionID),
            update.set("service_id", ifGiven: serviceID),
        ].contains(true)
        if changed { try await update.run() }
        return try await endpoint(id, in: sql)
    }

    /// Deletes an endpoint. 404 unknown.
    func deleteEndpoint(_ id: String, in sql: any SQLDatabase) async throws {
        _ = try await endpoint(id, in: sql)
        try await sql.delete(from: "endpoint").where("id", .equal, id).run()
    }
}
