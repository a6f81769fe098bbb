import Foundation
import HTTPTypes
import Hummingbird
import SQLKit
import StratusCore

/// `/v3/auth/*`: issue, validate and revoke tokens; the caller's catalog, projects, domains, system.
extension IdentityService {
    func addAuthRoutes(_ r: inout RouteTable) {
        r.post("/v3/auth/tokens") { req, ctx in try await self.issueToken(req, ctx) }
        r.get("/v3/auth/tokens") { req, _ in try await self.validateToken(req, head: false) }
        r.head("/v3/auth/tokens") { req, _ in try await self.validateToken(req, head: true) }
        r.delete("/v3/auth/tokens") { req, _ in try await self.revokeToken(req) }
        r.get("/v3/auth/catalog") { req, _ in
            let caller = try await self.authorize(req, "identity:get_auth_catalog")
            guard caller.scope != .unscoped else {
                throw OpenStackError.forbidden("A project-scoped token is required to produce a service catalog.")
            }
            let catalog = try await self.db.read { db in try await self.catalog(db: db, projectID: caller.projectID) }
            return .json(["catalog": catalog, "links": ["self": .string(req.selfURL), "previous": nil, "next": nil]])
        }
        r.get("/v3/auth/projects") { req, _ in
            let caller = try await self.authorize(req, "identity:get_auth_projects")
            let rows = try await self.db.read { db in try await self.projectsWithRoles(db: db, userID: caller.userID) }
            return .json(["projects": .array(rows.map { self.projectJSON($0, req) }), "links": collectionLinks(req)])
        }
        r.get("/v3/auth/domains") { req, _ in
            let caller = try await self.authorize(req, "identity:get_auth_domains")
            let rows = try await self.db.read { db in
                try await db.raw("""
                    SELECT * FROM domain WHERE enabled = \(bind: true) AND id IN (SELECT target_id FROM assignment WHERE
                      type IN ('UserDomain', 'GroupDomain') AND (actor_id = \(bind: caller.userID) OR actor_id IN
                      (SELECT group_id FROM group_membership WHERE user_id = \(bind: caller.userID)))) ORDER BY name
                    """).all()
            }
            return .json(["domains": .array(rows.map { self.domainJSON($0, req) }), "links": collectionLinks(req)])
        }
        r.get("/v3/auth/system") { req, _ in
            let caller = try await self.authorize(req, "identity:get_auth_system")
            let roles = try await self.db.read { db in try await self.effectiveRoles(db: db, userID: caller.userID, scope: .system) }
            return .json(["system": roles.isEmpty ? [] : [["all": true]], "links": ["self": .string(req.selfURL), "previous": nil, "next": nil]])
        }
    }

    func projectsWithRoles(db: any SQLDatabase, userID: String) async throws -> [any SQLRow] {
        try await db.raw("""
            SELECT p.* FROM project p JOIN domain d ON d.id = p.domain_id WHERE p.enabled = \(bind: true) AND d.enabled = \(bind: true)
              AND p.id IN (SELECT target_id FROM assignment WHERE type IN ('UserProject', 'GroupProject') AND (actor_id = \(bind: userID)
              OR actor_id IN (SELECT group_id FROM group_membership WHERE user_id = \(bind: userID)))) ORDER BY p.name
            """).all()
    }

    // MARK: Validation

    /// The token named by `X-Subject-Token`, validated (404 when it does not), after the caller
    /// passes `action` on it — what GET, HEAD and DELETE /v3/auth/tokens share.
    func subjectToken(_ req: Request, _ action: String) async throws -> (token: String, validated: ValidatedToken) {
        let caller = try await authenticate(req)
        guard let subject = req.header("X-Subject-Token"), !subject.isEmpty else {
            throw OpenStackError.notFound("Could not find token: X-Subject-Token header is missing.")
        }
        let validated: ValidatedToken
        do { validated = try await validate(subject) } catch let e as TokenInvalid { throw OpenStackError.notFound(e.reason) }
        try enforcer.authorize(action, target: ["target": ["token": ["user_id": .string(validated.caller.userID)]]], caller: caller)
        return (subject, validated)
    }

