import Foundation
import StratusCore

/// A flavor as `POST /flavors` asks for it, checked and normalized as nova's `flavors.create` does.
struct FlavorSpec: Equatable, Sendable {
    var name: String
    /// The caller's id as nova stores it (`str(id)`), or a generated lowercase uuid.
    var flavorID: String
    var ram: Int
    var vcpus: Int
    var disk: Int
    var ephemeral: Int
    var swap: Int
    /// 1.0 when not given; not accepted from 2.102 (nova still stores 1.0).
    var rxtxFactor: Double
    var isPublic: Bool
    /// 2.55+ only; nil before, or when the caller sent null or nothing.
    var description: String?
}

/// nova's flavor create and update rules (schemas/flavors.py, compute/flavors.py) with their exact
/// 400 texts. Pure: the API layer maps the body onto `NovaSchema.Value`, the store checks uniqueness.
enum FlavorRules {
    /// A 400 with nova's message.
    struct Refusal: Error, Equatable, Sendable {
        var message: String
    }

    /// 409 for a taken name (`FlavorExists`).
    static func nameExists(_ name: String) -> String { "Flavor with name \(name) already exists." }
    /// 409 for a taken id (`FlavorIdExists`).
    static func idExists(_ id: String) -> String { "Flavor with ID \(id) already exists." }

    /// `db.constants.MAX_INT` and `SQL_SP_FLOAT_MAX`.
    static let maxInt = 0x7FFF_FFFF
    static let maxFloat = 3.40282e+38

    /// Checks a create body at microversion 2.`minor` (2.1+) and returns the flavor to store.
    /// `newID` makes the id when the caller sent none, null or a number 0 (nova's `if not flavorid`).
    static func create(
        _ body: NovaSchema.Value,
        minor: Int,
        newID: () -> String = { UUID().uuidString.lowercased() }
    ) -> Result<FlavorSpec, Refusal> {
        if let detail = NovaSchema.check(body, createSchema(minor: minor)) { return .failure(Refusal(message: detail)) }
        guard case .object(let outer) = body, case .object(let f)? = outer["flavor"] else {
            return .failure(Refusal(message: "'flavor' is a required property"))
        }
        var ints: [Int] = []
        for (key, label) in [("ram", "ram"), ("vcpus", "vcpus"), ("disk", "disk"), ("OS-FLV-EXT-DATA:ephemeral", "ephemeral"), ("swap", "swap")] {
            guard let n = integer(f[key] ?? .int(0)) else {
                return .failure(Refusal(message: "Invalid input received: \(label) must be an integer"))
            }
            ints.append(n)
        }
        let rxtx = f["rxtx_factor"].flatMap(number) ?? 1.0
        guard rxtx > 0, rxtx <= maxFloat else {
            return .failure(Refusal(message: "Invalid input received: 'rxtx_factor' argument must be a float between 0 and 3.40282e+38"))
        }
        let spec = FlavorSpec(
            name: NovaSchema.pyStrip(f["name"]?.stringValue ?? ""),
            flavorID: flavorID(f["id"], newID),
            ram: ints[0],
            vcpus: ints[1],
            disk: ints[2],
            ephemeral: ints[3],
            swap: ints[4],
            rxtxFactor: rxtx,
            isPublic: f["os-flavor-access:is_public"].flatMap(boolean) ?? true,
            description: minor >= 55 ? f["description"]?.stringValue : nil
        )
        return .success(spec)
    }

    /// Checks a `PUT /flavors/{id}` body (2.55+) and returns the new description (nil = null).
    static func updateDescription(_ body: NovaSchema.Value) -> Result<String?, Refusal> {
        let flavor = NovaSchema.object([("description", description)], required: ["description"])
        if let detail = NovaSchema.check(body, NovaSchema.object([("flavor", flavor)], required: ["flavor"])) {
            return .failure(Refusal(message: detail))
        }
        return .success(body["flavor"]?["description"]?.stringValue)
    }

