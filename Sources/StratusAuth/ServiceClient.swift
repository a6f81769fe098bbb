import Foundation
import HTTPTypes
import StratusCore
import Synchronization

/// Password credentials for Keystone, as keystoneauth's `password` plugin reads them from a
/// config group (`[keystone_authtoken]`, `[placement]`, `[neutron]`, `[service_user]`, …).
public struct PasswordCredentials: Sendable, Equatable {
    public var authURL: String
    public var username: String
    public var password: String
    public var projectName: String
    public var userDomainName: String
    public var projectDomainName: String

    public init(
        authURL: String,
        username: String,
        password: String,
        projectName: String = "service",
        userDomainName: String = "Default",
        projectDomainName: String = "Default"
    ) {
        // keystoneauth accepts the root (`http://controller:5000`, as the guide's config files give
        // it) or the versioned URL (`…/v3`, as openrc gives it): keep the root.
        var root = authURL
        while root.hasSuffix("/") { root.removeLast() }
        if root.hasSuffix("/v3") { root.removeLast(3) }
        self.authURL = root
        self.username = username
        self.password = password
        self.projectName = projectName
        self.userDomainName = userDomainName
        self.projectDomainName = projectDomainName
    }

    /// From keystoneauth's options in `group`.
    public init(config: Config, group: String) {
        self.init(
            authURL: config.string(group, "auth_url") ?? "http://localhost:5000",
            username: config.string(group, "username") ?? "",
            password: config.string(group, "password") ?? "",
            projectName: config.string(group, "project_name") ?? "service",
            userDomainName: config.string(group, "user_domain_name") ?? "Default",
            projectDomainName: config.string(group, "project_domain_name") ?? "Default"
        )
    }

    /// keystoneauth's loading options for a `password` plugin in `group`.
    public static func options(group: String) -> [ConfigOption] {
        [
            .choice(group, "auth_type", ["password", "v3password"], default: "password", "How the service authenticates."),
            .string(group, "auth_url", "Identity endpoint to authenticate to."),
            .string(group, "username", "User to authenticate as."),
            .string(group, "password", secret: true, "That user's password."),
            .string(group, "project_name", default: "service", "Project to scope the token to."),
            .string(group, "user_domain_name", default: "Default", "Domain of the user."),
            .string(group, "project_domain_name", default: "Default", "Domain of the project."),
            .string(group, "region_name", "Region of the endpoint to use."),
            .list(group, "valid_interfaces", default: "internal,public", "Endpoint interfaces to try, in order."),
            .string(group, "endpoint_override", "Use this URL instead of the catalog's."),
        ]
    }
}

/// A token from Keystone with the catalog it came with; renewed a minute before it expires.
public final class KeystoneSession: Sendable {
    /// One catalog entry: a service type and its endpoints.
    public struct Endpoint: Sendable, Equatable {
        public var serviceType: String
        public var interface: String
        public var region: String?
        public var url: String
    }

    /// The token in use, when to renew it, and its catalog.
    struct Current: Sendable {
        var token: String
        var until: Date
        var catalog: [Endpoint]
    }

    public let credentials: PasswordCredentials
    /// Seconds each HTTP request made in this session's name may take.
    let timeout: TimeInterval
    let current = Mutex<Current?>(nil)

    public init(credentials: PasswordCredentials, timeout: TimeInterval = 30) {
        self.credentials = credentials
        self.timeout = timeout
    }

    /// The session's token, fetched or renewed when needed.
    public func token() async throws -> String { try await state().token }

    /// The catalog of the session's token.
    public func catalog() async throws -> [Endpoint] { try await state().catalog }

    /// Forgets the token (after a 401), so the next call authenticates again.
    public func invalidate() { current.withLock { $0 = nil } }

    func state() async throws -> Current {
        if let c = current.withLock({ $0 }), c.until > Date() { return c }
        let fresh = try await authenticate()
        current.withLock { $0 = fresh }
        return fresh
    }

    func authenticate() async throws -> Current {
        let c = credentials
        let body: JSON = [
            "auth": [
                "identity": [
                    "methods": ["password"],
                    "password": [
                        "user": ["name": .string(c.username), "password": .string(c.password), "domain": ["name": .string(c.userDomainName)]]
                    ],
                ],
                "scope": ["project": ["name": .string(c.projectName), "domain": ["name": .string(c.projectDomainName)]]],
            ]
        ]
        let reply: ServiceHTTP.Answer
        do {
            reply = try await ServiceHTTP.send(
                "POST",
                c.authURL + "/v3/auth/tokens",
                headers: [("Content-Type", "application/json")],
                body: Array(body.serialized().utf8),
                timeout: timeout
            )
        } catch {
            throw OpenStackError(.serviceUnavailable, "The identity service at \(c.authURL) is unreachable.")
        }
        guard reply.status == 201, let token = reply.headers["x-subject-token"] else {
            throw OpenStackError(.serviceUnavailable, "The service could not authenticate to the identity service as \(c.username).")
        }
        let document = try? JSON.parse(Array(reply.body))
        let expires = document?["token"]?["expires_at"]?.stringValue.flatMap(KeystoneTokenValidator.parseTime) ?? Date().addingTimeInterval(600)
        return Current(token: token, until: expires.addingTimeInterval(-60), catalog: KeystoneSession.endpoints(document?["token"]?["catalog"]))
    }

