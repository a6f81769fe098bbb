import StratusCore

/// `physnet` or `physnet:min:max` of `[ml2_type_vlan] network_vlan_ranges`.
public struct VLANRange: Sendable, Equatable {
    public var physnet: String
    public var range: ClosedRange<Int64>?

    static func parse(_ text: String) throws(ConfigError) -> VLANRange {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1: return VLANRange(physnet: parts[0], range: nil)
        case 3:
            let r = try Segments.parseRange("\(parts[1]):\(parts[2])", option: "[ml2_type_vlan] network_vlan_ranges", max: 4094)
            return VLANRange(physnet: parts[0], range: r)
        default: throw ConfigError(message: "[ml2_type_vlan] network_vlan_ranges: \(text) is not physnet or physnet:min:max")
        }
    }
}

/// ML2's type-driver rules: which segments a network may have and how project networks get one.
public enum Segments {
    static func parseRange(_ text: String, option: String, max: Int64) throws(ConfigError) -> ClosedRange<Int64> {
        let parts = text.split(separator: ":").map { Int64($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo >= 1, lo <= hi, hi <= max else {
            throw ConfigError(message: "\(option): \(text) is not a range min:max within 1..\(max)")
        }
        return lo...hi
    }

    /// The lowest id of `ranges` not in `used` (ascending), or nil when all are taken.
    public static func firstFree(in ranges: [ClosedRange<Int64>], used: [Int64]) -> Int64? {
        let taken = Set(used)
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            var id = r.lowerBound
            while id <= r.upperBound {
                if !taken.contains(id) { return id }
                id += 1
            }
        }
        return nil
    }

    /// A provider segment as asked for: the type, physical network and id after ML2's checks.
    public struct Request: Sendable, Equatable {
        public var type: String
        public var physnet: String?
        public var id: Int64?
    }

    /// Validates provider attributes against the type drivers (neutron's messages).
    public static func validate(_ r: Request, settings: NetworkSettings) throws(OpenStackError) -> Request {
        guard settings.typeDrivers.contains(r.type) else {
            throw NetworkError.invalidInput("network_type value '\(r.type)' not supported")
        }
        switch r.type {
        case "flat":
            guard let physnet = r.physnet, !physnet.isEmpty else {
                throw NetworkError.invalidInput("physical_network required for flat provider network")
            }
            if r.id != nil { throw NetworkError.invalidInput("segmentation_id specified for flat provider network") }
            guard settings.flatNetworks.contains("*") || settings.flatNetworks.contains(physnet) else {
                throw NetworkError.invalidInput("physical_network '\(physnet)' unknown for flat provider network")
            }
            return Request(type: "flat", physnet: physnet, id: nil)
        case "vlan":
            guard let physnet = r.physnet, !physnet.isEmpty else {
                throw NetworkError.invalidInput("physical_network required for VLAN provider network")
            }
            guard settings.vlanRanges.contains(where: { $0.physnet == physnet }) else {
                throw NetworkError.invalidInput("physical_network '\(physnet)' unknown for VLAN provider network")
            }
            if let id = r.id, !(1...4094).contains(id) {
                throw NetworkError.invalidInput("segmentation_id out of range (1 through 4094)")
            }
            return r
        case "vxlan", "geneve", "gre":
            if r.physnet != nil { throw NetworkError.invalidInput("provider:physical_network specified for \(r.type) network") }
            if let id = r.id, !(1...16_777_215).contains(id) {
                throw NetworkError.invalidInput("segmentation_id out of range (1 through 16777215)")
            }
            return r
        case "local":
            if r.physnet != nil || r.id != nil { throw NetworkError.invalidInput("provider attributes specified for local network") }
            return r
        default:
            throw NetworkError.invalidInput("network_type value '\(r.type)' not supported")
        }
    }
}

/// MAC addresses: `base_mac`'s fixed bytes and random ones where it has zeros, as neutron generates them.
public enum MACAddress {
    /// The fixed leading bytes of `base_mac` (neutron keeps the first three, and a fourth when it is not zero).
    public static func prefix(_ base: String) -> [UInt8]? {
        let bytes = base.split(separator: ":").compactMap { UInt8($0, radix: 16) }
        guard bytes.count == 6 else { return nil }
        return bytes[3] == 0 ? Array(bytes[0..<3]) : Array(bytes[0..<4])
    }

    public static func random(base: String) -> String {
        var bytes = prefix(base) ?? [0xfa, 0x16, 0x3e]
        while bytes.count < 6 { bytes.append(UInt8.random(in: 0...255)) }
        return bytes.map { b in b < 16 ? "0" + String(b, radix: 16) : String(b, radix: 16) }.joined(separator: ":")
    }

    /// `AA-BB-…` or `aa:bb:…` as neutron stores it (lower case, colons); nil when not a unicast MAC.
    public static func normalize(_ text: String) -> String? {
        let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6, parts.allSatisfy({ $0.count == 2 && UInt8($0, radix: 16) != nil }) else { return nil }
        let first = UInt8(parts[0], radix: 16)!
        guard first & 1 == 0 else { return nil }
        let mac = parts.map { $0.lowercased() }.joined(separator: ":")
        return mac == "00:00:00:00:00:00" ? nil : mac
    }
}

/// Neutron's quota resources and their defaults.
public enum Quota {
    public static let defaults: [String: Int64] = [
        "network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
        "security_group": 10, "security_group_rule": 100, "rbac_policy": 10,
    ]
}
