import StratusCore

/// A subnet's addressing rules, pure: CIDR, gateway, allocation pools, DNS servers and host
/// routes as neutron validates them, and the address IPAM hands out next.
public enum SubnetRules {
    public static func cidr(_ text: String, version: Int64) throws(OpenStackError) -> CIDR {
        guard let c = CIDR(text) else { throw NetworkError.attribute("cidr", "'\(text)' is not a valid IP subnet") }
        if c.hostBitsSet { throw NetworkError.invalidInput("'\(text)' isn't a recognized IP subnet cidr, '\(c)' is recommended") }
        guard Int64(c.version) == version else {
            throw NetworkError.invalidInput("Cidr \(text) does not match the ip_version \(version)")
        }
        if c.version == 4 && c.prefix == 0 || c.version == 6 && c.prefix == 0 {
            throw NetworkError.invalidInput("0 is not allowed as CIDR prefix length")
        }
        return c
    }

    /// The gateway: absent → the first host address; null → none; else a valid address that is
    /// neither the network nor (IPv4) the broadcast address.
    public static func gateway(_ value: JSON?, cidr: CIDR) throws(OpenStackError) -> IPAddress? {
        guard let value else { return cidr.defaultGateway }
        if value.isNull { return nil }
        guard let s = value.stringValue, let ip = IPAddress(s), ip.version == cidr.version else {
            throw NetworkError.attribute("gateway_ip", "'\(RequestRules.python(value))' is not a valid IP address")
        }
        if cidr.contains(ip), cidr.version == 4, cidr.prefix < 31, ip == cidr.first || ip == cidr.last {
            throw NetworkError.invalidInput("Gateway is not valid on subnet")
        }
        return ip
    }

    /// The allocation pools: absent → the usable range less the gateway; given → each inside
    /// the subnet, ordered, not overlapping, and not holding the gateway.
    public static func pools(_ value: JSON?, cidr: CIDR, gateway: IPAddress?) throws(OpenStackError) -> [IPRange] {
        guard let value, !value.isNull else { return defaultPools(cidr: cidr, gateway: gateway) }
        guard let items = value.arrayValue else {
            throw NetworkError.invalidInput(
                "Invalid input for allocation_pools. Reason: Invalid data format for IP pool: '\(RequestRules.python(value))'"
            )
        }
        var ranges: [IPRange] = []
        for item in items {
            guard let start = item["start"]?.stringValue, let end = item["end"]?.stringValue, item.objectValue?.count == 2 else {
                throw NetworkError.invalidInput(
                    "Invalid input for allocation_pools. Reason: Invalid data format for IP pool: '\(RequestRules.python(item))'"
                )
            }
            guard let s = IPAddress(start), let e = IPAddress(end), s.version == cidr.version, e.version == cidr.version else {
                throw NetworkError.attribute("allocation_pools", "Invalid IP address in pool: \(start)-\(end)")
            }
            guard s <= e else {
                throw NetworkError.invalidInput("The allocation pool \(start)-\(end) spans beyond the subnet cidr \(cidr).")
            }
            guard let usable = cidr.usableRange, s >= usable.0, e <= usable.1 else {
                throw NetworkError.make(
                    .badRequest,
                    "OutOfBoundsAllocationPool",
                    "The allocation pool \(start)-\(end) spans beyond the subnet cidr \(cidr)."
                )
            }
            ranges.append(IPRange(start: s, end: e))
        }
        ranges.sort { $0.start < $1.start }
        for (a, b) in zip(ranges, ranges.dropFirst()) where a.overlaps(b) {
            throw NetworkError.badRequest(
                "subnet",
                "Found overlapping allocation pools: \(a.start)-\(a.end) and \(b.start)-\(b.end) for subnet \(cidr)"
            )
        }
        if let gateway, let pool = ranges.first(where: { $0.contains(gateway) }) {
            throw NetworkError.make(
                .conflict,
                "GatewayConflictWithAllocationPools",
                "Gateway ip \(gateway) conflicts with allocation pool \(pool.start)-\(pool.end)."
            )
        }
        return ranges
    }

