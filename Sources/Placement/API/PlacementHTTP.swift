import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StratusCore

/// Request and response helpers shared by placement's handlers: bodies checked the way
/// placement's JSON schemas check them (with jsonschema's wording), query parameter checks, and
/// the `Last-Modified` / `Cache-Control` headers of 1.15.
enum PlacementHTTP {
    /// The JSON object body of a PUT/POST: 415 unless `Content-Type` is JSON, 400 when malformed.
    static func body(_ req: Request, _ ctx: StratusContext) async throws -> JSON {
        let type = req.headers[.contentType] ?? ""
        guard type.lowercased().hasPrefix("application/json") else {
            throw OpenStackError(
                .unsupportedMediaType,
                PlacementError.detail(
                    .unsupportedMediaType,
                    "The media type \(type.isEmpty ? "None" : type) is not supported, use application/json"
                )
            )
        }
        let json: JSON
        do {
            json = try await req.jsonBody(limit: ctx.bodyLimit)
        } catch let e as OpenStackError where e.status == .badRequest {
            throw PlacementError.badRequest("Malformed JSON: \(e.message)")
        }
        return json
    }

    /// 400 "JSON does not validate: …".
    static func invalid(_ message: String) -> PlacementError { .badRequest("JSON does not validate: \(message)") }

    /// Python's repr of a JSON value, as jsonschema quotes it.
    static func repr(_ v: JSON) -> String {
        switch v {
        case .string(let s): "'\(s)'"
        case .null: "None"
        case .bool(let b): b ? "True" : "False"
        case .array(let a): "[" + a.map(repr).joined(separator: ", ") + "]"
        case .object(let o): "{" + o.keys.sorted().map { "'\($0)': \(repr(o[$0]!))" }.joined(separator: ", ") + "}"
        default: v.serialized()
        }
    }

    /// Checks an object against the allowed keys and the required ones.
    static func object(_ v: JSON, allowed: [String], required: [String] = []) throws -> [String: JSON] {
        guard case .object(let o) = v else { throw invalid("\(repr(v)) is not of type 'object'") }
        for r in required where o[r] == nil { throw invalid("'\(r)' is a required property") }
        let extra = o.keys.filter { !allowed.contains($0) }.sorted()
        if !extra.isEmpty {
            let list = extra.map { "'\($0)'" }.joined(separator: ", ")
            throw invalid("Additional properties are not allowed (\(list) \(extra.count == 1 ? "was" : "were") unexpected)")
        }
        return o
    }

    /// An integer within bounds.
    static func int(_ v: JSON, min: Int? = nil, max: Int? = nil) throws -> Int {
        guard case .int(let i) = v else { throw invalid("\(repr(v)) is not of type 'integer'") }
        if let min, i < min { throw invalid("\(i) is less than the minimum of \(min)") }
        if let max, i > max { throw invalid("\(i) is greater than the maximum of \(max)") }
        return Int(i)
    }

    /// A string matching `pattern` (a regular expression) and at most `maxLength` long.
    static func string(_ v: JSON, pattern: String? = nil, minLength: Int? = nil, maxLength: Int? = nil) throws -> String {
        guard case .string(let s) = v else { throw invalid("\(repr(v)) is not of type 'string'") }
        if let minLength, s.count < minLength { throw invalid("\(repr(v)) is too short") }
        if let maxLength, s.count > maxLength { throw invalid("\(repr(v)) is too long") }
        if let pattern, s.range(of: pattern, options: .regularExpression) == nil { throw invalid("\(repr(v)) does not match '\(pattern)'") }
        return s
    }

    static let uuidPattern = "^[0-9a-fA-F-]{36}$"
    static let classPattern = "^[A-Z0-9_]+$"
    static let customPattern = "^CUSTOM_[A-Z0-9_]+$"
    static let maxInt = 2_147_483_647

    /// Whether `s` reads as a UUID (oslo's `is_uuid_like`: hex digits, dashes optional).
    static func isUUIDLike(_ s: String) -> Bool {
        let hex = s.replacingOccurrences(of: "-", with: "").lowercased()
        return hex.count == 32 && hex.allSatisfy(\.isHexDigit)
    }

