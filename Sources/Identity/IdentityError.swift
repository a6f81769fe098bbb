import HTTPTypes
import StratusCore
import StratusStorage

/// What can go wrong in the Identity service, as keystone reports it.
///
/// Stores and domain rules throw these; `OpenStackMiddleware` renders them in keystone's body
/// (`{"error": {"code", "title", "message"}}`) through `openStackError`, the one place that
/// decides status and wording. Messages never carry secrets.
enum IdentityError: OpenStackErrorConvertible, Equatable {
    /// 404 `Could not find <kind>: <id>.` (kind as keystone names it: `project`, `user`, `role`, …).
    case notFound(kind: String, id: String)
    /// 400 from schema validation: `Invalid input for field '<field>': <detail>`.
    case invalidField(String, String)
    /// 403; the message defaults to keystone's "not authorized".
    case forbidden(String? = nil)
    /// 409: a unique key (name within a domain, …) is taken.
    case duplicate
    /// 409: a row this write refers to was removed meanwhile.
    case referenceGone
    /// 409: a concurrent writer won; the client may retry.
    case concurrentUpdate
    /// A Fernet token that is malformed, expired, revoked or whose subject is gone; each caller
    /// decides what the client sees (401 for `X-Auth-Token`, 404 for `X-Subject-Token`).
    case invalidToken(reason: String)

    var openStackError: OpenStackError {
        switch self {
        case .notFound(let kind, let id): .notFound("Could not find \(kind): \(id).")
        case .invalidField(let field, let detail): .badRequest("Invalid input for field '\(field)': \(detail)")
        case .forbidden(let message): message.map { .forbidden($0) } ?? .forbidden()
        case .duplicate:
            .conflict("Conflict occurred attempting to store the resource: a resource with the same unique attributes exists.")
        case .referenceGone:
            .conflict("Conflict occurred attempting to store the resource: a resource it refers to changed meanwhile.")
        case .concurrentUpdate: .conflict("Conflict occurred attempting to store the resource: a concurrent change; retry.")
        case .invalidToken: .unauthorized()
        }
    }

    /// The storage failure translated into what keystone says about it; other errors unchanged.
    static func translating(_ error: any Error) -> any Error {
        switch error {
        case StorageError.uniqueViolation: IdentityError.duplicate
        case StorageError.foreignKeyViolation: IdentityError.referenceGone
        case StorageError.conflict: IdentityError.concurrentUpdate
        default: error
        }
    }
}
