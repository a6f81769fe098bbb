import SQLKit
import StratusStorage

/// One provider's new inventory in a reshape, with the generation the caller read.
struct ReshapeInventory: Sendable {
    var provider: String
    var generation: Int
    var records: [InventoryRecord]
}

extension AllocationStore {
    /// `POST /reshaper` in the open transaction: the consumers' old allocations go first (so the
    /// inventory they held can be removed), then each provider's inventory is replaced against its
    /// generation, then the consumers' new allocations are written.
    func reshape(_ inventories: [ReshapeInventory], _ writes: [ConsumerWrite], in sql: any SQLDatabase) async throws {
        let providers = ProviderStore()
        // The consumers' old allocations go first, so inventory they held can be removed.
        try await release(writes.map(\.uuid), in: sql)
        for item in inventories {
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
        do { try await write(writes, in: sql) } catch is Raced {
            throw PlacementError.concurrentUpdate("update conflict: Another thread concurrently updated the data. Please retry your update")
        }
    }
}
