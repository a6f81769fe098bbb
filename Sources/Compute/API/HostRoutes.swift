import Foundation
import Hummingbird
import StratusCore
import StratusStorage

/// os-services, os-hypervisors and os-availability-zone: what the cells know of their hosts.
struct HostRoutes {
    let service: ComputeService

    func add(to routes: inout RouteTable) {
        routes.get("/v2.1/os-services") { request, ctx in try await services(request, ctx) }
        routes.put("/v2.1/os-services/:id") { request, ctx in try await updateService(request, ctx) }
        routes.delete("/v2.1/os-services/:id") { request, ctx in try await deleteService(request, ctx) }
        routes.get("/v2.1/os-hypervisors") { request, ctx in try await hypervisors(request, ctx, detail: false) }
        routes.get("/v2.1/os-hypervisors/detail") { request, ctx in try await hypervisors(request, ctx, detail: true) }
        routes.get("/v2.1/os-hypervisors/statistics") { request, ctx in try await statistics(request, ctx) }
        routes.get("/v2.1/os-hypervisors/:id") { request, ctx in try await hypervisor(request, ctx) }
        routes.get("/v2.1/os-hypervisors/:id/servers") { request, ctx in try await search(request, ctx, servers: true) }
        routes.get("/v2.1/os-hypervisors/:id/search") { request, ctx in try await search(request, ctx, servers: false) }
        routes.get("/v2.1/os-availability-zone") { request, ctx in try await zones(request, ctx, detail: false) }
        routes.get("/v2.1/os-availability-zone/detail") { request, ctx in try await zones(request, ctx, detail: true) }
    }

    /// Every service of every cell with its cell's database.
    func allServices() async throws -> [(ServiceStore.Service, Database)] {
        var out: [(ServiceStore.Service, Database)] = []
        for (cell, db) in try await service.allCells() where cell.uuid != CellStore.cell0UUID {
            out += try await db.read { sql in try await ServiceStore().list(in: sql) }.map { ($0, db) }
        }
        return out
    }

    func zone(_ s: ServiceStore.Service) -> String { s.binaryName == "nova-compute" ? service.settings.availabilityZone : "internal" }

    func serviceView(_ s: ServiceStore.Service, _ ctx: StratusContext) -> JSON {
        let up = ServiceLiveness.isUp(s, downTime: service.settings.serviceDownTime)
        var v: [String: JSON] = [
            "id": ctx.atLeast(53) ? .string(s.uuid) : .int(s.id), "binary": .string(s.binaryName), "host": .string(s.host),
            "zone": .string(zone(s)), "status": s.disabled ? "disabled" : "enabled", "state": up ? "up" : "down",
            "updated_at": ComputeTime.micro(s.updatedAt), "disabled_reason": .optional(s.disabledReason),
        ]
        if ctx.atLeast(11) { v["forced_down"] = .bool(s.forcedDown) }
        return .object(v)
    }

    func services(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-services:list")
        let binary = request.query("binary")
        let host = request.query("host")
        let all = try await allServices().map(\.0).filter { (binary == nil || $0.binaryName == binary) && (host == nil || $0.host == host) }
        return .json(["services": .array(all.map { serviceView($0, ctx) })])
    }

    func findService(_ id: String, _ ctx: StratusContext) async throws -> (ServiceStore.Service, Database) {
        for (s, db) in try await allServices() where (ctx.atLeast(53) ? s.uuid == id : String(s.id) == id) { return (s, db) }
        if ctx.atLeast(53), UUID(uuidString: id) == nil { throw ComputeError.badRequest("Invalid uuid \(id)") }
        throw ComputeError.notFound("Service \(id) could not be found.")
    }

