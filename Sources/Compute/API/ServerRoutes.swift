import Foundation
import Hummingbird
import SQLKit
import StratusAuth
import StratusCore
import StratusStorage

/// `/servers`: boot, list, show, update and delete. A boot writes the API database only (the
/// instance mapping, the build request and the conductor's task, in one transaction); the
/// conductor moves the server into a cell. See docs/decisions.md, "Compute: the boot's writes".
struct ServerRoutes {
    let service: ComputeService

    func add(to routes: inout RouteTable) {
        routes.get("/v2.1/servers") { request, ctx in try await list(request, ctx, detail: false) }
        routes.get("/v2.1/servers/detail") { request, ctx in try await list(request, ctx, detail: true) }
        routes.post("/v2.1/servers") { request, ctx in try await create(request, ctx) }
        routes.get("/v2.1/servers/:id") { request, ctx in try await show(request, ctx) }
        routes.put("/v2.1/servers/:id") { request, ctx in try await update(request, ctx) }
        routes.delete("/v2.1/servers/:id") { request, ctx in try await delete(request, ctx) }
        routes.get("/v2.1/servers/:id/ips") { request, ctx in try await ips(request, ctx) }
        routes.get("/v2.1/servers/:id/ips/:network") { request, ctx in try await ips(request, ctx) }
    }

    func view(_ request: Request, _ ctx: StratusContext) -> ServerView {
        ServerView(
            base: ComputeHTTP.base(request),
            ctx: ctx,
            extended: service.allows(ctx, "os_compute_api:os-extended-server-attributes"),
            flavorExtraSpecs: service.allows(ctx, "os_compute_api:servers:show:flavor-extra-specs")
        )
    }

    // MARK: boot

