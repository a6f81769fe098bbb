import HTTPTypes
import Hummingbird
import StratusAuth
import StratusCore

/// placement's `[api] auth_strategy = noauth2` (its development `NoAuthMiddleware`): the token
/// names the caller, nothing is validated. The version document `/` needs no token. (With
/// `keystone`, the shared `AuthMiddleware` stands where keystonemiddleware does.)
struct NoAuthMiddleware: RouterMiddleware {
    typealias Context = StratusContext

    func handle(_ request: Request, context: StratusContext, next: (Request, StratusContext) async throws -> Response) async throws -> Response {
        if request.uri.path == "/" { return try await next(request, context) }
        guard let token = request.headers[.xAuthToken], !token.isEmpty else { return Self.unauthorized() }
        var context = context
        context.caller = Self.noauthCaller(token: token, headers: request.headers)
        return try await next(request, context)
    }

    /// webob's plain 401, as placement's noauth2 answers (it comes before placement's error handling).
    static func unauthorized() -> Response {
        let message =
            "This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.<br /><br />\n\n\n"
        return .json(["message": .string(message), "code": "401 Unauthorized", "title": "Unauthorized"], status: .unauthorized)
    }

    /// noauth2: the token is `user_id[:project_id]`; `X-Project-Id` overrides the project; roles come
    /// from `X-Roles`, else `admin` for the user `admin`; `OpenStack-System-Scope` makes the token
    /// system-scoped with no project.
    static func noauthCaller(token: String, headers: HTTPFields) -> Caller {
        let parts = token.split(separator: ":", maxSplits: 1).map(String.init)
        let user = parts.first ?? token
        var project = parts.count > 1 ? parts[1] : user
        if let p = headers[HTTPField.Name("X-Project-Id")!] { project = p }
        var roles: [String] = user == "admin" ? ["admin"] : []
        if let r = headers[HTTPField.Name("X-Roles")!] {
            roles = r.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        }
        let system = headers[HTTPField.Name("OpenStack-System-Scope")!] != nil
        return Caller(
            userID: user,
            userName: user,
            userDomainID: "default",
            userDomainName: "Default",
            scope: system ? .system : .project(id: project, name: project, domainID: "default", domainName: "Default"),
            roles: roles,
            roleIDs: [],
            methods: ["token"],
            auditIDs: [],
            token: token
        )
    }
}

/// A microversion placement cannot serve, worded as placement's microversion middleware words it;
/// a 406 carries `max_version` / `min_version`, which osc-placement reads to negotiate.
struct PlacementVersionErrorMiddleware: RouterMiddleware {
    typealias Context = StratusContext

    func handle(_ request: Request, context: StratusContext, next: (Request, StratusContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let failure as MicroversionRange.Failure {
            switch failure {
            case .malformed(let value):
                throw PlacementError.badRequest("Invalid microversion: invalid version string: \(value)")
            case .unsupported(let version, let minimum, let maximum):
                var e = OpenStackError(
                    .notAcceptable,
                    "The resource could not be generated that was acceptable to your browser (content of type application/json. \n\n Invalid microversion: Unacceptable version header: \(version)"
                )
                e.fields = ["max_version": .string(maximum.description), "min_version": .string(minimum.description)]
                throw e
            }
        }
    }
}

/// Placement shows error `code`s from microversion 1.23 only.
struct PlacementErrorCodeMiddleware: RouterMiddleware {
    typealias Context = StratusContext

    func handle(_ request: Request, context: StratusContext, next: (Request, StratusContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any OpenStackErrorConvertible {
            var e = error.openStackError
            if !context.atLeast(23) { e.code = nil }
            throw e
        }
    }
}

/// oslo.middleware's CORS for the origins in `[cors] allowed_origin`: preflight `OPTIONS` answers and
/// `Access-Control-*` headers on actual requests from an allowed origin.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = StratusContext
    let settings: CORSSettings

    func handle(_ request: Request, context: StratusContext, next: (Request, StratusContext) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], allowed(origin) else { return try await next(request, context) }
        if request.method == .options, let method = request.headers[HTTPField.Name("Access-Control-Request-Method")!] {
            guard settings.allowMethods.contains(method.uppercased()) else { return try await next(request, context) }
            var headers = HTTPFields()
            headers[HTTPField.Name("Access-Control-Allow-Origin")!] = origin
            if settings.allowCredentials { headers[HTTPField.Name("Access-Control-Allow-Credentials")!] = "true" }
            headers[HTTPField.Name("Access-Control-Allow-Methods")!] = method.uppercased()
            if let asked = request.headers[HTTPField.Name("Access-Control-Request-Headers")!] {
                let wanted = asked.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                let permitted = Set(settings.allowHeaders.map { $0.lowercased() } + Self.simpleHeaders)
                guard wanted.allSatisfy({ permitted.contains($0.lowercased()) }) else { return try await next(request, context) }
                headers[HTTPField.Name("Access-Control-Allow-Headers")!] = wanted.joined(separator: ",")
            }
            headers[HTTPField.Name("Access-Control-Max-Age")!] = String(settings.maxAge)
            return Response(status: .ok, headers: headers)
        }
        var response = try await next(request, context)
        response.headers[HTTPField.Name("Access-Control-Allow-Origin")!] = origin
        if settings.allowCredentials { response.headers[HTTPField.Name("Access-Control-Allow-Credentials")!] = "true" }
        if !settings.exposeHeaders.isEmpty {
            response.headers[HTTPField.Name("Access-Control-Expose-Headers")!] = settings.exposeHeaders.joined(separator: ",")
        }
        response.headers[.vary] = [response.headers[.vary], "Origin"].compactMap { $0 }.joined(separator: ", ")
        return response
    }

    func allowed(_ origin: String) -> Bool { settings.allowedOrigins.contains(origin) || settings.allowedOrigins.contains("*") }

    static let simpleHeaders = ["cache-control", "content-language", "content-type", "expires", "last-modified", "pragma"]
}