    func validateToken(_ req: Request, head: Bool) async throws -> Response {
        let (subject, validated) = try await subjectToken(req, head ? "identity:check_token" : "identity:validate_token")
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Subject-Token")!] = subject
        if head { return .empty(.ok, headers: headers) }
        let wantsCatalog = req.query("nocatalog") == nil && validated.payload.scope != .unscoped
        return .json(text: try await renderedValidation(subject, validated, withCatalog: wantsCatalog), headers: headers)
    }

    func revokeToken(_ req: Request) async throws -> Response {
        let (_, validated) = try await subjectToken(req, "identity:revoke_token")
        // The token's own audit id: its parent and siblings from the same chain stay valid.
        let audit = validated.payload.auditIDs.first
        try await write { db in try await self.revoke(db: db, auditID: audit) }
        return .empty()
    }

    // MARK: Issue

    func issueToken(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let body = try await req.jsonBody(limit: ctx.bodyLimit)
        guard let auth = body["auth"]?.objectValue else { throw invalid("auth", "'auth' is a required property") }
        guard let identity = auth["identity"]?.objectValue else { throw invalid("identity", "'identity' is a required property") }
        guard let methods = identity["methods"]?.arrayValue?.compactMap(\.stringValue), !methods.isEmpty else {
            throw invalid("methods", "'methods' is a required property and must be a non-empty list of strings")
        }
        let now = Clock.micros()
        var userID: String
        // Only the method that was verified goes into the token (plus, when rescoping, the
        // prior token's methods, as keystone records them).
        var usedMethods: [String]
        var expiresAt = now / 1_000_000 + settings.tokenExpiration
        var auditIDs = [TokenPayload.newAuditID()]
        var appCred: (id: String, projectID: String, expires: Int64?)?
        var inheritedScope: TokenPayload.Scope?
        if methods.contains("application_credential") {
            guard let ac = identity["application_credential"]?.objectValue else { throw invalid("application_credential", "'application_credential' is a required property") }
            let found = try await authenticateApplicationCredential(ac)
            userID = found.userID
            usedMethods = ["application_credential"]
            appCred = (found.id, found.projectID, found.expiresAt)
            if let exp = found.expiresAt { expiresAt = min(expiresAt, exp / 1_000_000) }
        } else if methods.contains("password") {
            guard let pw = identity["password"]?["user"]?.objectValue else { throw invalid("user", "'user' is a required property of 'password'") }
            userID = try await authenticatePassword(pw)
            usedMethods = ["password"]
        } else if methods.contains("token") {
            guard let t = identity["token"]?["id"]?.stringValue else { throw invalid("id", "'id' is a required property of 'token'") }
            let prior: ValidatedToken
            do { prior = try await validate(t) } catch is TokenInvalid { throw OpenStackError.unauthorized() }
            if prior.payload.applicationCredentialID != nil {
                throw OpenStackError.forbidden("Cannot rescope a token issued by an application credential.")
            }
            userID = prior.caller.userID
            usedMethods = ["token"] + prior.payload.methods.filter { $0 != "token" }
            expiresAt = prior.payload.expiresAt
            // keystone's audit chain: [own id, id of the chain's original token]
            auditIDs = [TokenPayload.newAuditID(), prior.payload.auditIDs.last ?? TokenPayload.newAuditID()]
            inheritedScope = prior.payload.scope
        } else {
            throw OpenStackError.unauthorized("Attempted to authenticate with an unsupported method.")
        }
        // Scope: explicit, else the application credential's project, else the user's default project.
        var scope: TokenPayload.Scope = .unscoped
        if let requested = auth["scope"] {
            scope = try await resolveScope(requested)
        } else if let appCred {
            scope = .project(appCred.projectID)
        } else if inheritedScope == nil {
            scope = try await defaultScope(userID: userID)
        }
        if let appCred, scope != .project(appCred.projectID) {
            throw OpenStackError.unauthorized("Application credentials cannot request a scope.")
        }
        let issued = TokenPayload(userID: userID, methods: usedMethods, scope: scope, expiresAt: expiresAt, issuedAt: now,
                                  auditIDs: auditIDs, applicationCredentialID: appCred?.id)
        let token = try issue(issued)
        let validated: ValidatedToken
        do {
            validated = try await db.read { db in try await self.resolve(issued, token: token, db: db, fresh: true) }
        } catch let e as TokenInvalid {
            switch scope {
            case .project(let id) where e.reason == "no role on the scope":
                throw OpenStackError.unauthorized("User \(userID) has no access to project \(id)")
            case .domain(let id) where e.reason == "no role on the scope":
                throw OpenStackError.unauthorized("User \(userID) has no access to domain \(id)")
            case .system where e.reason == "no role on the scope":
                throw OpenStackError.unauthorized("User \(userID) has no access to the system")
            default:
                throw OpenStackError.unauthorized()
            }
        }
        var out = validated.body
        if req.query("nocatalog") == nil && scope != .unscoped {
            out["catalog"] = try await db.read { db in try await self.catalog(db: db, projectID: validated.caller.projectID) }
        }
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Subject-Token")!] = token
        return .json(["token": .object(out)], status: .created, headers: headers)
    }

