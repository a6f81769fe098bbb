import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StratusCore
import Synchronization

/// Turns an `X-Auth-Token` into the caller behind it, or throws 401 (`OpenStackError`).
/// Identity implements it in process; every other service uses `KeystoneTokenValidator`.
public protocol TokenValidator: Sendable {
    func caller(for token: String) async throws -> Caller
}

/// What keystonemiddleware's `auth_token` does: validates callers' tokens with
/// `GET /v3/auth/tokens` (the service's own token as `X-Auth-Token`, the caller's as
/// `X-Subject-Token`), caching results in process for `token_cache_time` seconds, and tokens
/// Identity refused for `invalidCacheSeconds` (a client retrying a bad token, or a flood of
/// them, costs Identity one validation per token).
public final class KeystoneTokenValidator: TokenValidator {
    /// The service user of `[keystone_authtoken]` and how long validations are cached.
    public struct Settings: Sendable {
        public var credentials: PasswordCredentials
        public var cacheSeconds: Double

        public init(
            authURL: String,
            username: String,
            password: String,
            projectName: String = "service",
            userDomainName: String = "Default",
            projectDomainName: String = "Default",
            cacheSeconds: Double = 300
        ) {
            credentials = PasswordCredentials(
                authURL: authURL,
                username: username,
                password: password,
                projectName: projectName,
                userDomainName: userDomainName,
                projectDomainName: projectDomainName
            )
            self.cacheSeconds = cacheSeconds
        }

        /// From a service's `[keystone_authtoken]` section.
        public init(config: Config) {
            credentials = PasswordCredentials(config: config, group: "keystone_authtoken")
            cacheSeconds = Double(config.int("keystone_authtoken", "token_cache_time") ?? 300)
        }
    }

    /// A cached validation and when it stops counting.
    struct Entry {
        var caller: Caller
        var until: Date
    }

    let settings: Settings
    /// The service's own token (and catalog), shared with its `ServiceClient`s when they use the same user.
    public let session: KeystoneSession
    let cache = Mutex<[String: Entry]>([:])
    /// Tokens Identity answered 404 for, until when that answer is reused.
    let invalid = Mutex<[String: Date]>([:])
    /// How long a refused token stays refused without asking again: briefly, since a token
    /// signed with a key this Identity process has not loaded yet validates a second later.
    let invalidCacheSeconds: Double
    /// When the 403 configuration error was last logged.
    let lastConfigurationError = Mutex<ContinuousClock.Instant?>(nil)
    let logger: Logger

    public init(settings: Settings, logger: Logger = Logger(label: "stratus.keystonemiddleware")) {
        self.settings = settings
        self.logger = logger
        invalidCacheSeconds = min(settings.cacheSeconds, 10)
        session = KeystoneSession(credentials: settings.credentials, timeout: 10)
    }

    public func caller(for token: String) async throws -> Caller {
        let now = Date()
        if let hit = cache.withLock({ $0[token] }), hit.until > now { return hit.caller }
        if let until = invalid.withLock({ $0[token] }), until > now { throw OpenStackError.unauthorized() }
        let service = try await session.token()
        let (status, data) = try await fetch(token, serviceToken: service, catalog: false)
        switch status {
        case 200:
            guard let body = try? JSON.parse(Array(data)), var caller = KeystoneTokenValidator.caller(from: body, token: token) else {
                throw OpenStackError(.serviceUnavailable, "The identity service returned an unreadable token.")
            }
            if caller.accessRules != nil {
                // The rules bind where the token's catalog lists the service: fetch it (only for such tokens).
                let (again, withCatalog) = try await fetch(token, serviceToken: service, catalog: true)
                guard again == 200, let full = try? JSON.parse(Array(withCatalog)) else { throw OpenStackError.unauthorized() }
                caller.catalogServiceTypes = Set((full["token"]?["catalog"]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue })
            }
            let expires =
                body["token"]?["expires_at"]?.stringValue.flatMap(KeystoneTokenValidator.parseTime) ?? now.addingTimeInterval(60)
            cache.withLock { c in
                if c.count > 50_000 { c.removeAll() }
                c[token] = Entry(caller: caller, until: min(expires, now.addingTimeInterval(settings.cacheSeconds)))
            }
            return caller
        case 401:
            session.invalidate()  // our own token went stale: fetch a new one next time
            throw OpenStackError(.serviceUnavailable, "The service could not authenticate to the identity service.")
        case 404:
            invalid.withLock { c in
                if c.count > 50_000 { c.removeAll() }
                c[token] = now.addingTimeInterval(invalidCacheSeconds)
            }
            throw OpenStackError.unauthorized()
        case 403:
            // Identity refused to let this service validate anything: a configuration error
            // of this service, not a bad client token (keystonemiddleware answers 503 too).
            // Logged at most once a minute: every request meets it until the configuration is fixed.
            let due = lastConfigurationError.withLock { last in
                guard last.map({ ContinuousClock.now - $0 >= .seconds(60) }) ?? true else { return false }
                last = ContinuousClock.now
                return true
            }
            if due {
                logger.error(
                    "the service user '\(settings.credentials.username)' of [keystone_authtoken] may not validate tokens (Identity answered 403); give it the service role or fix [keystone_authtoken]"
                )
            }
            throw OpenStackError(.serviceUnavailable, "The service could not validate the token with the identity service.")
        default:
            throw OpenStackError(.serviceUnavailable, "The identity service is unavailable (HTTP \(status)).")
        }
    }

