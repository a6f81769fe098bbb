import Hummingbird
import SQLKit
import StratusCore

/// `/v2.0/networks`: networks with their ML2 segment (provider attributes), sharing and
/// `router:external`.
struct NetworkRoutes {
    let service: NetworkService
    let kind = ResourceKind.network
    var store: RecordStore { RecordStore(kind) }

    static let rules: [AttributeRule] = [
        AttributeRule("name", .string(max: 255), default: ""),
        AttributeRule("admin_state_up", .bool, default: true),
        AttributeRule("shared", .bool, default: false),
        AttributeRule("router:external", .bool, default: false),
        AttributeRule("is_default", .bool, default: false),
        AttributeRule("mtu", .int, default: .null),
        AttributeRule("provider:network_type", .nullableString(max: 32), default: .null),
        AttributeRule("provider:physical_network", .nullableString(max: 64), default: .null),
        AttributeRule("provider:segmentation_id", .any, default: .null),
        AttributeRule("port_security_enabled", .bool, default: true),
        AttributeRule("availability_zone_hints", .list, put: false, default: []),
        AttributeRule("dns_domain", .string(max: 255), default: ""),
        AttributeRule("status", .string(max: 16), post: false, put: false),
        AttributeRule("subnets", .list, post: false, put: false),
        AttributeRule("qos_policy_id", .nullableUUID, default: .null),
    ]

