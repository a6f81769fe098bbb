import SQLKit
import StratusStorage

/// `inventories`: what each provider has, by resource class.
struct InventoryStore: Sendable {
    static let columns = ["resource_class", "total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio", "updated_at"]

    /// The provider's inventories, by class name.
    func list(_ provider: String, in sql: any SQLDatabase) async throws -> [InventoryRecord] {
        try await sql.select().columns(Self.columns).from("inventories").where("provider_uuid", .equal, provider)
            .orderBy("resource_class").all().map { try $0.decode(InventoryRecord.self) }
    }

    /// Replaces the provider's whole inventory after checking that no class with allocations
    /// disappears (`PlacementError.inventoryInUse`).
    func replace(_ provider: String, with inventories: [InventoryRecord], in sql: any SQLDatabase) async throws {
        let kept = Set(inventories.map(\.resourceClass))
        let inUse = try await AllocationStore().usedClasses(provider: provider, in: sql).filter { !kept.contains($0) }
        if !inUse.isEmpty {
            throw PlacementError.inventoryInUse(
                "Inventory for '\(inUse.sorted().joined(separator: ", "))' on resource provider '\(provider)' in use."
            )
        }
        let existing = Dictionary(uniqueKeysWithValues: try await list(provider, in: sql).map { ($0.resourceClass, $0) })
        for (name, _) in existing where !kept.contains(name) {
            try await sql.delete(from: "inventories").where("provider_uuid", .equal, provider).where("resource_class", .equal, name).run()
        }
        let now = Clock.now
        for inv in inventories {
            if let old = existing[inv.resourceClass] {
                var same = inv
                same.updatedAt = old.updatedAt
                if same == old { continue }
                try await sql.update("inventories").set("total", to: inv.total).set("reserved", to: inv.reserved)
                    .set("min_unit", to: inv.minUnit).set("max_unit", to: inv.maxUnit).set("step_size", to: inv.stepSize)
                    .set("allocation_ratio", to: inv.allocationRatio).set("updated_at", to: now)
                    .where("provider_uuid", .equal, provider).where("resource_class", .equal, inv.resourceClass).run()
            } else {
                try await sql.insert(into: "inventories")
                    .columns(["provider_uuid"] + Self.columns + ["created_at"])
                    .values(
                        SQLBind(provider),
                        SQLBind(inv.resourceClass),
                        SQLBind(inv.total),
                        SQLBind(inv.reserved),
                        SQLBind(inv.minUnit),
                        SQLBind(inv.maxUnit),
                        SQLBind(inv.stepSize),
                        SQLBind(inv.allocationRatio),
                        SQLBind(now),
                        SQLBind(now)
                    )
                    .run()
            }
        }
    }
}
