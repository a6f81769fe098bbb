import Hummingbird
import SQLKit
import StratusCore

/// `/v2.0/subnets`: IPv4 and IPv6 subnets of a network, with neutron's addressing rules.
struct SubnetRoutes {
    let service: NetworkService
    let kind = ResourceKind.subnet
    var store: RecordStore { RecordStore(kind) }

    static let rules: [AttributeRule] = [
        AttributeRule("name", .string(max: 255), default: ""),
        AttributeRule("network_id", .uuid, put: false),
        AttributeRule("ip_version", .int, put: false),
        AttributeRule("cidr", .string(max: 64), put: false),
        AttributeRule("gateway_ip", .any, default: .null),
        AttributeRule("enable_dhcp", .bool, default: true),
        AttributeRule("allocation_pools", .any, default: .null),
        AttributeRule("dns_nameservers", .any, default: []),
        AttributeRule("host_routes", .any, default: []),
        AttributeRule("ipv6_ra_mode", .nullableString(max: 32), put: false, default: .null),
        AttributeRule("ipv6_address_mode", .nullableString(max: 32), put: false, default: .null),
        AttributeRule("subnetpool_id", .nullableUUID, put: false, default: .null),
        AttributeRule("segment_id", .nullableUUID, default: .null),
        AttributeRule("service_types", .list, default: []),
        AttributeRule("use_default_subnetpool", .bool, put: false, default: false),
        AttributeRule("prefixlen", .int, put: false, default: .null),
    ]