    static func endpoints(_ catalog: JSON?) -> [Endpoint] {
        var out: [Endpoint] = []
        for service in catalog?.arrayValue ?? [] {
            guard let type = service["type"]?.stringValue else { continue }
            for e in service["endpoints"]?.arrayValue ?? [] {
                guard let interface = e["interface"]?.stringValue, let url = e["url"]?.stringValue else { continue }
                out.append(
                    Endpoint(serviceType: type, interface: interface, region: e["region_id"]?.stringValue ?? e["region"]?.stringValue, url: url)
                )
            }
        }
        return out
    }
}

/// Calls another service's REST API the way keystoneauth does for nova, neutron and the rest:
/// the endpoint from the catalog by type, interface and region (or `endpoint_override`), the
/// service's own token renewed when it expires and once more after a 401, the caller's request
/// id forwarded, a microversion header when asked, and `X-Service-Token` from `[service_user]`
/// when the call is made on a user's behalf with `send_service_user_token = true`.
public final class ServiceClient: Sendable {
    /// Where and how to reach one service.
    public struct Settings: Sendable {
        public var serviceType: String
        public var interfaces: [String]
        public var region: String?
        public var endpointOverride: String?

        public init(serviceType: String, interfaces: [String] = ["internal", "public"], region: String? = nil, endpointOverride: String? = nil) {
            self.serviceType = serviceType
            self.interfaces = interfaces
            self.region = region
            self.endpointOverride = endpointOverride
        }

        /// From keystoneauth's options in `group` (`[placement]`, `[neutron]`, …).
        public init(config: Config, group: String, serviceType: String) {
            let interfaces = config.list(group, "valid_interfaces")
            self.init(
                serviceType: serviceType,
                interfaces: interfaces.isEmpty ? ["internal", "public"] : interfaces,
                region: config.string(group, "region_name"),
                endpointOverride: config.string(group, "endpoint_override")
            )
        }
    }

    /// A service's answer.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data

        /// The body as JSON, or nil when it is empty or not JSON.
        public var json: JSON? { body.isEmpty ? nil : try? JSON.parse(Array(body)) }
    }

    public let settings: Settings
    public let session: KeystoneSession
    /// `[service_user]`'s session when `send_service_user_token = true`.
    public let serviceUser: KeystoneSession?

    public init(settings: Settings, session: KeystoneSession, serviceUser: KeystoneSession? = nil) {
        self.settings = settings
        self.session = session
        self.serviceUser = serviceUser
    }

    /// The endpoint URL (no trailing slash) the catalog gives for the service.
    public func endpoint() async throws -> String {
        if let override = settings.endpointOverride { return override.hasSuffix("/") ? String(override.dropLast()) : override }
        let catalog = try await session.catalog()
        for interface in settings.interfaces {
            if let e = catalog.first(where: {
                $0.serviceType == settings.serviceType && $0.interface == interface && (settings.region == nil || $0.region == settings.region)
            }) {
                return e.url.hasSuffix("/") ? String(e.url.dropLast()) : e.url
            }
        }
        throw OpenStackError(.serviceUnavailable, "No \(settings.serviceType) endpoint in the catalog.")
    }

    /// Sends one request to `path` (relative to the endpoint).
    ///
    /// - Parameters:
    ///   - onBehalfOf: a user's token; when given it is sent as `X-Auth-Token`, with the service
    ///     user's token as `X-Service-Token` when configured. Otherwise the service's own token is used.
    ///   - microversion: sent as `OpenStack-API-Version: <service> <version>`.
    ///   - requestID: the caller's `x-openstack-request-id`, forwarded as `X-OpenStack-Request-ID`.
    public func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        json body: JSON? = nil,
        onBehalfOf userToken: String? = nil,
        microversion: (service: String, version: String)? = nil,
        requestID: String? = nil
    ) async throws -> Reply {
        let first = try await attempt(method, path, body, userToken, microversion, requestID)
        guard first.status == 401, userToken == nil else { return first }
        // Our token may have been revoked or the key rotated: authenticate again, retry once.
        session.invalidate()
        return try await attempt(method, path, body, userToken, microversion, requestID)
    }

    func attempt(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ body: JSON?,
        _ userToken: String?,
        _ microversion: (service: String, version: String)?,
        _ requestID: String?
    ) async throws -> Reply {
        let base = try await endpoint()
        let url = base + (path.hasPrefix("/") ? path : "/" + path)
        let authToken: String
        if let userToken { authToken = userToken } else { authToken = try await session.token() }
        var headers = [("X-Auth-Token", authToken), ("Accept", "application/json")]
        if userToken != nil, let serviceUser { headers.append(("X-Service-Token", try await serviceUser.token())) }
        if let microversion { headers.append(("OpenStack-API-Version", "\(microversion.service) \(microversion.version)")) }
        if let requestID { headers.append(("X-OpenStack-Request-ID", requestID)) }
        var bytes: [UInt8]? = nil
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = Array(body.serialized().utf8)
        }
        let reply = try await ServiceHTTP.send(method.rawValue, url, headers: headers, body: bytes, timeout: session.timeout)
        return Reply(status: reply.status, headers: reply.headers, body: reply.body)
    }
}

/// `[service_user]` (nova's and neutron's keystoneauth group for `X-Service-Token`).
public enum ServiceUserOptions {
    public static let all: [ConfigOption] =
        [.bool("service_user", "send_service_user_token", default: false, "Send the service user's token as X-Service-Token.")]
        + PasswordCredentials.options(group: "service_user")

    /// The service user's session when `send_service_user_token = true`.
    public static func session(config: Config) -> KeystoneSession? {
        guard config.bool("service_user", "send_service_user_token") else { return nil }
        return KeystoneSession(credentials: PasswordCredentials(config: config, group: "service_user"))
    }
}