    // MARK: - The schemas, keyword order as in nova's dicts (jsonschema reports the first failure)

    private static let id = NovaSchema.Schema([
        .type(["string", "number", "null"]), .minLength(1), .maxLength(255),
        .pattern("^(?! )[a-zA-Z0-9. _-]+(?<! )$") { s in
            s.first != " " && s.last != " " && NovaSchema.all(s, in: "a-zA-Z0-9. _-")
        },
    ])
    private static func count(minimum: Int) -> NovaSchema.Schema {
        NovaSchema.Schema([
            .type(["integer", "string"]), .pattern("^[0-9]+$") { NovaSchema.all($0, in: "0-9") },
            .minimum(.init(minimum)), .maximum(.init(maxInt)),
        ])
    }
    private static let rxtxFactor = NovaSchema.Schema([
        .type(["number", "string"]),
        .pattern(#"^[0-9]+(\.[0-9]+)?$"#) { s in
            let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(Array.init)
            return parts.allSatisfy { NovaSchema.all($0, in: "0-9") }
        },
        .exclusiveMinimum(.init(0)), .maximum(.init(maxFloat)),
    ])
    private static let isPublic = NovaSchema.Schema([
        .type(["boolean", "string"]),
        .oneOf(
            [.bool(true)] + ["True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"].map(NovaSchema.Value.string)
                + [.bool(false)] + ["False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"].map(NovaSchema.Value.string)
        ),
    ])
    /// 2.55's description: a TEXT column, printable characters (newlines are refused).
    private static let description = NovaSchema.Schema([
        .type(["string", "null"]), .minLength(0), .maxLength(65535),
        .pattern(NovaSchema.printablePattern) { $0.allSatisfy(NovaSchema.isPrintable) },
    ])

    static func createSchema(minor: Int) -> NovaSchema.Schema {
        var properties: [(String, NovaSchema.Schema)] = [
            ("name", NovaSchema.name), ("id", id), ("ram", count(minimum: 1)), ("vcpus", count(minimum: 1)),
            ("disk", count(minimum: 0)), ("OS-FLV-EXT-DATA:ephemeral", count(minimum: 0)), ("swap", count(minimum: 0)),
        ]
        if minor < 102 { properties.append(("rxtx_factor", rxtxFactor)) }
        properties.append(("os-flavor-access:is_public", isPublic))
        if minor >= 55 { properties.append(("description", description)) }
        let flavor = NovaSchema.object(properties, required: ["name", "ram", "vcpus", "disk"])
        return NovaSchema.object([("flavor", flavor)], required: ["flavor"])
    }

    // MARK: - flavors.create's own conversions, on values the schema passed

    /// `strutils.validate_integer`: `int(str(value))`, so 512.0 is refused and "512" accepted.
    private static func integer(_ v: NovaSchema.Value) -> Int? {
        switch v {
        case .int(let i): Int(exactly: i)
        case .string(let s): Int(NovaSchema.pyStrip(s))
        default: nil
        }
    }

    /// `float(value)`.
    private static func number(_ v: NovaSchema.Value) -> Double? {
        switch v {
        case .int(let i): Double(i)
        case .double(let d): d
        case .string(let s): Double(NovaSchema.pyStrip(s))
        default: nil
        }
    }

    /// `strutils.bool_from_string(strict=True)` on a value the enum admitted.
    private static func boolean(_ v: NovaSchema.Value) -> Bool? {
        switch v {
        case .bool(let b): b
        case .string(let s): ["1", "t", "true", "on", "y", "yes"].contains(s.lowercased())
        default: nil
        }
    }

    /// `str(flavorid)`, or a new id for a missing, null or zero one.
    private static func flavorID(_ v: NovaSchema.Value?, _ newID: () -> String) -> String {
        switch v {
        case .string(let s): s
        case .int(let i) where i != 0: String(i)
        case .double(let d) where d != 0: NovaSchema.pyFloat(d)
        default: newID()
        }
    }
}
