/// An IPv4 or IPv6 address as a 128-bit number (IPv4 in the low 32 bits), with the parsing
/// and printing neutron's netaddr does: dotted quads, and RFC 5952's compressed lower-case
/// IPv6 form on output.
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var version: Int
    public var high: UInt64
    public var low: UInt64

    public init(version: Int, high: UInt64, low: UInt64) {
        self.version = version
        self.high = high
        self.low = low
    }

    /// Parses `10.0.0.1` or `fd00::1`; nil for anything else (no zone ids, no leading zeros in v4 octets).
    public init?(_ text: some StringProtocol) {
        if text.contains(":") {
            guard let v = IPAddress.parse6(String(text)) else { return nil }
            self = v
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var value: UInt64 = 0
            for p in parts {
                guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), let n = UInt64(p), n <= 255 else { return nil }
                if p.count > 1 && p.first == "0" { return nil }
                value = value << 8 | n
            }
            self.init(version: 4, high: 0, low: value)
        }
    }

    private static func parse6(_ text: String) -> IPAddress? {
        var groups: [UInt16] = []
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func parseGroups(_ s: String, allowV4Tail: Bool) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            let items = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, item) in items.enumerated() {
                if allowV4Tail, i == items.count - 1, item.contains(".") {
                    guard let v4 = IPAddress(item), v4.version == 4 else { return nil }
                    out.append(UInt16(v4.low >> 16))
                    out.append(UInt16(v4.low & 0xffff))
                } else {
                    guard !item.isEmpty, item.count <= 4, let g = UInt16(item, radix: 16) else { return nil }
                    out.append(g)
                }
            }
            return out
        }
        if halves.count == 2 {
            guard let head = parseGroups(halves[0], allowV4Tail: false), let tail = parseGroups(halves[1], allowV4Tail: true) else { return nil }
            guard head.count + tail.count <= 7 else { return nil }
            groups = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let all = parseGroups(text, allowV4Tail: true), all.count == 8 else { return nil }
            groups = all
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for g in groups[0..<4] { high = high << 16 | UInt64(g) }
        for g in groups[4..<8] { low = low << 16 | UInt64(g) }
        return IPAddress(version: 6, high: high, low: low)
    }

    public var bits: Int { version == 4 ? 32 : 128 }

    public var description: String {
        if version == 4 {
            return [24, 16, 8, 0].map { String((low >> UInt64($0)) & 0xff) }.joined(separator: ".")
        }
        let groups = (0..<8).map { i -> UInt16 in
            let word = i < 4 ? high : low
            return UInt16((word >> UInt64((3 - i % 4) * 16)) & 0xffff)
        }
        // RFC 5952: the longest run (first on ties) of two or more zero groups becomes "::".
        var best = (start: -1, length: 0)
        var i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > best.length { best = (i, j - i) }
                i = j
            } else {
                i += 1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        let head = hex[..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        (a.version, a.high, a.low) < (b.version, b.high, b.low)
    }

    /// The address `n` after this one (wrapping is the caller's concern: ranges stay inside a CIDR).
    public func advanced(by n: UInt64) -> IPAddress {
        let (sum, overflow) = low.addingReportingOverflow(n)
        return IPAddress(version: version, high: high &+ (overflow ? 1 : 0), low: sum)
    }

    /// The value with the lowest `bits - prefix` bits cleared (or set, for the last address).
    func masked(prefix: Int, fill: Bool) -> IPAddress {
        let hostBits = bits - prefix
        var h = high
        var l = low
        if hostBits >= 64 {
            l = fill ? .max : 0
            let hb = hostBits - 64
            let m: UInt64 = hb >= 64 ? .max : (hb == 0 ? 0 : (UInt64(1) << UInt64(hb)) - 1)
            h = fill ? (h | m) : (h & ~m)
        } else if hostBits > 0 {
            let m = (UInt64(1) << UInt64(hostBits)) - 1
            l = fill ? (l | m) : (l & ~m)
        }
        if version == 4 { l &= 0xffff_ffff }
        return IPAddress(version: version, high: h, low: l)
    }
}

/// A network in CIDR notation (`10.0.0.0/24`, `fd00::/64`).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public var network: IPAddress
    public var prefix: Int

    /// Parses `addr/prefix`; `strict` refuses host bits (neutron normalizes them instead, so it is off for subnets).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(parts[0]), let p = Int(parts[1]), p >= 0, p <= address.bits,
            parts[1].allSatisfy(\.isNumber)
        else { return nil }
        network = address.masked(prefix: p, fill: false)
        prefix = p
        hostBitsSet = network != address
    }

    public init(network: IPAddress, prefix: Int) {
        self.network = network.masked(prefix: prefix, fill: false)
        self.prefix = prefix
        hostBitsSet = false
    }

    /// Whether the text had bits set beyond the prefix (`10.0.0.5/24`).
    public private(set) var hostBitsSet = false

    public var version: Int { network.version }
    public var first: IPAddress { network }
    public var last: IPAddress { network.masked(prefix: prefix, fill: true) }
    public var description: String { "\(network)/\(prefix)" }

    public func contains(_ ip: IPAddress) -> Bool {
        ip.version == version && ip >= first && ip <= last
    }

    public func overlaps(_ other: CIDR) -> Bool {
        other.version == version && other.first <= last && first <= other.last
    }

    /// Neutron's defaults: the gateway is the first host address; the pool is every address but
    /// the network address, the gateway and (IPv4) the broadcast address.
    public var defaultGateway: IPAddress? {
        let hostBits = network.bits - prefix
        guard hostBits >= 1 else { return nil }
        // IPv6: the subnet-router anycast address, the network address itself (neutron's default).
        if version == 6 { return network }
        return hostBits >= 2 ? network.advanced(by: 1) : nil
    }

    /// The usable range: IPv4 excludes the network and broadcast addresses (but /31 and /32
    /// keep theirs); IPv6 excludes only the subnet-router anycast address (the first).
    public var usableRange: (IPAddress, IPAddress)? {
        let hostBits = network.bits - prefix
        if version == 4 {
            if hostBits <= 1 { return (first, last) }
            return (first.advanced(by: 1), IPAddress(version: 4, high: 0, low: last.low - 1))
        }
        if hostBits == 0 { return (first, last) }
        return (first.advanced(by: 1), last)
    }
}

/// One allocation pool, inclusive.
public struct IPRange: Sendable, Hashable {
    public var start: IPAddress
    public var end: IPAddress

    public init(start: IPAddress, end: IPAddress) {
        self.start = start
        self.end = end
    }

    public func contains(_ ip: IPAddress) -> Bool { ip.version == start.version && ip >= start && ip <= end }
    public func overlaps(_ o: IPRange) -> Bool { o.start <= end && start <= o.end }
}
