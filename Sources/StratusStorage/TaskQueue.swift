import Foundation
import SQLKit
import StratusCore
import Synchronization

/// The agent channel's durable work (ARCHITECTURE.md, "Messaging"): a task is a row in the
/// owning service's database, on a named queue (`conductor`, `scheduler`, `compute:<host>`).
///
/// A worker claims a task by writing its name and a lease; it renews the lease while it works
/// and records the result when done. A task whose lease ran out (its worker died) is claimed
/// again by the next worker, so every task is done at least once; workers make their steps
/// idempotent. On PostgreSQL the claim skips rows another transaction holds
/// (`FOR UPDATE SKIP LOCKED`), so several workers on one queue never take the same task; on
/// SQLite writes are serialized anyway.
public struct TaskQueue: Sendable {
    /// One task row.
    public struct Entry: Sendable, Decodable {
        public var id: String
        public var queue: String
        public var kind: String
        public var payload: String
        /// `queued`, `running`, `done` or `failed`.
        public var state: String
        public var owner: String?
        public var leaseUntil: Double?
        public var attempts: Int64
        public var result: String?
        public var createdAt: Double

        /// The payload as JSON (an empty object when unreadable).
        public var body: JSON { (try? JSON.parse(Array(payload.utf8))) ?? .object([:]) }
        /// The result as JSON, once the task is done or failed.
        public var resultBody: JSON? { result.flatMap { try? JSON.parse(Array($0.utf8)) } }
    }

    /// The table, for a service's migrations.
    public static let migrationStatements = [
        """
        CREATE TABLE stratus_tasks (
            id VARCHAR(36) PRIMARY KEY,
            queue VARCHAR(255) NOT NULL,
            kind VARCHAR(64) NOT NULL,
            payload TEXT NOT NULL,
            state VARCHAR(16) NOT NULL,
            owner VARCHAR(255),
            lease_until DOUBLE PRECISION,
            attempts BIGINT NOT NULL DEFAULT 0,
            result TEXT,
            created_at DOUBLE PRECISION NOT NULL
        )
        """,
        "CREATE INDEX stratus_tasks_queue ON stratus_tasks (queue, state, created_at)",
    ]

    static let columns = ["id", "queue", "kind", "payload", "state", "owner", "lease_until", "attempts", "result", "created_at"]
    let dialect: Database.Dialect

    public init(dialect: Database.Dialect) { self.dialect = dialect }

    /// Adds a task; returns its id.
    @discardableResult
    public func enqueue(
        queue: String,
        kind: String,
        payload: JSON,
        id: String = UUID().uuidString.lowercased(),
        now: Double = Date().timeIntervalSince1970,
        in sql: any SQLDatabase
    ) async throws -> String {
        try await sql.insert(into: "stratus_tasks").columns("id", "queue", "kind", "payload", "state", "attempts", "created_at")
            .values(SQLBind(id), SQLBind(queue), SQLBind(kind), SQLBind(payload.serialized()), SQLBind("queued"), SQLBind(0), SQLBind(now))
            .run()
        return id
    }

    /// Claims the oldest task of `queue` that is waiting or whose lease ran out, for `owner`
    /// until `now + lease` seconds. Run inside a write transaction.
    public func claim(
        queue: String,
        owner: String,
        lease: Double,
        now: Double = Date().timeIntervalSince1970,
        in sql: any SQLDatabase
    )
        async throws -> Entry?
    {
        try await claim(queue: queue, owner: owner, lease: lease, limit: 1, now: now, in: sql).first
    }

    /// Claims up to `limit` tasks, oldest first, in one statement (PostgreSQL skips rows
    /// another transaction is claiming).
    public func claim(
        queue: String,
        owner: String,
        lease: Double,
        limit: Int,
        now: Double = Date().timeIntervalSince1970,
        in sql: any SQLDatabase
    )
        async throws -> [Entry]
    {
        let lock = dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        let rows = try await sql.raw(
            """
            UPDATE stratus_tasks SET state = 'running', owner = \(bind: owner), lease_until = \(bind: now + lease), attempts = attempts + 1
            WHERE id IN (
                SELECT id FROM stratus_tasks WHERE queue = \(bind: queue)
                AND (state = 'queued' OR (state = 'running' AND lease_until < \(bind: now)))
                ORDER BY created_at, id LIMIT \(unsafeRaw: String(max(1, limit)))\(unsafeRaw: lock)
            )
            RETURNING \(unsafeRaw: Self.columns.joined(separator: ", "))
            """
        ).all()
        return try rows.map { try $0.decode(Entry.self) }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func find(_ id: String, in sql: any SQLDatabase) async throws -> Entry? {
        try await sql.select().columns(Self.columns).from("stratus_tasks").where("id", .equal, id).first()?.decode(Entry.self)
    }

    /// The tasks `owner` holds (running) on `queue`.
    public func held(queue: String, owner: String, in sql: any SQLDatabase) async throws -> [Entry] {
        try await sql.select().columns(Self.columns).from("stratus_tasks").where("queue", .equal, queue).where("owner", .equal, owner)
            .where("state", .equal, "running").orderBy("created_at").all().map { try $0.decode(Entry.self) }
    }

    /// Extends the lease of the tasks `owner` still holds.
    public func renew(_ ids: [String], owner: String, until: Double, in sql: any SQLDatabase) async throws {
        guard !ids.isEmpty else { return }
        try await sql.update("stratus_tasks").set("lease_until", to: until).where("id", .in, ids).where("owner", .equal, owner)
            .where("state", .equal, "running").run()
    }

    /// Records the outcome of a task `owner` holds; false when it no longer holds it (the lease
    /// ran out and another worker took it over), in which case nothing is written.
    @discardableResult
    public func finish(_ id: String, owner: String, failed: Bool, result: JSON, in sql: any SQLDatabase) async throws -> Bool {
        guard let task = try await find(id, in: sql), task.state == "running", task.owner == owner else { return false }
        try await sql.update("stratus_tasks").set("state", to: failed ? "failed" : "done").set("result", to: result.serialized())
            .set("lease_until", to: SQLLiteral.null).where("id", .equal, id).run()
        return true
    }

    /// Hands back, at once, the running tasks of `queue` that anyone but `owner` holds (a worker
    /// that restarted under a new identity gives up what its previous life held).
    public func release(queue: String, except owner: String, in sql: any SQLDatabase) async throws {
        try await sql.update("stratus_tasks").set("state", to: "queued").set("owner", to: SQLLiteral.null).set("lease_until", to: SQLLiteral.null)
            .where("queue", .equal, queue).where("state", .equal, "running").where("owner", .notEqual, owner).run()
    }

    /// Removes a task `owner` still holds (its outcome needs no reader): one statement where
    /// `finish` then `delete` would be three.
    public func remove(_ id: String, heldBy owner: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "stratus_tasks").where("id", .equal, id).where("owner", .equal, owner).where("state", .equal, "running").run()
    }

