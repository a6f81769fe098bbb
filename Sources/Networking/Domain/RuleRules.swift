import StratusCore

/// Security group rules as neutron validates and compares them: protocols by name or number,
/// port ranges (ICMP type and code), remote prefixes normalized to their network.
public enum RuleRules {
    /// IANA numbers of the protocol names neutron accepts.
    public static let protocols: [String: Int] = [
        "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2, "ip": 0, "ipip": 4,
        "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60,
        "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
    ]

    /// The protocol's number, for comparing `icmp` with `1`; nil for "any".
    public static func number(_ p: String?) -> Int? {
        guard let p, !p.isEmpty, p.lowercased() != "any" else { return nil }
        return protocols[p.lowercased()] ?? Int(p)
    }

    /// Checks a rule body (already type-converted) and returns it normalized.
    public static func validate(_ r: [String: JSON]) throws(OpenStackError) -> [String: JSON] {
        var out = r
        guard let direction = r["direction"]?.stringValue, ["ingress", "egress"].contains(direction) else {
            throw NetworkError.invalidInput(
                "Invalid input for direction. Reason: '\(RequestRules.python(r["direction"] ?? .null))' is not in ['ingress', 'egress']"
            )
        }
        let ethertype = r["ethertype"]?.stringValue ?? "IPv4"
        guard ["IPv4", "IPv6"].contains(ethertype) else {
            throw NetworkError.make(
                .badRequest,
                "SecurityGroupRuleInvalidEtherType",
                "Security group rule for ethertype '\(ethertype)' not supported. Allowed values are ['IPv4', 'IPv6']."
            )
        }
        out["ethertype"] = .string(ethertype)
        var proto = r["protocol"].flatMap { $0.isNull ? nil : ($0.stringValue ?? $0.intValue.map { String($0) }) }
        if let p = proto {
            if p.lowercased() == "any" {
                proto = nil
            } else if let n = Int(p) {
                guard (0...255).contains(n) else {
                    throw NetworkError.make(
                        .badRequest,
                        "SecurityGroupRuleInvalidProtocol",
                        "Security group rule protocol \(p) not supported. Only protocol values \(protocols.keys.sorted()) and integer representations [0 to 255] are supported."
                    )
                }
            } else if protocols[p.lowercased()] == nil {
                throw NetworkError.make(
                    .badRequest,
                    "SecurityGroupRuleInvalidProtocol",
                    "Security group rule protocol \(p) not supported. Only protocol values \(protocols.keys.sorted()) and integer representations [0 to 255] are supported."
                )
            } else {
                proto = p.lowercased()
            }
        }
        out["protocol"] = .optional(proto)
        let lo = r["port_range_min"].flatMap { $0.isNull ? nil : $0.intValue }
        let hi = r["port_range_max"].flatMap { $0.isNull ? nil : $0.intValue }
        if (lo != nil || hi != nil) && proto == nil {
            throw NetworkError.make(.badRequest, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.")
        }
        let n = number(proto)
        if n == 6 || n == 17 || n == 132 || n == 33 || n == 136 {
            if let lo, let hi, lo > hi {
                throw NetworkError.make(
                    .badRequest,
                    "SecurityGroupInvalidPortRange",
                    "For TCP/UDP protocols, port_range_min must be <= port_range_max"
                )
            }
            for v in [lo, hi].compactMap({ $0 }) where !(1...65535).contains(v) {
                throw NetworkError.make(.badRequest, "SecurityGroupInvalidPortValue", "Invalid value for port \(v).")
            }
            if lo != nil && hi == nil { out["port_range_max"] = .int(lo!) }
        } else if n == 1 || n == 58 {
            if let lo, !(0...255).contains(lo) {
                throw NetworkError.make(
                    .badRequest,
                    "SecurityGroupInvalidIcmpValue",
                    "Invalid value for ICMP port_range_min(type): \(lo). It must be 0 to 255."
                )
            }
            if let hi, !(0...255).contains(hi) {
                throw NetworkError.make(
                    .badRequest,
                    "SecurityGroupInvalidIcmpValue",
                    "Invalid value for ICMP port_range_max(code): \(hi). It must be 0 to 255."
                )
            }
            if hi != nil && lo == nil {
                throw NetworkError.make(
                    .badRequest,
                    "SecurityGroupMissingIcmpType",
                    "ICMP code (port-range-max) \(hi!) is provided but ICMP type (port-range-min) is missing."
                )
            }
        } else if lo != nil || hi != nil {
            throw NetworkError.make(
                .badRequest,
                "SecurityGroupInvalidProtocolForPortRange",
                "Invalid protocol \(proto ?? "") for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP."
            )
        }
        let prefix = r["remote_ip_prefix"]?.stringValue
        if prefix != nil, let g = r["remote_group_id"], !g.isNull {
            throw NetworkError.make(
                .badRequest,
                "SecurityGroupRemoteGroupAndRemoteIpPrefix",
                "Only remote_ip_prefix or remote_group_id may be provided."
            )
        }
        if let prefix {
            let c = CIDR(prefix) ?? IPAddress(prefix).map { CIDR(network: $0, prefix: $0.bits) }
            guard let c else { throw NetworkError.attribute("remote_ip_prefix", "'\(prefix)' is not a valid IP prefix") }
            if (c.version == 4) != (ethertype == "IPv4") {
                throw NetworkError.make(
                    .badRequest,
                    "SecurityGroupRuleParameterConflict",
                    "Conflicting value ethertype \(ethertype) for CIDR \(prefix)"
                )
            }
            out["remote_ip_prefix"] = .string(CIDR(prefix) != nil ? prefix : c.description)
            out["normalized_cidr"] = .string(c.description)
        } else {
            out["normalized_cidr"] = .null
        }
        return out
    }

    /// Whether two rules of one group are the same rule (neutron's duplicate check).
    public static func same(_ a: [String: JSON], _ b: [String: JSON]) -> Bool {
        func s(_ r: [String: JSON], _ k: String) -> JSON {
            // "Anywhere" is the same rule whether written 0.0.0.0/0, ::/0 or left out.
            if k == "normalized_cidr", let c = r[k]?.stringValue, c == "0.0.0.0/0" || c == "::/0" { return .null }
            return r[k] ?? .null
        }
        return s(a, "direction") == s(b, "direction") && s(a, "ethertype") == s(b, "ethertype")
            && number(a["protocol"]?.stringValue) == number(b["protocol"]?.stringValue)
            && s(a, "port_range_min") == s(b, "port_range_min") && s(a, "port_range_max") == s(b, "port_range_max")
            && s(a, "normalized_cidr") == s(b, "normalized_cidr") && s(a, "remote_group_id") == s(b, "remote_group_id")
    }
}
