import Foundation
import SQLKit
import StratusCore
import StratusStorage

/// Finds servers wherever they are: a build request in the API database, or an instance in
/// the cell its mapping names.
struct ServerLookup {
    let service: ComputeService
    typealias Fault = (code: Int, message: String, details: String, created: String)

    func find(_ uuid: String) async throws -> (instance: Instance, fault: Fault?)? {
        let api = service.api
        guard let mapping = try await api.read({ sql in try await CellStore().instanceMapping(uuid, in: sql) }) else { return nil }
        if let cellID = mapping.cellId { return try await find(uuid, cell: cellID) }
        guard let text = try await api.read({ sql in try await CellStore().buildRequest(uuid, in: sql) }), let i = Instance.decoded(text) else {
            // The conductor may just have moved it into its cell: read the mapping again.
            guard let (_, db) = try await cell(of: uuid) else { return nil }
            return try await find(uuid, in: db)
        }
        return (i, nil)
    }

    func find(_ uuid: String, cell cellID: Int64) async throws -> (instance: Instance, fault: Fault?)? {
        guard let (_, db) = try await cell(id: cellID) else { return nil }
        return try await find(uuid, in: db)
    }

    func find(_ uuid: String, in db: Database) async throws -> (instance: Instance, fault: Fault?)? {
        try await db.read { sql in
            guard let i = try await InstanceStore().find(uuid, in: sql) else { return nil }
            return (i, try await InstanceStore().faults([uuid], in: sql)[uuid])
        }
    }

    func cell(of uuid: String) async throws -> (CellStore.Cell, Database)? {
        let api = service.api
        guard let mapping = try await api.read({ sql in try await CellStore().instanceMapping(uuid, in: sql) }), let cellID = mapping.cellId else {
            return nil
        }
        return try await cell(id: cellID)
    }

    func cell(id: Int64) async throws -> (CellStore.Cell, Database)? {
        var cell = try await service.cellMappings().first(where: { $0.id == id })
        if cell == nil { cell = try await service.cellMappings(fresh: true).first(where: { $0.id == id }) }
        guard let cell else { return nil }
        return (cell, try await service.cells.database(cell))
    }

    /// Servers of every cell (and the build requests) matching `query`, newest first.
    func list(_ query: InstanceQuery, buildRequests: Bool) async throws -> [Instance] {
        var out: [Instance] = []
        for (_, db) in try await service.allCells() {
            out += try await db.read { sql in try await InstanceStore().list(query, in: sql) }
        }
        if buildRequests, query.host == nil, query.changesSince == nil {
            let pending = try await service.api.read { sql in try await CellStore().buildRequests(project: query.project, in: sql) }
            let known = Set(out.map(\.uuid))
            out += pending.compactMap(Instance.decoded).filter { !known.contains($0.uuid) && query.matches($0) }
        }
        out.sort { ($0.createdAt, $0.uuid) > ($1.createdAt, $1.uuid) }
        if let n = query.limit, out.count > n { out.removeLast(out.count - n) }
        return out
    }

    func faults(_ instances: [Instance]) async throws -> [String: Fault] {
        guard !instances.isEmpty else { return [:] }
        var out: [String: Fault] = [:]
        for (_, db) in try await service.allCells() {
            let uuids = instances.map(\.uuid)
            out.merge(try await db.read { sql in try await InstanceStore().faults(uuids, in: sql) }) { a, _ in a }
        }
        return out
    }
}

/// The networks a boot asks for, checked with the caller's token as nova-api checks them.
struct NetworkRequests {
    let service: ComputeService
    let ctx: StratusContext

    func get(_ path: String) async throws -> (Int, JSON?) {
        let token = try ctx.requireCaller().token
        do {
            let r = try await service.clients.network.send(.get, path, onBehalfOf: token, requestID: ctx.requestID)
            return (r.status, r.json)
        } catch {
            throw OpenStackError(.serviceUnavailable, "The network service is unavailable.")
        }
    }

