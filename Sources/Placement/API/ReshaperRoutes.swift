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
        let plan = inventories.map { ReshapeInventory(provider: $0.provider, generation: $0.generation, records: $0.records) }
        try await service.write { sql in try await AllocationStore().reshape(plan, writes, in: sql) }
        return PlacementHTTP.noContent()
    }
}