    /// `GET /v3/auth/tokens` for `token`, saying (as keystonemiddleware does) that access rules are enforced here.
    func fetch(_ token: String, serviceToken: String, catalog: Bool) async throws -> (status: Int, body: [UInt8]) {
        let reply = try await ServiceHTTP.send(
            "GET",
            settings.credentials.authURL + (catalog ? "/v3/auth/tokens" : "/v3/auth/tokens?nocatalog"),
            headers: [("X-Auth-Token", serviceToken), ("X-Subject-Token", token), ("OpenStack-Identity-Access-Rules", "1")],
            timeout: session.timeout
        )
        return (reply.status, Array(reply.body))
    }

    /// The service's own token, fetched with its `[keystone_authtoken]` credentials and renewed before it expires.
    public func currentServiceToken() async throws -> String { try await session.token() }

    /// Reads keystone's token document into a `Caller`.
    public static func caller(from body: JSON, token: String) -> Caller? {
        guard let t = body["token"], let user = t["user"], let userID = user["id"]?.stringValue else { return nil }
        var scope = Caller.Scope.unscoped
        if let p = t["project"], let id = p["id"]?.stringValue {
            scope = .project(
                id: id,
                name: p["name"]?.stringValue ?? "",
                domainID: p["domain"]?["id"]?.stringValue ?? "",
                domainName: p["domain"]?["name"]?.stringValue ?? ""
            )
        } else if let d = t["domain"], let id = d["id"]?.stringValue {
            scope = .domain(id: id, name: d["name"]?.stringValue ?? "")
        } else if t["system"]?["all"] == .bool(true) {
            scope = .system
        }
        let roles = t["roles"]?.arrayValue ?? []
        var caller = Caller(
            userID: userID,
            userName: user["name"]?.stringValue ?? "",
            userDomainID: user["domain"]?["id"]?.stringValue ?? "",
            userDomainName: user["domain"]?["name"]?.stringValue ?? "",
            scope: scope,
            roles: roles.compactMap { $0["name"]?.stringValue },
            roleIDs: roles.compactMap { $0["id"]?.stringValue },
            methods: t["methods"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            auditIDs: t["audit_ids"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            applicationCredentialID: t["application_credential"]?["id"]?.stringValue,
            applicationCredentialRestricted: t["application_credential"]?["restricted"]?.boolValue ?? false,
            trustID: t["OS-TRUST:trust"]?["id"]?.stringValue,
            token: token
        )
        if let rules = t["application_credential"]?["access_rules"]?.arrayValue {
            caller.accessRules = rules.map {
                AccessRule(
                    id: $0["id"]?.stringValue ?? "",
                    service: $0["service"]?.stringValue ?? "",
                    path: $0["path"]?.stringValue ?? "",
                    method: $0["method"]?.stringValue ?? ""
                )
            }
        }
        return caller
    }

    static func parseTime(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s) ?? ISO8601DateFormatter().date(from: s)
    }
}

/// Sets `context.caller` from `X-Auth-Token` for a service's routes; answers 401 in the
/// service's format when the token is missing or does not validate.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = StratusContext
    let validator: any TokenValidator
    let challenge: String?
    let publicPaths: Set<String>
    /// `[keystone_authtoken] service_type`: what access rules are matched against.
    let serviceType: String?

