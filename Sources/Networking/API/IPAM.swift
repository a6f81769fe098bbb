import SQLKit
import StratusCore

/// Neutron's built-in IPAM: fixed IPs from the subnets' allocation pools. Allocations in one
/// subnet are serialized on the subnet's row; the allocation table's key makes a double
/// allocation fail rather than happen.
struct IPAM {
    let service: NetworkService

    struct Subnet {
        var id: String
        var cidr: CIDR
        var pools: [IPRange]
        var gateway: IPAddress?
        var record: [String: JSON]
    }

    static func subnets(network: String, in sql: any SQLDatabase) async throws -> [Subnet] {
        try await RecordStore(.subnet).list(
            [.oneOf(ResourceKind.subnet.attribute("network_id")!, [.string(network)])],
            sort: [
                RecordStore.Sort(attribute: ResourceKind.subnet.attribute("created_at")!, ascending: true)
            ],
            in: sql
        ).compactMap(subnet)
    }

    static func subnet(_ r: [String: JSON]) -> Subnet? {
        guard let id = r["id"]?.stringValue, let cidr = r["cidr"]?.stringValue.flatMap({ CIDR($0) }) else { return nil }
        return Subnet(
            id: id,
            cidr: cidr,
            pools: SubnetRules.parsePools(r["allocation_pools"]),
            gateway: r["gateway_ip"]?.stringValue.flatMap { IPAddress($0) },
            record: r
        )
    }

    /// Allocates the port's fixed IPs: the requested ones (`[{subnet_id?, ip_address?}]`), or
    /// one address from the first IPv4 subnet with room and one from the first IPv6 subnet.
    func allocate(
        port: String,
        network: String,
        requested: [JSON]?,
        allowGateway: Bool,
        in sql: any SQLDatabase
    ) async throws -> [IPAllocationStore.Allocation] {
        let subnets = try await Self.subnets(network: network, in: sql)
        var out: [IPAllocationStore.Allocation] = []
        guard let requested else {
            for version in [4, 6] {
                let candidates = subnets.filter { $0.cidr.version == version }
                guard !candidates.isEmpty else { continue }
                var done = false
                for s in candidates {
                    if let a = try await next(s, port: port, network: network, in: sql) {
                        out.append(a)
                        done = true
                        break
                    }
                }
                if !done { throw NetworkError.ipExhausted(network: network) }
            }
            return out
        }
        for item in requested {
            guard let o = item.objectValue else {
                throw NetworkError.invalidInput("Invalid data format for fixed IP: '\(RequestRules.python(item))'")
            }
            let unknown = o.keys.filter { $0 != "subnet_id" && $0 != "ip_address" }
            if !unknown.isEmpty { throw NetworkError.invalidInput("Invalid data format for fixed IP: '\(RequestRules.python(item))'") }
            let subnetID = o["subnet_id"]?.stringValue
            let ipText = o["ip_address"]?.stringValue
            var subnet: Subnet?
            if let subnetID {
                guard let s = subnets.first(where: { $0.id == subnetID }) else {
                    if try await RecordStore(.subnet).find(subnetID, in: sql) == nil { throw NetworkError.notFound(.subnet, subnetID) }
                    throw NetworkError.invalidInput(
                        "Failed to create port on network \(network), because fixed_ips included invalid subnet \(subnetID)"
                    )
                }
                subnet = s
            }
            if let ipText {
                guard let ip = IPAddress(ipText) else {
                    throw NetworkError.attribute("fixed_ips", "'\(ipText)' is not a valid IP address")
                }
                if let s = subnet {
                    guard s.cidr.contains(ip) else {
                        throw NetworkError.make(.badRequest, "InvalidIpForSubnet", "IP address \(ipText) is not a valid IP for the specified subnet.")
                    }
                } else {
                    guard let s = subnets.first(where: { $0.cidr.contains(ip) }) else {
                        throw NetworkError.make(
                            .badRequest,
                            "InvalidIpForNetwork",
                            "IP address \(ipText) is not a valid IP for any of the subnets on the specified network."
                        )
                    }
                    subnet = s
                }
                let s = subnet!
                if !allowGateway, ip == s.gateway {
                    throw NetworkError.ipAllocated(ip.description, subnet: s.id)
                }
                let store = IPAllocationStore()
                try await store.lockSubnet(s.id, in: sql)
                if try await store.isAllocated(ip.description, subnet: s.id, in: sql)
                    || out.contains(where: { $0.subnetID == s.id && $0.ipAddress == ip.description })
                {
                    throw NetworkError.ipAllocated(ip.description, subnet: s.id)
                }
                let a = IPAllocationStore.Allocation(subnetID: s.id, ipAddress: ip.description, portID: port)
                try await store.add(a, network: network, position: Self.position(ip, in: s.cidr), in: sql)
                out.append(a)
            } else if let s = subnet {
                guard let a = try await next(s, port: port, network: network, in: sql) else { throw NetworkError.ipExhausted(network: network) }
                out.append(a)
            } else {
                throw NetworkError.invalidInput("Invalid data format for fixed IP: '\(RequestRules.python(item))'")
            }
        }
        return out
    }

    /// The next free address of a subnet's pools: after the highest allocated one when that is
    /// free (one query), else the first gap (reads the subnet's allocations).
    func next(_ s: Subnet, port: String, network: String, in sql: any SQLDatabase) async throws -> IPAllocationStore.Allocation? {
        let store = IPAllocationStore()
        try await store.lockSubnet(s.id, in: sql)
        var chosen: IPAddress?
        if let highest = try await store.highestPosition(subnet: s.id, in: sql) {
            let candidate = s.cidr.first.advanced(by: UInt64(highest) + 1)
            if let ip = SubnetRules.firstFree(pools: s.pools, from: candidate, taken: { $0 == s.gateway }, budget: 4),
                !(try await store.isAllocated(ip.description, subnet: s.id, in: sql))
            {
                chosen = ip
            }
        }
        if chosen == nil {
            let taken = try await store.addresses(subnet: s.id, in: sql)
            chosen = SubnetRules.firstFree(pools: s.pools, from: nil, taken: { taken.contains($0.description) || $0 == s.gateway })
        }
        guard let ip = chosen else { return nil }
        let a = IPAllocationStore.Allocation(subnetID: s.id, ipAddress: ip.description, portID: port)
        try await store.add(a, network: network, position: Self.position(ip, in: s.cidr), in: sql)
        return a
    }

    /// The offset of `ip` from the subnet's first address, or -1 when it does not fit a BIGINT.
    static func position(_ ip: IPAddress, in cidr: CIDR) -> Int64 {
        guard ip.high == cidr.first.high, ip.low >= cidr.first.low else { return -1 }
        let d = ip.low - cidr.first.low
        return d > UInt64(Int64.max) ? -1 : Int64(d)
    }
}