    /// The canonical (dashed, lower-case) form of a UUID-like string.
    static func canonicalUUID(_ s: String) -> String {
        let hex = Array(s.replacingOccurrences(of: "-", with: "").lowercased())
        guard hex.count == 32 else { return s }
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
    }

    /// 400 "Invalid query string parameters: Additional properties are not allowed (…)" for names outside `allowed`.
    static func checkQuery(_ req: Request, allowed: [String], patterns: [String] = []) throws {
        let extra = Set(req.queryItems.map(\.0)).filter { name in
            !allowed.contains(name) && !patterns.contains { name.range(of: $0, options: .regularExpression) != nil }
        }.sorted()
        guard extra.isEmpty else {
            let list = extra.map { "'\($0)'" }.joined(separator: ", ")
            throw PlacementError.badRequest(
                "Invalid query string parameters: Additional properties are not allowed (\(list) \(extra.count == 1 ? "was" : "were") unexpected)"
            )
        }
    }

    /// Every value of a query parameter, in order.
    static func all(_ req: Request, _ name: String) -> [String] { req.queryItems.filter { $0.0 == name }.map(\.1) }

    /// HTTP-date of epoch seconds (`Tue, 15 Nov 1994 08:12:31 GMT`), computed directly: a
    /// `DateFormatter` costs milliseconds to create on Linux.
    static func httpDate(_ seconds: Int64) -> String {
        let days = Int(seconds.quotientAndRemainder(dividingBy: 86_400).quotient) - (seconds % 86_400 < 0 ? 1 : 0)
        let secs = Int(seconds - Int64(days) * 86_400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days % 7) + 7) % 7]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(weekday), \(two(day)) \(months[month - 1]) \(year) \(two(secs / 3600)):\(two(secs % 3600 / 60)):\(two(secs % 60)) GMT"
    }

    /// A JSON response with, from 1.15, `Cache-Control: no-cache` and `Last-Modified` (`lastModified`, else now).
    static func json(
        _ body: JSON,
        _ ctx: StratusContext,
        status: HTTPResponse.Status = .ok,
        lastModified: Int64? = nil,
        headers: HTTPFields = [:]
    )
        -> Response
    {
        json(text: body.serialized(), ctx, status: status, lastModified: lastModified, headers: headers)
    }

    /// The same for a body already written as bytes.
    static func json(bytes: [UInt8], _ ctx: StratusContext) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if ctx.atLeast(15) {
            headers[.cacheControl] = "no-cache"
            headers[.lastModified] = httpDate(Int64(Date().timeIntervalSince1970))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The same for an already serialized body.
    static func json(
        text: String,
        _ ctx: StratusContext,
        status: HTTPResponse.Status = .ok,
        lastModified: Int64? = nil,
        headers: HTTPFields = [:]
    ) -> Response {
        var headers = headers
        if ctx.atLeast(15) {
            headers[.cacheControl] = "no-cache"
            headers[.lastModified] = httpDate(lastModified ?? Int64(Date().timeIntervalSince1970))
        }
        return .json(text: text, status: status, headers: headers)
    }

    /// An empty 204.
    static func noContent() -> Response { .empty() }
}

extension PlacementService {
    /// The provider at `uuid` or 404 "No resource provider with uuid … found…".
    func provider(_ uuid: String, _ suffix: String = "") async throws -> ProviderRecord {
        guard let p = try await read({ sql in try await ProviderStore().find(uuid, in: sql) }) else {
            throw PlacementError.notFound("No resource provider with uuid \(uuid) found\(suffix)")
        }
        return p
    }
}

extension ProviderWorld {
    /// 400 for resource classes or traits that do not exist (placement's `ResourceClassNotFound` /
    /// `TraitNotFound` in query parameters), checked against the names the view holds.
    func checkNames(classes: [String], traits: [String], traitMessage: (String) -> String) throws {
        if let missing = classes.first(where: { !knownClasses.contains($0) }) {
            throw PlacementError.badRequest("Invalid resource class in resources parameter: No such resource class \(missing).")
        }
        let missing = Set(traits).subtracting(knownTraits).sorted()
        if !missing.isEmpty { throw PlacementError.badRequest(traitMessage(missing.joined(separator: ", "))) }
    }
}