    /// - Parameters:
    ///   - challenge: when set, a 401 is keystonemiddleware's own (keystone's error body and
    ///     `WWW-Authenticate: Keystone uri="<challenge>"`), as a service behind it answers before
    ///     its own code runs; when nil, the 401 is rendered in the service's format.
    ///   - publicPaths: paths served without a token (placement's version document `/`).
    ///   - serviceType: the service's type in the catalog; a token restricted by access rules is
    ///     refused when it is nil, as keystonemiddleware refuses it without `service_type`.
    public init(validator: any TokenValidator, challenge: String? = nil, publicPaths: Set<String> = [], serviceType: String? = nil) {
        self.validator = validator
        self.challenge = challenge
        self.publicPaths = publicPaths
        self.serviceType = serviceType
    }

    public func handle(_ request: Request, context: StratusContext, next: (Request, StratusContext) async throws -> Response) async throws -> Response
    {
        if publicPaths.contains(request.uri.path) { return try await next(request, context) }
        guard let token = request.headers[.xAuthToken], !token.isEmpty else { return try unauthorized() }
        var context = context
        do { context.caller = try await validator.caller(for: token) } catch let e as OpenStackError where e.status == .unauthorized {
            return try unauthorized()
        }
        if let rules = context.caller!.accessRules {
            // keystonemiddleware's check: a valid service token (with the service role) lifts the rules.
            var serviceCaller: Caller?
            if let serviceToken = request.headers[.xServiceToken], !serviceToken.isEmpty, serviceToken != token {
                serviceCaller = try? await validator.caller(for: serviceToken)
            }
            let allowed = AccessRule.permits(
                rules,
                serviceType: serviceType,
                method: request.method.rawValue,
                path: request.uri.path,
                catalogServiceTypes: context.caller!.catalogServiceTypes,
                hasValidServiceToken: AccessRule.liftsRules(serviceCaller)
            )
            guard allowed else { return try unauthorized() }
        }
        context.logger[metadataKey: "user_id"] = .string(context.caller!.userID)
        if let p = context.caller!.projectID { context.logger[metadataKey: "project_id"] = .string(p) }
        return try await next(request, context)
    }

    /// keystonemiddleware's 401 when a challenge URI is set; else the service's own (thrown, rendered by its middleware).
    func unauthorized() throws -> Response {
        guard let challenge else { throw OpenStackError.unauthorized() }
        let body: JSON = ["error": ["code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."]]
        return .json(body, status: .unauthorized, headers: [.wwwAuthenticate: "Keystone uri=\"\(challenge)\""])
    }
}

/// `[keystone_authtoken]` options every service besides Identity reads (keystonemiddleware's).
public enum KeystoneAuthtokenOptions {
    public static let all: [ConfigOption] = [
        .string("keystone_authtoken", "www_authenticate_uri", "Public Identity endpoint advertised in WWW-Authenticate."),
        .string("keystone_authtoken", "auth_url", default: "http://localhost:5000", "Identity endpoint the service authenticates to."),
        .list("keystone_authtoken", "memcached_servers", "Accepted; tokens are cached in process."),
        .choice("keystone_authtoken", "auth_type", ["password", "v3password"], default: "password", "How the service authenticates."),
        .string("keystone_authtoken", "project_domain_name", default: "Default", "Domain of the service project."),
        .string("keystone_authtoken", "user_domain_name", default: "Default", "Domain of the service user."),
        .string("keystone_authtoken", "project_name", default: "service", "The service project."),
        .string("keystone_authtoken", "username", "The service user."),
        .string("keystone_authtoken", "password", secret: true, "The service user's password."),
        .int("keystone_authtoken", "token_cache_time", default: 300, min: 0, "Seconds a validated token is cached."),
        .string("keystone_authtoken", "region_name", "Region of the Identity endpoint."),
        .string(
            "keystone_authtoken",
            "service_type",
            "This service's type in the catalog, which application credentials' access rules name (default: the service's own type)."
        ),
    ]
}
