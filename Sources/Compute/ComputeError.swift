import StratusCore

/// nova's API errors, rendered as `{"<faultName>": {"code", "message"}}` by the compute error format.
enum ComputeError {
    static func badRequest(_ message: String) -> OpenStackError { .init(.badRequest, message) }
    static func conflict(_ message: String) -> OpenStackError { .init(.conflict, message) }
    static func notFound(_ message: String) -> OpenStackError { .init(.notFound, message) }

    /// nova's `PolicyNotAuthorized`.
    static func policy(_ action: String) -> OpenStackError { .init(.forbidden, "Policy doesn't allow \(action) to be performed.") }

    static func instanceNotFound(_ id: String) -> OpenStackError { notFound("Instance \(id) could not be found.") }
    static func flavorNotFound(_ id: String) -> OpenStackError { notFound("Flavor \(id) could not be found.") }

    /// jsonschema's refusal as nova words it: "Invalid input for field/attribute X. Value: V. R".
    static func invalidField(_ field: String, value: JSON, _ reason: String) -> OpenStackError {
        badRequest("Invalid input for field/attribute \(field). Value: \(pythonRepr(value)). \(reason)")
    }

    /// A JSON value as Python prints it in nova's messages.
    static func pythonRepr(_ v: JSON) -> String {
        switch v {
        case .null: "None"
        case .bool(let b): b ? "True" : "False"
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): s
        case .array(let a): "[" + a.map { item in item.stringValue.map { "'\($0)'" } ?? pythonRepr(item) }.joined(separator: ", ") + "]"
        case .object(let o):
            "{" + o.sorted { $0.key < $1.key }.map { "'\($0.key)': " + ($0.value.stringValue.map { "'\($0)'" } ?? pythonRepr($0.value)) }
                .joined(separator: ", ") + "}"
        }
    }
}
