import Foundation
import Logging
import SQLKit
import StratusStorage

/// Crash safety for image data when several API processes share one database.
///
/// A process writing an image's data (an upload, a stage or an import) first takes the image's
/// lease row, naming itself and the files it will write. While it holds leases, it refreshes
/// their heartbeat every third of the expiry. At start and then once per expiry period, each
/// process looks for leases whose heartbeat is older than the expiry: their writer is dead (or
/// hung for that long). It breaks such a lease — only if the heartbeat is still the one it saw —
/// returns the image to `queued` if it was mid-write (`saving`, `uploading`, `importing`), fails
/// its import task, and removes the files the lease named. Temporary files with no lease and
/// older than the expiry (their image was deleted mid-write) are removed too. A live process's
/// lease is never older than the expiry, so its upload is never touched — provided the hosts'
/// clocks agree to well within the expiry (heartbeats and cutoffs are each host's own time).
final class UploadLeases: Sendable {
    /// This process: host, pid and a random suffix (pids are reused across restarts).
    let process: String
    let db: Database
    let stores: [FileStore]
    let expiry: Int64
    let logger: Logger
    private let task = LockedTask()
    /// The images this process is writing now: only their leases get heartbeats, so a write
    /// that ended without releasing its lease (its database was unreachable) expires and is reaped.
    private let writing = LockedSet()

    init(db: Database, stores: [FileStore], expiry: Int64, logger: Logger) {
        self.db = db
        self.stores = stores
        self.expiry = expiry
        self.logger = logger
        let host = ProcessInfo.processInfo.hostName
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        self.process = "\(host.prefix(40)):\(getpid()):\(suffix)"
    }

    /// Reaps once now, then keeps heartbeats and reaping going in the background.
    func start() async {
        await reap()
        let interval = max(1, expiry / 3)
        task.set(
            Task { [self] in
                var tick: Int64 = 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(interval))
                    if Task.isCancelled { break }
                    let images = writing.snapshot()
                    do { try await db.write { sql in try await LeaseStore().heartbeat(process: self.process, images: images, in: sql) } } catch {
                        logger.warning("cannot refresh upload leases: \(error)")
                    }
                    tick += interval
                    if tick >= expiry {
                        tick = 0
                        await reap()
                    }
                }
            }
        )
    }

    func stop() async {
        task.cancel()
    }

    /// Takes the lease on `image` for a writer of `kind` that may leave `paths` behind.
    func acquire(image: String, kind: String, paths: [String], in sql: any SQLDatabase) async throws -> Bool {
        try await LeaseStore().acquire(image: image, process: process, kind: kind, paths: paths, in: sql)
    }

    func release(image: String, in sql: any SQLDatabase) async throws -> Bool {
        try await LeaseStore().release(image: image, process: process, in: sql)
    }

    /// Marks a write of `image` as running in this process (its lease gets heartbeats) until `end`.
    func begin(_ image: String) { writing.insert(image) }
    func end(_ image: String) { writing.remove(image) }

    /// The writer part of temporary file names: this process, without colons.
    var writerName: String { process.replacingOccurrences(of: ":", with: "-") }

    /// Returns abandoned writes to `queued` and removes their files.
    func reap() async {
        do {
            let cutoff = Clock.now - expiry
            let expired = try await db.read { sql in try await LeaseStore().expired(before: cutoff, in: sql) }
            for lease in expired {
                let broken = try await db.write { sql -> Bool in
                    guard try await LeaseStore().breakExpired(lease, in: sql) else { return false }
                    // An abandoned import keeps its staged data: the image is staged again and
                    // can be imported anew. Abandoned uploads and stages start over from queued.
                    if lease.kind == "import" {
                        _ = try await ImageStore().transition(lease.imageId, from: [.importing], to: .uploading, in: sql)
                    } else {
                        _ = try await ImageStore().transition(lease.imageId, from: [.saving, .uploading], to: .queued, in: sql)
                    }
                    try await TaskStore().failRunning(
                        image: lease.imageId,
                        message: "The import was abandoned: the process running it stopped.",
                        in: sql
                    )
                    return true
                }
                if broken {
                    for path in lease.files { FileStore.remove(path) }
                    logger.notice("image \(lease.imageId): the upload by \(lease.process) was abandoned; the image is queued again")
                }
            }
            // Temporary files nobody holds a lease on (their image was deleted mid-write).
            let held = Set(try await db.read { sql in try await LeaseStore().all(in: sql) }.flatMap(\.files))
            for store in stores {
                for file in store.temporaryFiles() where file.age > expiry && !held.contains(file.path) {
                    FileStore.remove(file.path)
                }
            }
        } catch {
            logger.warning("cannot reap abandoned uploads: \(error)")
        }
    }
}

/// Background tasks keyed by image (the imports a process runs), awaited at shutdown.
final class TaskSet: @unchecked Sendable {
    private let lock = NSLock()
    private var tasks: [String: Task<Void, Never>] = [:]

    func start(_ key: String, _ body: @escaping @Sendable () async -> Void) {
        lock.lock()
        defer { lock.unlock() }
        tasks[key] = Task.detached { [weak self] in
            await body()
            self?.finished(key)
        }
    }

    private func finished(_ key: String) {
        lock.lock()
        tasks[key] = nil
        lock.unlock()
    }

    func waitAll() async {
        for t in running() { await t.value }
    }

    private func running() -> [Task<Void, Never>] {
        lock.lock()
        defer { lock.unlock() }
        return Array(tasks.values)
    }
}

/// A set of image ids shared between request tasks and the heartbeat task.
final class LockedSet: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: Set<String> = []

    func insert(_ id: String) {
        lock.lock()
        ids.insert(id)
        lock.unlock()
    }

    func remove(_ id: String) {
        lock.lock()
        ids.remove(id)
        lock.unlock()
    }

    func snapshot() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return Array(ids)
    }
}

/// A background task that can be set once and cancelled from a `Sendable` owner.
final class LockedTask: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, Never>?

    func set(_ t: Task<Void, Never>) {
        lock.lock()
        task = t
        lock.unlock()
    }

    func cancel() {
        lock.lock()
        task?.cancel()
        task = nil
        lock.unlock()
    }
}
