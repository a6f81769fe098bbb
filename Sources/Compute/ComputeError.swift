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

    /// A value as nova's messages print it (`str()` of the Python value).
    static func pythonRepr(_ v: JSON) -> String { NovaSchema.pyStr(v) }
}