    func add(to routes: inout RouteTable) {
        routes.get("/v2.0/networks") { request, ctx in try await list(request, ctx) }
        routes.post("/v2.0/networks") { request, ctx in try await create(request, ctx) }
        routes.get("/v2.0/networks/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let view = try await service.read { sql in
                let r = try await service.visible(kind, id, ctx, in: sql)
                return try await views([r], in: sql)[0]
            }
            return NetworkHTTP.one("network", service.visibleAttributes(ctx, kind, view), fields: NetworkHTTP.fields(request))
        }
        routes.put("/v2.0/networks/{id}") { request, ctx in try await update(request, ctx) }
        routes.delete("/v2.0/networks/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            try await service.write { sql in try await delete(id, ctx, request, in: sql) }
            return .empty()
        }
    }

    func list(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let query = try ListQuery(request, kind: kind, extraFilters: ["subnets"], maxLimit: service.settings.maxPage)
        let items = try await service.read { sql in
            var extra = try service.listScope(ctx, orTrue: ["shared", "external"], orIDs: try await service.grantedNetworks(ctx, in: sql))
            if let subnets = query.extra["subnets"] {
                let ids = try await RecordStore(.subnet).list([.idIn(subnets)], in: sql).compactMap { $0["network_id"]?.stringValue }
                extra.append(.idIn(ids))
            }
            let records = try await service.effective(try await query.run(store, extraConditions: extra, in: sql), ctx, in: sql)
            return try await views(records, in: sql)
        }
        let visible = items.filter { service.allows(ctx, "get_network", $0) }.map { service.visibleAttributes(ctx, kind, $0) }
        return query.response(request, views: visible)
    }

    /// Stored records as neutron shows them: subnets, zones, scopes, tags.
    func views(_ records: [[String: JSON]], in sql: any SQLDatabase) async throws -> [[String: JSON]] {
        let ids = records.compactMap { $0["id"]?.stringValue }
        var subnets: [String: [String]] = [:]
        if !ids.isEmpty {
            for s in try await RecordStore(.subnet).list([.oneOf(ResourceKind.subnet.attribute("network_id")!, ids.map(JSON.string))], in: sql) {
                subnets[s["network_id"]?.stringValue ?? "", default: []].append(s["id"]?.stringValue ?? "")
            }
        }
        return try await service.decorate(kind, records, in: sql).map { r in
            var v = r
            v["subnets"] = .array((subnets[r["id"]?.stringValue ?? ""] ?? []).map(JSON.string))
            v["availability_zones"] = .array([])
            v["ipv4_address_scope"] = .null
            v["ipv6_address_scope"] = .null
            v["l2_adjacency"] = true
            v["qos_policy_id"] = .null
            if v["dns_domain"]?.stringValue == nil { v["dns_domain"] = "" }
            return v
        }
    }

    func create(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let raw = try await NetworkHTTP.body(request, ctx, key: "network")
        var body = try RequestRules.apply(raw, rules: Self.rules, creating: true)
        let project = try service.owner(ctx, body)
        body["project_id"] = .string(project)
        try service.authorize(ctx, "create_network", body, body: raw)
        let segment = try requestedSegment(body)
        if let mtu = body["mtu"]?.intValue, mtu > service.settings.mtu(for: segment?.type ?? service.settings.tenantNetworkTypes.first) {
            throw NetworkError.invalidInput(
                "Requested MTU is too big, maximum is \(service.settings.mtu(for: segment?.type ?? service.settings.tenantNetworkTypes.first))"
            )
        }
        body.removeValue(forKey: "qos_policy_id")
        let view = try await service.write { [body] sql in
            try await service.checkQuota(kind, project: project, in: sql)
            var record = NetworkService.stamped(body)
            let id = record["id"]!.stringValue!
            record["status"] = "ACTIVE"
            // The network row first: the segment allocation references it.
            record["provider:network_type"] = .null
            record["mtu"] = body["mtu"]?.intValue.map(JSON.int) ?? 0
            try await store.insert(record, in: sql)
            let allocated = try await allocate(segment, network: id, in: sql)
            var changes: [String: JSON] = [
                "provider:network_type": .optional(allocated.type), "provider:physical_network": .optional(allocated.physnet),
                "provider:segmentation_id": allocated.id.map(JSON.int) ?? .null, "updated_at": record["updated_at"]!,
            ]
            if body["mtu"]?.intValue == nil { changes["mtu"] = .int(service.settings.mtu(for: allocated.type)) }
            // The segment's columns: revision 1, as neutron's network after its segment is added.
            try await store.update(id, changes, in: sql)
            try await syncWildcards(id, project: project, in: sql)
            return try await views([try await store.find(id, in: sql)!], in: sql)[0]
        }
        return NetworkHTTP.one("network", service.visibleAttributes(ctx, kind, view), status: .created)
    }

    func requestedSegment(_ body: [String: JSON]) throws -> Segments.Request? {
        let type = body["provider:network_type"]?.stringValue
        let physnet = body["provider:physical_network"]?.stringValue
        var id: Int64? = nil
        if let v = body["provider:segmentation_id"], !v.isNull {
            guard let i = v.intValue ?? v.stringValue.flatMap({ Int64($0) }) else {
                throw NetworkError.attribute("provider:segmentation_id", "'\(RequestRules.python(v))' is not an integer")
            }
            id = i
        }
        guard let type else {
            if physnet != nil || id != nil { throw NetworkError.invalidInput("provider:network_type required") }
            return nil
        }
        return try Segments.validate(.init(type: type, physnet: physnet, id: id), settings: service.settings)
    }

    /// Takes the asked-for segment, or a project network segment from `tenant_network_types`.
    func allocate(_ requested: Segments.Request?, network: String, in sql: any SQLDatabase) async throws -> Segments.Request {
        let segments = SegmentStore()
        let s = service.settings
        if let r = requested {
            try await segments.lock(type: r.type, in: sql)
            switch r.type {
            case "flat":
                if try await segments.taken(type: "flat", physnet: r.physnet!, id: 0, in: sql) {
                    throw NetworkError.inUse(
                        "FlatNetworkInUse",
                        r.physnet!,
                        "Unable to create the flat network. Physical network \(r.physnet!) is in use."
                    )
                }
                try await segments.add(type: "flat", physnet: r.physnet!, id: 0, network: network, in: sql)
                return r
            case "vlan":
                let physnet = r.physnet!
                var id = r.id
                if id == nil {
                    let ranges = s.vlanRanges.filter { $0.physnet == physnet }.compactMap(\.range)
                    id = Segments.firstFree(in: ranges, used: try await segments.used(type: "vlan", physnet: physnet, in: sql))
                    guard id != nil else { throw NetworkError.noNetworkAvailable() }
                } else if try await segments.taken(type: "vlan", physnet: physnet, id: id!, in: sql) {
                    throw NetworkError.inUse(
                        "VlanIdInUse",
                        physnet,
                        "Unable to create the network. The VLAN \(id!) on physical network \(physnet) is in use."
                    )
                }
                try await segments.add(type: "vlan", physnet: physnet, id: id!, network: network, in: sql)
                return Segments.Request(type: "vlan", physnet: physnet, id: id)
            case "local":
                return r
            default:
                var id = r.id
                if id == nil {
                    id = Segments.firstFree(in: s.vniRanges, used: try await segments.used(type: r.type, physnet: "", in: sql))
                    guard id != nil else { throw NetworkError.noNetworkAvailable() }
                } else if try await segments.taken(type: r.type, physnet: "", id: id!, in: sql) {
                    throw NetworkError.inUse("TunnelIdInUse", String(id!), "Unable to create the network. The tunnel ID \(id!) is in use.")
                }
                try await segments.add(type: r.type, physnet: "", id: id!, network: network, in: sql)
                return Segments.Request(type: r.type, physnet: nil, id: id)
            }
        }
        for type in s.tenantNetworkTypes {
            switch type {
            case "vxlan", "geneve", "gre":
                try await segments.lock(type: type, in: sql)
                if let id = Segments.firstFree(in: s.vniRanges, used: try await segments.used(type: type, physnet: "", in: sql)) {
                    try await segments.add(type: type, physnet: "", id: id, network: network, in: sql)
                    return Segments.Request(type: type, physnet: nil, id: id)
                }
            case "vlan":
                try await segments.lock(type: type, in: sql)
                for r in s.vlanRanges {
                    guard let range = r.range else { continue }
                    if let id = Segments.firstFree(in: [range], used: try await segments.used(type: "vlan", physnet: r.physnet, in: sql)) {
                        try await segments.add(type: "vlan", physnet: r.physnet, id: id, network: network, in: sql)
                        return Segments.Request(type: "vlan", physnet: r.physnet, id: id)
                    }
                }
            default: continue
            }
        }
        if s.tenantNetworkTypes.isEmpty && s.typeDrivers.contains("local") { return Segments.Request(type: "local", physnet: nil, id: nil) }
        throw NetworkError.noNetworkAvailable()
    }

    func update(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let raw = try await NetworkHTTP.body(request, ctx, key: "network")
        let changes = try RequestRules.apply(raw, rules: Self.rules, creating: false)
        let view = try await service.write { sql in
            let record = try await service.visible(kind, id, ctx, lock: true, in: sql)
            try service.authorize(ctx, "update_network", record, body: raw, notFound: NetworkError.notFound(kind, id))
            try NetworkHTTP.checkRevision(request, record)
            for p in ["provider:network_type", "provider:physical_network", "provider:segmentation_id"] where changes[p] != nil {
                if changes[p] != record[p] { throw NetworkError.invalidInput("Plugin does not support updating provider attributes") }
            }
            if changes["shared"] == .bool(false), record["shared"] == .bool(true) {
                let ports = try await RecordStore(.port).list([.oneOf(ResourceKind.port.attribute("network_id")!, [.string(id)])], in: sql)
                if ports.contains(where: {
                    $0["project_id"] != record["project_id"] && $0["device_owner"]?.stringValue?.hasPrefix("network:") != true
                }) {
                    throw NetworkError.inUse(
                        "InvalidSharedSetting",
                        id,
                        "Unable to reconfigure sharing settings for network \(id). Multiple tenants are using it."
                    )
                }
            }
            if let mtu = changes["mtu"]?.intValue, mtu > service.settings.mtu(for: record["provider:network_type"]?.stringValue) {
                throw NetworkError.invalidInput(
                    "Requested MTU is too big, maximum is \(service.settings.mtu(for: record["provider:network_type"]?.stringValue))"
                )
            }
            var c = changes
            c.removeValue(forKey: "project_id")
            c.removeValue(forKey: "qos_policy_id")
            try await store.update(id, c, in: sql)
            try await syncWildcards(id, project: record["project_id"]?.stringValue ?? "", in: sql)
            return try await views([try await store.find(id, in: sql)!], in: sql)[0]
        }
        return NetworkHTTP.one("network", service.visibleAttributes(ctx, kind, view))
    }

    /// `shared` and `router:external` are RBAC entries to `*` in neutron (`rbac-policies` lists
    /// them): they follow the flags.
    func syncWildcards(_ id: String, project: String, in sql: any SQLDatabase) async throws {
        guard let n = try await store.find(id, in: sql) else { return }
        let grants = RBACGrantStore()
        let rbac = RecordStore(.rbacPolicy)
        for (flag, action) in [("shared", "access_as_shared"), ("router:external", "access_as_external")] {
            let existing = try await grants.wildcard(network: id, action: action, in: sql)
            if n[flag] == .bool(true), existing == nil {
                try await rbac.insert(
                    NetworkService.stamped([
                        "project_id": .string(project), "object_type": "network", "object_id": .string(id), "action": .string(action),
                        "target_tenant": "*",
                    ]),
                    in: sql
                )
            } else if n[flag] != .bool(true), let existing {
                try await rbac.delete(existing, in: sql)
            }
        }
    }

    /// Deletes a network with no ports but its DHCP ports: its subnets, segment and tags go with it.
    func delete(_ id: String, _ ctx: StratusContext, _ request: Request, in sql: any SQLDatabase) async throws {
        let record = try await service.visible(kind, id, ctx, lock: true, in: sql)
        try service.authorize(ctx, "delete_network", record, notFound: NetworkError.notFound(kind, id))
        try NetworkHTTP.checkRevision(request, record)
        let ports = try await RecordStore(.port).list([.oneOf(ResourceKind.port.attribute("network_id")!, [.string(id)])], in: sql)
        let blocking = ports.filter { $0["device_owner"]?.stringValue != "network:dhcp" }.compactMap { $0["id"]?.stringValue }
        if !blocking.isEmpty { throw NetworkError.networkInUse(id, ports: blocking) }
        for p in ports { try await PortRoutes.remove(p["id"]!.stringValue!, in: sql) }
        for s in try await RecordStore(.subnet).list([.oneOf(ResourceKind.subnet.attribute("network_id")!, [.string(id)])], in: sql) {
            try await RecordStore(.subnet).delete(s["id"]!.stringValue!, in: sql)
        }
        try await SegmentStore().release(network: id, in: sql)
        for r in try await RecordStore(.rbacPolicy).list([.oneOf(ResourceKind.rbacPolicy.attribute("object_id")!, [.string(id)])], in: sql) {
            try await RecordStore(.rbacPolicy).delete(r["id"]!.stringValue!, in: sql)
        }
        try await store.delete(id, in: sql)
    }
}
