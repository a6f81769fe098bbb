import SQLKit
import StratusStorage

/// `traits` and `provider_traits`.
struct TraitStore: Sendable {
    /// Every trait name, optionally only those starting with `prefix` or in `names`,
    /// optionally only those associated (true) or not (false) with some provider.
    func list(names: [String]? = nil, prefix: String? = nil, associated: Bool? = nil, in sql: any SQLDatabase) async throws -> [String] {
        if let names, names.isEmpty { return [] }
        let q = sql.select().column("name").from("traits")
        if let names { q.where("name", .in, names) }
        if let associated {
            let sub = "SELECT trait FROM provider_traits"
            q.where(SQLRaw(associated ? "name IN (\(sub))" : "name NOT IN (\(sub))"))
        }
        let all = try await q.orderBy("name").all().map { try $0.decode(column: "name", as: String.self) }
        guard let prefix else { return all }
        return all.filter { $0.hasPrefix(prefix) }
    }

    func exists(_ name: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("name").from("traits").where("name", .equal, name).first() != nil
    }

    /// Inserts a trait; false when it already existed.
    func create(_ name: String, in sql: any SQLDatabase) async throws -> Bool {
        // The state row first: concurrent creators queue, and the second sees the first's row.
        try await ProviderStore().namesChanged(in: sql)
        if try await exists(name, in: sql) { return false }
        let now = Clock.now
        try await sql.insert(into: "traits").columns("name", "created_at", "updated_at").values(SQLBind(name), SQLBind(now), SQLBind(now)).run()
        return true
    }

    /// Deletes a custom trait: 404 unknown, 409 when a provider has it.
    func delete(_ name: String, in sql: any SQLDatabase) async throws {
        guard try await exists(name, in: sql) else { throw PlacementError.notFound("No such trait(s): \(name).") }
        if try await sql.select().column("trait").from("provider_traits").where("trait", .equal, name).limit(1).first() != nil {
            throw PlacementError.conflict("The trait \(name) is in use by a resource provider.")
        }
        try await sql.delete(from: "traits").where("name", .equal, name).run()
        try await ProviderStore().namesChanged(in: sql)
    }

    /// The provider's traits, sorted.
    func of(provider: String, in sql: any SQLDatabase) async throws -> [String] {
        try await sql.select().column("trait").from("provider_traits").where("provider_uuid", .equal, provider).orderBy("trait").all()
            .map { try $0.decode(column: "trait", as: String.self) }
    }

    /// Replaces the provider's traits (they must exist).
    func set(provider: String, traits: [String], in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "provider_traits").where("provider_uuid", .equal, provider).run()
        for t in Set(traits) {
            try await sql.insert(into: "provider_traits").columns("provider_uuid", "trait").values(SQLBind(provider), SQLBind(t)).run()
        }
    }

    /// Adds missing names (the standard traits at start); existing ones are kept.
    func sync(_ names: [String], in sql: any SQLDatabase) async throws {
        let existing = Set(try await list(in: sql))
        let now = Clock.now
        if !Set(names).isSubset(of: existing) { try await ProviderStore().namesChanged(in: sql) }
        for name in names where !existing.contains(name) {
            try await sql.insert(into: "traits").columns("name", "created_at", "updated_at").values(SQLBind(name), SQLBind(now), SQLBind(now)).run()
        }
    }
}

/// `provider_aggregates`.
struct AggregateStore: Sendable {
    /// The provider's aggregate uuids, sorted.
    func of(provider: String, in sql: any SQLDatabase) async throws -> [String] {
        try await sql.select().column("aggregate_uuid").from("provider_aggregates").where("provider_uuid", .equal, provider)
            .orderBy("aggregate_uuid").all().map { try $0.decode(column: "aggregate_uuid", as: String.self) }
    }

    /// Replaces the provider's aggregates.
    func set(provider: String, aggregates: [String], in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "provider_aggregates").where("provider_uuid", .equal, provider).run()
        for a in Set(aggregates) {
            try await sql.insert(into: "provider_aggregates").columns("provider_uuid", "aggregate_uuid").values(SQLBind(provider), SQLBind(a)).run()
        }
    }
}
