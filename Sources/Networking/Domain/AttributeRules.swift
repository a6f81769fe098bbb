import StratusCore

/// Neutron's attribute maps as request rules: which attributes a POST or PUT may carry, their
/// defaults and conversions, with neutron's 400 messages. Pure; the routes apply resource
/// logic (IPAM, segments) after these.
public struct AttributeRule: Sendable {
    public enum Value: Sendable {
        case string(max: Int)
        case bool
        case int
        case uuid
        case list
        case dict
        case any
        /// A string or null.
        case nullableString(max: Int)
        case nullableUUID
    }

    public var name: String
    public var value: Value
    public var post: Bool
    public var put: Bool
    /// Filled in on POST when absent; nil means required on POST (when `post`).
    public var defaultValue: JSON?

    public init(_ name: String, _ value: Value, post: Bool = true, put: Bool = true, default defaultValue: JSON? = nil) {
        self.name = name
        self.value = value
        self.post = post
        self.put = put
        self.defaultValue = defaultValue
    }
}

public enum RequestRules {
    /// The attributes every resource has beside its own.
    static let common: [AttributeRule] = [
        AttributeRule("id", .uuid, post: false, put: false),
        AttributeRule("project_id", .string(max: 255), put: false, default: .null),
        AttributeRule("tenant_id", .string(max: 255), put: false, default: .null),
        AttributeRule("description", .string(max: 255), default: ""),
        AttributeRule("revision_number", .int, post: false, put: false),
        AttributeRule("created_at", .string(max: 32), post: false, put: false),
        AttributeRule("updated_at", .string(max: 32), post: false, put: false),
        AttributeRule("tags", .list, post: false, put: false),
    ]

    /// Checks and normalizes a POST (`creating`) or PUT body of one resource: unknown
    /// attributes, ones the verb may not set, types, then defaults on POST. `project_id` and
    /// `tenant_id` are merged into `project_id`.
    public static func apply(_ body: [String: JSON], rules own: [AttributeRule], creating: Bool) throws(OpenStackError) -> [String: JSON] {
        let rules = common + own
        let byName = Dictionary(rules.map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
        let unknown = body.keys.filter { byName[$0] == nil }.sorted()
        if !unknown.isEmpty { throw NetworkError.unrecognized(unknown) }
        var out: [String: JSON] = [:]
        for (name, value) in body {
            let rule = byName[name]!
            if creating && !rule.post { throw NetworkError.invalidBody("Attribute '\(name)' not allowed in POST") }
            if !creating && !rule.put { throw NetworkError.invalidBody("Cannot update read-only attribute \(name)") }
            out[name] = try convert(value, rule)
        }
        if let t = out.removeValue(forKey: "tenant_id") {
            if let p = out["project_id"], p != t, !p.isNull, !t.isNull {
                throw NetworkError.invalidInput("'project_id' and 'tenant_id' do not match")
            }
            if out["project_id"] == nil || out["project_id"]!.isNull { out["project_id"] = t }
        }
        if creating {
            for rule in own where rule.post && out[rule.name] == nil {
                guard let d = rule.defaultValue else {
                    throw NetworkError.invalidBody("Failed to parse request. Required attribute '\(rule.name)' not specified")
                }
                out[rule.name] = d
            }
            if out["description"] == nil { out["description"] = "" }
        }
        return out
    }

    static func convert(_ v: JSON, _ rule: AttributeRule) throws(OpenStackError) -> JSON {
        let name = rule.name
        func invalid(_ reason: String) -> OpenStackError {
            NetworkError.attribute("\(name)", "\(reason)")
        }
        switch rule.value {
        case .bool:
            switch v {
            case .bool: return v
            case .string(let s) where ["true", "1"].contains(s.lowercased()): return true
            case .string(let s) where ["false", "0"].contains(s.lowercased()): return false
            case .int(let i) where i == 0 || i == 1: return .bool(i == 1)
            default: throw invalid("'\(python(v))' cannot be converted to boolean")
            }
        case .int:
            if case .int = v { return v }
            if case .string(let s) = v, let i = Int64(s) { return .int(i) }
            throw invalid("'\(python(v))' is not an integer")
        case .string(let max), .nullableString(let max):
            if case .null = v, case .nullableString = rule.value { return v }
            guard case .string(let s) = v else { throw invalid("'\(python(v))' is not a valid string") }
            if s.count > max { throw invalid("'\(s)' exceeds maximum length of \(max)") }
            return v
        case .uuid, .nullableUUID:
            if case .null = v, case .nullableUUID = rule.value { return v }
            guard case .string(let s) = v, isUUID(s) else { throw invalid("'\(python(v))' is not a valid UUID") }
            return v
        case .list:
            guard case .array = v else { throw invalid("'\(python(v))' is not a list") }
            return v
        case .dict:
            if case .null = v { return .object([:]) }
            guard case .object = v else { throw invalid("'\(python(v))' is not a dictionary") }
            return v
        case .any:
            return v
        }
    }

    /// How Python's `%s` shows a value in neutron's messages.
    static func python(_ v: JSON) -> String {
        switch v {
        case .null: "None"
        case .bool(let b): b ? "True" : "False"
        case .string(let s): s
        default: v.serialized()
        }
    }

    public static func isUUID(_ s: String) -> Bool {
        let hex = s.replacingOccurrences(of: "-", with: "")
        return hex.count == 32 && hex.allSatisfy(\.isHexDigit) && (s.count == 32 || s.count == 36)
    }
}
