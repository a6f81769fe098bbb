import Foundation
import SQLKit
import StratusCore
import Testing

@testable import StratusStorage

/// The agent channel's task rows, on every available database: a task is taken by one worker,
/// comes back when its worker's lease runs out, and the stale worker's outcome is refused.
@Suite("task queue")
struct TaskQueueTests {
    static var urls: [String] {
        var out = ["sqlite:///" + FileManager.default.temporaryDirectory.path + "/stratus-tasks-\(UUID().uuidString).db"]
        if let pg = ProcessInfo.processInfo.environment["STRATUS_TEST_POSTGRES_URL"] { out.append(pg) }
        return out
    }

    static func open(_ url: String) async throws -> Database {
        let schema = "tq_" + String(UUID().uuidString.prefix(8)).lowercased()
        let db = try await Database.open(try DatabaseURL(url), schema: url.hasPrefix("postgres") ? schema : nil)
        try await Migrator(service: "tasks", [Migration(1, "tasks", TaskQueue.migrationStatements)]).migrate(db)
        return db
    }

    @Test("a task is claimed once, redelivered after its lease, and a stale worker cannot finish it", arguments: urls)
    func leaseAndRedelivery(url: String) async throws {
        let db = try await Self.open(url)
        let q = TaskQueue(dialect: db.dialect)
        let id = try await db.write { sql in try await q.enqueue(queue: "compute:a", kind: "build", payload: ["instance": "i1"], in: sql) }
        let first = try await db.write { sql in try await q.claim(queue: "compute:a", owner: "w1", lease: 30, now: 1000, in: sql) }
        #expect(first?.id == id)
        #expect(first?.attempts == 1)
        #expect(first?.body["instance"] == "i1")
        let none = try await db.write { sql in try await q.claim(queue: "compute:a", owner: "w2", lease: 30, now: 1010, in: sql) }
        #expect(none == nil, "a leased task is not handed to a second worker")
        let other = try await db.write { sql in try await q.claim(queue: "compute:b", owner: "w2", lease: 30, now: 1010, in: sql) }
        #expect(other == nil, "queues are separate")
        // w1 dies: its lease runs out and w2 takes the task over.
        let again = try await db.write { sql in try await q.claim(queue: "compute:a", owner: "w2", lease: 30, now: 1031, in: sql) }
        #expect(again?.id == id)
        #expect(again?.attempts == 2)
        let stale = try await db.write { sql in try await q.finish(id, owner: "w1", failed: false, result: ["by": "w1"], in: sql) }
        #expect(!stale, "the first worker no longer holds the task")
        let done = try await db.write { sql in try await q.finish(id, owner: "w2", failed: false, result: ["by": "w2"], in: sql) }
        #expect(done)
        let row = try await db.read { sql in try await q.find(id, in: sql) }
        #expect(row?.state == "done")
        #expect(row?.resultBody?["by"] == "w2")
        let after = try await db.write { sql in try await q.claim(queue: "compute:a", owner: "w3", lease: 30, now: 5000, in: sql) }
        #expect(after == nil, "a finished task is never handed out again")
        await db.close()
    }

    @Test("renewing a lease keeps the task with its worker", arguments: urls)
    func renewal(url: String) async throws {
        let db = try await Self.open(url)
        let q = TaskQueue(dialect: db.dialect)
        let id = try await db.write { sql in try await q.enqueue(queue: "conductor", kind: "build", payload: [:], in: sql) }
        _ = try await db.write { sql in try await q.claim(queue: "conductor", owner: "w1", lease: 30, now: 1000, in: sql) }
        try await db.write { sql in try await q.renew([id], owner: "w1", until: 1100, in: sql) }
        let taken = try await db.write { sql in try await q.claim(queue: "conductor", owner: "w2", lease: 30, now: 1050, in: sql) }
        #expect(taken == nil)
        #expect(try await db.read { sql in try await q.held(queue: "conductor", owner: "w1", in: sql) }.map(\.id) == [id])
        await db.close()
    }

    @Test("workers claiming at once never take the same task", arguments: urls)
    func concurrentClaims(url: String) async throws {
        let db = try await Self.open(url)
        let q = TaskQueue(dialect: db.dialect)
        let ids = try await db.write { sql in
            var out: [String] = []
            for n in 0..<40 { out.append(try await q.enqueue(queue: "conductor", kind: "build", payload: ["n": .int(Int64(n))], in: sql)) }
            return out
        }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for w in 0..<8 {
                group.addTask {
                    var mine: [String] = []
                    while true {
                        let t = try await db.write { sql in try await q.claim(queue: "conductor", owner: "w\(w)", lease: 60, in: sql) }
                        guard let t else { return mine }
                        mine.append(t.id)
                    }
                }
            }
            var all: [String] = []
            for try await part in group { all += part }
            return all
        }
        #expect(claimed.count == 40)
        #expect(Set(claimed) == Set(ids), "each task exactly once")
        await db.close()
    }
}

/// In-process wake-ups: a waiter returns when its queue is notified, not at its timeout; one
/// never notified returns at its timeout; a cancelled one returns at once.
@Suite("task signal")
struct TaskSignalTests {
    static func timed(_ signal: TaskSignal, _ queue: String, _ seconds: Double) async -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        await signal.wait(queue, seconds: seconds)
        return clock.now - start
    }

    @Test("notify wakes only the waiters of its queue, long before their timeout")
    func notifyWakes() async throws {
        let signal = TaskSignal()
        async let woken = Self.timed(signal, "conductor", 5)
        async let other = Self.timed(signal, "scheduler", 0.3)
        try await Task.sleep(for: .milliseconds(50))
        signal.notify("conductor")
        #expect(await woken < .seconds(2))
        #expect(await other >= .milliseconds(290), "another queue's notify does not wake it")
    }

    @Test("a notify between taking a ticket and waiting ends the wait at once; an older one does not")
    func ticketCatchesEarlyNotify() async {
        let signal = TaskSignal()
        signal.notify("conductor")
        let ticket = signal.ticket("conductor")
        #expect(await Self.timed(signal, "conductor", 0.2) >= .milliseconds(190), "the notify before the ticket is not new")
        signal.notify("conductor")
        let clock = ContinuousClock()
        let start = clock.now
        await signal.wait("conductor", since: ticket, seconds: 5)
        #expect(clock.now - start < .seconds(2))
    }

    @Test("a waiter nobody notifies returns at its timeout; a cancelled one at once")
    func timeoutAndCancel() async throws {
        let signal = TaskSignal()
        let clock = ContinuousClock()
        let start = clock.now
        await signal.wait("q", seconds: 0.1)
        #expect(clock.now - start >= .milliseconds(95))
        let waiter = Task { await signal.wait("q", seconds: 30) }
        try await Task.sleep(for: .milliseconds(20))
        let cancelled = clock.now
        waiter.cancel()
        await waiter.value
        #expect(clock.now - cancelled < .seconds(5))
        // Many short waits leave nothing behind.
        for _ in 0..<100 { await signal.wait("q", seconds: 0.001) }
        #expect(signal.state.withLock { $0.waiting.isEmpty && $0.fired.isEmpty })
    }
}