    /// The resolved list: one `{network, network_name, port, fixed_ip}` per interface to create
    /// or attach (the name, when the check read it, saves the compute host from asking again).
    func resolve(_ networks: BootRequest.Networks, project: String) async throws -> JSON {
        switch networks {
        case .none:
            return []
        case .unspecified, .auto:
            let (_, own) = try await get("/v2.0/networks?project_id=\(project)&shared=false")
            let (_, shared) = try await get("/v2.0/networks?shared=true")
            var found: [(id: String, name: JSON)] = []
            for n in (own?["networks"]?.arrayValue ?? []) + (shared?["networks"]?.arrayValue ?? []) {
                if let id = n["id"]?.stringValue, !found.contains(where: { $0.id == id }),
                    n["router:external"]?.boolValue != true || n["shared"]?.boolValue == true
                {
                    found.append((id, n["name"] ?? .null))
                }
            }
            if found.count > 1 { throw ComputeError.conflict("Multiple possible networks found, use a Network ID to be more specific.") }
            guard let only = found.first else {
                if networks == .auto { throw ComputeError.badRequest("Unable to automatically allocate a network for project \(project)") }
                return []
            }
            return [["network": .string(only.id), "network_name": only.name, "port": .null, "fixed_ip": .null]]
        case .list(let list):
            var seenPorts: Set<String> = []
            var missing: [String] = []
            var out: [JSON] = []
            for n in list {
                if let port = n.port {
                    if !seenPorts.insert(port).inserted {
                        throw ComputeError.badRequest("Port ID '\(port)' was specified twice: you cannot attach a port multiple times.")
                    }
                    if let ip = n.fixedIP {
                        throw ComputeError.badRequest(
                            "Specified Fixed IP '\(ip)' cannot be used with port '\(port)': the two cannot be specified together."
                        )
                    }
                    let (status, body) = try await get("/v2.0/ports/\(port)")
                    guard status == 200, let p = body?["port"] else { throw ComputeError.badRequest("Port id \(port) could not be found.") }
                    if let device = p["device_id"]?.stringValue, !device.isEmpty { throw ComputeError.conflict("Port \(port) is still in use.") }
                    out.append(["network": p["network_id"] ?? .null, "port": .string(port), "fixed_ip": .null])
                } else if let net = n.network {
                    let (status, body) = try await get("/v2.0/networks/\(net)")
                    if status != 200 {
                        missing.append(net)
                        continue
                    }
                    out.append([
                        "network": .string(net), "network_name": body?["network"]?["name"] ?? .null, "port": .null, "fixed_ip": .optional(n.fixedIP),
                    ])
                }
            }
            if !missing.isEmpty { throw ComputeError.badRequest("Network \(missing.joined(separator: ", ")) could not be found.") }
            return .array(out)
        }
    }
}

/// nova's quota check at boot: instances, cores and ram of the project (counted from the
/// cells and the build requests, or cores and ram from Placement when
/// `[quota] count_usage_from_placement`), against nova.conf's limits and os-quota-sets'.
struct QuotaCheck {
    let service: ComputeService

    func limits(project: String) async throws -> [String: Int] {
        var limits = service.settings.quotas
        let own = try await service.api.read { sql in try await ComputeQuotaStore().limits(project: project, in: sql) }
        limits.merge(own) { _, new in new }
        return limits
    }

    func usage(project: String) async throws -> (instances: Int, cores: Int, ram: Int) {
        // Build requests first, then the cells: a server the conductor moves meanwhile (cell row
        // written, then its build request removed) is then seen at least once, and a server seen
        // in both is counted once.
        let pending = try await service.api.read { sql in try await CellStore().buildRequests(project: project, in: sql) }.compactMap(
            Instance.decoded
        )
        var (count, cores, ram) = (0, 0, 0)
        var moved: Set<String> = []
        for (_, db) in try await service.allCells() {
            let (u, found) = try await db.read { sql in
                (
                    try await InstanceStore().usage(project: project, in: sql),
                    pending.isEmpty ? [] : try await InstanceStore().liveUUIDs(pending.map(\.uuid), in: sql)
                )
            }
            count += u.instances
            cores += u.cores
            ram += u.ram
            moved.formUnion(found)
        }
        for s in pending where !moved.contains(s.uuid) {
            count += 1
            cores += Int(s.vcpus)
            ram += Int(s.memoryMb)
        }
        if service.settings.countFromPlacement, let usages = try? await placementUsages(project: project) { (cores, ram) = usages }
        return (count, cores, ram)
    }

