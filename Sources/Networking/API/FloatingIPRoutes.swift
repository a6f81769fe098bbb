import Hummingbird
import SQLKit
import StratusCore

/// `/v2.0/floatingips`: addresses from an external network's subnets, associated with a
/// project port whose subnet a router connects to that network.
struct FloatingIPRoutes {
    let service: NetworkService
    let kind = ResourceKind.floatingIP
    var store: RecordStore { RecordStore(kind) }

    static let rules: [AttributeRule] = [
        AttributeRule("floating_network_id", .uuid, put: false),
        AttributeRule("floating_ip_address", .nullableString(max: 64), put: false, default: .null),
        AttributeRule("subnet_id", .nullableUUID, put: false, default: .null),
        AttributeRule("port_id", .nullableUUID, default: .null),
        AttributeRule("fixed_ip_address", .nullableString(max: 64), default: .null),
        AttributeRule("qos_policy_id", .nullableUUID, default: .null),
        AttributeRule("router_id", .uuid, post: false, put: false),
        AttributeRule("status", .string(max: 16), post: false, put: false),
        AttributeRule("port_details", .any, post: false, put: false),
        AttributeRule("port_forwardings", .list, post: false, put: false),
    ]

    func add(to routes: inout RouteTable) {
        routes.get("/v2.0/floatingips") { request, ctx in
            let query = try ListQuery(request, kind: kind, maxLimit: service.settings.maxPage)
            let items = try await service.read { sql in
                try await views(try await query.run(store, extraConditions: try service.listScope(ctx), in: sql), in: sql)
            }
            return query.response(request, views: items.filter { service.allows(ctx, "get_floatingip", $0) })
        }
        routes.post("/v2.0/floatingips") { request, ctx in
            let raw = try await NetworkHTTP.body(request, ctx, key: "floatingip")
            var body = try RequestRules.apply(raw, rules: Self.rules, creating: true)
            let project = try service.owner(ctx, body)
            body["project_id"] = .string(project)
            try service.authorize(ctx, "create_floatingip", body, body: raw)
            let networkID = body["floating_network_id"]!.stringValue!
            let view = try await service.write { [body] sql in
                let network = try await service.visible(.network, networkID, ctx, in: sql)
                guard network["router:external"] == .bool(true) else {
                    throw NetworkError.badRequest("floatingip", "Network \(networkID) is not a valid external network")
                }
                try await service.checkQuota(kind, project: project, in: sql)
                var fip = NetworkService.stamped([
                    "project_id": .string(project), "description": body["description"] ?? "", "floating_network_id": .string(networkID),
                    "status": "DOWN", "dns_name": "", "dns_domain": "",
                ])
                let id = fip["id"]!.stringValue!
                var requested: [JSON]? = nil
                var item: [String: JSON] = [:]
                if let s = body["subnet_id"]?.stringValue { item["subnet_id"] = .string(s) }
                if let a = body["floating_ip_address"]?.stringValue { item["ip_address"] = .string(a) }
                if !item.isEmpty {
                    requested = [.object(item)]
                } else {
                    // One IPv4 address (neutron's floating IPs are IPv4).
                    let v4 = try await IPAM.subnets(network: networkID, in: sql).filter { $0.cidr.version == 4 }
                    guard !v4.isEmpty else {
                        throw NetworkError.badRequest("floatingip", "Network \(networkID) does not contain any IPv4 subnet")
                    }
                }
                let portID = try await RouterRoutes(service: service).createServicePort(
                    network: networkID,
                    owner: "network:floatingip",
                    device: id,
                    project: "",
                    fixedIPs: requested,
                    in: sql
                )
                let address = try await IPAllocationStore().forPorts([portID], in: sql)[portID]?.first(where: {
                    IPAddress($0.ipAddress)?.version == 4
                })
                guard let address else { throw NetworkError.ipExhausted(network: networkID) }
                fip["floating_ip_address"] = .string(address.ipAddress)
                fip["floating_port_id"] = .string(portID)
                if let port = body["port_id"]?.stringValue {
                    for (k, v) in try await association(fip, port: port, fixed: body["fixed_ip_address"]?.stringValue, ctx: ctx, in: sql) {
                        fip[k] = v
                    }
                }
                try await store.insert(fip, in: sql)
                return try await views([try await store.find(id, in: sql)!], in: sql)[0]
            }
            await changed([view["port_id"]?.stringValue])
            return NetworkHTTP.one("floatingip", view, status: .created)
        }
        routes.get("/v2.0/floatingips/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let view = try await service.read { sql in try await views([try await service.visible(kind, id, ctx, in: sql)], in: sql)[0] }
            return NetworkHTTP.one("floatingip", view, fields: NetworkHTTP.fields(request))
        }
        routes.put("/v2.0/floatingips/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let raw = try await NetworkHTTP.body(request, ctx, key: "floatingip")
            let changes = try RequestRules.apply(raw, rules: Self.rules, creating: false)
            var previous: String? = nil
            let (old, view) = try await service.write { sql in
                let fip = try await service.visible(kind, id, ctx, lock: true, in: sql)
                try service.authorize(ctx, "update_floatingip", fip, body: raw, notFound: NetworkError.notFound(kind, id))
                try NetworkHTTP.checkRevision(request, fip)
                var update: [String: JSON] = [:]
                if let d = changes["description"] { update["description"] = d }
                if let port = changes["port_id"] {
                    if let p = port.stringValue {
                        update.merge(
                            try await association(fip, port: p, fixed: changes["fixed_ip_address"]?.stringValue, ctx: ctx, in: sql)
                        ) { _, b in b }
                    } else {
                        update["port_id"] = .null
                        update["fixed_ip_address"] = .null
                        update["router_id"] = .null
                        update["status"] = "DOWN"
                    }
                }
                try await store.update(id, update, in: sql)
                return (fip["port_id"]?.stringValue, try await views([try await store.find(id, in: sql)!], in: sql)[0])
            }
            previous = old
            if previous != view["port_id"]?.stringValue { await changed([previous, view["port_id"]?.stringValue]) }
            return NetworkHTTP.one("floatingip", view)
        }
        routes.delete("/v2.0/floatingips/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            try await service.write { sql in
                let fip = try await service.visible(kind, id, ctx, lock: true, in: sql)
                try service.authorize(ctx, "delete_floatingip", fip, notFound: NetworkError.notFound(kind, id))
                try NetworkHTTP.checkRevision(request, fip)
                try await store.delete(id, in: sql)
                if let port = fip["floating_port_id"]?.stringValue { try await PortRoutes.remove(port, in: sql) }
            }
            return .empty()
        }
    }

    /// Tells Compute the addresses of these ports changed (`network-changed`).
    func changed(_ ports: [String?]) async {
        var events: [JSON] = []
        for id in ports.compactMap({ $0 }) {
            guard let port = try? await service.read({ sql in try await RecordStore(.port).find(id, in: sql) }) else { continue }
            events += NovaEvents.events(before: port, after: port, addressesChanged: true)
        }
        service.notifier.notify(events)
    }

    /// Associating with a port: the port is the floating IP project's, the fixed address is one
    /// of its IPv4 addresses, and a router joins that subnet to the floating network.
    func association(
        _ fip: [String: JSON],
        port portID: String,
        fixed: String?,
        ctx: StratusContext,
        in sql: any SQLDatabase
    ) async throws
        -> [String: JSON]
    {
        guard let port = try await RecordStore(.port).find(portID, in: sql), service.allows(ctx, "get_port", port),
            service.isAdmin(ctx) || port["project_id"] == fip["project_id"]
        else { throw NetworkError.notFound(.port, portID) }
        let addresses = (try await IPAllocationStore().forPorts([portID], in: sql)[portID] ?? []).filter { IPAddress($0.ipAddress)?.version == 4 }
        let chosen: IPAllocationStore.Allocation
        if let fixed {
            guard let a = addresses.first(where: { $0.ipAddress == fixed }) else {
                throw NetworkError.badRequest("floatingip", "Port \(portID) does not have fixed ip \(fixed)")
            }
            chosen = a
        } else {
            guard let a = addresses.first else {
                throw NetworkError.badRequest("floatingip", "Port \(portID) does not have any IPv4 address which can be used as a floating IP")
            }
            if addresses.count > 1 {
                throw NetworkError.badRequest(
                    "floatingip",
                    "Port \(portID) has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP"
                )
            }
            chosen = a
        }
        let fipID = fip["id"]?.stringValue ?? ""
        for other in try await store.list([.oneOf(kind.attribute("port_id")!, [.string(portID)])], in: sql)
        where other["fixed_ip_address"]?.stringValue == chosen.ipAddress && other["id"]?.stringValue != fipID {
            throw NetworkError.make(
                .conflict,
                "FloatingIPPortAlreadyAssociated",
                "Cannot associate floating IP \(fip["floating_ip_address"]?.stringValue ?? "") (\(fipID)) with port \(portID) using fixed IP \(chosen.ipAddress), as that fixed IP already has a floating IP on external network \(other["floating_network_id"]?.stringValue ?? "")."
            )
        }
        let external = fip["floating_network_id"]?.stringValue ?? ""
        let routers = try await RecordStore(.router).list([.oneOf(ResourceKind.router.attribute("gw_network_id")!, [.string(external)])], in: sql)
        for r in routers {
            let rid = r["id"]!.stringValue!
            for link in try await RouterPortStore().ports(router: rid, in: sql) where link.portType == "network:router_interface" {
                let subnets = (try await IPAllocationStore().forPorts([link.portID], in: sql)[link.portID] ?? []).map(\.subnetID)
                if subnets.contains(chosen.subnetID) {
                    return [
                        "port_id": .string(portID), "fixed_ip_address": .string(chosen.ipAddress), "router_id": .string(rid),
                        "status": service.settings.mechanismDrivers.contains("noop") ? "ACTIVE" : "DOWN",
                    ]
                }
            }
        }
        throw NetworkError.make(
            .notFound,
            "ExternalGatewayForFloatingIPNotFound",
            "External network \(external) is not reachable from subnet \(chosen.subnetID).  Therefore, cannot associate Port \(portID) with a Floating IP."
        )
    }

    func views(_ records: [[String: JSON]], in sql: any SQLDatabase) async throws -> [[String: JSON]] {
        var out: [[String: JSON]] = []
        for r in try await service.decorate(kind, records, in: sql) {
            var v = r
            if let pid = r["port_id"]?.stringValue, let p = try await RecordStore(.port).find(pid, in: sql) {
                var details: [String: JSON] = [:]
                for k in ["name", "network_id", "mac_address", "admin_state_up", "status", "device_id", "device_owner"] { details[k] = p[k] ?? .null }
                v["port_details"] = .object(details)
            } else {
                v["port_details"] = .null
            }
            v.removeValue(forKey: "floating_port_id")
            v.removeValue(forKey: "dns_name")
            v.removeValue(forKey: "dns_domain")
            v["port_forwardings"] = []
            v["qos_policy_id"] = .null
            v["qos_network_policy_id"] = .null
            out.append(v)
        }
        return out
    }
}
