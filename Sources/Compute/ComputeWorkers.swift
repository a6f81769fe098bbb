import Foundation
import Logging
import SQLKit
import StratusCore
import StratusStorage
import Synchronization

/// The background roles beside (or instead of) the API: `conductor` (builds, host discovery
/// every `[scheduler] discover_hosts_in_cells_interval`, builds stranded on a dead host),
/// `scheduler`, and `compute` (an agent for `[DEFAULT] host`, talking to the API over HTTP as
/// on a compute node). The conductor and the scheduler report as services in the cell.
extension ComputeService {
    public func startWorkers(_ roles: [String], config: Config) {
        let owner = "\(settings.host):\(ProcessInfo.processInfo.processIdentifier)"
        var tasks: [Task<Void, Never>] = []
        if roles.contains("conductor") {
            tasks.append(Task { await Conductor(service: self, owner: "nova-conductor@" + owner).run() })
            tasks.append(Task { await serviceHeartbeat(binary: "nova-conductor", topic: "conductor") })
            tasks.append(Task { await maintenance() })
        }
        if roles.contains("scheduler") {
            tasks.append(Task { await Scheduler(service: self, owner: "nova-scheduler@" + owner).run() })
            tasks.append(Task { await serviceHeartbeat(binary: "nova-scheduler", topic: "scheduler") })
        }
        if roles.contains("compute"), let agent = try? ComputeAgent(config: config, logger: logger) {
            tasks.append(Task { await agent.run() })
        }
        background.withLock { $0 += tasks }
        runsCompute.withLock { $0 = $0 || roles.contains("compute") }
    }

    /// Waits (up to two minutes) until the in-process compute host can take servers: its node
    /// registered, mapped to a cell (discovered now rather than at the next interval) and its
    /// inventory in Placement. Returns at once when no compute role runs here.
    public func computeHostReady() async {
        guard runsCompute.withLock({ $0 }) else { return }
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !Task.isCancelled {
            if let (_, db) = try? await primaryCell(),
                let node = try? await db.read({ [settings] sql in try await ServiceStore().node(hostname: settings.host, in: sql) })
            {
                _ = try? await ComputeCells.discoverHosts(api, logger: logger)
                let inventory = try? await clients.placement.send(.get, "/resource_providers/\(node.uuid)/inventories")
                if inventory?.status == 200, inventory?.json?["inventories"]?["VCPU"] != nil { return }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        logger.warning("the compute host \(settings.host) did not register within two minutes")
    }

    func stopWorkers() {
        let tasks = background.withLock { t in
            defer { t = [] }
            return t
        }
        for t in tasks { t.cancel() }
    }

    func serviceHeartbeat(binary: String, topic: String) async {
        while !Task.isCancelled {
            do {
                let (_, db) = try await primaryCell()
                let host = settings.host
                let now = ComputeTime.now()
                try await db.write { sql in
                    _ = try await ServiceStore().register(
                        host: host,
                        binary: binary,
                        topic: topic,
                        uuid: UUID().uuidString.lowercased(),
                        now: now,
                        in: sql
                    )
                }
            } catch {
                logger.debug("\(binary) cannot report yet: \(error)")
            }
            try? await Task.sleep(for: .seconds(settings.reportInterval))
        }
    }

    /// Periodic work of the conductor: host discovery when asked, and builds handed to a host
    /// whose agent stopped reporting go back to the conductor (or to ERROR), so no server stays in BUILD.
    func maintenance() async {
        var lastDiscovery = Date.distantPast
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(2))
            if settings.discoverInterval > 0, Date().timeIntervalSince(lastDiscovery) >= Double(settings.discoverInterval) {
                lastDiscovery = Date()
                if let mapped = try? await ComputeCells.discoverHosts(api, logger: logger) {
                    for m in mapped { logger.info("mapped compute host \(m.host) to cell \(m.cell)") }
                }
            }
            await rescueStrandedBuilds()
            // Answers nobody collected (a conductor that died while waiting on the scheduler).
            let api = self.api
            _ = try? await api.write { sql in
                try await TaskQueue(dialect: api.dialect).purge(finishedBefore: Date().timeIntervalSince1970 - 3600, in: sql)
            }
        }
    }

    func rescueStrandedBuilds() async {
        let api = self.api
        guard
            let pending = try? await api.read({ sql in
                try await TaskQueue(dialect: api.dialect).unfinished(prefix: "compute:", kind: "build", in: sql)
            })
        else {
            return
        }
        var verdicts: [String: Bool] = [:]
        for task in pending {
            let host = String(task.queue.dropFirst("compute:".count))
            if verdicts[host] == nil { verdicts[host] = (try? await HostStatus(service: self).isUp(host)) ?? true }
            guard verdicts[host] == false, Date().timeIntervalSince1970 - task.createdAt > Double(settings.serviceDownTime) else { continue }
            let claimed = try? await api.write { sql -> Bool in
                let q = TaskQueue(dialect: api.dialect)
                guard let t = try await q.find(task.id, in: sql), t.state == "queued" || t.state == "running" else { return false }
                try await q.delete(task.id, in: sql)
                return true
            }
            guard claimed == true else { continue }
            logger.warning("build \(task.id) was handed to \(host), which is down: rescheduling")
            var copy = task
            copy.state = "running"
            try? await ComputeResults(service: self).apply(
                copy,
                failed: true,
                result: ["message": .string("Compute host \(host) is down."), "reschedule": true],
                host: host
            )
        }
    }
}
