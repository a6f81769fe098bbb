import Foundation
import StratusCore

/// One requested network of a boot: a network, a port, or a network with a fixed address.
struct RequestedNetwork: Sendable, Equatable {
    var network: String?
    var port: String?
    var fixedIP: String?

    var json: JSON { ["network": .optional(network), "port": .optional(port), "fixed_ip": .optional(fixedIP)] }
}

/// What `POST /servers` asks for, checked as nova's schema checks it at the request's
/// microversion (`Microversion` minor passed in), before anything is looked up.
struct BootRequest: Sendable, Equatable {
    /// `networks`: nothing said (before 2.37), `auto`, `none`, or a list.
    enum Networks: Sendable, Equatable {
        case unspecified, auto, none
        case list([RequestedNetwork])
    }

    var name: String
    var imageRef: String
    var flavorRef: String
    var networks: Networks = .unspecified
    var securityGroups: [String] = []
    var keyName: String?
    var userData: String?
    var metadata: [String: String] = [:]
    var availabilityZone: String?
    var description: String?
    var tags: [String] = []
    var hostname: String?
    var minCount = 1
    var maxCount = 1
    var returnReservationID = false
    var accessIPv4: String?
    var accessIPv6: String?
    var adminPass: String?

    static func invalid(_ field: String, _ value: JSON, _ reason: String) -> OpenStackError {
        ComputeError.invalidField(field, value: value, reason)
    }

    static func string(_ body: [String: JSON], _ key: String, max: Int = 255, min: Int = 0) throws -> String? {
        guard let v = body[key] else { return nil }
        guard let s = v.stringValue else { throw invalid(key, v, "\(ComputeError.pythonRepr(v)) is not of type 'string'") }
        if s.count > max { throw invalid(key, v, "'\(s)' is too long") }
        if s.count < min { throw invalid(key, v, "'\(s)' is too short") }
        return s
    }

    static func count(_ body: [String: JSON], _ key: String) throws -> Int? {
        guard let v = body[key] else { return nil }
        let n: Int64?
        switch v {
        case .int(let i): n = i
        case .string(let s): n = Int64(s)
        default: n = nil
        }
        guard let n else { throw invalid(key, v, "\(ComputeError.pythonRepr(v)) is not of type 'integer', 'string'") }
        guard n >= 1 else { throw invalid(key, v, "\(n) is less than the minimum of 1") }
        return Int(n)
    }

