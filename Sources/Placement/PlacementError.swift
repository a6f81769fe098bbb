import HTTPTypes
import StratusCore
import StratusStorage

/// What can go wrong in Placement, as placement reports it.
///
/// Rendered by `OpenStackMiddleware` in placement's body, `{"errors": [{"status", "title",
/// "detail", "code", "request_id"}]}`; `code` is one of placement's stable error codes (shown
/// from microversion 1.23, see `PlacementErrorCodeMiddleware`). The codes never change once shipped.
enum PlacementError: OpenStackErrorConvertible, Equatable {
    /// 400 with `placement.undefined_code`: a body or query that fails validation.
    case badRequest(String)
    /// 400 `placement.query.bad_value`: a query parameter whose value cannot be used.
    case badQueryValue(String)
    /// 400 `placement.query.missing_value`: a query that needs a parameter it lacks.
    case missingQueryValue(String)
    /// 400 `placement.query.duplicate_key`: a request group names a resource class twice.
    case duplicateQueryKey(String)
    /// 400 `placement.resource_provider.not_found`: a body names a provider that does not exist (the reshaper).
    case providerNotFound(String)
    case notFound(String)
    /// 409 `placement.concurrent_update`: a generation (provider or consumer) was stale.
    case concurrentUpdate(String)
    /// 409 `placement.duplicate_name`.
    case duplicateName(String)
    /// 409 `placement.inventory.inuse`.
    case inventoryInUse(String)
    /// 409 `placement.resource_provider.inuse`.
    case providerInUse(String)
    /// 409 `placement.resource_provider.cannot_delete_parent`.
    case cannotDeleteParent(String)
    /// 409 `placement.undefined_code`: any other conflict (capacity exceeded, class in use, …).
    case conflict(String)
    /// 403.
    case forbidden(String)

    var openStackError: OpenStackError {
        switch self {
        case .badRequest(let m): error(.badRequest, m, "placement.undefined_code")
        case .badQueryValue(let m): error(.badRequest, m, "placement.query.bad_value")
        case .missingQueryValue(let m): error(.badRequest, m, "placement.query.missing_value")
        case .duplicateQueryKey(let m): error(.badRequest, m, "placement.query.duplicate_key")
        case .providerNotFound(let m): error(.badRequest, m, "placement.resource_provider.not_found")
        case .notFound(let m): error(.notFound, m, "placement.undefined_code")
        case .concurrentUpdate(let m): error(.conflict, m, "placement.concurrent_update")
        case .duplicateName(let m): error(.conflict, m, "placement.duplicate_name")
        case .inventoryInUse(let m): error(.conflict, m, "placement.inventory.inuse")
        case .providerInUse(let m): error(.conflict, m, "placement.resource_provider.inuse")
        case .cannotDeleteParent(let m): error(.conflict, m, "placement.resource_provider.cannot_delete_parent")
        case .conflict(let m): error(.conflict, m, "placement.undefined_code")
        case .forbidden(let m): error(.forbidden, m, "placement.undefined_code")
        }
    }

    /// The detail as webob words an HTTP exception: the status's explanation, a blank line, the message.
    private func error(_ status: HTTPResponse.Status, _ message: String, _ code: String) -> OpenStackError {
        OpenStackError(status, PlacementError.detail(status, message), code: code)
    }

    /// webob's `"<explanation>\n\n <detail>  "` body text, which placement returns as `detail`.
    static func detail(_ status: HTTPResponse.Status, _ message: String) -> String {
        let explanation: String
        switch status.code {
        case 400: explanation = "The server could not comply with the request since it is either malformed or otherwise incorrect."
        case 403: explanation = "Access was denied to this resource."
        case 404: explanation = "The resource could not be found."
        case 405: explanation = "The server could not comply with the request since it is either malformed or otherwise incorrect."
        case 406: explanation = "The resource could not be generated that was acceptable to your browser (content of type %(type)s."
        case 409: explanation = "There was a conflict when trying to complete your request."
        default: explanation = ""
        }
        return "\(explanation)\n\n \(message)  "
    }

    /// The storage failure translated into what placement says about it; other errors unchanged.
    static func translating(_ error: any Error) -> any Error {
        switch error {
        case StorageError.conflict: PlacementError.concurrentUpdate("A concurrent update was detected; please retry.")
        case StorageError.uniqueViolation: PlacementError.conflict("Conflict: a concurrent request created the same record; please retry.")
        default: error
        }
    }
}
