import HTTPTypes
import Hummingbird
import SQLKit
import StratusCore

/// `/resource_providers/{uuid}/inventories[/{resource_class}]`: list, replace all, create one, show,
/// update and delete one, delete all (1.5). Every write checks `resource_provider_generation`.
struct InventoryRoutes: Sendable {
    let service: PlacementService
    let inventories = InventoryStore()
    let providers = ProviderStore()

    func add(to r: inout RouteTable) {
        r.get("/resource_providers/{uuid}/inventories", list)
        r.post("/resource_providers/{uuid}/inventories", create)
        r.put("/resource_providers/{uuid}/inventories", replace)
        r.delete("/resource_providers/{uuid}/inventories", deleteAll)
        r.get("/resource_providers/{uuid}/inventories/{resource_class}", show)
        r.put("/resource_providers/{uuid}/inventories/{resource_class}", update)
        r.delete("/resource_providers/{uuid}/inventories/{resource_class}", delete)
    }

    static func json(_ inv: InventoryRecord) -> JSON {
        [
            "total": .int(Int64(inv.total)), "reserved": .int(Int64(inv.reserved)), "min_unit": .int(Int64(inv.minUnit)),
            "max_unit": .int(Int64(inv.maxUnit)), "step_size": .int(Int64(inv.stepSize)), "allocation_ratio": .double(inv.allocationRatio),
        ]
    }

    /// The inventory fields of a body (`resource_class` handled by the caller), validated as placement's schema.
    static func record(_ o: [String: JSON], resourceClass: String, provider: String, _ ctx: StratusContext) throws -> InventoryRecord {
        let total = try PlacementHTTP.int(o["total"]!, min: 1, max: PlacementHTTP.maxInt)
        let reserved = try o["reserved"].map { try PlacementHTTP.int($0, min: 0, max: PlacementHTTP.maxInt) } ?? 0
        let minUnit = try o["min_unit"].map { try PlacementHTTP.int($0, min: 1, max: PlacementHTTP.maxInt) } ?? 1
        let maxUnit = try o["max_unit"].map { try PlacementHTTP.int($0, min: 1, max: PlacementHTTP.maxInt) } ?? PlacementHTTP.maxInt
        let stepSize = try o["step_size"].map { try PlacementHTTP.int($0, min: 1, max: PlacementHTTP.maxInt) } ?? 1
        var ratio = 1.0
        if let r = o["allocation_ratio"] {
            switch r {
            case .int(let i): ratio = Double(i)
            case .double(let d): ratio = d
            default: throw PlacementHTTP.invalid("\(PlacementHTTP.repr(r)) is not of type 'number'")
            }
            if ratio <= 0 { throw PlacementHTTP.invalid("\(r.serialized()) is less than or equal to the minimum of 0") }
            if ratio > 3.40282e38 { throw PlacementHTTP.invalid("\(r.serialized()) is greater than the maximum of 3.40282e+38") }
        }
        let inv = InventoryRecord(
            resourceClass: resourceClass,
            total: total,
            reserved: reserved,
            minUnit: minUnit,
            maxUnit: maxUnit,
            stepSize: stepSize,
            allocationRatio: ratio
        )
        if reserved > total || (reserved == total && !ctx.atLeast(26)) {
            let detail = ctx.atLeast(26) ? "The reserved value is greater than total." : "The reserved value is greater than or equal to total."
            throw PlacementError.badRequest(
                "Unable to update inventory for resource provider \(provider): Invalid inventory for '\(resourceClass)' on resource provider '\(provider)'. \(detail)"
            )
        }
        return inv
    }

    static let fields = ["total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio"]

