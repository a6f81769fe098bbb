import Hummingbird
import SQLKit
import StratusCore

/// `POST /reshaper` (1.30): replace the inventories of several providers and the allocations of
/// several consumers in one transaction, so allocations can move between providers (a compute
/// node's VCPU moving to its NUMA children) without ever being in use on missing inventory.
struct ReshaperRoutes: Sendable {
    let service: PlacementService

    func add(to r: inout RouteTable) {
        r.post("/reshaper", reshape)
    }

    @Sendable func reshape(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        guard ctx.atLeast(30) else { throw PlacementError.notFound("The resource could not be found.") }
        try service.authorize(ctx, PlacementPolicy.reshape)
        let o = try PlacementHTTP.object(
            try await PlacementHTTP.body(req, ctx),
            allowed: ["inventories", "allocations"],
            required: ["inventories", "allocations"]
        )
        guard case .object(let invs) = o["inventories"]!, case .object(let allocs) = o["allocations"]! else {
            throw PlacementHTTP.invalid("'inventories' and 'allocations' must be objects")
        }
        var inventories: [(provider: String, generation: Int, records: [InventoryRecord])] = []
        for (uuid, value) in invs.sorted(by: { $0.key < $1.key }) {
            let entry = try PlacementHTTP.object(
                value,
                allowed: ["inventories", "resource_provider_generation"],
                required: ["inventories", "resource_provider_generation"]
            )
            let generation = try PlacementHTTP.int(entry["resource_provider_generation"]!)
            guard case .object(let byClass) = entry["inventories"]! else { throw PlacementHTTP.invalid("'inventories' is not of type 'object'") }
            var records: [InventoryRecord] = []
            for (rc, fields) in byClass.sorted(by: { $0.key < $1.key }) {
                let f = try PlacementHTTP.object(fields, allowed: InventoryRoutes.fields, required: ["total"])
                records.append(try InventoryRoutes.record(f, resourceClass: rc, provider: uuid, ctx))
            }
            inventories.append((PlacementHTTP.canonicalUUID(uuid), generation, records))
        }
        let reader = AllocationBody(ctx: ctx, settings: service.settings)
        let writes = try allocs.sorted(by: { $0.key < $1.key }).map {
            try reader.consumer(PlacementHTTP.canonicalUUID($0.key), $0.value, listForm: false)
        }
        let plan = inventories
        try await service.write { sql in
            let providers = ProviderStore()
            // The consumers' old allocations go first, so inventory they held can be removed.
            try await AllocationStore().release(writes.map(\.uuid), in: sql)
            for item in plan {
                guard let p = try await providers.find(item.provider, in: sql) else {
                    throw PlacementError.providerNotFound(
                        "Resource provider \(item.provider) in inventories not found: No resource provider with uuid \(item.provider) found"
                    )
                }
                if p.generation != item.generation {
                    throw PlacementError.concurrentUpdate(
                        "resource provider generation conflict for provider \(item.provider): actual: \(p.generation), given: \(item.generation)"
                    )
                }
                let known = try await ResourceClassStore().existing(item.records.map(\.resourceClass), in: sql)
                if let missing = item.records.first(where: { !known.contains($0.resourceClass) }) {
                    throw PlacementError.badRequest("malformed reshaper data: No such resource class \(missing.resourceClass).")
                }
                do { try await InventoryStore().replace(item.provider, with: item.records, in: sql) } catch PlacementError.inventoryInUse(let m) {
                    throw PlacementError.inventoryInUse("update conflict: \(m)")
                }
                try await providers.bumpGeneration(item.provider, expected: p.generation, in: sql)
            }
            do { try await AllocationStore().write(writes, in: sql) } catch is AllocationStore.Raced {
                throw PlacementError.concurrentUpdate("update conflict: Another thread concurrently updated the data. Please retry your update")
            }
        }
        return PlacementHTTP.noContent()
    }
}
