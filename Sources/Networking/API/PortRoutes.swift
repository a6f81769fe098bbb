import Hummingbird
import SQLKit
import StratusCore

/// `/v2.0/ports`: ports with fixed IPs from IPAM, MACs, security groups, address pairs and the
/// ML2 binding (`noop` binds any host; `linuxbridge` needs a live agent on the host).
struct PortRoutes {
    let service: NetworkService
    let kind = ResourceKind.port
    var store: RecordStore { RecordStore(kind) }

    static let rules: [AttributeRule] = [
        AttributeRule("name", .string(max: 255), default: ""),
        AttributeRule("network_id", .uuid, put: false),
        AttributeRule("admin_state_up", .bool, default: true),
        AttributeRule("mac_address", .string(max: 32), default: .null),
        AttributeRule("fixed_ips", .list, default: .null),
        AttributeRule("device_id", .string(max: 255), default: ""),
        AttributeRule("device_owner", .string(max: 255), default: ""),
        AttributeRule("binding:host_id", .string(max: 255), default: ""),
        AttributeRule("binding:profile", .dict, default: [:]),
        AttributeRule("binding:vnic_type", .string(max: 64), default: "normal"),
        AttributeRule("binding:vif_type", .string(max: 64), post: false, put: false),
        AttributeRule("binding:vif_details", .dict, post: false, put: false),
        AttributeRule("security_groups", .list, default: .null),
        AttributeRule("port_security_enabled", .bool, default: .null),
        AttributeRule("allowed_address_pairs", .list, default: []),
        AttributeRule("extra_dhcp_opts", .list, default: []),
        AttributeRule("propagate_uplink_status", .bool, default: false),
        AttributeRule("status", .string(max: 16), post: false, put: false),
        AttributeRule("qos_policy_id", .nullableUUID, default: .null),
    ]

    static let vnicTypes: Set<String> = [
        "normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder", "smart-nic", "vdpa", "accelerator-direct",
        "accelerator-direct-physical", "remote-managed",
    ]

