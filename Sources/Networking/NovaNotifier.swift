import Foundation
import Logging
import StratusAuth
import StratusCore
import StratusStorage
import Synchronization

/// Sends port events to Compute (`POST /os-server-external-events`) through the service client
/// of `[nova]`, after the change committed and without holding up the API answer. With no
/// compute endpoint in the catalog nothing is kept (as neutron's notifier without nova); when
/// Compute fails, the batch goes to `nova_events` and is retried with backoff for
/// `[nova] event_retry_seconds`, then dropped with an error in the log.
final class NovaNotifier: Sendable {
    let client: ServiceClient?
    let db: Database
    let retrySeconds: Int
    let logger: Logger
    private let retrier = LockedTask()

    init(client: ServiceClient?, db: Database, retrySeconds: Int, logger: Logger) {
        self.client = client
        self.db = db
        self.retrySeconds = retrySeconds
        self.logger = logger
    }

    /// From `[nova]` and `notify_nova_on_port_*`; nil client when notifications are off.
    static func make(config: Config, settings: NetworkSettings, db: Database, logger: Logger) -> NovaNotifier {
        var client: ServiceClient? = nil
        if settings.notifyNova, config.string("nova", "username") != nil {
            let interface = config.string("nova", "endpoint_type") ?? "public"
            var s = ServiceClient.Settings(config: config, group: "nova", serviceType: "compute")
            if config.list("nova", "valid_interfaces") == ["internal", "public"] || config.list("nova", "valid_interfaces").isEmpty {
                s.interfaces = [interface]
            }
            client = ServiceClient(settings: s, session: KeystoneSession(credentials: PasswordCredentials(config: config, group: "nova")))
        }
        return NovaNotifier(client: client, db: db, retrySeconds: settings.eventRetrySeconds, logger: logger)
    }

    /// Sends in the background; a failure keeps the batch for the retry loop.
    func notify(_ events: [JSON]) {
        guard let client, !events.isEmpty else { return }
        Task { [self] in
            guard (try? await client.endpoint()) != nil else {
                logger.debug("no compute endpoint in the catalog: \(events.count) port event(s) not sent")
                // Read the catalog again next time: Compute may be registered later.
                client.session.invalidate()
                return
            }
            if await send(events) { return }
            let now = Int64(Date().timeIntervalSince1970)
            try? await db.write { sql in
                try await NovaEventStore().add(id: UUID().uuidString.lowercased(), body: .array(events), now: now, next: now + 2, in: sql)
            }
        }
    }

    /// Whether Compute took the batch (any answer but a 5xx or no answer; nova's 404 means the
    /// server is gone, which neutron also treats as done).
    func send(_ events: [JSON]) async -> Bool {
        guard let client else { return true }
        do {
            let reply = try await client.send(.post, "/os-server-external-events", json: ["events": .array(events)])
            if reply.status >= 500 {
                logger.warning("compute answered \(reply.status) to \(events.count) port event(s); will retry")
                return false
            }
            return true
        } catch {
            logger.warning("cannot send \(events.count) port event(s) to compute: \(error); will retry")
            return false
        }
    }

    /// Retries kept batches every two seconds until `stop`.
    func start() async {
        guard client != nil else { return }
        await retrier.start { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                await retryDue()
            }
        }
    }

    func stop() async { await retrier.cancel() }

    func retryDue() async {
        let now = Int64(Date().timeIntervalSince1970)
        guard let due = try? await db.read({ sql in try await NovaEventStore().due(now: now, in: sql) }) else { return }
        for p in due {
            let store = NovaEventStore()
            if now - p.createdAt > Int64(retrySeconds) {
                logger.error("dropping port events for compute after \(retrySeconds) s of failures: \(p.body)")
                try? await db.write { sql in try await store.remove(p.id, in: sql) }
                continue
            }
            let backoff = min(Int64(1) << min(p.attempts, 6), 60)
            guard (try? await db.write({ sql in try await store.claim(p, until: now + backoff, in: sql) })) == true else { continue }
            let events = (try? JSON.parse(Array(p.body.utf8)))?.arrayValue ?? []
            if await send(events) {
                try? await db.write { sql in try await store.remove(p.id, in: sql) }
            }
        }
    }
}

/// One background task, started once and cancelled at close.
final class LockedTask: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)

    func start(_ body: @escaping @Sendable () async -> Void) async {
        task.withLock { t in
            if t == nil { t = Task { await body() } }
        }
    }

    func cancel() async {
        let t = task.withLock { t in
            let current = t
            t = nil
            return current
        }
        t?.cancel()
        await t?.value
    }
}
