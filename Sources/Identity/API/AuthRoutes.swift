import Foundation
import HTTPTypes
import Hummingbird
import SQLKit
import StratusCore

/// `/v3/auth/*`: issue, validate and revoke tokens; the caller's catalog, projects, domains, system.
struct AuthRoutes: Sendable {
    let service: IdentityService
    let users = UserStore()
    let domains = DomainStore()
    let projects = ProjectStore()
    let credentials = ApplicationCredentialStore()
    let assignments = AssignmentStore()

    func add(to r: inout RouteTable) {
        r.post("/v3/auth/tokens", issue)
        r.get("/v3/auth/tokens", validate)
        r.head("/v3/auth/tokens", check)
        r.delete("/v3/auth/tokens", revoke)
        r.get("/v3/auth/catalog", catalog)
        r.get("/v3/auth/projects", listProjects)
        r.get("/v3/auth/domains", listDomains)
        r.get("/v3/auth/system", system)
    }

    /// GET the caller's service catalog: 200. 403 for a token not scoped to a project (keystone
    /// 30 refuses system and domain tokens here too) or by policy; 401 unauthenticated.
    @Sendable func catalog(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let caller = try await service.authorize(req, IdentityPolicy.getAuthCatalog)
        guard caller.projectID != nil else {
            throw OpenStackError.forbidden("A project-scoped token is required to produce a service catalog.")
        }
        let catalog = try await service.read { sql in try await service.catalog(db: sql, projectID: caller.projectID) }
        return .json(["catalog": catalog, "links": ["self": .string(req.selfURL)]])
    }

    /// GET the enabled projects the caller holds a role on: 200. 401 unauthenticated; 403 by policy.
    @Sendable func listProjects(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let caller = try await service.authorize(req, IdentityPolicy.getAuthProjects)
        let found = try await service.read { sql in try await projects.list(assignedTo: caller.userID, in: sql) }
        return .json(["projects": .array(found.map { ProjectRoutes.json($0, req) }), "links": collectionLinks(req)])
    }

    /// GET the enabled domains the caller holds a role on: 200. 401 unauthenticated; 403 by policy.
    @Sendable func listDomains(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let caller = try await service.authorize(req, IdentityPolicy.getAuthDomains)
        let found = try await service.read { sql in try await domains.list(assignedTo: caller.userID, in: sql) }
        return .json(["domains": .array(found.map { DomainRoutes.json($0, req) }), "links": collectionLinks(req)])
    }

    /// GET whether the caller holds a role on the system: 200. 401 unauthenticated; 403 by policy.
    @Sendable func system(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let caller = try await service.authorize(req, IdentityPolicy.getAuthSystem)
        let roles = try await service.read { sql in try await assignments.effectiveRoles(user: caller.userID, scope: .system, in: sql) }
        return .json(["system": roles.isEmpty ? [] : [["all": true]], "links": ["self": .string(req.selfURL)]])
    }

    // MARK: Validation

    /// GET the `X-Subject-Token` document (with the catalog unless `nocatalog`): 200. 404 when
    /// it does not validate; 401 unauthenticated; 403 by policy.
    @Sendable func validate(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (subject, validated) = try await subjectToken(req, IdentityPolicy.validateToken)
        let wantsCatalog = req.query("nocatalog") == nil && validated.payload.scope != .unscoped
        return .json(
            buffer: try await service.renderedValidation(subject, validated, withCatalog: wantsCatalog),
            headers: Self.subjectHeader(subject)
        )
    }

    /// HEAD: whether `X-Subject-Token` validates: 200. 404 when it does not; 401 unauthenticated; 403 by policy.
    @Sendable func check(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (subject, _) = try await subjectToken(req, IdentityPolicy.checkToken)
        return .empty(.ok, headers: Self.subjectHeader(subject))
    }

    /// DELETE (revoke) `X-Subject-Token`: 204. 404 when it does not validate; 401 unauthenticated; 403 by policy.
    @Sendable func revoke(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (_, validated) = try await subjectToken(req, IdentityPolicy.revokeToken)
        // The token's own audit id: its parent and siblings from the same chain stay valid.
        let audit = validated.payload.auditIDs.first
        try await service.write { sql in try await service.revoke(db: sql, auditID: audit) }
        return .empty()
    }

