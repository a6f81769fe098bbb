import SQLKit
import StratusStorage

/// A consumer: what holds allocations (an instance, a migration, …).
struct ConsumerRecord: Sendable, Equatable {
    var uuid: String
    var projectID: String
    var userID: String
    var generation: Int
    var consumerType: String?
    var updatedAt: Int64
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
    /// One `consumers` row.
    struct ConsumerRow: Decodable {
        var uuid: String
        var projectId: String
        var userId: String
        var generation: Int
        var consumerType: String?
        var updatedAt: Int64
    }

    /// One allocation joined with its provider's generation.
    struct AllocationRow: Decodable {
        var providerUuid: String
        var generation: Int
        var resourceClass: String
        var used: Int
        var updatedAt: Int64
    }

    func consumer(_ uuid: String, in sql: any SQLDatabase) async throws -> ConsumerRecord? {
        guard
            let row = try await sql.select().columns("uuid", "project_id", "user_id", "generation", "consumer_type", "updated_at")
                .from("consumers").where("uuid", .equal, uuid).first()
        else { return nil }
        let r = try row.decode(ConsumerRow.self)
        return ConsumerRecord(
            uuid: r.uuid,
            projectID: r.projectId,
            userID: r.userId,
            generation: r.generation,
            consumerType: r.consumerType,
            updatedAt: r.updatedAt
        )
    }

    /// The consumer's allocations with each provider's generation.
    func allocations(of consumer: String, in sql: any SQLDatabase) async throws -> [ConsumerAllocation] {
        try await sql.select().columns(
            SQLColumn("provider_uuid", table: "a"),
            SQLColumn("generation", table: "p"),
            SQLColumn("resource_class", table: "a"),
            SQLColumn("used", table: "a"),
            SQLColumn("updated_at", table: "a")
        )
        .from(SQLAlias(SQLIdentifier("allocations"), as: SQLIdentifier("a")))
        .join(
            SQLAlias(SQLIdentifier("resource_providers"), as: SQLIdentifier("p")),
            on: SQLColumn("uuid", table: "p"),
            .equal,
            SQLColumn("provider_uuid", table: "a")
        )
        .where(SQLColumn("consumer_uuid", table: "a"), .equal, SQLBind(consumer))
        .orderBy(SQLColumn("provider_uuid", table: "a")).all()
        .map {
            let r = try $0.decode(AllocationRow.self)
            return ConsumerAllocation(
                provider: r.providerUuid,
                providerGeneration: r.generation,
                resourceClass: r.resourceClass,
                used: r.used,
                updatedAt: r.updatedAt
            )
        }
    }

    /// The allocations against a provider: consumer, its generation, class, used, updated_at.
    func allocations(
        onProvider provider: String,
        in sql: any SQLDatabase
    ) async throws -> [(
        consumer: String, generation: Int, resourceClass: String, used: Int, updatedAt: Int64
    )] {
        try await sql.select()
            .columns(
                SQLColumn("consumer_uuid", table: "a"),
                SQLColumn("generation", table: "c"),
                SQLColumn("resource_class", table: "a"),
                SQLColumn("used", table: "a"),
                SQLColumn("updated_at", table: "a")
            )
            .from(SQLAlias(SQLIdentifier("allocations"), as: SQLIdentifier("a")))
            .join(
                SQLAlias(SQLIdentifier("consumers"), as: SQLIdentifier("c")),
                on: SQLColumn("uuid", table: "c"),
                .equal,
                SQLColumn("consumer_uuid", table: "a")
            )
            .where(SQLColumn("provider_uuid", table: "a"), .equal, SQLBind(provider))
            .orderBy(SQLColumn("consumer_uuid", table: "a")).all()
            .map {
                (
                    try $0.decode(column: "consumer_uuid", as: String.self), try $0.decode(column: "generation", as: Int.self),
                    try $0.decode(column: "resource_class", as: String.self), try $0.decode(column: "used", as: Int.self),
                    try $0.decode(column: "updated_at", as: Int64.self)
                )
            }
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
