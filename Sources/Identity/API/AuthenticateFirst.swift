import HTTPTypes
import Hummingbird
import StratusCore

/// Identity's first check on every request: the caller's token is validated before a handler
/// reads anything, so an anonymous or invalid-token request is 401 whether or not the id it
/// names exists (otherwise 404 for unknown ids and 401 for real ones would let anyone probe ids).
/// Unlike keystone, which routes first, an anonymous request to an unknown path or with a wrong
/// method is 401 too, not 404/405. The handlers authenticate again, from the validation cache.
struct AuthenticateFirst: RouterMiddleware {
    typealias Context = StratusContext
    let service: IdentityService

    func handle(_ request: Request, context: StratusContext, next: (Request, StratusContext) async throws -> Response) async throws -> Response {
        if !Self.isOpen(request.method, request.uri.path) { _ = try await service.authenticate(request) }
        return try await next(request, context)
    }

    /// Routes served without a token (version documents, `/healthcheck`, issuing a token,
    /// changing one's own password), and `/v3/auth/tokens`' GET, HEAD and DELETE, whose handlers
    /// authenticate before reading anything (and keep keystone's order for the subject token).
    static func isOpen(_ method: HTTPRequest.Method, _ path: String) -> Bool {
        if path == "/v3/auth/tokens" { return true }  // the validation path, first
        let p = path.utf8.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        switch p {
        case "/", "/v3", "/healthcheck": return method == .get || method == .head
        case "/v3/auth/tokens": return true
        default:
            let parts = p.split(separator: "/", omittingEmptySubsequences: false)
            // ["", "v3", "users", "{user_id}", "password"]
            return method == .post && parts.count == 5 && parts[1] == "v3" && parts[2] == "users" && parts[4] == "password"
        }
    }
}