    func create(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let caller = try ctx.requireCaller()
        try service.authorize(ctx, "os_compute_api:servers:create")
        guard let project = caller.projectID else { throw ComputeError.policy("os_compute_api:servers:create") }
        let body = try await ComputeHTTP.body(request, ctx, "server", alsoAllowed: ["os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"])
        let boot = try BootRequest.parse(body, minor: ctx.computeVersion.minor)
        if case .list = boot.networks { try service.authorize(ctx, "os_compute_api:servers:create:attach_network") }
        let api = service.api
        guard let flavor = try await api.read({ sql in try await FlavorStore().find(boot.flavorRef, in: sql) }) else {
            throw ComputeError.badRequest("Flavor \(boot.flavorRef) could not be found.")
        }
        // A private flavor is usable only by the projects given access (and admins), as it is visible.
        if !flavor.isPublic, !service.allows(ctx, "context_is_admin"),
            try await !api.read({ sql in try await FlavorStore().projects(flavor.id, in: sql) }).contains(project)
        {
            throw ComputeError.badRequest("Flavor \(boot.flavorRef) could not be found.")
        }
        let specs = try await api.read { sql in try await FlavorStore().extraSpecs(flavor.id, in: sql) }
        let image = try await checkImage(boot.imageRef, flavor: flavor, ctx: ctx)
        var keyData: String? = nil
        if let keyName = boot.keyName {
            guard let key = try await api.read({ sql in try await KeypairStore().find(user: caller.userID, name: keyName, in: sql) }) else {
                throw ComputeError.badRequest("Invalid key_name provided.")
            }
            keyData = key.publicKey
        }
        let networks = try await NetworkRequests(service: service, ctx: ctx).resolve(boot.networks, project: project)
        if boot.metadata.count > service.settings.quotas["metadata_items"]! {
            throw OpenStackError(.forbidden, "Maximum number of metadata items exceeds \(service.settings.quotas["metadata_items"]!)")
        }
        let count = try await QuotaCheck(service: service).admit(project: project, flavor: flavor, minCount: boot.minCount, maxCount: boot.maxCount)
        let now = ComputeTime.now()
        let reservation = "r-" + String((0..<8).map { _ in "0123456789abcdefghijklmnopqrstuvwxyz".randomElement()! })
        let zone = boot.availabilityZone ?? service.settings.defaultScheduleZone
        if let zone, zone != service.settings.availabilityZone {
            throw ComputeError.badRequest("The requested availability zone is not available")
        }
        let flavorJSON: JSON = [
            "id": .int(flavor.id), "flavorid": .string(flavor.flavorid), "name": .string(flavor.name), "memory_mb": .int(flavor.memoryMb),
            "vcpus": .int(flavor.vcpus), "root_gb": .int(flavor.rootGb), "ephemeral_gb": .int(flavor.ephemeralGb), "swap": .int(flavor.swap),
            "extra_specs": .object(specs.mapValues { .string($0) }),
        ]
        let groups = boot.securityGroups.isEmpty ? ["default"] : Array(NSOrderedSet(array: boot.securityGroups)) as? [String] ?? ["default"]
        var instances: [Instance] = []
        for index in 0..<count {
            let uuid = UUID().uuidString.lowercased()
            let name = count > 1 ? "\(boot.name)-\(index + 1)" : boot.name
            let requestJSON: JSON = [
                "networks": networks, "availability_zone": .optional(zone), "security_groups": .array(groups.map { .string($0) }),
                "image": .string(boot.imageRef), "image_requirements": image.json,
            ]
            instances.append(
                Instance(
                    uuid: uuid,
                    projectId: project,
                    userId: caller.userID,
                    displayName: name,
                    displayDescription: ctx.atLeast(19) ? boot.description : name,
                    hostname: boot.hostname ?? Hostnames.sanitize(name, fallback: uuid),
                    imageRef: boot.imageRef,
                    flavor: flavorJSON.serialized(),
                    keyName: boot.keyName,
                    keyData: keyData,
                    userData: boot.userData,
                    metadata: JSON.object(boot.metadata.mapValues { .string($0) }).serialized(),
                    vmState: VMState.building.rawValue,
                    taskState: TaskState.scheduling.rawValue,
                    powerState: 0,
                    availabilityZone: zone,
                    createdAt: now,
                    updatedAt: now,
                    launchIndex: Int64(index),
                    reservationId: reservation,
                    networkInfo: "[]",
                    securityGroups: JSON.array(groups.map { .string($0) }).serialized(),
                    accessIpV4: boot.accessIPv4,
                    accessIpV6: boot.accessIPv6,
                    tags: JSON.array(boot.tags.map { .string($0) }).serialized(),
                    request: requestJSON.serialized(),
                    vcpus: flavor.vcpus,
                    memoryMb: flavor.memoryMb
                )
            )
        }
        let token = caller.token
        let requestID = ctx.requestID
        let records = instances
        let tasks = try await api.write { sql in
            var ids: [String] = []
            for i in records {
                try await CellStore().addInstanceMapping(i.uuid, project: project, user: caller.userID, now: now, in: sql)
                try await CellStore().addBuildRequest(i.uuid, project: project, instance: i.encoded(), now: now, in: sql)
                ids.append(
                    try await TaskQueue(dialect: api.dialect).enqueue(
                        queue: "conductor",
                        kind: "build",
                        payload: [
                            "instance": .string(i.uuid), "token": .string(token), "attempt": 1, "exclude": [], "request_id": .string(requestID),
                        ],
                        in: sql
                    )
                )
            }
            return ids
        }
        if service.settings.recheckQuota {
            do {
                try await QuotaCheck(service: service).recheck(project: project, flavor: flavor, count: count)
            } catch {
                await takeBack(records, tasks: tasks, token: token, requestID: requestID)
                throw error
            }
        }
        service.signal.notify("conductor")
        if boot.returnReservationID {
            return .json(["reservation_id": .string(reservation)], status: .accepted)
        }
        let first = instances[0]
        let base = ComputeHTTP.base(request)
        let links = ComputeHTTP.links(base, "servers/\(first.uuid)")
        let password = boot.adminPass ?? String((0..<12).map { _ in "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789".randomElement()! })
        let server: JSON = [
            "id": .string(first.uuid), "links": links, "OS-DCF:diskConfig": "MANUAL",
            "security_groups": .array(groups.map { ["name": .string($0)] }), "adminPass": .string(password),
        ]
        return .json(["server": server], status: .accepted, headers: [.location: "\(base)/v2.1/servers/\(first.uuid)"])
    }

