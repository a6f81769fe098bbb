import Foundation
import Logging
import SQLKit
import StratusCore
import StratusStorage

/// nova-scheduler: answers `select_destinations` tasks. Placement's allocation candidates for
/// the flavor (microversion 1.36, with `resources:` and `trait:` extra specs and the image's
/// required traits) → filters (the host's compute service enabled and up, mapped to a cell, in
/// the requested zone, not tried before, the image's architecture / hypervisor / VM mode) →
/// weighers (free RAM, VCPU and disk, each normalized and multiplied) → a claim of the best
/// host's allocation with the consumer generation; a conflict moves to the next host.
struct Scheduler: Sendable {
    let service: ComputeService
    let owner: String

    /// What the conductor gets back.
    struct Choice: Sendable {
        var host: String?
        var node: String?
        var error: String?
    }

    func run() async {
        let worker = TaskWorker(
            db: service.api,
            signal: service.signal,
            queue: "scheduler",
            owner: owner,
            lease: service.settings.leaseSeconds,
            parallel: 8,
            logger: service.logger
        )
        await worker.run { task in .done(try await select(task.body)) }
    }

    /// Asks the scheduler (a task) and waits for its answer, as nova's `select_destinations`.
    static func ask(service: ComputeService, instance: Instance, exclude: [String]) async throws -> Choice {
        let flavor = ServerView.object(instance.flavor)
        let request = ServerView.object(instance.request)
        let spec: JSON = [
            "instance": .string(instance.uuid), "project_id": .string(instance.projectId), "user_id": .string(instance.userId),
            "flavor": .object(flavor), "availability_zone": .optional(instance.availabilityZone), "exclude": .array(exclude.map { .string($0) }),
            "image": request["image_requirements"] ?? .null,
        ]
        let api = service.api
        let id = UUID().uuidString.lowercased()
        _ = try await api.write { sql in
            try await TaskQueue(dialect: api.dialect).enqueue(queue: "scheduler", kind: "select_destinations", payload: spec, id: id, in: sql)
        }
        service.signal.notify("scheduler")
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            let ticket = service.signal.ticket("result:\(id)")
            let task = try await api.read { sql in try await TaskQueue(dialect: api.dialect).find(id, in: sql) }
            if let task, task.state == "done" || task.state == "failed" {
                try await api.write { sql in try await TaskQueue(dialect: api.dialect).delete(id, in: sql) }
                let r = task.resultBody ?? [:]
                if task.state == "failed" { return Choice(error: "No valid host was found. " + (r["message"]?.stringValue ?? "")) }
                return Choice(host: r["host"]?.stringValue, node: r["node"]?.stringValue, error: r["error"]?.stringValue)
            }
            await service.signal.wait("result:\(id)", since: ticket, seconds: 0.2)
        }
        throw OpenStackError(.serviceUnavailable, "The scheduler did not answer within 300 seconds.")
    }

    /// One scheduling decision, claimed in Placement.
    func select(_ spec: JSON) async throws -> JSON {
        guard let uuid = spec["instance"]?.stringValue, let flavor = spec["flavor"]?.objectValue else {
            return ["error": "No valid host was found. "]
        }
        let placement = service.clients.placement
        let specs = flavor["extra_specs"]?.objectValue ?? [:]
        var resources: [String: Int64] = [
            "VCPU": flavor["vcpus"]?.intValue ?? 1, "MEMORY_MB": flavor["memory_mb"]?.intValue ?? 0,
            "DISK_GB": (flavor["root_gb"]?.intValue ?? 0) + (flavor["ephemeral_gb"]?.intValue ?? 0) + ((flavor["swap"]?.intValue ?? 0) + 1023) / 1024,
        ]
        let image = ImageRequirements(json: spec["image"])
        // Image `trait:<NAME>=required` properties join the unnumbered group's required traits.
        var required: [String] = image.requiredTraits
        for (k, v) in specs {
            if k.hasPrefix("resources:"), let n = v.stringValue.flatMap({ Int64($0) }) { resources[String(k.dropFirst(10))] = n }
            if k.hasPrefix("trait:"), let s = v.stringValue {
                if s == "required" { required.append(String(k.dropFirst(6))) }
                if s == "forbidden" { required.append("!" + String(k.dropFirst(6))) }
            }
        }
        let wanted = resources.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        var query = "/allocation_candidates?resources=\(wanted)&limit=1000"
        if !required.isEmpty { query += "&required=" + Array(Set(required)).sorted().joined(separator: ",") }
        let reply = try await placement.send(.get, query, microversion: ("placement", "1.36"))
        guard reply.status == 200, let body = reply.json else {
            throw OpenStackError(.serviceUnavailable, "Placement answered \(reply.status) to allocation candidates.")
        }
        let hosts = try await candidateHosts(spec, image: image)
        let summaries = body["provider_summaries"]?.objectValue ?? [:]
        struct Option {
            var provider: String
            var host: String
            var node: String
            var request: JSON
            var free: [Double]
        }
        var options: [Option] = []
        for request in body["allocation_requests"]?.arrayValue ?? [] {
            guard let allocations = request["allocations"]?.objectValue, let root = allocations.keys.first, allocations.count == 1,
                let host = hosts[root]
            else { continue }
            let summary = summaries[root]?["resources"]
            func free(_ rc: String) -> Double {
                Double((summary?[rc]?["capacity"]?.intValue ?? 0) - (summary?[rc]?["used"]?.intValue ?? 0))
            }
            options.append(
                Option(provider: root, host: host.host, node: host.node, request: request, free: [free("MEMORY_MB"), free("VCPU"), free("DISK_GB")])
            )
        }
        guard !options.isEmpty else {
            // A redelivered decision's own earlier claim may be what leaves no room: give it back.
            if try await releaseEarlierClaim(uuid) { return try await select(spec) }
            let count = body["allocation_requests"]?.arrayValue?.count ?? 0
            service.logger.warning(
                "no valid host for \(uuid): \(count) allocation candidate(s), \(hosts.count) host(s) passed the filters (enabled, up, mapped, zone, untried, image properties)"
            )
            return ["error": "No valid host was found. There are not enough hosts available."]
        }
        let s = service.settings
        let multipliers = [s.ramWeight, s.cpuWeight, s.diskWeight]
        var scores = [Double](repeating: 0, count: options.count)
        for k in 0..<3 {
            let values = options.map { $0.free[k] }
            let lo = values.min()!
            let hi = values.max()!
            for (n, v) in values.enumerated() { scores[n] += multipliers[k] * (hi > lo ? (v - lo) / (hi - lo) : 0) }
        }
        let ranked = zip(options, scores).sorted { $0.1 > $1.1 }.map(\.0)
        var releasedEarlier = false
        for option in ranked {
            let claim: JSON = [
                "allocations": option.request["allocations"] ?? [:], "project_id": spec["project_id"] ?? "", "user_id": spec["user_id"] ?? "",
                "consumer_generation": .null,
            ]
            // A concurrent claim on the same provider moved its generation: nova retries the claim.
            for attempt in 0..<10 {
                let r = try await placement.send(.put, "/allocations/\(uuid)", json: claim, microversion: ("placement", "1.36"))
                if r.status == 204 { return ["host": .string(option.host), "node": .string(option.node)] }
                if r.status != 409 { throw OpenStackError(.serviceUnavailable, "Placement answered \(r.status) to the claim.") }
                // A redelivered decision or a reschedule finds the consumer holding an earlier
                // claim (its generation is no longer null): give that back, then claim again.
                if !releasedEarlier {
                    releasedEarlier = true
                    if try await releaseEarlierClaim(uuid) { continue }
                }
                let code = r.json?["errors"]?.arrayValue?.first?["code"]?.stringValue
                service.logger.info(
                    "claim for \(uuid) on \(option.host) refused: \(code ?? "") \(r.json?["errors"]?.arrayValue?.first?["detail"]?.stringValue ?? "")"
                )
                guard code == "placement.concurrent_update", attempt < 9 else { break }
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...50)))
            }
        }
        if !releasedEarlier { _ = try await releaseEarlierClaim(uuid) }
        service.logger.warning("no valid host for \(uuid): every claim of \(ranked.count) candidate(s) was refused")
        return ["error": "No valid host was found. There are not enough hosts available."]
    }

    /// Deletes the consumer's allocations if it holds any; true when it did.
    func releaseEarlierClaim(_ uuid: String) async throws -> Bool {
        let placement = service.clients.placement
        let held = try await placement.send(.get, "/allocations/\(uuid)", microversion: ("placement", "1.36"))
        guard held.status == 200, !(held.json?["allocations"]?.objectValue ?? [:]).isEmpty else { return false }
        let gone = try await placement.send(.delete, "/allocations/\(uuid)")
        return gone.status == 204
    }

    /// Resource provider uuid → host and node, for compute services that pass the filters.
    func candidateHosts(_ spec: JSON, image: ImageRequirements) async throws -> [String: (host: String, node: String)] {
        let exclude = Set((spec["exclude"]?.arrayValue ?? []).compactMap(\.stringValue))
        let zone = spec["availability_zone"]?.stringValue
        if let zone, zone != service.settings.availabilityZone { return [:] }
        let mapped = Set(try await service.api.read { sql in try await CellStore().hostMappings(in: sql) }.map(\.host))
        var out: [String: (host: String, node: String)] = [:]
        for (cell, db) in try await service.allCells() where cell.uuid != CellStore.cell0UUID {
            let (services, nodes) = try await db.read { sql in
                (try await ServiceStore().list(binary: "nova-compute", in: sql), try await ServiceStore().nodes(in: sql))
            }
            for n in nodes {
                guard let svc = services.first(where: { $0.id == n.serviceId }), !svc.disabled,
                    ServiceLiveness.isUp(svc, downTime: service.settings.serviceDownTime), mapped.contains(n.host), !exclude.contains(n.host),
                    image.admits(supportedInstances: n.supported, hypervisorVersion: n.hypervisorVersion)
                else { continue }
                out[n.uuid] = (n.host, n.hypervisorHostname)
            }
        }
        return out
    }
}