    func add(to routes: inout RouteTable) {
        routes.get("/v2.0/ports") { request, ctx in try await list(request, ctx) }
        routes.post("/v2.0/ports") { request, ctx in try await create(request, ctx) }
        routes.get("/v2.0/ports/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let view = try await service.read { sql in
                let r = try await service.visible(kind, id, ctx, target: { try await target($0, ctx, in: sql) }, in: sql)
                return try await views([r], in: sql)[0]
            }
            return NetworkHTTP.one("port", service.visibleAttributes(ctx, kind, view), fields: NetworkHTTP.fields(request))
        }
        routes.put("/v2.0/ports/{id}") { request, ctx in try await update(request, ctx) }
        routes.delete("/v2.0/ports/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let gone = try await service.write { sql in
                let record = try await service.visible(kind, id, ctx, lock: true, target: { try await target($0, ctx, in: sql) }, in: sql)
                try service.authorize(ctx, "delete_port", try await target(record, ctx, in: sql), notFound: NetworkError.notFound(kind, id))
                try NetworkHTTP.checkRevision(request, record)
                let owner = record["device_owner"]?.stringValue ?? ""
                if ["network:router_interface", "network:router_gateway", "network:floatingip"].contains(owner) {
                    throw NetworkError.make(
                        .conflict,
                        "ServicePortInUse",
                        "Port \(id) cannot be deleted directly via the port API: has device owner \(owner)."
                    )
                }
                try await Self.remove(id, in: sql)
                return record
            }
            service.notifier.notify(NovaEvents.events(before: gone, after: nil))
            return .empty()
        }
    }

    /// Deletes a port and what hangs off it; floating IPs on it are disassociated.
    static func remove(_ id: String, in sql: any SQLDatabase) async throws {
        let fips = RecordStore(.floatingIP)
        for f in try await fips.list([.oneOf(ResourceKind.floatingIP.attribute("port_id")!, [.string(id)])], in: sql) {
            try await fips.update(
                f["id"]!.stringValue!,
                ["port_id": .null, "fixed_ip_address": .null, "router_id": .null, "status": "DOWN"],
                in: sql
            )
        }
        try await IPAllocationStore().removeForPort(id, in: sql)
        try await PortSecurityGroupStore().set(id, [], in: sql)
        try await RecordStore(.port).delete(id, in: sql)
    }

    func list(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let query = try ListQuery(request, kind: kind, extraFilters: ["fixed_ips", "security_groups"], maxLimit: service.settings.maxPage)
        let items = try await service.read { sql in
            var extra: [RecordStore.Condition] = []
            if !service.isAdmin(ctx) {
                let caller = try ctx.requireCaller()
                let own = try await RecordStore(.network).list(
                    [.oneOf(ResourceKind.network.attribute("project_id")!, [.optional(caller.projectID)])],
                    in: sql
                )
                extra += try service.listScope(ctx, orIn: [("network_id", own.compactMap { $0["id"]?.stringValue })])
            }
            if let fixed = query.extra["fixed_ips"] {
                var addresses: [String] = []
                var subnets: [String] = []
                for f in fixed {
                    for part in f.split(separator: "&") {
                        let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
                        guard kv.count == 2 else { continue }
                        if kv[0] == "ip_address" { addresses.append(kv[1]) }
                        if kv[0] == "subnet_id" { subnets.append(kv[1]) }
                        if kv[0] == "ip_address_substr" { addresses.append(kv[1]) }
                    }
                }
                extra.append(.idIn(try await IPAllocationStore().ports(addresses: addresses, subnets: subnets, in: sql)))
            }
            if let groups = query.extra["security_groups"] {
                extra.append(.idIn(try await PortSecurityGroupStore().ports(groups: groups, in: sql)))
            }
            let records = try await query.run(store, extraConditions: extra, in: sql)
            var out: [[String: JSON]] = []
            let all = try await views(records, in: sql)
            for (v, t) in zip(all, try await service.withNetworks(all, ctx, in: sql)) where service.allows(ctx, "get_port", t) {
                out.append(service.visibleAttributes(ctx, kind, v))
            }
            return out
        }
        return query.response(request, views: items)
    }

    /// The policy target: the port with its network's owner and sharing.
    func target(_ r: [String: JSON], _ ctx: StratusContext, in sql: any SQLDatabase) async throws -> [String: JSON] {
        try await service.withNetworks([r], ctx, in: sql)[0]
    }

    func views(_ records: [[String: JSON]], in sql: any SQLDatabase) async throws -> [[String: JSON]] {
        let ids = records.compactMap { $0["id"]?.stringValue }
        let fixed = try await IPAllocationStore().forPorts(ids, in: sql)
        let groups = try await PortSecurityGroupStore().forPorts(ids, in: sql)
        return try await service.decorate(kind, records, in: sql).map { r in
            var v = r
            let id = r["id"]?.stringValue ?? ""
            v["fixed_ips"] = .array((fixed[id] ?? []).map { ["subnet_id": .string($0.subnetID), "ip_address": .string($0.ipAddress)] })
            v["security_groups"] = .array((groups[id] ?? []).map(JSON.string))
            v["ip_allocation"] = "immediate"
            v["resource_request"] = .null
            v["qos_policy_id"] = .null
            v["qos_network_policy_id"] = .null
            return v
        }
    }

    func create(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let raw = try await NetworkHTTP.body(request, ctx, key: "port")
        var body = try RequestRules.apply(raw, rules: Self.rules, creating: true)
        body.removeValue(forKey: "qos_policy_id")
        let networkID = body["network_id"]!.stringValue!
        let project = try service.owner(ctx, body)
        body["project_id"] = .string(project)
        try validateCommon(&body, raw: raw)
        let view = try await service.write { [body] sql in
            let network = try await service.visible(.network, networkID, ctx, in: sql)
            var t = body
            t["network:tenant_id"] = network["project_id"] ?? .null
            t["shared"] = network["shared"] ?? false
            try service.authorize(ctx, "create_port", t, body: raw)
            try await service.checkQuota(kind, project: project, in: sql)
            var record = NetworkService.stamped(body)
            let id = record["id"]!.stringValue!
            if record["port_security_enabled"]?.isNull ?? true { record["port_security_enabled"] = network["port_security_enabled"] ?? true }
            try await assignMAC(&record, network: networkID, in: sql)
            Self.fillPairMACs(&record)
            try Self.checkAddressPairs(record)
            let binding = try await bind(record, in: sql)
            for (k, v) in binding { record[k] = v }
            let groups = try await securityGroups(record, raw: raw, project: project, ctx: ctx, in: sql)
            try await store.insert(record, in: sql)
            let owner = record["device_owner"]?.stringValue ?? ""
            let requested = raw["fixed_ips"].flatMap { $0.isNull ? nil : $0.arrayValue }
            _ = try await IPAM(service: service).allocate(
                port: id,
                network: networkID,
                requested: requested,
                allowGateway: owner == "network:router_interface",
                in: sql
            )
            try await PortSecurityGroupStore().set(id, groups, in: sql)
            return try await views([try await store.find(id, in: sql)!], in: sql)[0]
        }
        service.notifier.notify(NovaEvents.events(before: nil, after: view))
        return NetworkHTTP.one("port", service.visibleAttributes(ctx, kind, view), status: .created)
    }

    func validateCommon(_ body: inout [String: JSON], raw: [String: JSON]) throws {
        if let vnic = body["binding:vnic_type"]?.stringValue, !Self.vnicTypes.contains(vnic) {
            throw NetworkError.attribute("binding:vnic_type", "'\(vnic)' is not in \(Self.vnicTypes.sorted())")
        }
        if let pairs = raw["allowed_address_pairs"]?.arrayValue {
            if pairs.count > service.settings.maxAddressPairs {
                throw NetworkError.make(
                    .badRequest,
                    "AllowedAddressPairExhausted",
                    "The number of allowed address pair exceeds the maximum \(service.settings.maxAddressPairs)."
                )
            }
            var normalized: [JSON] = []
            for p in pairs {
                guard let ip = p["ip_address"]?.stringValue, IPAddress(ip) != nil || CIDR(ip) != nil else {
                    throw NetworkError.attribute("allowed_address_pairs", "AllowedAddressPair must contain ip_address")
                }
                var item: [String: JSON] = ["ip_address": .string(ip)]
                if let mac = p["mac_address"]?.stringValue {
                    guard let m = MACAddress.normalize(mac) else {
                        throw NetworkError.attribute("allowed_address_pairs", "'\(mac)' is not a valid MAC address")
                    }
                    item["mac_address"] = .string(m)
                }
                normalized.append(.object(item))
            }
            body["allowed_address_pairs"] = .array(normalized)
        }
        if let opts = raw["extra_dhcp_opts"]?.arrayValue {
            for o in opts where o["opt_name"]?.stringValue == nil {
                throw NetworkError.attribute("extra_dhcp_opts", "'\(RequestRules.python(o))' is not a valid dhcp option")
            }
        }
    }

    /// Address pairs without a MAC take the port's, as neutron stores them.
    static func fillPairMACs(_ record: inout [String: JSON]) {
        guard let pairs = record["allowed_address_pairs"]?.arrayValue, let mac = record["mac_address"] else { return }
        record["allowed_address_pairs"] = .array(
            pairs.map { p in
                guard var o = p.objectValue else { return p }
                if o["mac_address"] == nil || o["mac_address"]!.isNull { o["mac_address"] = mac }
                return .object(o)
            }
        )
    }

    static func checkAddressPairs(_ record: [String: JSON]) throws {
        if record["port_security_enabled"] == .bool(false), let pairs = record["allowed_address_pairs"]?.arrayValue, !pairs.isEmpty {
            throw NetworkError.make(
                .conflict,
                "AddressPairAndPortSecurityRequired",
                "Port Security must be enabled in order to have allowed address pairs on a port."
            )
        }
    }

    /// Fills in or checks the MAC: a given one must be free on the network; a generated one is
    /// drawn from `base_mac` until it is.
    func assignMAC(_ record: inout [String: JSON], network: String, in sql: any SQLDatabase) async throws {
        let macAttr = kind.attribute("mac_address")!
        let netAttr = kind.attribute("network_id")!
        if let given = record["mac_address"]?.stringValue {
            guard let mac = MACAddress.normalize(given) else {
                throw NetworkError.attribute("mac_address", "'\(given)' is not a valid MAC address")
            }
            if try await store.count([.oneOf(netAttr, [.string(network)]), .oneOf(macAttr, [.string(mac)])], in: sql) > 0 {
                throw NetworkError.macInUse(mac, network: network)
            }
            record["mac_address"] = .string(mac)
            return
        }
        for _ in 0..<16 {
            let mac = MACAddress.random(base: service.settings.baseMAC)
            if try await store.count([.oneOf(netAttr, [.string(network)]), .oneOf(macAttr, [.string(mac)])], in: sql) == 0 {
                record["mac_address"] = .string(mac)
                return
            }
        }
        throw NetworkError.make(.serviceUnavailable, "MacAddressGenerationFailure", "Unable to generate unique mac on network \(network).")
    }

    /// The ML2 binding for the port's host: `noop` binds any host (ACTIVE at once);
    /// `linuxbridge` binds a host whose agent is alive (`bridge`), else `binding_failed`.
    func bind(_ record: [String: JSON], in sql: any SQLDatabase) async throws -> [String: JSON] {
        let host = record["binding:host_id"]?.stringValue ?? ""
        let device = record["device_owner"]?.stringValue ?? ""
        let noop = service.settings.mechanismDrivers.contains("noop")
        var out: [String: JSON] = [:]
        guard !host.isEmpty else {
            out["binding:vif_type"] = "unbound"
            out["binding:vif_details"] = [:]
            out["status"] =
                device.hasPrefix("network:") && noop && device != "network:floatingip" ? "ACTIVE" : (device == "network:floatingip" ? "N/A" : "DOWN")
            return out
        }
        let details: JSON = ["port_filter": true, "connectivity": "l2"]
        if noop {
            out["binding:vif_type"] = "bridge"
            out["binding:vif_details"] = details
            out["status"] = "ACTIVE"
            return out
        }
        if service.settings.mechanismDrivers.contains("linuxbridge"),
            let agent = try await AgentStore().find(type: "Linux bridge agent", host: host, in: sql),
            AgentRoutes.alive(agent, downTime: service.settings.agentDownTime), agent.adminStateUp != 0
        {
            out["binding:vif_type"] = "bridge"
            out["binding:vif_details"] = details
            out["status"] = "DOWN"
            return out
        }
        out["binding:vif_type"] = "binding_failed"
        out["binding:vif_details"] = [:]
        out["status"] = "DOWN"
        return out
    }

    /// The port's security groups: the given ones (each must exist and be the caller's to
    /// use), or the project's default group when port security is on and the port is not a
    /// network device.
    func securityGroups(
        _ record: [String: JSON],
        raw: [String: JSON],
        project: String,
        ctx: StratusContext,
        in sql: any SQLDatabase
    ) async throws
        -> [String]
    {
        let enabled = record["port_security_enabled"]?.boolValue ?? true
        let device = record["device_owner"]?.stringValue ?? ""
        if let given = raw["security_groups"], !given.isNull {
            let ids = (given.arrayValue ?? []).compactMap(\.stringValue)
            if !ids.isEmpty && !enabled {
                throw NetworkError.make(
                    .conflict,
                    "PortSecurityAndIPRequiredForSecurityGroups",
                    "Port security must be enabled and port must have an IP address in order to use security groups."
                )
            }
            for id in ids {
                guard let g = try await RecordStore(.securityGroup).find(id, in: sql),
                    service.isAdmin(ctx) || g["project_id"]?.stringValue == project
                else { throw NetworkError.notFound(.securityGroup, id) }
            }
            return ids
        }
        guard enabled, !device.hasPrefix("network:") else { return [] }
        return [try await SecurityGroupRoutes(service: service).defaultGroup(project: project, in: sql)]
    }

    func update(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let raw = try await NetworkHTTP.body(request, ctx, key: "port")
        var changes = try RequestRules.apply(raw, rules: Self.rules, creating: false)
        changes.removeValue(forKey: "qos_policy_id")
        changes.removeValue(forKey: "project_id")
        try validateCommon(&changes, raw: raw)
        let (before, view) = try await service.write { [changes] sql in
            var changes = changes
            let record = try await service.visible(kind, id, ctx, lock: true, target: { try await target($0, ctx, in: sql) }, in: sql)
            var t = try await target(record, ctx, in: sql)
            for (k, v) in changes where k != "device_owner" { t[k] = v }
            try service.authorize(ctx, "update_port", t, body: raw, notFound: NetworkError.notFound(kind, id))
            try NetworkHTTP.checkRevision(request, record)
            let network = record["network_id"]!.stringValue!
            var merged = record
            for (k, v) in changes { merged[k] = v }
            if let mac = raw["mac_address"] {
                guard record["binding:vif_type"]?.stringValue == "unbound" || record["binding:host_id"]?.stringValue == "" else {
                    throw NetworkError.make(
                        .conflict,
                        "PortBound",
                        "Unable to complete operation on port \(id), port is already bound, port type: \(record["binding:vif_type"]?.stringValue ?? ""), old_mac \(record["mac_address"]?.stringValue ?? ""), new_mac \(mac.stringValue ?? "")."
                    )
                }
                merged["mac_address"] = mac
                try await assignMAC(&merged, network: network, in: sql)
                changes["mac_address"] = merged["mac_address"]
            }
            Self.fillPairMACs(&merged)
            if raw["allowed_address_pairs"] != nil { changes["allowed_address_pairs"] = merged["allowed_address_pairs"] }
            try Self.checkAddressPairs(merged)
            if raw["binding:host_id"] != nil || raw["device_owner"] != nil {
                for (k, v) in try await bind(merged, in: sql) { changes[k] = v }
            }
            if let fixed = raw["fixed_ips"], let items = fixed.arrayValue {
                try await IPAllocationStore().removeForPort(id, in: sql)
                _ = try await IPAM(service: service).allocate(
                    port: id,
                    network: network,
                    requested: items,
                    allowGateway: (merged["device_owner"]?.stringValue ?? "") == "network:router_interface",
                    in: sql
                )
            }
            if raw["security_groups"] != nil || raw["port_security_enabled"] != nil {
                let current = try await PortSecurityGroupStore().forPorts([id], in: sql)[id] ?? []
                var groups = current
                if let given = raw["security_groups"] {
                    var r = raw
                    r["security_groups"] = given.isNull ? .array([]) : given
                    groups = try await securityGroups(merged, raw: r, project: record["project_id"]?.stringValue ?? "", ctx: ctx, in: sql)
                } else if merged["port_security_enabled"] == .bool(false), !current.isEmpty {
                    throw NetworkError.make(
                        .conflict,
                        "PortSecurityPortHasSecurityGroup",
                        "Port has security group associated. Cannot disable port security or ip address until security group is removed"
                    )
                }
                try await PortSecurityGroupStore().set(id, groups, in: sql)
            }
            changes.removeValue(forKey: "fixed_ips")
            changes.removeValue(forKey: "security_groups")
            try await store.update(id, changes, in: sql)
            return (record, try await views([try await store.find(id, in: sql)!], in: sql)[0])
        }
        service.notifier.notify(NovaEvents.events(before: before, after: view, addressesChanged: raw["fixed_ips"] != nil))
        return NetworkHTTP.one("port", service.visibleAttributes(ctx, kind, view))
    }
}