    /// Undoes a boot the quota recheck refused. A server whose build request is still there is
    /// removed whole (mapping, build request, conductor task: a conductor that claimed the task
    /// finds no build request and stops); one a conductor already moved into a cell is deleted as
    /// a user's delete would. A failure here is logged: the caller still answers 403.
    func takeBack(_ records: [Instance], tasks: [String], token: String, requestID: String) async {
        let api = service.api
        do {
            let moved = try await api.write { sql -> [String] in
                var moved: [String] = []
                for i in records {
                    if try await CellStore().deleteBuildRequest(i.uuid, in: sql) {
                        try await CellStore().deleteInstanceMapping(i.uuid, in: sql)
                    } else {
                        moved.append(i.uuid)
                    }
                }
                for id in tasks { try await TaskQueue(dialect: api.dialect).delete(id, in: sql) }
                return moved
            }
            for uuid in moved {
                if let (i, _) = try await ServerLookup(service: service).find(uuid) {
                    try await ServerDeletion(service: service).delete(i, token: token, requestID: requestID)
                }
            }
        } catch {
            service.logger.error("taking back a boot over quota failed: \(error)")
        }
    }

    /// The image must exist for the caller, be active and fit the flavor; returns what the
    /// scheduler will need of it.
    func checkImage(_ id: String, flavor: FlavorStore.Flavor, ctx: StratusContext) async throws -> ImageRequirements {
        let caller = try ctx.requireCaller()
        let reply: ServiceClient.Reply
        do {
            reply = try await service.clients.image.send(.get, "/v2/images/\(id)", onBehalfOf: caller.token, requestID: ctx.requestID)
        } catch {
            throw OpenStackError(.serviceUnavailable, "The image service is unavailable.")
        }
        guard reply.status == 200, let image = reply.json else { throw ComputeError.badRequest("Can not find requested image") }
        guard image["status"]?.stringValue == "active" else { throw ComputeError.badRequest("Image \(id) is not active.") }
        let gib: Int64 = 1 << 30
        let flavorBytes = flavor.rootGb * gib
        if flavor.rootGb > 0 {
            if let size = image["size"]?.intValue, size > flavorBytes {
                throw ComputeError.badRequest(
                    "Flavor's disk is too small for requested image. Flavor disk is \(flavorBytes) bytes, image is \(size) bytes."
                )
            }
            if let minDisk = image["min_disk"]?.intValue, minDisk * gib > flavorBytes {
                throw ComputeError.badRequest(
                    "Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is \(flavorBytes) bytes, minimum size is \(minDisk * gib) bytes."
                )
            }
        }
        if let minRAM = image["min_ram"]?.intValue, minRAM > flavor.memoryMb {
            throw ComputeError.badRequest("Flavor's memory is too small for requested image.")
        }
        return ImageRequirements(image: image)
    }

    // MARK: read

    /// The server as the caller may see it: 404 for another project's (unless admin).
    func load(
        _ id: String,
        _ ctx: StratusContext,
        allowDeleted: Bool = false
    ) async throws -> (Instance, (code: Int, message: String, details: String, created: String)?) {
        let caller = try ctx.requireCaller()
        guard let found = try await ServerLookup(service: service).find(id) else { throw ComputeError.instanceNotFound(id) }
        let admin = service.allows(ctx, "context_is_admin")
        if !admin, found.instance.projectId != caller.projectID { throw ComputeError.instanceNotFound(id) }
        if found.instance.deleted != 0, !allowDeleted { throw ComputeError.instanceNotFound(id) }
        return (found.instance, found.fault)
    }

    func show(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let (i, fault) = try await load(id, ctx)
        if i.deleted != 0 { throw ComputeError.instanceNotFound(id) }
        try service.authorize(ctx, "os_compute_api:servers:show", ["project_id": .string(i.projectId)])
        return .json(["server": view(request, ctx).single(i, fault: fault)])
    }

