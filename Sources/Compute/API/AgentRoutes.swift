import Foundation
import Hummingbird
import SQLKit
import StratusCore
import StratusStorage

/// The agent channel's compute half, under `/v2.1/stratus-agent` (the `service` or `admin`
/// role, nova's `service_or_admin`): a compute agent registers its service and node, sends
/// heartbeats (which also renew the leases of the tasks it holds), long-polls its host's
/// queue and reports each task's outcome. The agent needs no database credentials.
struct AgentRoutes {
    let service: ComputeService

    func add(to routes: inout RouteTable) {
        routes.post("/v2.1/stratus-agent/services") { request, ctx in try await register(request, ctx) }
        routes.put("/v2.1/stratus-agent/services/:uuid/heartbeat") { request, ctx in try await heartbeat(request, ctx) }
        routes.get("/v2.1/stratus-agent/tasks") { request, ctx in try await poll(request, ctx) }
        routes.post("/v2.1/stratus-agent/tasks/:id/result") { request, ctx in try await result(request, ctx) }
        routes.get("/v2.1/stratus-agent/instances") { request, ctx in try await instances(request, ctx) }
        routes.put("/v2.1/stratus-agent/instances/:uuid/power_state") { request, ctx in try await powerState(request, ctx) }
    }

    /// The live instances on a host with their states, for the agent's power-state sync.
    func instances(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "stratus:agent")
        guard let host = request.query("host") else { throw ComputeError.badRequest("host is required") }
        let db = try await cell(for: host)
        let hosted = try await db.read { sql in try await InstanceStore().list(InstanceQuery(project: nil, host: host), in: sql) }
        return .json([
            "instances": .array(
                hosted.map {
                    [
                        "uuid": .string($0.uuid), "vm_state": .string($0.vmState), "task_state": .optional($0.taskState),
                        "power_state": .int(Int64($0.powerState)),
                    ]
                }
            )
        ])
    }

    /// What the agent's sync found (`PowerSync`): the power state, and `stop` for a guest that
    /// went down by itself. Applied only while the instance is on `host`, no task runs on it and
    /// its vm_state is still the one the agent saw (`vm_state`): a start or stop the user asked
    /// for since the agent's look wins.
    func powerState(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "stratus:agent")
        guard let host = request.query("host") else { throw ComputeError.badRequest("host is required") }
        let uuid = try ctx.parameters.require("uuid")
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        guard let power = body["power_state"]?.intValue, PowerState(rawValue: Int(power)) != nil else {
            throw ComputeError.badRequest("power_state must be one of nova's power states")
        }
        let db = try await cell(for: host)
        let applied = try await db.write { sql -> Bool in
            guard let i = try await InstanceStore().find(uuid, in: sql), i.host == host, i.deleted == 0,
                body["vm_state"]?.stringValue.map({ $0 == i.vmState }) ?? true
            else { return false }
            var values: [String: any SQLExpression] = ["power_state": SQLBind(power)]
            if body["stop"]?.boolValue == true, i.vmState == VMState.active.rawValue || i.vmState == VMState.paused.rawValue {
                values["vm_state"] = SQLBind(VMState.stopped.rawValue)
            }
            return try await InstanceStore().update(uuid, values, expecting: [nil], now: ComputeTime.now(), in: sql)
        }
        return .json(["applied": .bool(applied)])
    }

    /// A lease owner: the host and the agent's identity for this run (`agent`, a uuid it makes at
    /// start), so a restarted agent does not keep its previous life's leases alive.
    static func owner(_ host: String, _ agent: String?) -> String { "nova-compute@\(host)#\(agent ?? "")" }

    /// The cell a host belongs to: its mapping's, else the first cell (before discover_hosts).
    func cell(for host: String) async throws -> Database {
        let api = service.api
        let mappings = try await api.read { sql in try await CellStore().hostMappings(in: sql) }
        if let m = mappings.first(where: { $0.host == host }), let (_, db) = try await ServerLookup(service: service).cell(id: m.cellID) {
            return db
        }
        return try await service.primaryCell().1
    }

    func register(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "stratus:agent")
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        guard let host = body["host"]?.stringValue, let binary = body["binary"]?.stringValue else {
            throw ComputeError.badRequest("host and binary are required")
        }
        let db = try await cell(for: host)
        let now = ComputeTime.now()
        let node = body["node"]
        let (s, n) = try await db.write { sql -> (ServiceStore.Service, ServiceStore.Node?) in
            let s = try await ServiceStore().register(
                host: host,
                binary: binary,
                topic: body["topic"]?.stringValue ?? "compute",
                uuid: UUID().uuidString.lowercased(),
                now: now,
                in: sql
            )
            guard let node, let name = node["hypervisor_hostname"]?.stringValue else { return (s, nil) }
            let n = ServiceStore.Node(
                id: 0,
                uuid: node["uuid"]?.stringValue ?? UUID().uuidString.lowercased(),
                serviceId: s.id,
                host: host,
                hypervisorHostname: name,
                hypervisorType: node["hypervisor_type"]?.stringValue ?? "fake",
                hypervisorVersion: node["hypervisor_version"]?.intValue ?? 1000,
                vcpus: node["vcpus"]?.intValue ?? 0,
                memoryMb: node["memory_mb"]?.intValue ?? 0,
                localGb: node["local_gb"]?.intValue ?? 0,
                hostIp: node["host_ip"]?.stringValue ?? "127.0.0.1",
                cpuInfo: "{}",
                createdAt: now,
                updatedAt: now,
                supportedInstances: (node["supported_instances"] ?? []).serialized()
            )
            return (s, try await ServiceStore().saveNode(n, now: now, in: sql))
        }
        // The agent restarted (or another took the host over): what its previous life held goes back on the queue now.
        if let agent = body["agent"]?.stringValue {
            let api = service.api
            try await api.write { sql in
                try await TaskQueue(dialect: api.dialect).release(queue: "compute:\(host)", except: Self.owner(host, agent), in: sql)
            }
            service.signal.notify("compute:\(host)")
        }
        var out: [String: JSON] = ["service": ["id": .int(s.id), "uuid": .string(s.uuid), "disabled": .bool(s.disabled)]]
        if let n { out["node"] = ["uuid": .string(n.uuid), "hypervisor_hostname": .string(n.hypervisorHostname)] }
        return .json(.object(out), status: .created)
    }

    func heartbeat(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "stratus:agent")
        let uuid = try ctx.parameters.require("uuid")
        guard let host = request.query("host") else { throw ComputeError.badRequest("host is required") }
        let db = try await cell(for: host)
        let now = ComputeTime.now()
        let found = try await db.write { sql -> ServiceStore.Service? in
            guard let s = try await ServiceStore().find(uuid: uuid, in: sql) else { return nil }
            try await ServiceStore().heartbeat(s.id, now: now, in: sql)
            return try await ServiceStore().find(uuid: uuid, in: sql)
        }
        guard let s = found else { throw ComputeError.notFound("Service \(uuid) could not be found.") }
        let api = service.api
        let lease = service.settings.leaseSeconds
        try await api.write { sql in
            let queue = TaskQueue(dialect: api.dialect)
            let held = try await queue.held(queue: "compute:\(host)", owner: Self.owner(host, request.query("agent")), in: sql)
            try await queue.renew(
                held.map(\.id),
                owner: Self.owner(host, request.query("agent")),
                until: Date().timeIntervalSince1970 + lease,
                in: sql
            )
        }
        return .json(["service": ["id": .int(s.id), "uuid": .string(s.uuid), "disabled": .bool(s.disabled)]])
    }

    func poll(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "stratus:agent")
        guard let host = request.query("host") else { throw ComputeError.badRequest("host is required") }
        let wait = min(Double(request.query("wait") ?? "0") ?? 0, 30)
        let queueName = "compute:\(host)"
        let api = service.api
        let lease = service.settings.leaseSeconds
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let owner = Self.owner(host, request.query("agent"))
            let ticket = service.signal.ticket(queueName)
            let claimed = try await api.write { sql in
                try await TaskQueue(dialect: api.dialect).claim(queue: queueName, owner: owner, lease: lease, limit: 32, in: sql)
            }
            if !claimed.isEmpty {
                var tasks: [JSON] = []
                for t in claimed {
                    var payload = t.body.objectValue ?? [:]
                    if let uuid = payload["instance"]?.stringValue, let (i, _) = try await ServerLookup(service: service).find(uuid) {
                        payload["record"] = InstanceRecord.json(i)
                    }
                    tasks.append(["id": .string(t.id), "kind": .string(t.kind), "attempts": .int(t.attempts), "payload": .object(payload)])
                }
                return .json(["tasks": .array(tasks)])
            }
            if Date() >= deadline { return .json(["tasks": []]) }
            await service.signal.wait(queueName, since: ticket, seconds: min(0.5, max(0.01, deadline.timeIntervalSinceNow)))
        }
    }

    func result(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "stratus:agent")
        let id = try ctx.parameters.require("id")
        guard let host = request.query("host") else { throw ComputeError.badRequest("host is required") }
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        let api = service.api
        guard let task = try await api.read({ sql in try await TaskQueue(dialect: api.dialect).find(id, in: sql) }),
            task.owner == Self.owner(host, request.query("agent")),
            task.state == "running"
        else {
            // Taken over or finished already: the outcome of a stale worker is not applied twice.
            return .json(["applied": false], status: .conflict)
        }
        try await ComputeResults(service: service).apply(
            task,
            failed: body["failed"]?.boolValue ?? false,
            result: body["result"] ?? .object([:]),
            host: host
        )
        try await api.write { sql in
            let queue = TaskQueue(dialect: api.dialect)
            if try await queue.finish(id, owner: Self.owner(host, request.query("agent")), failed: false, result: .object([:]), in: sql) {
                try await queue.delete(id, in: sql)
            }
        }
        return .json(["applied": true])
    }
}

/// The instance fields a compute agent needs, as it receives them with a task.
enum InstanceRecord {
    static func json(_ i: Instance) -> JSON {
        [
            "uuid": .string(i.uuid), "id": .int(i.id), "name": .string(i.displayName), "project_id": .string(i.projectId),
            "user_id": .string(i.userId), "host": .optional(i.host), "node": .optional(i.node), "flavor": .object(ServerView.object(i.flavor)),
            "request": .object(ServerView.object(i.request)), "network_info": .array(ServerView.array(i.networkInfo)),
            "availability_zone": .optional(i.availabilityZone), "hostname": .string(i.hostname), "vm_state": .string(i.vmState),
            "task_state": .optional(i.taskState), "power_state": .int(i.powerState),
        ]
    }
}
