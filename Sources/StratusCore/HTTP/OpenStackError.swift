import HTTPTypes
import Hummingbird

/// An API error: an HTTP status, a message for the caller and, where the service has one,
/// a stable code. Rendered in the calling service's own body shape by `ErrorFormat`.
///
/// Messages never carry secrets or SQL; unexpected errors become a generic 500 whose details
/// go to the log only (see `OpenStackMiddleware`).
public struct OpenStackError: OpenStackErrorConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// Service-specific error type name (neutron `type`, placement `code`); nil for most.
    public var code: String?
    /// Extra response headers (`WWW-Authenticate` on 401, for instance).
    public var headers: HTTPFields
    /// Extra members of the error object in formats that allow them (placement's 406 carries
    /// `max_version` / `min_version`, which osc-placement reads to negotiate).
    public var fields: [String: JSON] = [:]

    public init(_ status: HTTPResponse.Status, _ message: String, code: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers
    }

    public static func badRequest(_ message: String) -> OpenStackError { .init(.badRequest, message) }
    public static func unauthorized(_ message: String = "The request you have made requires authentication.") -> OpenStackError {
        .init(.unauthorized, message)
    }
    public static func forbidden(_ message: String = "You are not authorized to perform the requested action.") -> OpenStackError {
        .init(.forbidden, message)
    }
    public static func notFound(_ message: String) -> OpenStackError { .init(.notFound, message) }
    public static func conflict(_ message: String) -> OpenStackError { .init(.conflict, message) }

    /// The same error with a detail beside its message (rendered by formats that have one).
    public func detailed(_ detail: String) -> OpenStackError {
        var e = self
        e.fields["detail"] = .string(detail)
        return e
    }

    /// The `title` of an HTTP status as webob spells it ("Not Found", "Bad Request", …).
    public var title: String { status.reasonPhrase }

    public var openStackError: OpenStackError { self }
}

/// The error protocol `OpenStackMiddleware` renders: every service's domain error (`IdentityError`,
/// `PlacementError`, …) conforms with one `switch` that gives the status, the message, the
/// optional stable code (placement's `code`, neutron's `type`) and optional headers
/// (`Retry-After`, `WWW-Authenticate`). Anything else thrown becomes a generic 500.
public protocol OpenStackErrorConvertible: Error, Sendable {
    /// What the caller is told.
    var openStackError: OpenStackError { get }
}

/// How a service shapes its error bodies. Each OpenStack service has its own; clients parse them.
public enum ErrorFormat: Sendable {
    /// keystone: `{"error": {"code": 404, "title": "Not Found", "message": "…"}}`
    case identity
    /// placement: `{"errors": [{"status", "title", "detail", "code", "request_id"}]}`
    case placement
    /// nova: `{"itemNotFound": {"code": 404, "message": "…"}}`
    case compute
    /// neutron: `{"NeutronError": {"type", "message", "detail"}}`
    case network
    /// glance (webob): `{"code": "404 Not Found", "title", "message"}`, the message as webob's
    /// template writes it: the explanation, `<br /><br />`, the detail (`fields["detail"]`, set
    /// where glance passes its text as webob's detail), three newlines.
    case image

    public func body(for error: OpenStackError, requestID: String) -> JSON {
        let status = Int64(error.status.code)
        switch self {
        case .identity:
            return ["error": ["code": .int(status), "title": .string(error.title), "message": .string(error.message)]]
        case .placement:
            var e: [String: JSON] = [
                "status": .int(status), "title": .string(error.title), "detail": .string(error.message),
                "request_id": .string(requestID),
            ]
            if let code = error.code { e["code"] = .string(code) }
            e.merge(error.fields) { current, _ in current }
            return ["errors": [.object(e)]]
        case .compute:
            return .object([ErrorFormat.novaFaultName(error.status.code): ["code": .int(status), "message": .string(error.message)]])
        case .network:
            return [
                "NeutronError": [
                    "type": .string(error.code ?? error.title.replacingOccurrences(of: " ", with: "")),
                    "message": .string(error.message), "detail": "",
                ]
            ]
        case .image:
            let detail = error.fields["detail"]?.stringValue ?? ""
            let message = "\(error.message)<br /><br />\n\(detail)\n\n\n"
            return ["code": .string("\(status) \(error.title)"), "title": .string(error.title), "message": .string(message)]
        }
    }

    /// nova's `Fault._fault_names` (nova/api/openstack/wsgi.py): the key of a compute error body.
    public static func novaFaultName(_ status: Int) -> String {
        switch status {
        case 400: "badRequest"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "itemNotFound"
        case 405: "badMethod"
        case 409: "conflictingRequest"
        case 413, 429: "overLimit"
        case 415: "badMediaType"
        case 501: "notImplemented"
        case 503: "serviceUnavailable"
        default: "computeFault"
        }
    }
}