    /// `GET /servers/{id}/ips[/{network}]`: the addresses by network.
    func ips(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let (i, _) = try await load(id, ctx)
        if i.deleted != 0 { throw ComputeError.instanceNotFound(id) }
        try service.authorize(ctx, "os_compute_api:ips:index", ["project_id": .string(i.projectId)])
        var addresses: [String: JSON] = [:]
        for (net, list) in ServerView.addresses(i).objectValue ?? [:] {
            addresses[net] = .array((list.arrayValue ?? []).map { ["version": $0["version"] ?? 4, "addr": $0["addr"] ?? ""] })
        }
        if let network = ctx.parameters.get("network") {
            guard let list = addresses[network] else { throw ComputeError.notFound("Instance is not a member of specified network") }
            return .json([network: list])
        }
        return .json(["addresses": .object(addresses)])
    }

    func list(_ request: Request, _ ctx: StratusContext, detail: Bool) async throws -> Response {
        let caller = try ctx.requireCaller()
        let action = detail ? "os_compute_api:servers:detail" : "os_compute_api:servers:index"
        try service.authorize(ctx, action)
        var query = InstanceQuery(project: caller.projectID)
        if let all = request.query("all_tenants") {
            let on = all.isEmpty || ["true", "1", "yes", "on", "t", "y"].contains(all.lowercased())
            if on {
                try service.authorize(ctx, action + ":get_all_tenants")
                query.project = request.query("project_id") ?? request.query("tenant_id")
            }
        }
        let admin = service.allows(ctx, "context_is_admin")
        if let deleted = request.query("deleted"), ["true", "1", "yes", "on"].contains(deleted.lowercased()) {
            guard admin else { throw OpenStackError(.forbidden, "Only administrators may list deleted instances") }
            query.deleted = true
        }
        var taskStates: [String]? = nil
        let statuses: [String] = request.uri.queryParameters.getAll("status").map { String($0) }
        if !statuses.isEmpty {
            guard let filter = InstanceState.filter(forStatuses: statuses) else {
                if ctx.atLeast(38) { throw ComputeError.badRequest(InstanceState.invalidStatusMessage) }
                return .json(["servers": []])
            }
            if statuses.contains(where: { $0.uppercased() == "DELETED" }) {
                guard admin else { throw OpenStackError(.forbidden, "Only administrators may list deleted instances") }
                query.deleted = true
            }
            query.vmStates = filter.vmStates.map { $0.rawValue }
            taskStates = filter.taskStates?.map { $0.rawValue }
        }
        if let since = request.query("changes-since") {
            guard let d = ComputeTime.parse(since) else { throw ComputeError.badRequest("Invalid filter field: changes-since.") }
            query.changesSince = ComputeTime.stamp(d)
        }
        if let before = request.query("changes-before"), ctx.atLeast(66) {
            guard let d = ComputeTime.parse(before) else { throw ComputeError.badRequest("Invalid filter field: changes-before.") }
            query.changesBefore = ComputeTime.stamp(d)
        }
        query.image = request.query("image")
        if ctx.atLeast(75) {
            var known: Set<String> = [
                "reservation_id", "name", "status", "image", "flavor", "ip", "changes-since", "all_tenants", "ip6", "tags", "tags-any",
                "not-tags", "not-tags-any", "changes-before", "locked", "availability_zone", "config_drive", "key_name", "created_at",
                "launched_at", "terminated_at", "power_state", "task_state", "vm_state", "progress", "user_id", "hostname", "limit", "marker",
                "sort_key", "sort_dir", "host", "node", "project_id", "tenant_id", "deleted", "soft_deleted", "uuid", "launch_index",
                "kernel_id", "ramdisk_id", "description", "locked_by", "root_device_name", "access_ip_v4", "access_ip_v6",
                "auto_disk_config", "display_name", "image_ref", "display_description", "created", "updated",
            ]
            if !ctx.atLeast(90) { known.remove("hostname") }
            if let unknown = request.queryItems.map(\.0).first(where: { !known.contains($0) }) {
                throw ComputeError.badRequest(
                    "Invalid input for query parameters \(unknown). Value: \(request.query(unknown) ?? ""). Additional properties are not allowed ('\(unknown)' was unexpected)"
                )
            }
        }
        let reservation = request.query("reservation_id")
        if admin { query.host = request.query("host") }
        let page = try ComputeHTTP.page(request)
        let limit = min(page.limit ?? 1000, 1000)
        let nameRegex = try request.query("name").map { try Regex($0) }
        let flavor = request.query("flavor")
        let ip = request.query("ip")
        let tags = request.query("tags").map { $0.split(separator: ",").map(String.init) }
        let tagsAny = request.query("tags-any").map { $0.split(separator: ",").map(String.init) }
        // Without filters SQL cannot apply, the page is cut in SQL (keyset from the marker's row).
        let sortKeys = request.uri.queryParameters.getAll("sort_key").map { String($0) }
        let sortDirs = request.uri.queryParameters.getAll("sort_dir").map { String($0) }
        for key in sortKeys where ["host", "node"].contains(key) && !admin {
            throw OpenStackError(.forbidden, "Only administrators can sort servers by \(key)")
        }
        let sqlPage =
            sortKeys.isEmpty && reservation == nil && taskStates == nil && nameRegex == nil && flavor == nil && ip == nil && tags == nil
            && tagsAny == nil
        if sqlPage {
            query.limit = limit + 1
            if let marker = page.marker {
                guard let (m, _) = try await ServerLookup(service: service).find(marker) else {
                    throw ComputeError.badRequest("marker [\(marker)] not found")
                }
                query.after = (m.createdAt, m.uuid)
            }
        }
        var servers = try await ServerLookup(service: service).list(query, buildRequests: !query.deleted)
        servers = servers.filter { i in
            if let reservation, i.reservationId != reservation { return false }
            if let taskStates, !taskStates.contains(i.taskState ?? "") { return false }
            if let nameRegex, (try? nameRegex.firstMatch(in: i.displayName)) == nil { return false }
            if let flavor, ServerView.object(i.flavor)["flavorid"]?.stringValue != flavor { return false }
            if let ip,
                !ServerView.array(i.networkInfo).contains(where: { vif in
                    (vif["ips"]?.arrayValue ?? []).contains { ($0["address"]?.stringValue ?? "").contains(ip) }
                })
            {
                return false
            }
            let own = Set(ServerView.array(i.tags).compactMap(\.stringValue))
            if let tags, !Set(tags).isSubset(of: own) { return false }
            if let tagsAny, own.isDisjoint(with: tagsAny) { return false }
            return true
        }
        if !sortKeys.isEmpty { servers = ServerSort.sorted(servers, keys: sortKeys, directions: sortDirs) }
        if !sqlPage, let marker = page.marker {
            guard let at = servers.firstIndex(where: { $0.uuid == marker }) else { throw ComputeError.badRequest("marker [\(marker)] not found") }
            servers = Array(servers[(at + 1)...])
        }
        let more = servers.count > limit
        servers = Array(servers.prefix(limit))
        let v = view(request, ctx)
        var faults: [String: (code: Int, message: String, details: String, created: String)] = [:]
        if detail { faults = try await ServerLookup(service: service).faults(servers.filter { $0.vmState == "error" }) }
        var body: [String: JSON] = ["servers": .array(servers.map { detail ? v.full($0, fault: faults[$0.uuid]) : v.brief($0) })]
        if more || (page.limit != nil && servers.count == limit && limit > 0), let last = servers.last {
            let path = detail ? "servers/detail" : "servers"
            body["servers_links"] = [
                ["rel": "next", "href": .string("\(ComputeHTTP.base(request))/v2.1/\(path)?limit=\(limit)&marker=\(last.uuid)")]
            ]
        }
        return .json(.object(body))
    }