    func updateService(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-services:update")
        let id = try ctx.parameters.require("id")
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        let now = ComputeTime.now()
        if ctx.atLeast(53) {
            let (s, db) = try await findService(id, ctx)
            let status = body["status"]?.stringValue
            let reason = body["disabled_reason"]?.stringValue
            let forced = body["forced_down"]?.boolValue
            if status == nil, forced == nil {
                throw ComputeError.badRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.")
            }
            if status == "enabled", reason != nil { throw ComputeError.badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.") }
            if s.binaryName != "nova-compute" {
                throw ComputeError.badRequest("Updating a \(s.binaryName) service is not supported. Only nova-compute services can be updated.")
            }
            let disabled = status.map { $0 == "disabled" }
            let newReason: String?? = status == nil ? nil : (status == "enabled" ? .some(nil) : .some(reason))
            try await db.write { sql in
                try await ServiceStore().setStatus(s.id, disabled: disabled, reason: newReason, forcedDown: forced, now: now, in: sql)
            }
            let fresh = try await db.read { sql in try await ServiceStore().find(id: s.id, in: sql) }!
            return .json(["service": serviceView(fresh, ctx)])
        }
        // Before 2.53: PUT /os-services/{enable|disable|disable-log-reason|force-down} with host and binary.
        guard let host = body["host"]?.stringValue, let binary = body["binary"]?.stringValue else {
            throw ComputeError.badRequest("Invalid input for field/attribute host. Value: None. 'host' is a required property")
        }
        guard let (s, db) = try await allServices().first(where: { $0.0.host == host && $0.0.binaryName == binary }) else {
            throw ComputeError.notFound("Host '\(host)' is not mapped to any cell")
        }
        switch id {
        case "enable":
            try await db.write { sql in
                try await ServiceStore().setStatus(s.id, disabled: false, reason: .some(nil), forcedDown: nil, now: now, in: sql)
            }
            return .json(["service": ["host": .string(host), "binary": .string(binary), "status": "enabled"]])
        case "disable", "disable-log-reason":
            let reason = body["disabled_reason"]?.stringValue
            if id == "disable-log-reason", reason == nil { throw ComputeError.badRequest("Missing disabled reason field") }
            try await db.write { sql in
                try await ServiceStore().setStatus(s.id, disabled: true, reason: .some(reason), forcedDown: nil, now: now, in: sql)
            }
            var v: [String: JSON] = ["host": .string(host), "binary": .string(binary), "status": "disabled"]
            if let reason { v["disabled_reason"] = .string(reason) }
            return .json(["service": .object(v)])
        case "force-down" where ctx.atLeast(11):
            let forced = body["forced_down"]?.boolValue ?? false
            try await db.write { sql in try await ServiceStore().setStatus(s.id, disabled: nil, reason: nil, forcedDown: forced, now: now, in: sql) }
            return .json(["service": ["host": .string(host), "binary": .string(binary), "forced_down": .bool(forced)]])
        default:
            throw ComputeError.notFound("Unknown action")
        }
    }

    func deleteService(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-services:delete")
        let id = try ctx.parameters.require("id")
        let (s, db) = try await findService(id, ctx)
        if s.binaryName == "nova-compute" {
            let hosted = try await db.read { sql in try await InstanceStore().list(InstanceQuery(project: nil, host: s.host), in: sql) }
            if !hosted.isEmpty {
                throw ComputeError.conflict("Unable to delete compute service that is hosting instances. Migrate or delete the instances first.")
            }
        }
        try await db.write { sql in try await ServiceStore().delete(s.id, in: sql) }
        return .empty(.noContent)
    }

    func nodes() async throws -> [(ServiceStore.Node, ServiceStore.Service?, Database)] {
        var out: [(ServiceStore.Node, ServiceStore.Service?, Database)] = []
        for (cell, db) in try await service.allCells() where cell.uuid != CellStore.cell0UUID {
            let (nodes, services) = try await db.read { sql in (try await ServiceStore().nodes(in: sql), try await ServiceStore().list(in: sql)) }
            out += nodes.map { n in (n, services.first { $0.id == n.serviceId }, db) }
        }
        return out
    }

    func hypervisorView(_ n: ServiceStore.Node, _ s: ServiceStore.Service?, db: Database, ctx: StratusContext, detail: Bool) async throws -> JSON {
        let up = s.map { ServiceLiveness.isUp($0, downTime: service.settings.serviceDownTime) } ?? false
        var v: [String: JSON] = [
            "id": ctx.atLeast(53) ? .string(n.uuid) : .int(n.id), "hypervisor_hostname": .string(n.hypervisorHostname),
            "state": up ? "up" : "down", "status": (s?.disabled ?? false) ? "disabled" : "enabled",
        ]
        guard detail else { return .object(v) }
        v["hypervisor_type"] = .string(n.hypervisorType)
        v["hypervisor_version"] = .int(n.hypervisorVersion)
        v["host_ip"] = .string(n.hostIp)
        v["service"] = [
            "id": ctx.atLeast(53) ? .optional(s?.uuid) : .int(n.serviceId), "host": .string(n.host), "disabled_reason": .optional(s?.disabledReason),
        ]
        if ctx.atLeast(88) {
            v["uptime"] = .null
        } else {
            let hosted = try await db.read { sql in try await InstanceStore().list(InstanceQuery(project: nil, host: n.host), in: sql) }
            var cpus: Int64 = 0
            var ram: Int64 = 0
            var disk: Int64 = 0
            for i in hosted {
                let f = ServerView.object(i.flavor)
                cpus += f["vcpus"]?.intValue ?? 0
                ram += f["memory_mb"]?.intValue ?? 0
                disk += (f["root_gb"]?.intValue ?? 0) + (f["ephemeral_gb"]?.intValue ?? 0)
            }
            ram += Int64(service.settings.reservedMemoryMB)
            v["vcpus"] = .int(n.vcpus)
            v["memory_mb"] = .int(n.memoryMb)
            v["local_gb"] = .int(n.localGb)
            v["vcpus_used"] = .int(cpus)
            v["memory_mb_used"] = .int(ram)
            v["local_gb_used"] = .int(disk)
            v["free_ram_mb"] = .int(n.memoryMb - ram)
            v["free_disk_gb"] = .int(n.localGb - disk)
            v["current_workload"] = .int(0)
            v["running_vms"] = .int(Int64(hosted.count))
            v["disk_available_least"] = .int(n.localGb - disk)
            v["cpu_info"] = ctx.atLeast(28) ? .object([:]) : "{}"
        }
        return .object(v)
    }

    /// `with_servers` (2.53+): whether to add the `servers` of each hypervisor.
    func withServers(_ request: Request, _ ctx: StratusContext) throws -> Bool {
        guard ctx.atLeast(53), let raw = request.query("with_servers") else { return false }
        let yes = ["True", "true", "TRUE", "1", "on", "On", "ON", "yes", "Yes", "YES"]
        let no = ["False", "false", "FALSE", "0", "off", "Off", "OFF", "no", "No", "NO"]
        if yes.contains(raw) { return true }
        if no.contains(raw) { return false }
        throw ComputeError.badRequest(
            "Invalid input for query parameters with_servers. Value: \(raw). '\(raw)' is not one of \(ComputeError.pythonRepr(.array((yes + no).map { .string($0) })))"
        )
    }

    /// `servers` of a hypervisor view: its host's live servers as `{name, uuid}`. Left out when
    /// there are none, except from 2.75 when asked for (`always`).
    func addServers(_ view: JSON, _ n: ServiceStore.Node, db: Database, always: Bool) async throws -> JSON {
        let hosted = try await db.read { sql in try await InstanceStore().list(InstanceQuery(project: nil, host: n.host), in: sql) }
        guard !hosted.isEmpty || always, var v = view.objectValue else { return view }
        // nova lists the instance's name (`instance-%08x`), not its display name.
        v["servers"] = .array(hosted.map { ["name": .string(ServerView.instanceName($0)), "uuid": .string($0.uuid)] })
        return .object(v)
    }

    func hypervisors(_ request: Request, _ ctx: StratusContext, detail: Bool) async throws -> Response {
        try service.authorize(ctx, detail ? "os_compute_api:os-hypervisors:list-detail" : "os_compute_api:os-hypervisors:list")
        let servers = try withServers(request, ctx)
        var out: [JSON] = []
        let pattern = request.query("hypervisor_hostname_pattern")
        if pattern != nil, ctx.atLeast(53), request.query("limit") != nil || request.query("marker") != nil {
            throw ComputeError.badRequest("Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.")
        }
        for (n, s, db) in try await nodes() {
            if let pattern, !n.hypervisorHostname.contains(pattern) { continue }
            let view = try await hypervisorView(n, s, db: db, ctx: ctx, detail: detail)
            out.append(servers ? try await addServers(view, n, db: db, always: ctx.atLeast(75)) : view)
        }
        if let pattern, out.isEmpty { throw ComputeError.notFound("No hypervisor matching '\(pattern)' could be found.") }
        return .json(["hypervisors": .array(out)])
    }

    /// Before 2.53: hypervisors whose hostname contains the pattern, with their servers (`servers`)
    /// or without (`search`); from 2.53 these paths are gone (query parameters replace them).
    func search(_ request: Request, _ ctx: StratusContext, servers: Bool) async throws -> Response {
        guard !ctx.atLeast(53) else { throw ComputeError.notFound("The resource could not be found.") }
        try service.authorize(ctx, servers ? "os_compute_api:os-hypervisors:servers" : "os_compute_api:os-hypervisors:search")
        let pattern = try ctx.parameters.require("id")
        var out: [JSON] = []
        for (n, s, db) in try await nodes() where n.hypervisorHostname.contains(pattern) {
            let view = try await hypervisorView(n, s, db: db, ctx: ctx, detail: false)
            out.append(servers ? try await addServers(view, n, db: db, always: false) : view)
        }
        if out.isEmpty { throw ComputeError.notFound("No hypervisor matching '\(pattern)' could be found.") }
        return .json(["hypervisors": .array(out)])
    }

    func hypervisor(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-hypervisors:show")
        let id = try ctx.parameters.require("id")
        let servers = try withServers(request, ctx)
        for (n, s, db) in try await nodes() where (ctx.atLeast(53) ? n.uuid == id : String(n.id) == id) {
            let view = try await hypervisorView(n, s, db: db, ctx: ctx, detail: true)
            return .json(["hypervisor": servers ? try await addServers(view, n, db: db, always: ctx.atLeast(75)) : view])
        }
        if ctx.atLeast(53), UUID(uuidString: id) == nil { throw ComputeError.badRequest("Invalid uuid \(id)") }
        throw ComputeError.notFound("Hypervisor with ID '\(id)' could not be found.")
    }

    func statistics(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        guard !ctx.atLeast(88) else { throw ComputeError.notFound("The resource could not be found.") }
        try service.authorize(ctx, "os_compute_api:os-hypervisors:statistics")
        let keys = [
            "vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "free_ram_mb", "free_disk_gb", "current_workload",
            "running_vms", "disk_available_least",
        ]
        var totals = Dictionary(uniqueKeysWithValues: keys.map { ($0, Int64(0)) })
        var count: Int64 = 0
        for (n, s, db) in try await nodes() {
            count += 1
            let v = try await hypervisorView(n, s, db: db, ctx: ctx, detail: true)
            for k in keys { totals[k]! += v[k]?.intValue ?? 0 }
        }
        var out = totals.mapValues { JSON.int($0) }
        out["count"] = .int(count)
        return .json(["hypervisor_statistics": .object(out)])
    }

    func zones(_ request: Request, _ ctx: StratusContext, detail: Bool) async throws -> Response {
        try service.authorize(ctx, detail ? "os_compute_api:os-availability-zone:detail" : "os_compute_api:os-availability-zone:list")
        let all = try await allServices().map(\.0)
        var zones: [String: [ServiceStore.Service]] = [:]
        for s in all where !s.disabled { zones[zone(s), default: []].append(s) }
        if !detail { zones["internal"] = nil }
        let out: [JSON] = zones.keys.sorted().map { name in
            let members = zones[name]!
            let available = members.contains { ServiceLiveness.isUp($0, downTime: service.settings.serviceDownTime) }
            var hosts: JSON = .null
            if detail {
                var h: [String: JSON] = [:]
                for s in members {
                    var entry = h[s.host]?.objectValue ?? [:]
                    entry[s.binaryName] = [
                        "available": .bool(ServiceLiveness.isUp(s, downTime: service.settings.serviceDownTime)), "active": .bool(!s.disabled),
                        "updated_at": ComputeTime.micro(s.updatedAt),
                    ]
                    h[s.host] = .object(entry)
                }
                hosts = .object(h)
            }
            return ["zoneName": .string(name), "zoneState": ["available": .bool(available)], "hosts": hosts]
        }
        return .json(["availabilityZoneInfo": .array(out)])
    }
}
