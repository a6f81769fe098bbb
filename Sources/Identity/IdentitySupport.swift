import Foundation
import Hummingbird
import StratusCore

/// Small shared pieces of the identity handlers: time formats, ids, links and request-body
/// validation with keystone's 400 messages.
enum Clock {
    /// Microseconds since the epoch.
    static func micros(_ date: Date = Date()) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }

    /// keystone's token time format: `2015-11-05T22:00:11.000000Z`.
    static func iso(micros: Int64, zulu: Bool = true) -> String {
        let seconds = micros / 1_000_000
        let fraction = micros % 1_000_000
        var t = time_t(seconds)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        func pad(_ v: Int, _ width: Int) -> String {
            let digits = String(v)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        let s =
            pad(Int(tmv.tm_year) + 1900, 4) + "-" + pad(Int(tmv.tm_mon) + 1, 2) + "-" + pad(Int(tmv.tm_mday), 2) + "T"
            + pad(Int(tmv.tm_hour), 2) + ":" + pad(Int(tmv.tm_min), 2) + ":" + pad(Int(tmv.tm_sec), 2) + "." + pad(Int(fraction), 6)
        return zulu ? s + "Z" : s
    }

    /// Parses ISO 8601 times as clients send them (`2030-01-01T00:00:00`, with or without
    /// fraction and `Z`/offset); nil when unparseable.
    static func parse(_ s: String) -> Int64? {
        var text = s.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("Z") { text.removeLast() }
        var offset = 0
        if let sign = text.lastIndex(where: { $0 == "+" || $0 == "-" }),
            sign > text.index(text.startIndex, offsetBy: 10, limitedBy: text.endIndex) ?? text.endIndex
        {
            let tz = text[text.index(after: sign)...].replacingOccurrences(of: ":", with: "")
            guard tz.count == 4, let h = Int(tz.prefix(2)), let m = Int(tz.suffix(2)) else { return nil }
            offset = (h * 3600 + m * 60) * (text[sign] == "+" ? 1 : -1)
            text = String(text[..<sign])
        }
        var fraction: Int64 = 0
        if let dot = text.firstIndex(of: ".") {
            let digits = String(text[text.index(after: dot)...].prefix(6))
            fraction = Int64(digits.padding(toLength: 6, withPad: "0", startingAt: 0)) ?? 0
            text = String(text[..<dot])
        }
        let parts = text.split(whereSeparator: { "-T: ".contains($0) }).compactMap { Int($0) }
        guard parts.count == 6 || parts.count == 3, (1970...9999).contains(parts[0]) else { return nil }
        var tmv = tm()
        tmv.tm_year = Int32(parts[0] - 1900)
        tmv.tm_mon = Int32(parts[1] - 1)
        tmv.tm_mday = Int32(parts[2])
        if parts.count == 6 {
            tmv.tm_hour = Int32(parts[3])
            tmv.tm_min = Int32(parts[4])
            tmv.tm_sec = Int32(parts[5])
        }
        let secs = Int64(timegm(&tmv)) - Int64(offset)
        return secs * 1_000_000 + fraction
    }
}

/// A new id as keystone makes them: uuid4 as 32 lowercase hex digits.
func newID() -> String { UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }

/// Keystone's schema-validation error.
func invalid(_ field: String, _ detail: String) -> IdentityError {
    .invalidField(field, detail)
}

/// A request body's entity object (`{"user": {...}}`), with typed, validating accessors.
struct EntityBody {
    let name: String
    let fields: [String: JSON]

    init(_ body: JSON, entity: String) throws {
        guard case .object(let top) = body else { throw invalid(entity, "the request body must be a JSON object") }
        guard let inner = top[entity] else { throw invalid(entity, "'\(entity)' is a required property") }
        guard case .object(let fields) = inner else { throw invalid(entity, "\(inner.typeName) is not of type 'object'") }
        self.name = entity
        self.fields = fields
    }

    func has(_ key: String) -> Bool { fields[key] != nil }

    func string(_ key: String, required: Bool = false, nullable: Bool = false, maxLength: Int = 255, minLength: Int = 0) throws -> String? {
        guard let v = fields[key] else {
            if required { throw invalid(key, "'\(key)' is a required property") }
            return nil
        }
        if v.isNull, nullable { return nil }
        guard case .string(let s) = v else { throw invalid(key, "\(v.serialized()) is not of type 'string'") }
        // The value is not echoed: it may be a password or a secret.
        if s.count > maxLength { throw invalid(key, "the value is too long (maximum \(maxLength) characters)") }
        if s.count < minLength { throw invalid(key, "the value is too short (minimum \(minLength) characters)") }
        return s
    }