    /// The `password` method: finds the user, enforces lockout and expiry, checks the hash.
    func authenticatePassword(_ u: [String: JSON]) async throws -> String {
        guard let password = u["password"]?.stringValue else { throw invalid("password", "'password' is a required property") }
        let row: (any SQLRow)?
        if let id = u["id"]?.stringValue {
            row = try await db.read { db in try await db.raw("SELECT u.*, d.enabled AS denabled FROM identity_user u JOIN domain d ON d.id = u.domain_id WHERE u.id = \(bind: id)").first() }
        } else if let name = u["name"]?.stringValue {
            let domain = try await resolveDomainRef(u["domain"], field: "domain")
            row = try await db.read { db in try await db.raw("SELECT u.*, d.enabled AS denabled FROM identity_user u JOIN domain d ON d.id = u.domain_id WHERE u.name = \(bind: name) AND u.domain_id = \(bind: domain)").first() }
        } else {
            throw invalid("user", "either 'id' or 'name' with 'domain' is required")
        }
        let userID = try await checkPassword(password, row: row)
        if let row, let exp = row.int("password_expires_at"), exp <= Clock.micros() {
            throw OpenStackError.unauthorized("The password is expired and needs to be changed for user: \(userID).")
        }
        return userID
    }

    /// The password check shared by login and password change: the user and its domain must be
    /// enabled, the account not locked; a failure is counted (a lock expires after
    /// `lockout_duration` and the count starts again), a success resets the count. Unknown and
    /// disabled users cost a hash too, so timing does not tell who exists.
    func checkPassword(_ password: String, row: (any SQLRow)?) async throws -> String {
        guard let row, row.bool("enabled"), row.bool("denabled") else {
            _ = try? await hasher.verify(password, hash: try await dummyHash())
            throw OpenStackError.unauthorized()
        }
        let userID = row.str("id")
        let now = Clock.micros()
        let window = settings.lockoutDuration * 1_000_000
        let lastFailure = row.int("last_failed_auth_at") ?? 0
        if let attempts = settings.lockoutFailureAttempts, (row.int("failed_auth_count") ?? 0) >= Int64(attempts), now - lastFailure < window {
            throw OpenStackError.unauthorized("The account is locked for user: \(userID).")
        }
        // These counters never change what a token resolves to, so they bypass `write` and leave the caches alone.
        guard let hash = row.optStr("password_hash"), try await hasher.verify(password, hash: hash) else {
            try await db.write { db in
                try await db.raw("""
                    UPDATE identity_user SET last_failed_auth_at = \(bind: now), failed_auth_count =
                      CASE WHEN last_failed_auth_at IS NULL OR last_failed_auth_at < \(bind: now - window) THEN 1 ELSE failed_auth_count + 1 END
                    WHERE id = \(bind: userID)
                    """).run()
            }
            throw OpenStackError.unauthorized()
        }
        if (row.int("failed_auth_count") ?? 0) > 0 {
            try await db.write { db in try await db.raw("UPDATE identity_user SET failed_auth_count = 0 WHERE id = \(bind: userID)").run() }
        }
        return userID
    }

    /// A hash at the configured cost of a random password, made once, for checks against users that do not exist.
    func dummyHash() async throws -> String {
        if let h = dummy.withLock({ $0 }) { return h }
        let h = try await hasher.hash(IdentityService.newSecret())
        dummy.withLock { $0 = h }
        return h
    }