    /// Parses the `server` object of a boot at compute 2.`minor`.
    static func parse(_ body: [String: JSON], minor: Int) throws -> BootRequest {
        let known: Set<String> = [
            "name", "imageRef", "flavorRef", "networks", "security_groups", "key_name", "user_data", "metadata", "availability_zone",
            "description", "tags", "hostname", "min_count", "max_count", "return_reservation_id", "accessIPv4", "accessIPv6", "adminPass",
            "OS-DCF:diskConfig", "config_drive", "block_device_mapping_v2", "block_device_mapping", "personality", "trusted_image_certificates",
            "host", "hypervisor_hostname", "os:scheduler_hints",
        ]
        if let extra = body.keys.sorted().first(where: { !known.contains($0) }) {
            throw OpenStackError(
                .badRequest,
                "Invalid input for field/attribute server. Value: \(ComputeError.pythonRepr(.object(body))). Additional properties are not allowed ('\(extra)' was unexpected)"
            )
        }
        guard let name = try string(body, "name", min: 1) else {
            throw OpenStackError(
                .badRequest,
                "Invalid input for field/attribute server. Value: \(ComputeError.pythonRepr(.object(body))). 'name' is a required property"
            )
        }
        if name.trimmingCharacters(in: .whitespaces) != name {
            throw invalid("name", .string(name), "'\(name)' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'")
        }
        guard let flavorRef = body["flavorRef"].flatMap({ $0.stringValue ?? $0.intValue.map { String($0) } }), !flavorRef.isEmpty else {
            throw OpenStackError(
                .badRequest,
                "Invalid input for field/attribute server. Value: \(ComputeError.pythonRepr(.object(body))). 'flavorRef' is a required property"
            )
        }
        if let bdm = body["block_device_mapping_v2"]?.arrayValue,
            bdm.contains(where: { $0["source_type"]?.stringValue == "volume" || $0["destination_type"]?.stringValue == "volume" })
        {
            throw OpenStackError(.badRequest, "Block device mappings with a volume are not supported: this cloud has no volume service.")
        }
        var r = BootRequest(name: name, imageRef: try string(body, "imageRef") ?? "", flavorRef: flavorRef)
        if r.imageRef.isEmpty { throw OpenStackError(.badRequest, "Missing imageRef attribute") }
        if let slash = r.imageRef.lastIndex(of: "/") { r.imageRef = String(r.imageRef[r.imageRef.index(after: slash)...]) }
        r.networks = try parseNetworks(body["networks"], minor: minor)
        if let groups = body["security_groups"] {
            guard let list = groups.arrayValue else {
                throw invalid("security_groups", groups, "\(ComputeError.pythonRepr(groups)) is not of type 'array'")
            }
            r.securityGroups = try list.map { g in
                guard let n = g["name"]?.stringValue, !n.isEmpty else { throw invalid("security_groups", groups, "'name' is a required property") }
                return n
            }
        }
        r.keyName = try string(body, "key_name", min: 1)
        if let data = try string(body, "user_data", max: 65535) {
            guard Data(base64Encoded: data) != nil else { throw invalid("user_data", .string(data), "'\(data)' is not a 'base64'") }
            r.userData = data
        }
        if let m = body["metadata"] {
            guard let o = m.objectValue else { throw invalid("metadata", m, "\(ComputeError.pythonRepr(m)) is not of type 'object'") }
            for (k, v) in o {
                guard let s = v.stringValue else { throw invalid("metadata", m, "\(ComputeError.pythonRepr(v)) is not of type 'string'") }
                if k.isEmpty || k.count > 255 || s.count > 255 { throw invalid("metadata", m, "Metadata keys and values are 1 to 255 characters.") }
                r.metadata[k] = s
            }
        }
        r.availabilityZone = try string(body, "availability_zone", min: 1)
        if body["description"] != nil {
            guard minor >= 19 else { throw extraProperty(body, "description") }
            if body["description"] != .null { r.description = try string(body, "description") }
        }
        if let t = body["tags"] {
            guard minor >= 52 else { throw extraProperty(body, "tags") }
            guard let list = t.arrayValue, list.count <= 50 else { throw invalid("tags", t, "A server has at most 50 tags.") }
            r.tags = try list.map { tag in
                guard let s = tag.stringValue, !s.isEmpty, s.count <= 60, !s.contains("/"), !s.contains(",") else {
                    throw invalid("tags", t, "\(ComputeError.pythonRepr(tag)) is not a valid tag")
                }
                return s
            }
        }
        if body["hostname"] != nil {
            guard minor >= 90 else { throw extraProperty(body, "hostname") }
            r.hostname = try string(body, "hostname", max: 63, min: 2)
        }
        r.minCount = try count(body, "min_count") ?? 1
        r.maxCount = try count(body, "max_count") ?? r.minCount
        if r.minCount > r.maxCount { throw OpenStackError(.badRequest, "min_count must be <= max_count") }
        if let v = body["return_reservation_id"] {
            r.returnReservationID = v.boolValue ?? (v.stringValue.map { ["true", "1", "yes", "on"].contains($0.lowercased()) } ?? false)
        }
        r.accessIPv4 = try string(body, "accessIPv4")
        r.accessIPv6 = try string(body, "accessIPv6")
        r.adminPass = try string(body, "adminPass")
        return r
    }

    static func extraProperty(_ body: [String: JSON], _ key: String) -> OpenStackError {
        OpenStackError(
            .badRequest,
            "Invalid input for field/attribute server. Value: \(ComputeError.pythonRepr(.object(body))). Additional properties are not allowed ('\(key)' was unexpected)"
        )
    }

    static func parseNetworks(_ value: JSON?, minor: Int) throws -> Networks {
        guard let value else {
            if minor >= 37 {
                throw OpenStackError(.badRequest, "Invalid input for field/attribute server. Value: {}. 'networks' is a required property")
            }
            return .unspecified
        }
        if let word = value.stringValue {
            guard minor >= 37, word == "auto" || word == "none" else {
                throw invalid("networks", value, "'\(word)' is not one of ['none', 'auto']")
            }
            return word == "auto" ? .auto : .none
        }
        guard let list = value.arrayValue else { throw invalid("networks", value, "\(ComputeError.pythonRepr(value)) is not of type 'array'") }
        return .list(
            try list.map { item in
                guard let o = item.objectValue else { throw invalid("networks", value, "\(ComputeError.pythonRepr(item)) is not of type 'object'") }
                let n = RequestedNetwork(network: o["uuid"]?.stringValue, port: o["port"]?.stringValue, fixedIP: o["fixed_ip"]?.stringValue)
                if n.network == nil, n.port == nil {
                    throw OpenStackError(.badRequest, "Bad networks format: network uuid is not in proper format (None)")
                }
                return n
            }
        )
    }
}
