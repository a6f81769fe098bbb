import SQLKit
import StratusStorage

/// A consumer: what holds allocations (an instance, a migration, …).
struct ConsumerRecord: Sendable, Equatable, Decodable {
    var uuid: String
    var projectID: String
    var userID: String
    var generation: Int
    var consumerType: String?
    var updatedAt: Int64

    /// Decoded straight from a `consumers` row.
    enum CodingKeys: String, CodingKey {
        case uuid, generation, consumerType, updatedAt
        case projectID = "projectId"
        case userID = "userId"
    }
}

/// One allocation: `used` units of a class on a provider.
struct AllocationItem: Sendable, Equatable {
    var provider: String
    var resourceClass: String
    var used: Int
}

/// One allocation with the provider's current generation, as GET /allocations/{consumer} shows it.
struct ConsumerAllocation: Sendable, Equatable {
    var provider: String
    var providerGeneration: Int
    var resourceClass: String
    var used: Int
    var updatedAt: Int64
}

/// What one consumer's allocations become in a write (PUT /allocations/{c}, POST /allocations, reshaper).
struct ConsumerWrite: Sendable {
    var uuid: String
    var projectID: String
    var userID: String
    /// The generation the client expects (1.28+): `.some(nil)` means "a new consumer"; nil: not checked.
    var expectedGeneration: Int??
    var consumerType: String?
    /// Replaces every allocation of the consumer; empty removes them (and the consumer).
    var allocations: [AllocationItem]
}

/// `consumers` and `allocations`, and the usage sums derived from them.
struct AllocationStore: Sendable {
    func consumer(_ uuid: String, in sql: any SQLDatabase) async throws -> ConsumerRecord? {
        guard
            let row = try await sql.select().columns("uuid", "project_id", "user_id", "generation", "consumer_type", "updated_at")
                .from("consumers").where("uuid", .equal, uuid).first()
        else { return nil }
        return try row.decode(ConsumerRecord.self)
    }

    /// The consumer's allocations with each provider's generation.
    func allocations(of consumer: String, in sql: any SQLDatabase) async throws -> [ConsumerAllocation] {
        try await joined(filter: "consumer_uuid", consumer, other: "provider_uuid", table: "resource_providers", in: sql).map {
            ConsumerAllocation(
                provider: $0.other,
                providerGeneration: $0.generation,
                resourceClass: $0.resourceClass,
                used: $0.used,
                updatedAt: $0.updatedAt
            )
        }
    }

    /// The allocations against a provider, with each consumer's generation.
    func allocations(onProvider provider: String, in sql: any SQLDatabase) async throws -> [JoinedRow] {
        try await joined(filter: "provider_uuid", provider, other: "consumer_uuid", table: "consumers", in: sql)
    }

    /// An allocation seen from one side (its consumer or its provider): the other side's uuid and generation.
    struct JoinedRow: Decodable {
        var other: String
        var generation: Int
        var resourceClass: String
        var used: Int
        var updatedAt: Int64
    }

    /// The allocations whose `filter` column is `value`, each with the uuid in `other` and the
    /// generation of that row in `table` (providers or consumers), ordered by `other`.
    private func joined(filter: String, _ value: String, other: String, table: String, in sql: any SQLDatabase) async throws -> [JoinedRow] {
        try await sql.select()
            .column(SQLAlias(SQLColumn(other, table: "a"), as: SQLIdentifier("other")))
            .columns(
                SQLColumn("generation", table: "o"),
                SQLColumn("resource_class", table: "a"),
                SQLColumn("used", table: "a"),
                SQLColumn("updated_at", table: "a")
            )
            .from(SQLAlias(SQLIdentifier("allocations"), as: SQLIdentifier("a")))
            .join(SQLAlias(SQLIdentifier(table), as: SQLIdentifier("o")), on: SQLColumn("uuid", table: "o"), .equal, SQLColumn(other, table: "a"))
            .where(SQLColumn(filter, table: "a"), .equal, SQLBind(value))
            .orderBy(SQLColumn(other, table: "a")).all()
            .map { try $0.decode(JoinedRow.self) }
    }

