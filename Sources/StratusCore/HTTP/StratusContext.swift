import HTTPTypes
import Hummingbird
import Logging

/// Per-request state shared by every Stratus service: the request id, the body size limit and,
/// once the auth middleware has run, the authenticated caller.
public struct StratusContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `req-<uuid>`, echoed as `x-openstack-request-id`.
    public var requestID: String = ""
    /// Largest request body accepted (oslo_middleware `max_request_body_size`).
    public var bodyLimit: Int = 114_688
    /// The caller, set by the service's auth middleware; nil on unauthenticated routes.
    public var caller: Caller?
    /// The negotiated microversion, for services that have them (set by `MicroversionMiddleware`).
    public var microversion: Microversion?

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// The caller, or 401 when the route was reached without authentication.
    public func requireCaller() throws -> Caller {
        guard let caller else { throw OpenStackError.unauthorized() }
        return caller
    }
}

/// The authenticated identity behind a request: what a validated token says.
///
/// This is what keystonemiddleware puts in the WSGI environment (`X-User-Id`, `X-Project-Id`,
/// `X-Roles`, …) and what oslo.policy's credentials dictionary is built from.
public struct Caller: Sendable, Equatable {
    /// What the token is scoped to.
    public enum Scope: Sendable, Equatable {
        case unscoped
        case project(id: String, name: String, domainID: String, domainName: String)
        case domain(id: String, name: String)
        case system
    }

    public let userID: String
    public let userName: String
    public let userDomainID: String
    public let userDomainName: String
    public let scope: Scope
    /// Role names, implied roles included, lower-case as keystone stores them.
    public let roles: [String]
    public let roleIDs: [String]
    public var methods: [String]
    public var auditIDs: [String]
    /// Set when the token came from an application credential.
    public let applicationCredentialID: String?
    /// A restricted application credential may not create application credentials or trusts.
    public let applicationCredentialRestricted: Bool
    /// Set when the token is trust-scoped.
    public let trustID: String?
    /// The access rules of the application credential behind the token; nil when it has none
    /// (the token is not restricted to particular requests).
    public var accessRules: [AccessRule]?
    /// The service types of the token's catalog, known when `accessRules` is set (the rules only
    /// apply to a service the token's catalog lists).
    public var catalogServiceTypes: Set<String> = []
    /// A token from a delegation (an application credential or a trust): keystone 30 keeps it
    /// away from `/v3/credentials`.
    public var isDelegated: Bool { applicationCredentialID != nil || trustID != nil }
    /// The token itself, kept so a service can forward it; never logged.
    public var token: String

    public init(
        userID: String,
        userName: String,
        userDomainID: String,
        userDomainName: String,
        scope: Scope,
        roles: [String],
        roleIDs: [String],
        methods: [String],
        auditIDs: [String],
        applicationCredentialID: String? = nil,
        applicationCredentialRestricted: Bool = false,
        trustID: String? = nil,
        token: String
    ) {
        self.userID = userID
        self.userName = userName
        self.userDomainID = userDomainID
        self.userDomainName = userDomainName
        self.scope = scope
        self.roles = roles
        self.roleIDs = roleIDs
        self.methods = methods
        self.auditIDs = auditIDs
        self.applicationCredentialID = applicationCredentialID
        self.applicationCredentialRestricted = applicationCredentialRestricted
        self.trustID = trustID
        self.token = token
        self.policyCredentials = Caller.credentials(userID: userID, userDomainID: userDomainID, scope: scope, roles: roles)
    }

    /// oslo.policy's credentials dictionary, as keystone builds it for `enforce` (computed once:
    /// it is read by every policy check).
    public let policyCredentials: [String: JSON]

    public var projectID: String? {
        if case .project(let id, _, _, _) = scope { return id }
        return nil
    }
    public var domainID: String? {
        if case .domain(let id, _) = scope { return id }
        return nil
    }
    public var isSystemScoped: Bool { scope == .system }

    static func credentials(userID: String, userDomainID: String, scope: Scope, roles: [String]) -> [String: JSON] {
        var creds: [String: JSON] = [
            "user_id": .string(userID),
            "user_domain_id": .string(userDomainID),
            "roles": .array(roles.map(JSON.string)),
            "is_admin": false,
            "project_id": .null,
            "project_domain_id": .null,
            "domain_id": .null,
            "system_scope": .null,
        ]
        var token: [String: JSON] = ["user": ["id": .string(userID), "domain": ["id": .string(userDomainID)]]]
        switch scope {
        case .unscoped: break
        case .project(let id, _, let domainID, _):
            creds["project_id"] = .string(id)
            creds["project_domain_id"] = .string(domainID)
            token["project"] = ["id": .string(id), "domain": ["id": .string(domainID)]]
        case .domain(let id, _):
            creds["domain_id"] = .string(id)
            token["domain"] = ["id": .string(id)]
        case .system:
            creds["system_scope"] = "all"
            token["system"] = ["all": true]
        }
        creds["token"] = .object(token)
        return creds
    }
}
