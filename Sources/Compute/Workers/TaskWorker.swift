import Foundation
import Logging
import StratusCore
import StratusStorage
import Synchronization

/// A consumer of one task queue in the database (the conductor's, the scheduler's): claims
/// tasks as they come, runs up to `parallel` at once, renews their leases while they run and
/// records each outcome. A worker that dies leaves its tasks to be claimed again once their
/// leases run out; several workers may share a queue (PostgreSQL skips rows another holds).
struct TaskWorker: Sendable {
    let db: Database
    let signal: TaskSignal
    let queue: String
    let owner: String
    let lease: Double
    let parallel: Int
    let logger: Logger

    /// How many claimed tasks are running (the children decrement it as they finish).
    final class Running: Sendable {
        let count = Mutex(0)
    }

    func run(_ handle: @escaping @Sendable (TaskQueue.Entry) async throws -> JSONResult) async {
        let store = TaskQueue(dialect: db.dialect)
        let running = Running()
        let slotFreed = queue + "#slot"
        await withDiscardingTaskGroup { group in
            group.addTask { await renewLoop(store) }
            while !Task.isCancelled {
                let freed = signal.ticket(slotFreed)
                let room = parallel - running.count.withLock { $0 }
                if room <= 0 {
                    await signal.wait(slotFreed, since: freed, seconds: 0.5)
                    continue
                }
                // Take what is waiting (up to the free slots) in one statement; when that drains
                // the queue, sleep until the next notify rather than asking again at once.
                let ticket = signal.ticket(queue)
                let claimed: [TaskQueue.Entry]
                do {
                    claimed = try await db.write { [queue, owner, lease] sql in
                        try await store.claim(queue: queue, owner: owner, lease: lease, limit: room, in: sql)
                    }
                } catch {
                    logger.warning("cannot claim from \(queue): \(error)")
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                running.count.withLock { $0 += claimed.count }
                for task in claimed {
                    group.addTask {
                        await execute(task, store, handle)
                        running.count.withLock { $0 -= 1 }
                        signal.notify(slotFreed)
                    }
                }
                if claimed.count < room { await signal.wait(queue, since: ticket, seconds: 0.5) }
            }
            group.cancelAll()
        }
    }

    /// Runs one claimed task and records its outcome (kept for a reader, or removed).
    func execute(_ task: TaskQueue.Entry, _ store: TaskQueue, _ handle: @Sendable (TaskQueue.Entry) async throws -> JSONResult) async {
        let outcome: JSONResult
        do {
            outcome = try await handle(task)
        } catch {
            logger.error("\(queue) task \(task.kind) \(task.id) failed: \(error)")
            outcome = .failed(["message": .string(String(describing: error))])
        }
        do {
            try await db.write { [owner] sql in
                switch outcome {
                case .done(let r): _ = try await store.finish(task.id, owner: owner, failed: false, result: r, in: sql)
                case .failed(let r): _ = try await store.finish(task.id, owner: owner, failed: true, result: r, in: sql)
                case .remove: try await store.remove(task.id, heldBy: owner, in: sql)
                }
            }
        } catch {
            logger.error("cannot record the outcome of \(task.id): \(error)")
        }
        // Someone may be waiting for a kept result (the conductor for the scheduler's answer).
        if case .remove = outcome { return }
        signal.notify("result:\(task.id)")
    }

    func renewLoop(_ store: TaskQueue) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int(lease * 1000 / 3)))
            _ = try? await db.write { [queue, owner, lease] sql in
                let held = try await store.held(queue: queue, owner: owner, in: sql)
                try await store.renew(held.map(\.id), owner: owner, until: Date().timeIntervalSince1970 + lease, in: sql)
            }
        }
    }
}

/// A task's outcome: kept for whoever waits on it (`done`, `failed`) or dropped (`remove`).
enum JSONResult: Sendable {
    case done(JSON)
    case failed(JSON)
    case remove
}