    func placementUsages(project: String) async throws -> (Int, Int)? {
        let r = try await service.clients.placement.send(.get, "/usages?project_id=\(project)", microversion: ("placement", "1.9"))
        guard r.status == 200, let u = r.json?["usages"] else { return nil }
        return (Int(u["VCPU"]?.intValue ?? 0), Int(u["MEMORY_MB"]?.intValue ?? 0))
    }

    /// nova's recheck (`[quota] recheck_quota`): after the boot's `count` build requests are
    /// recorded, the project must still be within its limits; two boots that passed `admit` at
    /// once cannot both stay over it (both may be refused, never both kept).
    func recheck(project: String, flavor: FlavorStore.Flavor, count: Int) async throws {
        let limits = try await limits(project: project)
        guard Self.counted(limits) else { return }
        let now = try await usage(project: project)
        let before = (instances: now.instances - count, cores: now.cores - count * Int(flavor.vcpus), ram: now.ram - count * Int(flavor.memoryMb))
        func over(_ limit: Int?, _ used: Int) -> Bool { (limit ?? -1) >= 0 && used > limit! }
        guard over(limits["instances"], now.instances) || over(limits["cores"], now.cores) || over(limits["ram"], now.ram) else { return }
        _ = try admitted(limits: limits, used: before, flavor: flavor, minCount: count, maxCount: count, exceededAlready: true)
    }

    /// How many of `minCount…maxCount` servers fit; 403 with nova's message when not even `minCount` does.
    func admit(project: String, flavor: FlavorStore.Flavor, minCount: Int, maxCount: Int) async throws -> Int {
        let limits = try await limits(project: project)
        // Nothing to count against when instances, cores and ram are all unlimited.
        guard Self.counted(limits) else { return maxCount }
        return try admitted(limits: limits, used: try await usage(project: project), flavor: flavor, minCount: minCount, maxCount: maxCount)
    }

    /// Whether any of the limits a boot checks is finite.
    static func counted(_ limits: [String: Int]) -> Bool {
        ["instances", "cores", "ram"].contains { (limits[$0] ?? -1) >= 0 }
    }

    /// How many of `minCount…maxCount` servers fit, or nova's 403 naming each quota they exceed
    /// (`exceededAlready`: the recheck found the project over: every quota now over is named).
    func admitted(
        limits: [String: Int],
        used: (instances: Int, cores: Int, ram: Int),
        flavor: FlavorStore.Flavor,
        minCount: Int,
        maxCount: Int,
        exceededAlready: Bool = false
    ) throws -> Int {
        func headroom(_ limit: Int?, _ used: Int, _ each: Int) -> Int {
            guard let limit, limit >= 0 else { return Int.max }
            guard each > 0 else { return Int.max }
            return max(0, (limit - used) / each)
        }
        let fits = min(
            headroom(limits["instances"], used.instances, 1),
            headroom(limits["cores"], used.cores, Int(flavor.vcpus)),
            headroom(limits["ram"], used.ram, Int(flavor.memoryMb))
        )
        if fits >= minCount, !exceededAlready { return min(maxCount, fits) }
        var overs: [(String, String, Int, Int)] = []
        let requested = minCount == maxCount ? "\(minCount)" : "\(minCount)-\(maxCount)"
        if headroom(limits["cores"], used.cores, Int(flavor.vcpus)) < minCount {
            overs.append(("cores", String(Int(flavor.vcpus) * minCount), used.cores, limits["cores"]!))
        }
        if headroom(limits["instances"], used.instances, 1) < minCount {
            overs.append(("instances", requested, used.instances, limits["instances"]!))
        }
        if headroom(limits["ram"], used.ram, Int(flavor.memoryMb)) < minCount {
            overs.append(("ram", String(Int(flavor.memoryMb) * minCount), used.ram, limits["ram"]!))
        }
        let names = overs.map(\.0).joined(separator: ", ")
        throw OpenStackError(
            .forbidden,
            "Quota exceeded for \(names): Requested \(overs.map(\.1).joined(separator: ", ")), but already used \(overs.map { String($0.2) }.joined(separator: ", ")) of \(overs.map { String($0.3) }.joined(separator: ", ")) \(names)"
        )
    }
}