    /// A name: a non-empty string without leading or trailing whitespace only.
    /// A name: 1 to `maxLength` characters, not blank (keystone allows 64 for domains and projects, 255 elsewhere).
    func name(_ key: String = "name", required: Bool, maxLength: Int = 255) throws -> String? {
        guard let s = try string(key, required: required, maxLength: maxLength, minLength: 1) else { return nil }
        if s.trimmingCharacters(in: .whitespaces).isEmpty { throw invalid(key, "'\(s)' must not be blank") }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = fields[key] else { return nil }
        guard case .bool(let b) = v else { throw invalid(key, "\(v.serialized()) is not of type 'boolean'") }
        return b
    }

    func strings(_ key: String) throws -> [String]? {
        guard let v = fields[key] else { return nil }
        guard case .array(let a) = v else { throw invalid(key, "\(v.serialized()) is not of type 'array'") }
        return try a.map { item in
            guard case .string(let s) = item else { throw invalid(key, "\(item.serialized()) is not of type 'string'") }
            return s
        }
    }

    /// The fields not in `known`: keystone keeps them as free-form `extra` attributes.
    func extra(excluding known: Set<String>) -> [String: JSON] {
        fields.filter { !known.contains($0.key) }
    }
}

extension Request {
    /// `http://host:port` of this request, for `links`.
    var baseURL: String {
        "\(head.scheme ?? "http")://\(head.authority ?? header("Host") ?? "localhost")"
    }

    /// keystone's inexact filters on `name` in the query (`name__contains=…`, …).
    var nameFilters: [InexactFilter] {
        InexactFilter.parse(uri.queryParameters.map { (String($0.key), String($0.value)) })
    }

    /// The request URL without its query, for `links.self`.
    var selfURL: String { baseURL + uri.path }
}

/// `{"self": url, "previous": null, "next": null}`.
func collectionLinks(_ request: Request) -> JSON {
    var url = request.selfURL
    if let q = request.uri.query, !q.isEmpty { url += "?" + q }
    return ["self": .string(url), "previous": nil, "next": nil]
}

func merged(_ base: [String: JSON], _ extra: [String: JSON]) -> JSON {
    .object(extra.merging(base) { _, b in b })
}

/// Query values keystone treats as true for boolean filters (`enabled`).
func queryBool(_ s: String) -> Bool { !["0", "false", "no", "off"].contains(s.lowercased()) }

extension IdentityService {
    /// Authorizes a list call that can be narrowed to a domain, as keystone does: a domain-scoped
    /// token puts its own domain in the target (`target.domain_id`, or `target.<entity>.domain_id`
    /// for `entity`, as `identity:list_groups` reads it) and sees only that domain, whatever
    /// `domain_id` it asks for; any other token is checked with no domain in the target, so a
    /// `domain_id` query value never satisfies `domain_id:%(target.domain_id)s` (keystone 30
    /// builds the target the same way). Returns the domain to list: `domainFilter`, or the token's.
    func authorizeList(_ req: Request, _ action: String, domainFilter: String?, entity: String? = nil) async throws -> (Caller, ListedDomain) {
        let caller = try await authenticate(req)
        let tokenDomain = caller.domainID
        let target: [String: JSON] =
            tokenDomain.map { d in
                if let entity { return ["target": [entity: ["domain_id": .string(d)]]] }
                return ["target": ["domain_id": .string(d)]]
            } ?? [:]
        try enforcer.authorize(action, target: target, caller: caller)
        return (caller, ListedDomain(filter: domainFilter, tokenDomain: tokenDomain))
    }
}

/// A list answer as keystone wraps it: `{key: [...], "links": {...}}`, with `"truncated": true`
/// when a `list_limit` cut it.
func collectionBody(_ key: String, _ items: [JSON], truncated: Bool, _ req: Request) -> Response {
    var body: [String: JSON] = [key: .array(items), "links": collectionLinks(req)]
    if truncated { body["truncated"] = true }
    return .json(.object(body))
}
