import Hummingbird
import StratusCore

/// `[paste_deploy] flavor` empty: no Identity. As glance's unauthenticated context, every
/// request is served as an admin; `X-Project-Id` (or `X-Tenant-Id`), `X-User-Id` and `X-Roles`
/// say otherwise (the in-process tests act as several projects this way).
struct ImageNoAuthMiddleware: RouterMiddleware {
    typealias Context = StratusContext

    func handle(_ request: Request, context: StratusContext, next: (Request, StratusContext) async throws -> Response) async throws -> Response {
        var context = context
        let project = request.header("X-Project-Id") ?? request.header("X-Tenant-Id") ?? "admin"
        let user = request.header("X-User-Id") ?? "admin"
        let roles =
            request.header("X-Roles").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } }
            ?? ["admin", "member", "reader"]
        context.caller = Caller(
            userID: user,
            userName: user,
            userDomainID: "default",
            userDomainName: "Default",
            scope: .project(id: project, name: project, domainID: "default", domainName: "Default"),
            roles: roles,
            roleIDs: [],
            methods: ["token"],
            auditIDs: [],
            token: ""
        )
        return try await next(request, context)
    }
}