/// Deleting a server wherever it is: a build request goes at once, an instance without a host
/// (cell0, or never built) is marked deleted here, one on a host whose agent is up is handed to
/// it (`compute:<host>` task), and one on a host that is down is deleted locally, as nova does.
struct ServerDeletion {
    let service: ComputeService

    func delete(_ i: Instance, token: String, requestID: String) async throws {
        let api = service.api
        let uuid = i.uuid
        let removedRequest = try await api.write { sql in
            let gone = try await CellStore().deleteBuildRequest(uuid, in: sql)
            try await CellStore().queueForDelete(uuid, in: sql)
            return gone
        }
        if removedRequest { return }
        guard let (_, db) = try await ServerLookup(service: service).cell(of: uuid) else { return }
        let now = ComputeTime.now()
        if let host = i.host, try await HostStatus(service: service).isUp(host) {
            let started = try await db.write { sql in
                guard try await InstanceStore().update(uuid, ["task_state": SQLBind(TaskState.deleting.rawValue)], now: now, in: sql) else {
                    return false
                }
                try await ActionStore().start(uuid, action: "delete", requestID: requestID, project: i.projectId, user: i.userId, now: now, in: sql)
                return true
            }
            guard started else { return }
            _ = try await api.write { sql in
                try await TaskQueue(dialect: api.dialect).enqueue(
                    queue: "compute:\(host)",
                    kind: "delete",
                    payload: ["instance": .string(uuid), "token": .string(token), "network_info": .array(ServerView.array(i.networkInfo))],
                    in: sql
                )
            }
            service.signal.notify("compute:\(host)")
            return
        }
        try await db.write { sql in
            try await ActionStore().start(uuid, action: "delete", requestID: requestID, project: i.projectId, user: i.userId, now: now, in: sql)
            try await InstanceStore().markDeleted(uuid, now: now, in: sql)
        }
        await Cleanup(service: service).release(
            uuid,
            networkInfo: ServerView.array(i.networkInfo),
            given: PortWork.given(.object(ServerView.object(i.request)))
        )
    }
}

/// What a server held outside the cell: its allocations in Placement and its ports.
struct Cleanup {
    let service: ComputeService

    func release(_ uuid: String, networkInfo: [JSON], given: Set<String> = []) async {
        _ = try? await service.clients.placement.send(.delete, "/allocations/\(uuid)")
        await PortWork(network: service.clients.network, logger: service.logger).release(uuid, networkInfo: networkInfo, given: given)
    }
}

/// Whether a compute host's service reports (`service_down_time`) and is not forced down.
struct HostStatus {
    let service: ComputeService

    func isUp(_ host: String) async throws -> Bool {
        for (_, db) in try await service.allCells() {
            if let s = try await db.read({ sql in try await ServiceStore().find(host: host, binary: "nova-compute", in: sql) }) {
                return ServiceLiveness.isUp(s, downTime: service.settings.serviceDownTime)
            }
        }
        return false
    }
}

/// nova's servicegroup DB driver: up when the last report is recent and not forced down.
enum ServiceLiveness {
    static func isUp(_ s: ServiceStore.Service, downTime: Int, now: Date = Date()) -> Bool {
        guard !s.forcedDown, let seen = s.lastSeenUp ?? s.updatedAt, let at = ComputeTime.parse(seen) else { return false }
        return now.timeIntervalSince(at) <= Double(downTime)
    }
}
