import Hummingbird
import SQLKit
import StratusCore

/// `/v2.0/routers`: routers with an external gateway (a port on an external network) and
/// interfaces on project subnets (ports holding the subnets' gateway addresses).
struct RouterRoutes {
    let service: NetworkService
    let kind = ResourceKind.router
    var store: RecordStore { RecordStore(kind) }

    static let rules: [AttributeRule] = [
        AttributeRule("name", .string(max: 255), default: ""),
        AttributeRule("admin_state_up", .bool, default: true),
        AttributeRule("external_gateway_info", .any, default: .null),
        AttributeRule("availability_zone_hints", .list, put: false, default: []),
        AttributeRule("distributed", .bool, default: false),
        AttributeRule("ha", .bool, default: false),
        AttributeRule("flavor_id", .nullableUUID, put: false, default: .null),
        AttributeRule("status", .string(max: 16), post: false, put: false),
        AttributeRule("routes", .list, post: false, put: false),
        AttributeRule("availability_zones", .list, post: false, put: false),
    ]

    func add(to routes: inout RouteTable) {
        routes.get("/v2.0/routers") { request, ctx in
            let query = try ListQuery(request, kind: kind, maxLimit: service.settings.maxPage)
            let items = try await service.read { sql in
                try await views(try await query.run(store, extraConditions: try service.listScope(ctx), in: sql), in: sql)
            }
            let visible = items.filter { service.allows(ctx, "get_router", $0) }.map { service.visibleAttributes(ctx, kind, $0) }
            return query.response(request, views: visible)
        }
        routes.post("/v2.0/routers") { request, ctx in
            let raw = try await NetworkHTTP.body(request, ctx, key: "router")
            var body = try RequestRules.apply(raw, rules: Self.rules, creating: true)
            let project = try service.owner(ctx, body)
            body["project_id"] = .string(project)
            try service.authorize(ctx, "create_router", body, body: raw)
            let gateway = body.removeValue(forKey: "external_gateway_info") ?? .null
            let view = try await service.write { [body] sql in
                try await service.checkQuota(kind, project: project, in: sql)
                var r = NetworkService.stamped(body)
                r["status"] = "ACTIVE"
                r["enable_snat"] = true
                r["routes"] = []
                try await store.insert(r, in: sql)
                let id = r["id"]!.stringValue!
                if !gateway.isNull { try await setGateway(id, gateway, ctx, in: sql) }
                return try await views([try await store.find(id, in: sql)!], in: sql)[0]
            }
            return NetworkHTTP.one("router", service.visibleAttributes(ctx, kind, view), status: .created)
        }
        routes.get("/v2.0/routers/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let view = try await service.read { sql in try await views([try await service.visible(kind, id, ctx, in: sql)], in: sql)[0] }
            return NetworkHTTP.one("router", service.visibleAttributes(ctx, kind, view), fields: NetworkHTTP.fields(request))
        }
        routes.put("/v2.0/routers/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let raw = try await NetworkHTTP.body(request, ctx, key: "router")
            var changes = try RequestRules.apply(raw, rules: Self.rules, creating: false)
            changes.removeValue(forKey: "project_id")
            let view = try await service.write { [changes] sql in
                var changes = changes
                let r = try await service.visible(kind, id, ctx, lock: true, in: sql)
                try service.authorize(ctx, "update_router", r, body: raw, notFound: NetworkError.notFound(kind, id))
                try NetworkHTTP.checkRevision(request, r)
                if let gateway = changes.removeValue(forKey: "external_gateway_info") {
                    if gateway.isNull || gateway.objectValue?.isEmpty == true {
                        try await clearGateway(r, in: sql)
                    } else {
                        try await setGateway(id, gateway, ctx, in: sql)
                    }
                }
                try await store.update(id, changes, in: sql)
                return try await views([try await store.find(id, in: sql)!], in: sql)[0]
            }
            return NetworkHTTP.one("router", service.visibleAttributes(ctx, kind, view))
        }
        routes.delete("/v2.0/routers/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            try await service.write { sql in
                let r = try await service.visible(kind, id, ctx, lock: true, in: sql)
                try service.authorize(ctx, "delete_router", r, notFound: NetworkError.notFound(kind, id))
                try NetworkHTTP.checkRevision(request, r)
                let links = try await RouterPortStore().ports(router: id, in: sql)
                let interfaces = links.filter { $0.portType == "network:router_interface" }.map(\.portID)
                if !interfaces.isEmpty {
                    throw NetworkError.make(.conflict, "RouterInUse", "Router \(id) has ports still attached: \(interfaces.joined(separator: ", "))")
                }
                try await clearGateway(r, in: sql)
                try await store.delete(id, in: sql)
            }
            return .empty()
        }
        routes.put("/v2.0/routers/{id}/add_router_interface") { request, ctx in try await addInterface(request, ctx) }
        routes.put("/v2.0/routers/{id}/remove_router_interface") { request, ctx in try await removeInterface(request, ctx) }
    }

    func views(_ records: [[String: JSON]], in sql: any SQLDatabase) async throws -> [[String: JSON]] {
        var out: [[String: JSON]] = []
        for r in try await service.decorate(kind, records, in: sql) {
            var v = r
            if let net = r["gw_network_id"]?.stringValue {
                let fixed = try await IPAllocationStore().forPorts([r["gw_port_id"]?.stringValue ?? ""], in: sql).values.flatMap { $0 }
                v["external_gateway_info"] = [
                    "network_id": .string(net), "enable_snat": r["enable_snat"] ?? true,
                    "external_fixed_ips": .array(fixed.map { ["subnet_id": .string($0.subnetID), "ip_address": .string($0.ipAddress)] }),
                ]
            } else {
                v["external_gateway_info"] = .null
            }
            for k in ["gw_network_id", "gw_port_id", "enable_snat"] { v.removeValue(forKey: k) }
            v["availability_zones"] = []
            out.append(v)
        }
        return out
    }

    /// Sets (or replaces) the gateway: a port on the external network owned by no project.
    func setGateway(_ id: String, _ info: JSON, _ ctx: StratusContext, in sql: any SQLDatabase) async throws {
        guard let o = info.objectValue, let networkID = o["network_id"]?.stringValue else {
            throw NetworkError.attribute("external_gateway_info", "network_id is required")
        }
        let unknown = o.keys.filter { !["network_id", "enable_snat", "external_fixed_ips", "qos_policy_id"].contains($0) }
        if !unknown.isEmpty {
            throw NetworkError.invalidInput(
                "Invalid input for external_gateway_info. Reason: Unexpected keys supplied: \(unknown.sorted().joined(separator: ", "))"
            )
        }
        let network = try await service.visible(.network, networkID, ctx, in: sql)
        guard network["router:external"] == .bool(true) else {
            throw NetworkError.badRequest("router", "Network \(networkID) is not an external network")
        }
        let router = try await store.find(id, in: sql)!
        if router["gw_network_id"]?.stringValue == networkID, o["external_fixed_ips"] == nil {
            if let snat = o["enable_snat"]?.boolValue { try await store.update(id, ["enable_snat": .bool(snat)], in: sql) }
            return
        }
        try await clearGateway(router, in: sql)
        let port = try await createServicePort(
            network: networkID,
            owner: "network:router_gateway",
            device: id,
            project: "",
            fixedIPs: o["external_fixed_ips"]?.arrayValue,
            in: sql
        )
        try await RouterPortStore().add(router: id, port: port, type: "network:router_gateway", in: sql)
        try await store.update(
            id,
            ["gw_network_id": .string(networkID), "gw_port_id": .string(port), "enable_snat": .bool(o["enable_snat"]?.boolValue ?? true)],
            in: sql
        )
    }

    func clearGateway(_ router: [String: JSON], in sql: any SQLDatabase) async throws {
        guard let port = router["gw_port_id"]?.stringValue, let id = router["id"]?.stringValue else { return }
        let fips = try await RecordStore(.floatingIP).count([.oneOf(ResourceKind.floatingIP.attribute("router_id")!, [.string(id)])], in: sql)
        if fips > 0 {
            throw NetworkError.make(
                .conflict,
                "RouterExternalGatewayInUseByFloatingIp",
                "Gateway cannot be updated for router \(id), since a gateway to external network \(router["gw_network_id"]?.stringValue ?? "") is required by one or more floating IPs."
            )
        }
        try await PortRoutes.remove(port, in: sql)
        try await store.update(id, ["gw_network_id": .null, "gw_port_id": .null], in: sql)
    }

    /// A port neutron creates for itself (router gateway and interface, floating IP).
    func createServicePort(
        network: String,
        owner: String,
        device: String,
        project: String,
        fixedIPs: [JSON]?,
        in sql: any SQLDatabase
    ) async throws
        -> String
    {
        var record = NetworkService.stamped([
            "project_id": .string(project), "name": "", "network_id": .string(network), "admin_state_up": true,
            "device_id": .string(device), "device_owner": .string(owner), "binding:host_id": "", "binding:profile": [:],
            "binding:vnic_type": "normal", "port_security_enabled": false, "allowed_address_pairs": [], "extra_dhcp_opts": [],
            "propagate_uplink_status": false,
        ])
        let ports = PortRoutes(service: service)
        try await ports.assignMAC(&record, network: network, in: sql)
        for (k, v) in try await ports.bind(record, in: sql) { record[k] = v }
        try await RecordStore(.port).insert(record, in: sql)
        let id = record["id"]!.stringValue!
        let allocated = try await IPAM(service: service).allocate(
            port: id,
            network: network,
            requested: fixedIPs,
            allowGateway: owner == "network:router_interface",
            in: sql
        )
        if allocated.isEmpty && owner != "network:router_interface" {
            throw NetworkError.ipExhausted(network: network)
        }
        return id
    }

    func addInterface(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let json = try await request.jsonBody(limit: ctx.bodyLimit)
        guard let body = json.objectValue else { throw NetworkError.invalidBody("Body contains invalid data") }
        let subnetID = body["subnet_id"]?.stringValue
        let portID = body["port_id"]?.stringValue
        guard (subnetID == nil) != (portID == nil) else {
            throw NetworkError.badRequest("router", "Either subnet_id or port_id must be specified")
        }
        let answer = try await service.write { sql -> JSON in
            let router = try await service.visible(kind, id, ctx, lock: true, in: sql)
            try service.authorize(ctx, "add_router_interface", router, notFound: NetworkError.notFound(kind, id))
            let project = router["project_id"]?.stringValue ?? ""
            var interfacePort: String
            var subnets: [String]
            if let subnetID {
                guard let subnet = try await RecordStore(.subnet).find(subnetID, in: sql),
                    service.allows(ctx, "get_subnet", try await SubnetRoutes(service: service).target(subnet, ctx, in: sql))
                else { throw NetworkError.notFound(.subnet, subnetID) }
                guard let gateway = subnet["gateway_ip"]?.stringValue else {
                    throw NetworkError.badRequest("router", "Subnet for router interface must have a gateway IP")
                }
                try await checkOverlap(router: id, adding: [subnet], in: sql)
                if try await IPAllocationStore().isAllocated(gateway, subnet: subnetID, in: sql) {
                    throw NetworkError.ipAllocated(gateway, subnet: subnetID)
                }
                interfacePort = try await createServicePort(
                    network: subnet["network_id"]!.stringValue!,
                    owner: "network:router_interface",
                    device: id,
                    project: project,
                    fixedIPs: [["subnet_id": .string(subnetID), "ip_address": .string(gateway)]],
                    in: sql
                )
                subnets = [subnetID]
            } else {
                let pid = portID!
                guard let port = try await RecordStore(.port).find(pid, in: sql), service.allows(ctx, "get_port", port) else {
                    throw NetworkError.notFound(.port, pid)
                }
                if let device = port["device_id"]?.stringValue, !device.isEmpty {
                    throw NetworkError.make(
                        .conflict,
                        "PortInUse",
                        "Unable to complete operation on port \(pid) for network \(port["network_id"]?.stringValue ?? ""). Port already has an attached device \(device)."
                    )
                }
                let fixed = try await IPAllocationStore().forPorts([pid], in: sql)[pid] ?? []
                guard !fixed.isEmpty else { throw NetworkError.badRequest("router", "Router port must have at least one fixed IP") }
                var records: [[String: JSON]] = []
                for f in fixed { if let s = try await RecordStore(.subnet).find(f.subnetID, in: sql) { records.append(s) } }
                try await checkOverlap(router: id, adding: records, in: sql)
                try await RecordStore(.port).update(pid, ["device_id": .string(id), "device_owner": "network:router_interface"], in: sql)
                interfacePort = pid
                subnets = fixed.map(\.subnetID)
            }
            try await RouterPortStore().add(router: id, port: interfacePort, type: "network:router_interface", in: sql)
            try await store.touch(id, in: sql)
            let port = try await RecordStore(.port).find(interfacePort, in: sql)!
            return [
                "id": .string(id), "tenant_id": .string(project), "project_id": .string(project), "port_id": .string(interfacePort),
                "network_id": port["network_id"] ?? .null, "subnet_id": .optional(subnets.first), "subnet_ids": .array(subnets.map(JSON.string)),
            ]
        }
        return .json(answer)
    }

    /// 400 when a subnet's CIDR overlaps one the router already has an interface on.
    func checkOverlap(router: String, adding: [[String: JSON]], in sql: any SQLDatabase) async throws {
        var existing: [(String, CIDR)] = []
        for link in try await RouterPortStore().ports(router: router, in: sql) where link.portType == "network:router_interface" {
            for f in try await IPAllocationStore().forPorts([link.portID], in: sql)[link.portID] ?? [] {
                if let s = try await RecordStore(.subnet).find(f.subnetID, in: sql), let c = s["cidr"]?.stringValue.flatMap({ CIDR($0) }) {
                    existing.append((f.subnetID, c))
                }
            }
        }
        for s in adding {
            guard let c = s["cidr"]?.stringValue.flatMap({ CIDR($0) }), let sid = s["id"]?.stringValue else { continue }
            if let (other, oc) = existing.first(where: { $0.1.overlaps(c) }) {
                if other == sid {
                    throw NetworkError.badRequest("router", "Router already has a port on subnet \(sid)")
                }
                throw NetworkError.badRequest("router", "Cidr \(c) of subnet \(sid) overlaps with cidr \(oc) of subnet \(other)")
            }
        }
    }

    func removeInterface(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let json = try await request.jsonBody(limit: ctx.bodyLimit)
        guard let body = json.objectValue else { throw NetworkError.invalidBody("Body contains invalid data") }
        let subnetID = body["subnet_id"]?.stringValue
        let portID = body["port_id"]?.stringValue
        guard subnetID != nil || portID != nil else { throw NetworkError.badRequest("router", "Either subnet_id or port_id must be specified") }
        let answer = try await service.write { sql -> JSON in
            let router = try await service.visible(kind, id, ctx, lock: true, in: sql)
            try service.authorize(ctx, "remove_router_interface", router, notFound: NetworkError.notFound(kind, id))
            let links = try await RouterPortStore().ports(router: id, in: sql).filter { $0.portType == "network:router_interface" }
            var found: (port: String, subnet: String)?
            for link in links {
                let fixed = try await IPAllocationStore().forPorts([link.portID], in: sql)[link.portID] ?? []
                if let portID, link.portID == portID {
                    if let subnetID, !fixed.contains(where: { $0.subnetID == subnetID }) {
                        throw NetworkError.make(.conflict, "SubnetMismatchForPort", "Subnet \(subnetID) does not match with port \(portID)")
                    }
                    found = (portID, fixed.first?.subnetID ?? "")
                } else if portID == nil, let subnetID, fixed.contains(where: { $0.subnetID == subnetID }) {
                    found = (link.portID, subnetID)
                }
            }
            guard let found else {
                if let portID {
                    throw NetworkError.make(.notFound, "RouterInterfaceNotFound", "Router \(id) does not have an interface with id \(portID)")
                }
                throw NetworkError.make(.notFound, "RouterInterfaceNotFoundForSubnet", "Router \(id) has no interface on subnet \(subnetID!)")
            }
            let fixed = try await IPAllocationStore().forPorts([found.port], in: sql)[found.port] ?? []
            for f in fixed {
                let users = try await RecordStore(.floatingIP).list([.oneOf(ResourceKind.floatingIP.attribute("router_id")!, [.string(id)])], in: sql)
                for fip in users {
                    guard let fixedAddress = fip["fixed_ip_address"]?.stringValue, let ip = IPAddress(fixedAddress),
                        let s = try await RecordStore(.subnet).find(f.subnetID, in: sql), let c = s["cidr"]?.stringValue.flatMap({ CIDR($0) }),
                        c.contains(ip)
                    else { continue }
                    throw NetworkError.make(
                        .conflict,
                        "RouterInterfaceInUseByFloatingIP",
                        "Router interface for subnet \(f.subnetID) on router \(id) cannot be deleted, as it is required by one or more floating IPs."
                    )
                }
            }
            let port = try await RecordStore(.port).find(found.port, in: sql)
            try await PortRoutes.remove(found.port, in: sql)
            try await store.touch(id, in: sql)
            let project = router["project_id"] ?? .null
            return [
                "id": .string(id), "tenant_id": project, "project_id": project, "port_id": .string(found.port),
                "network_id": port?["network_id"] ?? .null, "subnet_id": .string(found.subnet), "subnet_ids": [.string(found.subnet)],
            ]
        }
        return .json(answer)
    }
}