    /// GET all inventories with the provider generation: 200. 404.
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.listInventories)
        let uuid = ctx.parameters.get("uuid")!
        let (p, invs) = try await service.read { sql in
            guard let p = try await providers.find(uuid, in: sql) else {
                throw PlacementError.notFound("No resource provider with uuid \(uuid) found : No resource provider with uuid \(uuid) found")
            }
            return (p, try await inventories.list(uuid, in: sql))
        }
        return PlacementHTTP.json(
            [
                "inventories": .object(Dictionary(uniqueKeysWithValues: invs.map { ($0.resourceClass, Self.json($0)) })),
                "resource_provider_generation": .int(Int64(p.generation)),
            ],
            ctx,
            lastModified: invs.map(\.updatedAt).max() ?? p.updatedAt
        )
    }

    /// PUT the whole inventory: 200. 400 invalid / unknown class; 404; 409 stale generation or a class in use removed.
    @Sendable func replace(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.updateInventory)
        let uuid = ctx.parameters.get("uuid")!
        _ = try await service.provider(uuid)
        let o = try PlacementHTTP.object(
            try await PlacementHTTP.body(req, ctx),
            allowed: ["inventories", "resource_provider_generation"],
            required: ["inventories", "resource_provider_generation"]
        )
        let generation = try PlacementHTTP.int(o["resource_provider_generation"]!)
        guard case .object(let byClass) = o["inventories"]! else {
            throw PlacementHTTP.invalid("\(PlacementHTTP.repr(o["inventories"]!)) is not of type 'object'")
        }
        var records: [InventoryRecord] = []
        for (rc, v) in byClass.sorted(by: { $0.key < $1.key }) {
            _ = try PlacementHTTP.string(.string(rc), pattern: PlacementHTTP.classPattern, maxLength: 255)
            let fields = try PlacementHTTP.object(v, allowed: Self.fields, required: ["total"])
            records.append(try Self.record(fields, resourceClass: rc, provider: uuid, ctx))
        }
        let final = records
        let (p, invs) = try await service.write { sql in
            try await checkClasses(final.map(\.resourceClass), provider: uuid, in: sql)
            do { try await inventories.replace(uuid, with: final, in: sql) } catch PlacementError.inventoryInUse(let m) {
                throw PlacementError.inventoryInUse("update conflict: \(m)")
            }
            let gen = try await bump(uuid, generation, in: sql)
            return (gen, try await inventories.list(uuid, in: sql))
        }
        return PlacementHTTP.json(
            [
                "inventories": .object(Dictionary(uniqueKeysWithValues: invs.map { ($0.resourceClass, Self.json($0)) })),
                "resource_provider_generation": .int(Int64(p)),
            ],
            ctx
        )
    }

    /// POST one inventory: 201. 400 invalid; 404; 409 already present or stale generation.
    @Sendable func create(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.createInventory)
        let uuid = ctx.parameters.get("uuid")!
        _ = try await service.provider(uuid)
        let o = try PlacementHTTP.object(
            try await PlacementHTTP.body(req, ctx),
            allowed: Self.fields + ["resource_class", "resource_provider_generation"],
            required: ["total", "resource_class"]
        )
        let rc = try PlacementHTTP.string(o["resource_class"]!, pattern: PlacementHTTP.classPattern, maxLength: 255)
        // The generation is optional here (placement's POST schema): without it, the current one.
        let given = try o["resource_provider_generation"].map { try PlacementHTTP.int($0) }
        let inv = try Self.record(o, resourceClass: rc, provider: uuid, ctx)
        let gen = try await service.write { sql in
            try await checkClasses([rc], provider: uuid, in: sql)
            var all = try await inventories.list(uuid, in: sql)
            if all.contains(where: { $0.resourceClass == rc }) {
                throw PlacementError.conflict("Update conflict: Inventory for '\(rc)' on resource provider '\(uuid)' already exists.")
            }
            all.append(inv)
            try await inventories.replace(uuid, with: all, in: sql)
            var generation = given
            if generation == nil { generation = try await providers.find(uuid, in: sql)?.generation }
            return try await bump(uuid, generation ?? 0, in: sql)
        }
        var body = Self.json(inv).objectValue!
        body["resource_provider_generation"] = .int(Int64(gen))
        var headers = HTTPFields()
        headers[.location] = "/resource_providers/\(uuid)/inventories/\(rc)"
        return PlacementHTTP.json(.object(body), ctx, status: .created, headers: headers)
    }

    /// GET one class's inventory: 200. 404 provider or class.
    @Sendable func show(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.showInventory)
        let uuid = ctx.parameters.get("uuid")!
        let rc = ctx.parameters.get("resource_class")!
        let p = try await service.provider(uuid, " : No resource provider with uuid \(uuid) found")
        guard let inv = try await service.read({ sql in try await inventories.list(uuid, in: sql) }).first(where: { $0.resourceClass == rc }) else {
            throw PlacementError.notFound("No inventory of class \(rc) for \(uuid)")
        }
        var body = Self.json(inv).objectValue!
        body["resource_provider_generation"] = .int(Int64(p.generation))
        return PlacementHTTP.json(.object(body), ctx, lastModified: inv.updatedAt)
    }

    /// PUT one class's inventory: 200. 400 invalid; 404 provider or class; 409 stale generation.
    @Sendable func update(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.updateInventory)
        let uuid = ctx.parameters.get("uuid")!
        let rc = ctx.parameters.get("resource_class")!
        _ = try await service.provider(uuid)
        let o = try PlacementHTTP.object(
            try await PlacementHTTP.body(req, ctx),
            allowed: Self.fields + ["resource_provider_generation"],
            required: ["total", "resource_provider_generation"]
        )
        let generation = try PlacementHTTP.int(o["resource_provider_generation"]!)
        let inv = try Self.record(o, resourceClass: rc, provider: uuid, ctx)
        let gen = try await service.write { sql in
            var all = try await inventories.list(uuid, in: sql)
            guard let i = all.firstIndex(where: { $0.resourceClass == rc }) else {
                throw PlacementError.badRequest(
                    "No inventory record with resource class for resource provider \(uuid): No inventory of class \(rc) found."
                )
            }
            all[i] = inv
            try await inventories.replace(uuid, with: all, in: sql)
            return try await bump(uuid, generation, in: sql)
        }
        var body = Self.json(inv).objectValue!
        body["resource_provider_generation"] = .int(Int64(gen))
        return PlacementHTTP.json(.object(body), ctx)
    }

    /// DELETE one class's inventory: 204. 404; 409 in use.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.deleteInventory)
        let uuid = ctx.parameters.get("uuid")!
        let rc = ctx.parameters.get("resource_class")!
        let p = try await service.provider(uuid)
        try await service.write { sql in
            var all = try await inventories.list(uuid, in: sql)
            guard let i = all.firstIndex(where: { $0.resourceClass == rc }) else {
                throw PlacementError.notFound("No inventory of class \(rc) found for delete: No inventory of class \(rc) found.")
            }
            all.remove(at: i)
            // placement reports this one as a concurrent update (its code), with its own prefix.
            do { try await inventories.replace(uuid, with: all, in: sql) } catch PlacementError.inventoryInUse(let m) {
                throw PlacementError.concurrentUpdate("Unable to delete inventory of class \(rc): \(m)")
            }
            _ = try await bump(uuid, p.generation, in: sql)
        }
        return PlacementHTTP.noContent()
    }

    /// DELETE every inventory (1.5): 204. 404; 409 in use.
    @Sendable func deleteAll(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        guard ctx.atLeast(5) else { throw OpenStackError(.methodNotAllowed, "The method specified is not allowed for this resource.") }
        try service.authorize(ctx, PlacementPolicy.deleteInventory)
        let uuid = ctx.parameters.get("uuid")!
        let p = try await service.provider(uuid)
        try await service.write { sql in
            try await inventories.replace(uuid, with: [], in: sql)
            _ = try await bump(uuid, p.generation, in: sql)
        }
        return PlacementHTTP.noContent()
    }

    /// 400 when a class does not exist.
    func checkClasses(_ names: [String], provider: String, in sql: any SQLDatabase) async throws {
        let known = try await ResourceClassStore().existing(names, in: sql)
        if let missing = names.first(where: { !known.contains($0) }) {
            throw PlacementError.badRequest(
                "Unknown resource class in inventory for resource provider \(provider): No such resource class \(missing)."
            )
        }
    }

    /// Bumps the generation the client named; 409 "resource provider generation conflict" when stale.
    func bump(_ uuid: String, _ generation: Int, in sql: any SQLDatabase) async throws -> Int {
        try await providers.bumpGeneration(uuid, expected: generation, in: sql)
    }
}