    // MARK: update and delete

    func update(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let (i, fault) = try await load(id, ctx)
        try service.authorize(ctx, "os_compute_api:servers:update", ["project_id": .string(i.projectId), "user_id": .string(i.userId)])
        let body = try await ComputeHTTP.body(request, ctx, "server")
        var allowed: Set<String> = ["name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"]
        if ctx.atLeast(19) { allowed.insert("description") }
        if ctx.atLeast(90) { allowed.insert("hostname") }
        if let extra = body.keys.sorted().first(where: { !allowed.contains($0) }) { throw BootRequest.extraProperty(body, extra) }
        var values: [String: any SQLExpression] = [:]
        if let name = try BootRequest.string(body, "name", min: 1) { values["display_name"] = SQLBind(name) }
        if body["description"] != nil { values["display_description"] = SQLBind(try BootRequest.string(body, "description")) }
        if let v4 = try BootRequest.string(body, "accessIPv4") { values["access_ip_v4"] = SQLBind(v4) }
        if let v6 = try BootRequest.string(body, "accessIPv6") { values["access_ip_v6"] = SQLBind(v6) }
        if let h = try BootRequest.string(body, "hostname", max: 63, min: 1) { values["hostname"] = SQLBind(h) }
        var updated = i
        if !values.isEmpty, i.host != nil || i.vmState != VMState.building.rawValue || i.taskState != TaskState.scheduling.rawValue {
            if let (_, db) = try await ServerLookup(service: service).cell(of: id) {
                let fields = values
                try await db.write { sql in _ = try await InstanceStore().update(id, fields, now: ComputeTime.now(), in: sql) }
                updated = try await db.read { sql in try await InstanceStore().find(id, in: sql) } ?? i
            }
        }
        return .json(["server": view(request, ctx).updated(updated, fault: fault)])
    }

