import SQLKit
import StratusStorage

/// Reads providers with everything allocation candidates need, for `ProviderView`: all of them,
/// or only those changed after a given change sequence number.
struct WorldStore: Sendable {
    /// A provider as loaded, names not yet interned.
    struct Loaded: Sendable {
        var uuid: String
        var name: String
        var generation: Int
        var parentUUID: String?
        var rootUUID: String
        var inventories: [String: InventoryRecord] = [:]
        var used: [String: Int] = [:]
        var traits: [String] = []
        var aggregates: [String] = []
    }

    /// Providers (with their inventories, usage, traits and aggregates) whose `change_seq` is above `since`
    /// (all of them when nil).
    func load(since: Int64?, in sql: any SQLDatabase) async throws -> [Loaded] {
        let changed = since.map { "SELECT uuid FROM resource_providers WHERE change_seq > \($0)" }
        let rpQuery = sql.select().columns(ProviderStore.columns).from("resource_providers")
        if let since { rpQuery.where("change_seq", .greaterThan, since) }
        var byUUID: [String: Loaded] = [:]
        // Creation order, so every process numbers providers (and orders candidates) alike.
        var order: [String] = []
        for row in try await rpQuery.orderBy("created_at").orderBy("uuid").all() {
            let r = try row.decode(ProviderRecord.self)
            byUUID[r.uuid] = Loaded(uuid: r.uuid, name: r.name, generation: r.generation, parentUUID: r.parentUUID, rootUUID: r.rootUUID)
            order.append(r.uuid)
        }
        guard !byUUID.isEmpty else { return [] }
        func scoped(_ q: SQLSelectBuilder) -> SQLSelectBuilder {
            if let changed { q.where(SQLRaw("provider_uuid IN (\(changed))")) }
            return q
        }
        for row in try await scoped(sql.select().column("provider_uuid").columns(InventoryStore.columns).from("inventories")).all() {
            let inv = try row.decode(InventoryRecord.self)
            byUUID[try row.decode(column: "provider_uuid", as: String.self)]?.inventories[inv.resourceClass] = inv
        }
        let usage = scoped(
            sql.select().columns("provider_uuid", "resource_class").column(SQLRaw("CAST(SUM(used) AS BIGINT) AS used")).from("allocations")
        )
        .groupBy("provider_uuid").groupBy("resource_class")
        for row in try await usage.all() {
            let uuid = try row.decode(column: "provider_uuid", as: String.self)
            byUUID[uuid]?.used[try row.decode(column: "resource_class", as: String.self)] = try row.decode(column: "used", as: Int.self)
        }
        for row in try await scoped(sql.select().columns("provider_uuid", "trait").from("provider_traits")).all() {
            byUUID[try row.decode(column: "provider_uuid", as: String.self)]?.traits.append(try row.decode(column: "trait", as: String.self))
        }
        for row in try await scoped(sql.select().columns("provider_uuid", "aggregate_uuid").from("provider_aggregates")).all() {
            byUUID[try row.decode(column: "provider_uuid", as: String.self)]?.aggregates.append(
                try row.decode(column: "aggregate_uuid", as: String.self)
            )
        }
        return order.map { byUUID[$0]! }
    }
}

extension WorldStore {
    /// Every resource class and trait name that exists.
    func names(in sql: any SQLDatabase) async throws -> (classes: Set<String>, traits: Set<String>) {
        let classes = try await sql.select().column("name").from("resource_classes").all().map { try $0.decode(column: "name", as: String.self) }
        let traits = try await sql.select().column("name").from("traits").all().map { try $0.decode(column: "name", as: String.self) }
        return (Set(classes), Set(traits))
    }
}

extension ProviderWorld {
    /// Adds or replaces a loaded provider, interning its names.
    mutating func upsert(_ l: WorldStore.Loaded) {
        var p = Provider(uuid: l.uuid, name: l.name, generation: l.generation, parentUUID: l.parentUUID, rootUUID: l.rootUUID)
        for (name, inv) in l.inventories { p.inventories[classID(name)] = inv }
        for (name, used) in l.used { p.used[classID(name)] = used }
        p.traits = Set(l.traits.map { traitID($0) })
        p.aggregates = Set(l.aggregates.map { aggregateID($0) })
        upsert(p)
    }
}