    /// The `application_credential` method: by id, or by name with its user; checks the secret and expiry.
    func authenticateApplicationCredential(_ ac: [String: JSON]) async throws -> (id: String, userID: String, projectID: String, expiresAt: Int64?) {
        guard let secret = ac["secret"]?.stringValue else { throw invalid("secret", "'secret' is a required property") }
        var row: (any SQLRow)?
        if let id = ac["id"]?.stringValue {
            row = try await db.read { db in try await db.raw("SELECT * FROM application_credential WHERE id = \(bind: id)").first() }
        } else if let name = ac["name"]?.stringValue, let user = ac["user"]?.objectValue {
            var userID = user["id"]?.stringValue
            if userID == nil, let uname = user["name"]?.stringValue {
                let domain = try await resolveDomainRef(user["domain"], field: "domain")
                userID = try await db.read { db in try await db.raw("SELECT id FROM identity_user WHERE name = \(bind: uname) AND domain_id = \(bind: domain)").first()?.str("id") }
            }
            if let userID {
                row = try await db.read { db in try await db.raw("SELECT * FROM application_credential WHERE name = \(bind: name) AND user_id = \(bind: userID)").first() }
            }
        } else {
            throw invalid("application_credential", "either 'id' or 'name' with 'user' is required")
        }
        guard let row, let ok = try? await hasher.verify(secret, hash: row.str("secret_hash")), ok else { throw OpenStackError.unauthorized() }
        if let exp = row.int("expires_at"), exp <= Clock.micros() { throw OpenStackError.unauthorized() }
        return (row.str("id"), row.str("user_id"), row.str("project_id"), row.int("expires_at"))
    }

    /// `{"id": …}` or `{"name": …}` → domain id; 401 when unknown (authentication must not reveal more).
    func resolveDomainRef(_ ref: JSON?, field: String) async throws -> String {
        guard let ref = ref?.objectValue else { throw invalid(field, "'\(field)' with 'id' or 'name' is required") }
        if let id = ref["id"]?.stringValue { return id }
        guard let name = ref["name"]?.stringValue else { throw invalid(field, "'\(field)' needs 'id' or 'name'") }
        guard let id = try await lookupID("SELECT id FROM domain WHERE name = \(bind: name)", key: "domain|\(name)") else {
            throw OpenStackError.unauthorized()
        }
        return id
    }

    /// A name → id lookup for token requests, cached until anything is written here (renames
    /// and deletes go through `write`); misses are not cached.
    func lookupID(_ query: SQLQueryString, key: String) async throws -> String? {
        let stamp = cacheStamp
        if let hit = lookups.value(key, stamp: stamp, ttl: settings.cacheSeconds) { return hit }
        guard let id = try await db.read({ db in try await db.raw(query).first()?.str("id") }) else { return nil }
        lookups.store(key, id, stamp: stamp)
        return id
    }

    func resolveScope(_ scope: JSON) async throws -> TokenPayload.Scope {
        if let project = scope["project"]?.objectValue {
            if let id = project["id"]?.stringValue { return .project(id) }
            guard let name = project["name"]?.stringValue else { throw invalid("project", "'project' needs 'id' or 'name'") }
            let domain = try await resolveDomainRef(project["domain"], field: "domain")
            guard let id = try await lookupID("SELECT id FROM project WHERE name = \(bind: name) AND domain_id = \(bind: domain)",
                                              key: "project|\(domain)|\(name)") else {
                throw OpenStackError.unauthorized("Could not find project: \(name).")
            }
            return .project(id)
        }
        if let domain = scope["domain"] {
            return .domain(try await resolveDomainRef(domain, field: "domain"))
        }
        if let system = scope["system"]?.objectValue {
            guard system["all"] == .bool(true) else { throw invalid("system", "only {\"all\": true} is supported") }
            return .system
        }
        throw invalid("scope", "expected one of 'project', 'domain' or 'system'")
    }

    /// Keystone scopes a token without scope to the user's default project when they have a role there.
    func defaultScope(userID: String) async throws -> TokenPayload.Scope {
        try await db.read { db in
            guard let project = try await db.raw("SELECT default_project_id FROM identity_user WHERE id = \(bind: userID)").first()?.optStr("default_project_id"),
                let enabled = try await db.raw("SELECT p.enabled AS pe, d.enabled AS de FROM project p JOIN domain d ON d.id = p.domain_id WHERE p.id = \(bind: project)").first(),
                enabled.bool("pe"), enabled.bool("de"),
                !(try await self.effectiveRoles(db: db, userID: userID, scope: .project(project))).isEmpty
            else { return .unscoped }
            return .project(project)
        }
    }
}