    public static func defaultPools(cidr: CIDR, gateway: IPAddress?) -> [IPRange] {
        guard let (first, last) = cidr.usableRange else { return [] }
        guard let gw = gateway, gw >= first, gw <= last else { return [IPRange(start: first, end: last)] }
        var out: [IPRange] = []
        if gw > first { out.append(IPRange(start: first, end: IPAddress(version: gw.version, high: gw.high, low: gw.low &- 1))) }
        if gw < last { out.append(IPRange(start: gw.advanced(by: 1), end: last)) }
        return out
    }

    public static func poolsJSON(_ pools: [IPRange]) -> JSON {
        .array(pools.map { ["start": .string($0.start.description), "end": .string($0.end.description)] })
    }

    public static func parsePools(_ json: JSON?) -> [IPRange] {
        (json?.arrayValue ?? []).compactMap { item in
            guard let s = item["start"]?.stringValue.flatMap({ IPAddress($0) }), let e = item["end"]?.stringValue.flatMap({ IPAddress($0) }) else {
                return nil
            }
            return IPRange(start: s, end: e)
        }
    }

    public static func nameservers(_ value: JSON?, max: Int) throws(OpenStackError) -> JSON {
        guard let value, !value.isNull else { return [] }
        guard let items = value.arrayValue else {
            throw NetworkError.attribute("dns_nameservers", "'\(RequestRules.python(value))' is not a list")
        }
        if items.count > max {
            throw NetworkError.make(
                .badRequest,
                "DNSNameServersExhausted",
                "Unable to complete operation for \(items.count) DNS name servers. The number of DNS nameservers exceeds the limit \(max)."
            )
        }
        var seen: Set<String> = []
        for item in items {
            guard let s = item.stringValue, let ip = IPAddress(s) else {
                throw NetworkError.attribute("dns_nameservers", "'\(RequestRules.python(item))' is not a valid nameserver.")
            }
            guard seen.insert(ip.description).inserted else {
                throw NetworkError.attribute("dns_nameservers", "Duplicate nameserver '\(s)'.")
            }
        }
        return value
    }

    public static func hostRoutes(_ value: JSON?, max: Int) throws(OpenStackError) -> JSON {
        guard let value, !value.isNull else { return [] }
        guard let items = value.arrayValue else {
            throw NetworkError.attribute("host_routes", "'\(RequestRules.python(value))' is not a list")
        }
        if items.count > max {
            throw NetworkError.make(
                .badRequest,
                "HostRoutesExhausted",
                "Unable to complete operation for \(items.count) host routes. The number of host routes exceeds the limit \(max)."
            )
        }
        var out: [JSON] = []
        for item in items {
            guard let d = item["destination"]?.stringValue, let n = item["nexthop"]?.stringValue, let dc = CIDR(d), let nh = IPAddress(n) else {
                throw NetworkError.invalidInput(
                    "Invalid input for host_routes. Reason: Invalid data format for hostroute: '\(RequestRules.python(item))'"
                )
            }
            out.append(["destination": .string(dc.description), "nexthop": .string(nh.description)])
        }
        return .array(out)
    }

    /// The first free address of `pools` at or after `from`, skipping `taken`; nil when none
    /// (scans at most `budget` addresses).
    public static func firstFree(pools: [IPRange], from: IPAddress?, taken: (IPAddress) -> Bool, budget: Int = 1 << 20) -> IPAddress? {
        var scanned = 0
        for pool in pools.sorted(by: { $0.start < $1.start }) {
            if let from, pool.end < from { continue }
            var ip = from.map { Swift.max($0, pool.start) } ?? pool.start
            while ip <= pool.end {
                if !taken(ip) { return ip }
                scanned += 1
                if scanned >= budget { return nil }
                if ip == pool.end { break }
                ip = ip.advanced(by: 1)
            }
        }
        return nil
    }
}
