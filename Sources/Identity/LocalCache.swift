import Foundation
import Synchronization

/// What a cached entry was computed under: this process's write generation, the key-ring
/// version and the newest revocation event any process recorded. An entry holds only while all
/// are unchanged and it is younger than the TTL, so a write here, a key rotation or a revocation
/// anywhere drops every cached validation, scope, catalog and lookup at once.
struct CacheStamp: Equatable, Sendable {
    var generation: Int
    var keyVersion: Int
    var revocations: Int64 = 0
}

/// An in-process cache for the Identity hot paths (token validation, scope resolution,
/// catalog, rendered documents, name lookups). Bounded: it empties itself when full.
final class LocalCache<Value: Sendable>: Sendable {
    let capacity: Int
    let entries = Mutex<[String: (stamp: CacheStamp, at: Date, value: Value)]>([:])

    init(capacity: Int) {
        self.capacity = capacity
    }

    func value(_ key: String, stamp: CacheStamp, ttl: Double, now: Date = Date()) -> Value? {
        guard let hit = entries.withLock({ $0[key] }), hit.stamp == stamp, now.timeIntervalSince(hit.at) < ttl else { return nil }
        return hit.value
    }

    func store(_ key: String, _ value: Value, stamp: CacheStamp, now: Date = Date()) {
        entries.withLock { e in
            if e.count >= capacity { e.removeAll() }
            e[key] = (stamp, now, value)
        }
    }

    /// The cached value, or `make()`'s result, stored under `stamp`.
    func get(_ key: String, stamp: CacheStamp, ttl: Double, make: () async throws -> Value) async rethrows -> Value {
        if let hit = value(key, stamp: stamp, ttl: ttl) { return hit }
        let fresh = try await make()
        store(key, fresh, stamp: stamp)
        return fresh
    }
}