    /// The classes a provider has allocations of.
    func usedClasses(provider: String, in sql: any SQLDatabase) async throws -> Set<String> {
        Set(try await usage(provider: provider, in: sql).keys)
    }

    /// Units allocated on a provider, by class (classes with allocations only).
    func usage(provider: String, in sql: any SQLDatabase) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try await sql.select().column("resource_class").column(SQLRaw("CAST(SUM(used) AS BIGINT) AS used")).from("allocations")
            .where("provider_uuid", .equal, provider).groupBy("resource_class").all()
        {
            result[try row.decode(column: "resource_class", as: String.self)] = try row.decode(column: "used", as: Int.self)
        }
        return result
    }

    /// Usage of a project (optionally one user's, optionally one consumer type: `"all"` / `"unknown"` are
    /// placement's special values) as rows (consumer type or nil, class, used, consumer count).
    func usages(
        project: String,
        user: String?,
        in sql: any SQLDatabase
    ) async throws -> [(type: String?, resourceClass: String, used: Int, consumers: Int)] {
        let q = sql.select().column(SQLColumn("consumer_type", table: "c")).column(SQLColumn("resource_class", table: "a"))
            .column(SQLRaw("CAST(SUM(a.used) AS BIGINT) AS used")).column(SQLRaw("COUNT(DISTINCT a.consumer_uuid) AS consumers"))
            .from(SQLAlias(SQLIdentifier("allocations"), as: SQLIdentifier("a")))
            .join(
                SQLAlias(SQLIdentifier("consumers"), as: SQLIdentifier("c")),
                on: SQLColumn("uuid", table: "c"),
                .equal,
                SQLColumn("consumer_uuid", table: "a")
            )
            .where(SQLColumn("project_id", table: "c"), .equal, SQLBind(project))
        if let user { q.where(SQLColumn("user_id", table: "c"), .equal, SQLBind(user)) }
        return try await q.groupBy(SQLColumn("consumer_type", table: "c")).groupBy(SQLColumn("resource_class", table: "a")).all().map {
            (
                try $0.decode(column: "consumer_type", as: String?.self), try $0.decode(column: "resource_class", as: String.self),
                try $0.decode(column: "used", as: Int.self), try $0.decode(column: "consumers", as: Int.self)
            )
        }
    }

    /// Consumer counts of a project per consumer type (for 1.38's `consumer_count`), all classes together.
    func consumerCounts(project: String, user: String?, in sql: any SQLDatabase) async throws -> [(type: String?, count: Int)] {
        let q = sql.select().column("consumer_type").column(SQLRaw("COUNT(*) AS n")).from("consumers").where("project_id", .equal, project)
        if let user { q.where("user_id", .equal, user) }
        return try await q.groupBy("consumer_type").all().map {
            (try $0.decode(column: "consumer_type", as: String?.self), try $0.decode(column: "n", as: Int.self))
        }
    }

    /// Removes the consumers' allocations inside a larger write (the reshaper), keeping the consumers.
    func release(_ consumers: [String], in sql: any SQLDatabase) async throws {
        guard !consumers.isEmpty else { return }
        var providers = Set<String>()
        for c in consumers { providers.formUnion(try await allocations(of: c, in: sql).map(\.provider)) }
        try await sql.delete(from: "allocations").where("consumer_uuid", .in, consumers).run()
        // Their providers' usage changed: every view reloads them.
        try await ProviderStore().touch(providers.sorted(), in: sql)
    }

    /// Deletes a consumer's allocations and the consumer (DELETE /allocations/{c}); false when it had none.
    func delete(consumer: String, in sql: any SQLDatabase) async throws -> Bool {
        try await ProviderStore().lock(in: sql)
        let providers = Set(try await allocations(of: consumer, in: sql).map(\.provider))
        guard !providers.isEmpty else { return false }
        try await sql.delete(from: "allocations").where("consumer_uuid", .equal, consumer).run()
        try await sql.delete(from: "consumers").where("uuid", .equal, consumer).run()
        try await ProviderStore().touch(providers.sorted(), in: sql)
        return true
    }
}