    /// Removes a task (its result was read).
    public func delete(_ id: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "stratus_tasks").where("id", .equal, id).run()
    }

    /// Removes finished tasks older than `before` (results nobody collected).
    public func purge(finishedBefore before: Double, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "stratus_tasks").where("state", .in, ["done", "failed"]).where("created_at", .lessThan, before).run()
    }

    /// The unfinished tasks of a kind on queues starting with `prefix` (maintenance scans).
    public func unfinished(prefix: String, kind: String, in sql: any SQLDatabase) async throws -> [Entry] {
        try await sql.select().columns(Self.columns).from("stratus_tasks").where("queue", .like, prefix + "%").where("kind", .equal, kind)
            .where("state", .in, ["queued", "running"]).orderBy("created_at").all().map { try $0.decode(Entry.self) }
    }
}

/// In-process wake-ups for task queues: `notify` after enqueuing, `wait` instead of sleeping
/// between polls. Workers in other processes still poll; in one process nobody waits a poll
/// interval for work that is already there. A waiter is a suspended continuation, resumed by
/// `notify`, by its timeout or by cancellation, whichever comes first: nothing wakes in between
/// (an earlier version re-checked every 10 ms, and those wake-ups cost more CPU than the work).
///
/// A caller that looks for work and then waits takes a `ticket` first and waits `since` it: a
/// notify that lands between the look and the wait then ends the wait at once instead of being
/// missed until the timeout.
public final class TaskSignal: Sendable {
    struct State {
        var next: UInt64 = 0
        var waiting: [String: [UInt64: CheckedContinuation<Void, Never>]] = [:]
        /// Waiters whose timeout or cancellation came before they were registered.
        var fired: Set<UInt64> = []
        /// Notifications per key, for tickets. Keys nobody waits on are dropped past `maxKeys`; a
        /// ticket on a dropped key may then end its wait at once or miss one notify, costing at
        /// most that wait's timeout.
        var generations: [String: UInt64] = [:]
    }

    static let maxKeys = 20_000
    let state = Mutex(State())

    public init() {}

    /// The key's notification count, to pass to `wait(_:since:seconds:)`.
    public func ticket(_ key: String) -> UInt64 { state.withLock { $0.generations[key] ?? 0 } }

    public func notify(_ key: String) {
        let woken = state.withLock { s in
            s.generations[key, default: 0] &+= 1
            if s.generations.count > Self.maxKeys {
                s.generations = s.generations.filter { s.waiting[$0.key] != nil }
            }
            return s.waiting.removeValue(forKey: key).map { Array($0.values) } ?? []
        }
        for c in woken { c.resume() }
    }

    /// Returns when `key` is notified (or was, after `ticket` was taken) or `seconds` have passed.
    public func wait(_ key: String, since ticket: UInt64? = nil, seconds: Double) async {
        let id = state.withLock { s in
            s.next += 1
            return s.next
        }
        let timer = Task { [self] in
            guard (try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))) != nil else { return }
            fire(id, key)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let early = state.withLock { s in
                    if s.fired.remove(id) != nil { return true }
                    if let ticket, (s.generations[key] ?? 0) != ticket { return true }
                    s.waiting[key, default: [:]][id] = c
                    return false
                }
                if early { c.resume() }
            }
        } onCancel: {
            fire(id, key)
        }
        timer.cancel()
        await timer.value
        _ = state.withLock { s in s.fired.remove(id) }
    }

    /// Resumes one waiter, or marks it so that it returns at once when it registers.
    func fire(_ id: UInt64, _ key: String) {
        let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let c = s.waiting[key]?.removeValue(forKey: id) {
                if s.waiting[key]?.isEmpty == true { s.waiting[key] = nil }
                return c
            }
            s.fired.insert(id)
            return nil
        }
        c?.resume()
    }
}
