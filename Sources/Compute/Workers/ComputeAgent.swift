import Foundation
import Logging
import StratusAuth
import StratusCore

/// nova-compute: registers its service and compute node through nova-api's agent channel,
/// reports the node's inventory and traits to Placement, heartbeats every `report_interval`,
/// long-polls its host's tasks and runs them on the driver. It needs no database: only the
/// `[keystone_authtoken]`, `[placement]` and `[neutron]` credentials of the guide's nova.conf.
/// After a restart it re-registers; the tasks it held come back to it once their leases run out.
public struct ComputeAgent: Sendable {
    let settings: ComputeSettings
    let clients: ComputeClients
    let driver: any ComputeDriver
    let logger: Logger
    /// This run's identity on the agent channel (leases are held in its name).
    let agent = UUID().uuidString.lowercased()

    public init(config: Config, logger: Logger) throws {
        settings = try ComputeSettings(config: config)
        clients = ComputeClients(config: config)
        driver = FakeDriver(settings: settings)
        self.logger = logger
    }

    var host: String { settings.host }

    public func run() async {
        var serviceUUID = ""
        var nodeUUID = ""
        while !Task.isCancelled {
            do {
                (serviceUUID, nodeUUID) = try await register()
                try await reportInventory(nodeUUID)
                break
            } catch {
                logger.warning("nova-compute on \(host) cannot register yet: \(error); retrying")
                try? await Task.sleep(for: .seconds(2))
            }
        }
        let service = serviceUUID
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await heartbeats(service) }
            group.addTask { await pollLoop() }
            if settings.syncPowerStateInterval > 0 { group.addTask { await powerSyncLoop() } }
            await group.next()
            group.cancelAll()
        }
    }

    func register() async throws -> (String, String) {
        let r = settings
        let body: JSON = [
            "host": .string(host), "binary": "nova-compute", "topic": "compute", "agent": .string(agent),
            "node": [
                "hypervisor_hostname": .string(host), "vcpus": .int(Int64(driver.resources.vcpus)),
                "memory_mb": .int(Int64(driver.resources.memoryMB)),
                "local_gb": .int(Int64(driver.resources.localGB)), "host_ip": .string(r.myIP), "hypervisor_type": .string(driver.resources.type),
                "hypervisor_version": 1000,
                "supported_instances": .array(driver.supportedInstances.map { .array($0.map { .string($0) }) }),
            ],
        ]
        let reply = try await clients.compute.send(.post, "/stratus-agent/services", json: body)
        guard reply.status == 201, let s = reply.json?["service"]?["uuid"]?.stringValue, let n = reply.json?["node"]?["uuid"]?.stringValue else {
            throw PortWork.Failure(description: "nova-api answered \(reply.status) to the registration")
        }
        logger.info("nova-compute registered as \(host) (node \(n))")
        return (s, n)
    }

    /// The node's resource provider, inventory (with the allocation ratios and reservations) and traits.
    func reportInventory(_ node: String) async throws {
        let p = clients.placement
        let mv = ("placement", "1.36")
        var provider = try await p.send(.get, "/resource_providers/\(node)", microversion: mv)
        if provider.status == 404 {
            provider = try await p.send(.post, "/resource_providers", json: ["uuid": .string(node), "name": .string(host)], microversion: mv)
            if provider.status == 409 { provider = try await p.send(.get, "/resource_providers/\(node)", microversion: mv) }
        }
        guard provider.status == 200, var generation = provider.json?["generation"]?.intValue else {
            throw PortWork.Failure(description: "placement answered \(provider.status) for the resource provider")
        }
        let s = settings
        let res = driver.resources
        func inventory(_ total: Int, _ reserved: Int, _ ratio: Double) -> JSON {
            [
                "total": .int(Int64(total)), "reserved": .int(Int64(min(reserved, total))), "min_unit": 1, "max_unit": .int(Int64(total)),
                "step_size": 1, "allocation_ratio": .double(ratio),
            ]
        }
        let inv: JSON = [
            "resource_provider_generation": .int(generation),
            "inventories": [
                "VCPU": inventory(res.vcpus, s.reservedCPUs, s.cpuRatio), "MEMORY_MB": inventory(res.memoryMB, s.reservedMemoryMB, s.ramRatio),
                "DISK_GB": inventory(res.localGB, s.reservedDiskGB, s.diskRatio),
            ],
        ]
        let put = try await p.send(.put, "/resource_providers/\(node)/inventories", json: inv, microversion: mv)
        guard put.status == 200, let g = put.json?["resource_provider_generation"]?.intValue else {
            throw PortWork.Failure(description: "placement answered \(put.status) to the inventory")
        }
        generation = g
        let traits: JSON = [
            "resource_provider_generation": .int(generation),
            "traits": [
                "COMPUTE_NODE", "COMPUTE_NET_ATTACH_INTERFACE", "COMPUTE_IMAGE_TYPE_RAW", "COMPUTE_IMAGE_TYPE_QCOW2", "COMPUTE_TRUSTED_CERTS",
            ],
        ]
        let t = try await p.send(.put, "/resource_providers/\(node)/traits", json: traits, microversion: mv)
        guard t.status == 200 else { throw PortWork.Failure(description: "placement answered \(t.status) to the traits") }
    }

    func heartbeats(_ service: String) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(settings.reportInterval))
            do {
                let r = try await clients.compute.send(.put, "/stratus-agent/services/\(service)/heartbeat?host=\(host)&agent=\(agent)")
                if r.status != 200 { logger.warning("heartbeat of \(host) answered \(r.status)") }
            } catch {
                logger.warning("heartbeat of \(host) failed: \(error)")
            }
        }
    }

    /// Every `sync_power_state_interval`: the hypervisor's view of each idle instance on this
    /// host against the stored one (`PowerSync`).
    func powerSyncLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(settings.syncPowerStateInterval))
            do {
                try await syncPowerStates()
            } catch {
                logger.warning("power-state sync on \(host) failed: \(error)")
            }
        }
    }

    func syncPowerStates() async throws {
        let r = try await clients.compute.send(.get, "/stratus-agent/instances?host=\(host)")
        for i in r.json?["instances"]?.arrayValue ?? [] {
            guard let uuid = i["uuid"]?.stringValue, i["task_state"]?.stringValue == nil,
                let vm = i["vm_state"]?.stringValue.flatMap(VMState.init(rawValue:)),
                let stored = i["power_state"]?.intValue.flatMap({ PowerState(rawValue: Int($0)) })
            else { continue }
            let actual = await driver.info(uuid).flatMap(PowerState.init(rawValue:)) ?? .noState
            guard let change = PowerSync.decide(vmState: vm, stored: stored, actual: actual) else { continue }
            logger.info("power state of \(uuid) on \(host): stored \(stored.name), hypervisor \(actual.name)\(change.stop ? "; stopping it" : "")")
            // Recorded first, and only if the server is still as seen; the guest is powered off
            // only once that is so (a start asked for meanwhile wins).
            let r = try await clients.compute.send(
                .put,
                "/stratus-agent/instances/\(uuid)/power_state?host=\(host)",
                json: ["power_state": .int(Int64(change.power.rawValue)), "stop": .bool(change.stop), "vm_state": .string(vm.rawValue)]
            )
            if change.powerOffGuest, r.json?["applied"]?.boolValue == true { try await driver.powerOff(uuid) }
        }
    }

    func pollLoop() async {
        await withTaskGroup(of: Void.self) { group in
            while !Task.isCancelled {
                let tasks: [JSON]
                do {
                    let r = try await clients.compute.send(.get, "/stratus-agent/tasks?host=\(host)&agent=\(agent)&wait=5")
                    tasks = r.json?["tasks"]?.arrayValue ?? []
                    if r.status != 200 { try await Task.sleep(for: .seconds(1)) }
                } catch {
                    logger.warning("task poll of \(host) failed: \(error)")
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                for t in tasks { group.addTask { await handle(t) } }
            }
            group.cancelAll()
        }
    }

    func handle(_ task: JSON) async {
        guard let id = task["id"]?.stringValue, let kind = task["kind"]?.stringValue else { return }
        let payload = task["payload"] ?? [:]
        let record = payload["record"] ?? [:]
        let uuid = record["uuid"]?.stringValue ?? payload["instance"]?.stringValue ?? ""
        let ports = PortWork(network: clients.network, logger: logger)
        var failed = false
        var result: [String: JSON] = [:]
        do {
            switch kind {
            case "build":
                var info: [JSON] = []
                do {
                    let prepared = try await ports.prepare(
                        record,
                        token: payload["token"]?.stringValue,
                        host: host,
                        timeout: settings.vifPluggingTimeout,
                        fatal: settings.vifPluggingIsFatal,
                        retried: (task["attempts"]?.intValue ?? 1) > 1 || (payload["attempt"]?.intValue ?? 1) > 1
                    )
                    info = prepared.info
                    try await driver.spawn(record, networkInfo: info)
                    result["network_info"] = .array(info)
                    if let names = prepared.groups { result["security_groups"] = .array(names.map { .string($0) }) }
                } catch {
                    await ports.release(uuid, networkInfo: info, given: PortWork.given(record["request"]))
                    try? await driver.destroy(uuid)
                    throw error
                }
            case "delete":
                try await driver.destroy(uuid)
                await ports.release(
                    uuid,
                    networkInfo: payload["network_info"]?.arrayValue ?? record["network_info"]?.arrayValue ?? [],
                    given: PortWork.given(record["request"])
                )
            case "stop": try await driver.powerOff(uuid)
            case "start": try await driver.powerOn(uuid)
            case "reboot_soft": try await driver.reboot(uuid, hard: false)
            case "reboot_hard": try await driver.reboot(uuid, hard: true)
            default: throw PortWork.Failure(description: "unknown task \(kind)")
            }
        } catch {
            failed = true
            result["message"] = .string("Build of instance \(uuid) aborted: \(error)")
            logger.error("\(kind) of \(uuid) on \(host) failed: \(error)")
        }
        for attempt in 0..<5 {
            do {
                _ = try await clients.compute.send(
                    .post,
                    "/stratus-agent/tasks/\(id)/result?host=\(host)&agent=\(agent)",
                    json: ["failed": .bool(failed), "result": .object(result)]
                )
                return
            } catch {
                try? await Task.sleep(for: .seconds(Double(attempt + 1)))
            }
        }
    }
}
