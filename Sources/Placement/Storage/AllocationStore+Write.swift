import SQLKit
import StratusStorage

extension AllocationStore {
    /// A provider generation moved under this write: the caller retries the whole transaction
    /// (`[placement] allocation_conflict_retry_count`).
    struct Raced: Error {}

    /// Replaces the allocations of every consumer in `writes` in the open transaction: checks
    /// consumer generations, capacity and unit constraints of every provider involved, writes, then
    /// bumps each involved provider's generation against the one read here (`Raced` when another
    /// writer got there first) and each consumer's. Consumers left without allocations are deleted.
    func write(_ writes: [ConsumerWrite], in sql: any SQLDatabase) async throws {
        let providers = ProviderStore()
        // Taking the change sequence first orders concurrent claims (PostgreSQL: the row lock is
        // held to commit, and read committed shows each waiter the winner's rows): capacity is
        // then checked against every committed allocation, not a stale read.
        _ = try await providers.nextSeq(in: sql)
        let consumerUUIDs = writes.map(\.uuid)
        var existing: [String: ConsumerRecord] = [:]
        var previous: [String: [ConsumerAllocation]] = [:]
        for w in writes {
            let current = try await consumer(w.uuid, in: sql)
            if case .some(let expected) = w.expectedGeneration {
                if let current, current.generation != expected {
                    throw PlacementError.concurrentUpdate(
                        "consumer generation conflict - expected \(current.generation) but got \(expected.map(String.init) ?? "None")"
                    )
                }
                if current == nil, let expected {
                    throw PlacementError.concurrentUpdate("consumer generation conflict - expected null but got \(expected)")
                }
            }
            existing[w.uuid] = current
            previous[w.uuid] = try await allocations(of: w.uuid, in: sql)
        }
        // The providers whose generation this write bumps: those allocated to, or, for a consumer
        // whose allocations are removed, those it held.
        var involved = Set(writes.flatMap { $0.allocations.map(\.provider) })
        for w in writes where w.allocations.isEmpty { involved.formUnion(previous[w.uuid]?.map(\.provider) ?? []) }
        let found = try await providers.find(Array(involved), in: sql)
        for uuid in involved where found[uuid] == nil {
            throw PlacementError.badRequest("Allocation for resource provider '\(uuid)' that does not exist.")
        }
        guard !writes.isEmpty else { return }
        try await sql.delete(from: "allocations").where("consumer_uuid", .in, consumerUUIDs).run()
        try await checkCapacity(writes, in: sql)
        let now = Clock.now
        for w in writes {
            try await saveConsumer(w, existing: existing[w.uuid], now: now, in: sql)
            for a in w.allocations where a.used > 0 {
                try await sql.insert(into: "allocations").columns(
                    "consumer_uuid",
                    "provider_uuid",
                    "resource_class",
                    "used",
                    "created_at",
                    "updated_at"
                )
                .values(SQLBind(w.uuid), SQLBind(a.provider), SQLBind(a.resourceClass), SQLBind(a.used), SQLBind(now), SQLBind(now)).run()
            }
        }
        for uuid in involved.sorted() {
            do { try await providers.bumpGeneration(uuid, expected: found[uuid]!.generation, in: sql) } catch PlacementError.concurrentUpdate {
                throw Raced()
            }
        }
        // A consumer's old providers see its usage go even when their generation does not move.
        let dropped = Set(previous.values.flatMap { $0.map(\.provider) }).subtracting(involved)
        try await providers.touch(dropped.sorted(), in: sql)
    }

    /// Every (provider, class) of the writes against its inventory and the usage left by other consumers.
    private func checkCapacity(_ writes: [ConsumerWrite], in sql: any SQLDatabase) async throws {
        var requested: [String: [String: [Int]]] = [:]
        for w in writes {
            for a in w.allocations where a.used > 0 { requested[a.provider, default: [:]][a.resourceClass, default: []].append(a.used) }
        }
        let inventories = InventoryStore()
        for (provider, classes) in requested.sorted(by: { $0.key < $1.key }) {
            let inv = Dictionary(uniqueKeysWithValues: try await inventories.list(provider, in: sql).map { ($0.resourceClass, $0) })
            let used = try await usage(provider: provider, in: sql)
            for (rc, amounts) in classes.sorted(by: { $0.key < $1.key }) {
                switch AllocationRules.check(amounts: amounts, used: used[rc] ?? 0, inventory: inv[rc]) {
                case nil: continue
                case .noInventory:
                    throw PlacementError.conflict("Unable to allocate inventory: Inventory for '\(rc)' on resource provider '\(provider)' invalid.")
                case .constraints:
                    throw PlacementError.conflict(
                        "Unable to allocate inventory: Unable to create allocation for '\(rc)' on resource provider '\(provider)'. The requested amount would violate inventory constraints."
                    )
                case .capacity:
                    throw PlacementError.conflict(
                        "Unable to allocate inventory: Unable to create allocation for '\(rc)' on resource provider '\(provider)'. The requested amount would exceed the capacity."
                    )
                }
            }
        }
    }

    /// Creates, updates or (when it has no allocations left) deletes the consumer row.
    private func saveConsumer(_ w: ConsumerWrite, existing: ConsumerRecord?, now: Int64, in sql: any SQLDatabase) async throws {
        if w.allocations.allSatisfy({ $0.used == 0 }) {
            if existing != nil { try await sql.delete(from: "consumers").where("uuid", .equal, w.uuid).run() }
            return
        }
        if let existing {
            let updated = try await sql.update("consumers").set("project_id", to: w.projectID).set("user_id", to: w.userID)
                .set("consumer_type", to: w.consumerType ?? existing.consumerType).set("generation", to: existing.generation + 1)
                .set("updated_at", to: now).where("uuid", .equal, w.uuid).where("generation", .equal, existing.generation)
                .returning("generation").all()
            // Another write to this consumer committed since it was read: retrying shows its generation.
            if updated.isEmpty { throw Raced() }
        } else {
            try await sql.insert(into: "consumers").columns(
                "uuid",
                "project_id",
                "user_id",
                "generation",
                "consumer_type",
                "created_at",
                "updated_at"
            )
            .values(SQLBind(w.uuid), SQLBind(w.projectID), SQLBind(w.userID), SQLBind(1), SQLBind(w.consumerType), SQLBind(now), SQLBind(now))
            .run()
        }
    }
}