    func add(to routes: inout RouteTable) {
        routes.get("/v2.0/subnets") { request, ctx in
            let query = try ListQuery(request, kind: kind, maxLimit: service.settings.maxPage)
            let items = try await service.read { sql in
                let networks = try await sharedNetworkIDs(ctx, in: sql)
                let scope = try service.listScope(ctx, orIn: [("network_id", networks)])
                var out: [[String: JSON]] = []
                let all = try await views(try await query.run(store, extraConditions: scope, in: sql), in: sql)
                for (v, t) in zip(all, try await service.withNetworks(all, ctx, in: sql)) where service.allows(ctx, "get_subnet", t) {
                    out.append(service.visibleAttributes(ctx, kind, v))
                }
                return out
            }
            return query.response(request, views: items)
        }
        routes.post("/v2.0/subnets") { request, ctx in try await create(request, ctx) }
        routes.get("/v2.0/subnets/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let view = try await service.read { sql in
                let r = try await service.visible(kind, id, ctx, target: { try await target($0, ctx, in: sql) }, in: sql)
                return try await views([r], in: sql)[0]
            }
            return NetworkHTTP.one("subnet", service.visibleAttributes(ctx, kind, view), fields: NetworkHTTP.fields(request))
        }
        routes.put("/v2.0/subnets/{id}") { request, ctx in try await update(request, ctx) }
        routes.delete("/v2.0/subnets/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            try await service.write { sql in
                let record = try await service.visible(kind, id, ctx, lock: true, target: { try await target($0, ctx, in: sql) }, in: sql)
                try service.authorize(ctx, "delete_subnet", try await target(record, ctx, in: sql), notFound: NetworkError.notFound(kind, id))
                try NetworkHTTP.checkRevision(request, record)
                let allocations = IPAllocationStore()
                var blocking = false
                for portID in try await allocations.holders(subnet: id, in: sql) {
                    let owner = try await RecordStore(.port).find(portID, in: sql)?["device_owner"]?.stringValue ?? ""
                    if owner == "network:dhcp" { try await allocations.remove(port: portID, subnet: id, in: sql) } else { blocking = true }
                }
                if blocking { throw NetworkError.subnetInUse(id) }
                try await store.delete(id, in: sql)
                if let network = record["network_id"]?.stringValue { try await RecordStore(.network).touch(network, in: sql) }
            }
            return .empty()
        }
    }

    /// Ids of networks shared with everyone or external (their subnets are visible too).
    func sharedNetworkIDs(_ ctx: StratusContext, in sql: any SQLDatabase) async throws -> [String] {
        guard !service.isAdmin(ctx) else { return [] }
        let n = ResourceKind.network
        return try await RecordStore(n).list([.oneOf(n.attribute("shared")!, [true])], in: sql).compactMap { $0["id"]?.stringValue }
            + (try await service.grantedNetworks(ctx, in: sql))
    }

    /// The policy target: the subnet with its network's owner and sharing.
    func target(_ r: [String: JSON], _ ctx: StratusContext, in sql: any SQLDatabase) async throws -> [String: JSON] {
        try await service.withNetworks([r], ctx, in: sql)[0]
    }

    func views(_ records: [[String: JSON]], in sql: any SQLDatabase) async throws -> [[String: JSON]] {
        try await service.decorate(kind, records, in: sql)
    }

    func create(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let raw = try await NetworkHTTP.body(request, ctx, key: "subnet")
        var body = try RequestRules.apply(raw, rules: Self.rules, creating: true)
        guard body["subnetpool_id"]?.isNull ?? true, body["use_default_subnetpool"] != .bool(true), body["prefixlen"]?.isNull ?? true else {
            throw NetworkError.badRequest("subnets", "subnet pools are not served by Stratus yet: give a cidr")
        }
        for k in ["use_default_subnetpool", "prefixlen"] { body.removeValue(forKey: k) }
        guard let version = body["ip_version"]?.intValue, version == 4 || version == 6 else {
            throw NetworkError.invalidInput(
                "Invalid input for ip_version. Reason: '\(RequestRules.python(body["ip_version"] ?? .null))' is not in [4, 6]"
            )
        }
        guard let cidrText = body["cidr"]?.stringValue else {
            throw NetworkError.badRequest("subnets", "a cidr must be specified in the absence of a subnet pool")
        }
        let cidr = try SubnetRules.cidr(cidrText, version: version)
        let gateway = try SubnetRules.gateway(raw["gateway_ip"], cidr: cidr)
        let pools = try SubnetRules.pools(raw["allocation_pools"], cidr: cidr, gateway: gateway)
        body["cidr"] = .string(cidr.description)
        body["gateway_ip"] = .optional(gateway?.description)
        body["allocation_pools"] = SubnetRules.poolsJSON(pools)
        body["dns_nameservers"] = try SubnetRules.nameservers(raw["dns_nameservers"], max: service.settings.maxDNSNameservers)
        body["host_routes"] = try SubnetRules.hostRoutes(raw["host_routes"], max: service.settings.maxHostRoutes)
        if version == 4, raw["ipv6_ra_mode"] != nil || raw["ipv6_address_mode"] != nil,
            !(raw["ipv6_ra_mode"]?.isNull ?? true) || !(raw["ipv6_address_mode"]?.isNull ?? true)
        {
            throw NetworkError.invalidInput("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False")
        }
        let networkID = body["network_id"]!.stringValue!
        let project = try service.owner(ctx, body)
        body["project_id"] = .string(project)
        let view = try await service.write { [body] sql in
            let network = try await service.visible(.network, networkID, ctx, in: sql)
            var t = body
            t["network:tenant_id"] = network["project_id"] ?? .null
            t["shared"] = network["shared"] ?? false
            try service.authorize(ctx, "create_subnet", t, body: raw)
            try await service.checkQuota(kind, project: project, in: sql)
            try await checkOverlap(cidr, network: networkID, in: sql)
            let record = NetworkService.stamped(body)
            try await store.insert(record, in: sql)
            try await RecordStore(.network).touch(networkID, in: sql)
            return try await views([record], in: sql)[0]
        }
        return NetworkHTTP.one("subnet", service.visibleAttributes(ctx, kind, view), status: .created)
    }

    /// Neutron refuses a CIDR that overlaps another subnet of the network, or any subnet at all
    /// when `allow_overlapping_ips` is false.
    func checkOverlap(_ cidr: CIDR, network: String, in sql: any SQLDatabase) async throws {
        let conditions: [RecordStore.Condition] =
            service.settings.allowOverlappingIPs ? [.oneOf(kind.attribute("network_id")!, [.string(network)])] : []
        for other in try await store.list(conditions, in: sql) {
            guard let c = other["cidr"]?.stringValue.flatMap({ CIDR($0) }), c.overlaps(cidr) else { continue }
            throw NetworkError.invalidInput("Requested subnet with cidr: \(cidr) for network: \(network) overlaps with another subnet")
        }
    }

    func update(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let raw = try await NetworkHTTP.body(request, ctx, key: "subnet")
        let changes = try RequestRules.apply(raw, rules: Self.rules, creating: false)
        let view = try await service.write { [changes] sql in
            var changes = changes
            let record = try await service.visible(kind, id, ctx, lock: true, target: { try await target($0, ctx, in: sql) }, in: sql)
            try service.authorize(ctx, "update_subnet", try await target(record, ctx, in: sql), body: raw, notFound: NetworkError.notFound(kind, id))
            try NetworkHTTP.checkRevision(request, record)
            guard let cidr = record["cidr"]?.stringValue.flatMap({ CIDR($0) }) else { throw NetworkError.notFound(kind, id) }
            var gateway = record["gateway_ip"]?.stringValue.flatMap { IPAddress($0) }
            if raw["gateway_ip"] != nil {
                gateway = try SubnetRules.gateway(raw["gateway_ip"], cidr: cidr)
                changes["gateway_ip"] = .optional(gateway?.description)
            }
            if raw["allocation_pools"] != nil {
                changes["allocation_pools"] = SubnetRules.poolsJSON(try SubnetRules.pools(raw["allocation_pools"], cidr: cidr, gateway: gateway))
            } else if raw["gateway_ip"] != nil, let g = gateway,
                let pool = SubnetRules.parsePools(record["allocation_pools"]).first(where: { $0.contains(g) })
            {
                throw NetworkError.make(
                    .conflict,
                    "GatewayConflictWithAllocationPools",
                    "Gateway ip \(g) conflicts with allocation pool \(pool.start)-\(pool.end)."
                )
            }
            if raw["dns_nameservers"] != nil {
                changes["dns_nameservers"] = try SubnetRules.nameservers(
                    raw["dns_nameservers"],
                    max: service.settings.maxDNSNameservers
                )
            }
            if raw["host_routes"] != nil {
                changes["host_routes"] = try SubnetRules.hostRoutes(raw["host_routes"], max: service.settings.maxHostRoutes)
            }
            try await store.update(id, changes, in: sql)
            return try await views([try await store.find(id, in: sql)!], in: sql)[0]
        }
        return NetworkHTTP.one("subnet", service.visibleAttributes(ctx, kind, view))
    }
}