    /// `X-Subject-Token: <token>`, as every token response carries it.
    static func subjectHeader(_ token: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.xSubjectToken] = token
        return headers
    }

    /// The token named by `X-Subject-Token`, validated (404 when it does not), after the caller
    /// passes `action` on it — what GET, HEAD and DELETE /v3/auth/tokens share.
    func subjectToken(_ req: Request, _ action: String) async throws -> (token: String, validated: ValidatedToken) {
        let caller = try await service.authenticate(req)
        guard let subject = req.headers[.xSubjectToken], !subject.isEmpty else {
            throw OpenStackError.notFound("Could not find token: X-Subject-Token header is missing.")
        }
        let validated: ValidatedToken
        do {
            validated = try await service.validate(subject)
        } catch IdentityError.invalidToken {
            // keystone's generic answer for every reason (expired, revoked, disabled, garbage):
            // the reason would tell a caller holding someone's token what happened to its owner.
            throw OpenStackError.notFound("Could not find token: \(subject).")
        }
        try service.enforcer.authorize(action, flatTarget: ["target.token.user_id": validated.caller.userID], caller: caller)
        // A token restricted by access rules validates only for a validator that enforces them
        // (keystonemiddleware sends `OpenStack-Identity-Access-Rules: 1`); others would let it do anything.
        if validated.caller.accessRules != nil, (req.headers[.openStackIdentityAccessRules].flatMap { Double($0) } ?? 0) < 1 {
            throw OpenStackError.notFound("Failed to validate token")
        }
        return (subject, validated)
    }

    // MARK: Issue

    /// POST a token by `password`, `token` (rescoping) or `application_credential`: 201 with
    /// `X-Subject-Token`. 400 invalid body; 401 bad credentials, no role on the scope, a locked
    /// account or an expired password; 403 rescoping an application credential's token.
    @Sendable func issue(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let body = try await req.jsonBody(limit: ctx.bodyLimit)
        guard let auth = body["auth"]?.objectValue else { throw invalid("auth", "'auth' is a required property") }
        guard let identity = auth["identity"]?.objectValue else { throw invalid("identity", "'identity' is a required property") }
        guard let methods = identity["methods"]?.arrayValue?.compactMap(\.stringValue), !methods.isEmpty else {
            throw invalid("methods", "'methods' is a required property and must be a non-empty list of strings")
        }
        let now = Clock.micros()
        let verified = try await verify(identity, methods: methods, now: now)
        let userID = verified.userID
        let appCred = verified.applicationCredential
        let inheritedScope = verified.inheritedScope
        // Scope: explicit, else the application credential's project, else the user's default project.
        var scope: TokenPayload.Scope = .unscoped
        let appProject = appCred.map { $0.projectID ?? "" }
        var trust: TrustRecord?
        if let reference = auth["scope"]?["OS-TRUST:trust"] {
            // An application credential never reaches a trust (its restrictions would not follow).
            if appCred != nil { throw OpenStackError.unauthorized("Application credentials cannot request a scope.") }
            trust = try await trustForScope(reference, trusteeID: userID, now: now)
            scope = trust?.projectID.map { .project($0) } ?? .unscoped
        } else if let requested = auth["scope"] {
            scope = try await resolveScope(requested)
        } else if let appProject {
            scope = .project(appProject)
        } else if inheritedScope == nil {
            scope = try await defaultScope(userID: userID)
        }
        if let appProject, scope != .project(appProject) {
            throw OpenStackError.unauthorized("Application credentials cannot request a scope.")
        }
        var expiresAt = verified.expiresAt
        if let limit = trust?.expiresAt { expiresAt = min(expiresAt, limit / 1_000_000) }
        let issued = TokenPayload(
            userID: userID,
            methods: verified.methods,
            scope: scope,
            expiresAt: expiresAt,
            issuedAt: now,
            auditIDs: verified.auditIDs,
            applicationCredentialID: appCred?.id,
            trustID: trust?.id
        )
        let token: String
        let validated: ValidatedToken
        do {
            (token, validated) = try await service.mint(issued)
        } catch IdentityError.invalidToken {
            throw OpenStackError.unauthorized()
        }
        if validated.caller.roleIDs.isEmpty {
            switch scope {
            case .project(let id): throw OpenStackError.unauthorized("User \(userID) has no access to project \(id)")
            case .domain(let id): throw OpenStackError.unauthorized("User \(userID) has no access to domain \(id)")
            case .system: throw OpenStackError.unauthorized("User \(userID) has no access to the system")
            case .unscoped: break
            }
        }
        // A use of a limited trust is taken only for a token that is handed out, in one statement
        // (two requests racing for the last use cannot both get a token).
        if let trust, try await !service.write({ sql in try await TrustStore().consumeUse(trust.id, in: sql) }) {
            throw OpenStackError.unauthorized("No remaining uses for trust: \(trust.id).")
        }
        let document = try await service.tokenDocument(validated, withCatalog: req.query("nocatalog") == nil)
        return .json(document, status: .created, headers: Self.subjectHeader(token))
    }

    /// Who the `identity` block proves the caller is, by the first method that applies
    /// (application credential, password, then token), and what the new token inherits from it.
    struct Verified {
        var userID: String
        /// Only the method that was verified (plus, when rescoping, the prior token's methods, as
        /// keystone records them).
        var methods: [String]
        var expiresAt: Int64
        var auditIDs: [String]
        var applicationCredential: ApplicationCredentialRecord?
        /// The prior token's scope when rescoping.
        var inheritedScope: TokenPayload.Scope?
    }

    /// Verifies the credentials of one of `methods`: 400 when its block is missing; 401 when they
    /// do not hold; 403 rescoping an application credential's token.
    func verify(_ identity: [String: JSON], methods: [String], now: Int64) async throws -> Verified {
        var verified = Verified(
            userID: "",
            methods: [],
            expiresAt: now / 1_000_000 + service.settings.tokenExpiration,
            auditIDs: [TokenPayload.newAuditID()]
        )
        if methods.contains("application_credential") {
            guard let ac = identity["application_credential"]?.objectValue else {
                throw invalid("application_credential", "'application_credential' is a required property")
            }
            let found = try await authenticateApplicationCredential(ac)
            verified.userID = found.userID
            verified.methods = ["application_credential"]
            verified.applicationCredential = found
            if let exp = found.expiresAt { verified.expiresAt = min(verified.expiresAt, exp / 1_000_000) }
        } else if methods.contains("password") {
            guard let pw = identity["password"]?["user"]?.objectValue else { throw invalid("user", "'user' is a required property of 'password'") }
            verified.userID = try await authenticatePassword(pw)
            verified.methods = ["password"]
        } else if methods.contains("token") {
            guard let t = identity["token"]?["id"]?.stringValue else { throw invalid("id", "'id' is a required property of 'token'") }
            let prior: ValidatedToken
            do { prior = try await service.validate(t) } catch IdentityError.invalidToken { throw OpenStackError.unauthorized() }
            if prior.payload.applicationCredentialID != nil {
                throw OpenStackError.forbidden("Cannot rescope a token issued by an application credential.")
            }
            if prior.payload.trustID != nil {
                throw OpenStackError.unauthorized("Using trust-scoped token to create another token. Create a new trust-scoped token instead.")
            }
            verified.userID = prior.caller.userID
            verified.methods = ["token"] + prior.payload.methods.filter { $0 != "token" }
            verified.expiresAt = prior.payload.expiresAt
            // keystone's audit chain: [own id, id of the chain's original token]
            verified.auditIDs = [TokenPayload.newAuditID(), prior.payload.auditIDs.last ?? TokenPayload.newAuditID()]
            verified.inheritedScope = prior.payload.scope
        } else {
            throw OpenStackError.unauthorized("Attempted to authenticate with an unsupported method.")
        }
        return verified
    }
}