    func delete(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let (i, _) = try await load(id, ctx)
        if i.deleted != 0 { throw ComputeError.instanceNotFound(id) }
        try service.authorize(ctx, "os_compute_api:servers:delete", ["project_id": .string(i.projectId), "user_id": .string(i.userId)])
        if i.locked, !service.allows(ctx, "context_is_admin") { throw ComputeError.conflict("Instance \(id) is locked") }
        try await ServerDeletion(service: service).delete(i, token: try ctx.requireCaller().token, requestID: ctx.requestID)
        return .empty(.noContent)
    }
}

/// Hostnames as nova derives them from a display name (lowercase letters, digits and dashes).
enum Hostnames {
    static func sanitize(_ name: String, fallback: String) -> String {
        var out = ""
        for c in name.lowercased() {
            if c.isASCII, c.isLetter || c.isNumber || c == "-" { out.append(c) } else if c == " " || c == "_" || c == "." { out.append("-") }
        }
        while out.hasPrefix("-") { out.removeFirst() }
        while out.hasSuffix("-") { out.removeLast() }
        out = String(out.prefix(63))
        return out.isEmpty ? "server-" + fallback : out
    }
}

/// `sort_key` / `sort_dir` on server lists (several keys, each with its direction, `desc` by
/// default as nova); keys nova accepts but Stratus does not keep sort as equal.
enum ServerSort {
    static func value(_ i: Instance, _ key: String) -> String {
        switch key {
        case "display_name": i.displayName
        case "display_description": i.displayDescription ?? ""
        case "created_at": i.createdAt
        case "updated_at": i.updatedAt ?? ""
        case "launched_at": i.launchedAt ?? ""
        case "terminated_at": i.terminatedAt ?? ""
        case "vm_state": i.vmState
        case "task_state": i.taskState ?? ""
        case "power_state": String(i.powerState)
        case "host": i.host ?? ""
        case "node": i.node ?? ""
        case "uuid": i.uuid
        case "hostname": i.hostname
        case "availability_zone": i.availabilityZone ?? ""
        case "key_name": i.keyName ?? ""
        case "project_id": i.projectId
        case "user_id": i.userId
        case "image_ref": i.imageRef
        case "launch_index": String(format: "%010d", i.launchIndex)
        default: ""
        }
    }

    static func sorted(_ servers: [Instance], keys: [String], directions: [String]) -> [Instance] {
        servers.sorted { a, b in
            for (n, key) in keys.enumerated() {
                let (x, y) = (value(a, key), value(b, key))
                if x == y { continue }
                let ascending = (n < directions.count ? directions[n] : "desc") == "asc"
                return ascending ? x < y : x > y
            }
            return (a.createdAt, a.uuid) > (b.createdAt, b.uuid)
        }
    }
}
