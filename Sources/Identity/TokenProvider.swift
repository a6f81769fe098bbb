import Foundation
import SQLKit
import StratusCore

/// A token that does not validate (bad signature, expired, revoked, or its user, scope or
/// roles are gone). Validation answers 404; use as `X-Auth-Token` answers 401.
struct TokenInvalid: Error {
    var reason: String
}

/// A validated token: the caller and keystone's token body.
struct ValidatedToken: Sendable {
    var caller: Caller
    var payload: TokenPayload
    /// The token document without the catalog (added on request).
    var body: [String: JSON]
}

extension IdentityService {
    func issue(_ payload: TokenPayload) throws -> String {
        try Fernet.encrypt(payload.encoded(), key: keys.primary)
    }

    /// Validates a token: signature, expiry, revocation, and the current state of its user,
    /// scope and roles. Cached in process until anything is written here.
    func validate(_ token: String) async throws -> ValidatedToken {
        let now = Date()
        let ring = keys.current()
        let stamp = CacheStamp(generation: generation.load(ordering: .relaxed), keyVersion: ring.version)
        if let hit = validations.value(token, stamp: stamp, ttl: settings.cacheSeconds, now: now),
            hit.payload.expiresAt > Int64(now.timeIntervalSince1970)
        {
            return hit
        }
        guard let (plain, _) = try? Fernet.decrypt(token, keys: ring.keys), let payload = TokenPayload(decoding: plain) else {
            throw TokenInvalid(reason: "Could not recognize Fernet token")
        }
        guard payload.expiresAt > Int64(now.timeIntervalSince1970) else { throw TokenInvalid(reason: "Failed to validate token") }
        let validated = try await db.read { db in try await self.resolve(payload, token: token, db: db) }
        validations.store(token, validated, stamp: stamp, now: now)
        return validated
    }

    func isRevoked(_ p: TokenPayload, db: any SQLDatabase) async throws -> Bool {
        var projectID = ""
        if case .project(let id) = p.scope { projectID = id }
        let ownAudit = p.auditIDs.first ?? ""
        let row = try await db.raw("""
            SELECT COUNT(*) AS n FROM revocation_event WHERE issued_before >= \(bind: p.issuedAt) AND (
              (user_id = \(bind: p.userID) AND project_id IS NULL AND audit_id IS NULL)
              OR (project_id = \(bind: projectID) AND user_id IS NULL)
              OR (user_id = \(bind: p.userID) AND project_id = \(bind: projectID))
              OR audit_id = \(bind: ownAudit))
            """).first()
        return (row?.int("n") ?? 0) > 0
    }

    /// Turns a payload into the caller and token body, checking everything is still valid.
    /// `fresh` skips the revocation check for a token issued just now (every event predates it).
    func resolve(_ p: TokenPayload, token: String, db: any SQLDatabase, fresh: Bool = false) async throws -> ValidatedToken {
        if !fresh, try await isRevoked(p, db: db) { throw TokenInvalid(reason: "Token has been revoked") }
        let scoped = try await resolvedScope(p, db: db)
        var body = scoped.body
        body["methods"] = .array(p.methods.map(JSON.string))
        body["audit_ids"] = .array(p.auditIDs.map(JSON.string))
        body["expires_at"] = .string(Clock.iso(micros: p.expiresAt * 1_000_000))
        body["issued_at"] = .string(Clock.iso(micros: p.issuedAt))
        var caller = scoped.caller
        caller.methods = p.methods
        caller.auditIDs = p.auditIDs
        caller.token = token
        return ValidatedToken(caller: caller, payload: p, body: body)
    }

    /// What a (user, scope, application credential) resolves to right now — the part of a
    /// validation shared by every token of that user and scope. Cached like validations.
    struct ResolvedScope: Sendable {
        var caller: Caller
        var body: [String: JSON]
    }

    func resolvedScope(_ p: TokenPayload, db: any SQLDatabase) async throws -> ResolvedScope {
        let key = "\(p.userID)|\(p.scope)|\(p.applicationCredentialID ?? "")"
        return try await scopes.get(key, stamp: cacheStamp, ttl: settings.cacheSeconds) { try await loadScope(p, db: db) }
    }

    func loadScope(_ p: TokenPayload, db: any SQLDatabase) async throws -> ResolvedScope {
        guard let user = try await db.raw("""
            SELECT u.id, u.name, u.domain_id, u.enabled, u.password_expires_at, d.name AS dname, d.enabled AS denabled
            FROM identity_user u JOIN domain d ON d.id = u.domain_id WHERE u.id = \(bind: p.userID)
            """).first(), user.bool("enabled"), user.bool("denabled")
        else { throw TokenInvalid(reason: "user is gone or disabled") }
        var body: [String: JSON] = [
            "user": [
                "id": .string(p.userID), "name": .string(user.str("name")),
                "domain": ["id": .string(user.str("domain_id")), "name": .string(user.str("dname"))],
                "password_expires_at": user.int("password_expires_at").map { .string(Clock.iso(micros: $0, zulu: false)) } ?? .null,
            ],
        ]
        var scope: Caller.Scope = .unscoped
        var roles: [(id: String, name: String)] = []
        switch p.scope {
        case .unscoped:
            break
        case .project(let id):
            guard let project = try await db.raw("""
                SELECT p.id, p.name, p.domain_id, p.enabled, d.name AS dname, d.enabled AS denabled
                FROM project p JOIN domain d ON d.id = p.domain_id WHERE p.id = \(bind: id)
                """).first(), project.bool("enabled"), project.bool("denabled")
            else { throw TokenInvalid(reason: "project is gone or disabled") }
            scope = .project(id: id, name: project.str("name"), domainID: project.str("domain_id"), domainName: project.str("dname"))
            body["project"] = ["id": .string(id), "name": .string(project.str("name")),
                               "domain": ["id": .string(project.str("domain_id")), "name": .string(project.str("dname"))]]
            body["is_domain"] = false
            roles = try await effectiveRoles(db: db, userID: p.userID, scope: .project(id))
        case .domain(let id):
            guard let domain = try await db.raw("SELECT id, name, enabled FROM domain WHERE id = \(bind: id)").first(), domain.bool("enabled")
            else { throw TokenInvalid(reason: "domain is gone or disabled") }
            scope = .domain(id: id, name: domain.str("name"))
            body["domain"] = ["id": .string(id), "name": .string(domain.str("name"))]
            roles = try await effectiveRoles(db: db, userID: p.userID, scope: .domain(id))
        case .system:
            scope = .system
            body["system"] = ["all": true]
            roles = try await effectiveRoles(db: db, userID: p.userID, scope: .system)
        }
        var restricted = false
        if let appID = p.applicationCredentialID {
            guard let app = try await db.raw("SELECT id, name, unrestricted, expires_at FROM application_credential WHERE id = \(bind: appID)").first()
            else { throw TokenInvalid(reason: "application credential is gone") }
            if let exp = app.int("expires_at"), exp <= Clock.micros() { throw TokenInvalid(reason: "application credential expired") }
            let granted = Set(try await db.raw("SELECT role_id FROM application_credential_role WHERE application_credential_id = \(bind: appID)")
                .all().map { $0.str("role_id") })
            let expanded = try await impliedClosure(db: db, Set(granted))
            let current = Set(roles.map(\.id))
            // Every role the credential was given must still be held by its user.
            guard granted.isSubset(of: current) else { throw TokenInvalid(reason: "user no longer holds the credential's roles") }
            roles = roles.filter { expanded.contains($0.id) }
            restricted = !app.bool("unrestricted")
            body["application_credential"] = ["id": .string(appID), "name": .string(app.str("name")), "restricted": .bool(restricted)]
        }
        if p.scope != .unscoped && roles.isEmpty { throw TokenInvalid(reason: "no role on the scope") }
        if p.scope != .unscoped {
            body["roles"] = .array(roles.map { ["id": .string($0.id), "name": .string($0.name)] })
        }
        let caller = Caller(
            userID: p.userID, userName: user.str("name"), userDomainID: user.str("domain_id"), userDomainName: user.str("dname"),
            scope: scope, roles: roles.map(\.name), roleIDs: roles.map(\.id), methods: [], auditIDs: [],
            applicationCredentialID: p.applicationCredentialID, applicationCredentialRestricted: restricted, token: "")
        return ResolvedScope(caller: caller, body: body)
    }

    /// Roles a user holds on a scope, directly or through groups, with implied roles added.
    func effectiveRoles(db: any SQLDatabase, userID: String, scope: TokenPayload.Scope) async throws -> [(id: String, name: String)] {
        let (target, types): (String, [String])
        switch scope {
        case .project(let id): (target, types) = (id, ["UserProject", "GroupProject"])
        case .domain(let id): (target, types) = (id, ["UserDomain", "GroupDomain"])
        case .system: (target, types) = ("system", ["UserSystem", "GroupSystem"])
        case .unscoped: return []
        }
        var direct = Set(try await db.raw("""
            SELECT DISTINCT role_id FROM assignment WHERE target_id = \(bind: target) AND inherited = \(bind: false) AND (
              (type = \(bind: types[0]) AND actor_id = \(bind: userID)) OR
              (type = \(bind: types[1]) AND actor_id IN (SELECT group_id FROM group_membership WHERE user_id = \(bind: userID))))
            """).all().map { $0.str("role_id") })
        if case .project(let id) = scope {
            // Roles inherited from the project's domain and ancestors (OS-INHERIT).
            let ancestors = try await projectAncestry(db: db, id)
            if !ancestors.isEmpty {
                direct.formUnion(try await db.raw("""
                    SELECT DISTINCT role_id FROM assignment WHERE target_id IN (\(binds: ancestors)) AND inherited = \(bind: true) AND (
                      actor_id = \(bind: userID) OR actor_id IN (SELECT group_id FROM group_membership WHERE user_id = \(bind: userID)))
                    """).all().map { $0.str("role_id") })
            }
        }
        let all = try await impliedClosure(db: db, direct)
        guard !all.isEmpty else { return [] }
        // Domain-specific roles only carry the global roles they imply (keystone's rule): a domain
        // role named "admin" must not pass `role:admin`.
        return try await db.raw("SELECT id, name FROM role WHERE id IN (\(binds: Array(all))) AND domain_id = \(bind: IdentityService.globalRoleDomain) ORDER BY name").all()
            .map { (id: $0.str("id"), name: $0.str("name")) }
    }

    /// The domain and parent projects above a project.
    func projectAncestry(db: any SQLDatabase, _ id: String) async throws -> [String] {
        var out: [String] = []
        var current = id
        for _ in 0..<32 {
            guard let row = try await db.raw("SELECT parent_id, domain_id FROM project WHERE id = \(bind: current)").first() else { break }
            let parent = row.optStr("parent_id")
            if let parent, parent != row.str("domain_id") { out.append(parent); current = parent } else { out.append(row.str("domain_id")); break }
        }
        return out
    }

    /// `roles` plus every role they imply, transitively.
    func impliedClosure(db: any SQLDatabase, _ roles: Set<String>) async throws -> Set<String> {
        guard !roles.isEmpty else { return roles }
        let rules = try await db.raw("SELECT prior_role_id, implied_role_id FROM implied_role").all()
        var implies: [String: [String]] = [:]
        for r in rules { implies[r.str("prior_role_id"), default: []].append(r.str("implied_role_id")) }
        var result = roles
        var queue = Array(roles)
        while let r = queue.popLast() {
            for i in implies[r] ?? [] where !result.contains(i) { result.insert(i); queue.append(i) }
        }
        return result
    }

    /// The serialized `GET /v3/auth/tokens` document; cached like validations (services
    /// validate the same tokens over and over, so the body is built once per change).
    func renderedValidation(_ token: String, _ validated: ValidatedToken, withCatalog: Bool) async throws -> String {
        let key = withCatalog ? token : token + "#nocatalog"
        return try await rendered.get(key, stamp: cacheStamp, ttl: settings.cacheSeconds) {
            var body = validated.body
            if withCatalog { body["catalog"] = try await db.read { db in try await self.catalog(db: db, projectID: validated.caller.projectID) } }
            return JSON.object(["token": .object(body)]).serialized()
        }
    }

    /// The service catalog as it appears in tokens and `/v3/auth/catalog`; cached per project
    /// until anything is written through this process (it is read on every validation).
    func catalog(db: any SQLDatabase, projectID: String?) async throws -> JSON {
        try await catalogs.get(projectID ?? "", stamp: cacheStamp, ttl: settings.cacheSeconds) {
            try await buildCatalog(db: db, projectID: projectID)
        }
    }

    func buildCatalog(db: any SQLDatabase, projectID: String?) async throws -> JSON {
        let rows = try await db.raw("""
            SELECT s.id AS sid, s.type, s.extra AS sextra, e.id AS eid, e.interface, e.region_id, e.url
            FROM service s JOIN endpoint e ON e.service_id = s.id
            WHERE s.enabled = \(bind: true) AND e.enabled = \(bind: true) ORDER BY s.type, e.interface
            """).all()
        var services: [String: (type: String, name: String, endpoints: [JSON])] = [:]
        var order: [String] = []
        for r in rows {
            let sid = r.str("sid")
            if services[sid] == nil {
                order.append(sid)
                services[sid] = (r.str("type"), r.json("sextra")["name"]?.stringValue ?? "", [])
            }
            var url = r.str("url")
            if let projectID {
                for pattern in ["$(project_id)s", "%(project_id)s", "$(tenant_id)s", "%(tenant_id)s"] {
                    url = url.replacingOccurrences(of: pattern, with: projectID)
                }
            }
            let region = JSON.optional(r.optStr("region_id"))
            services[sid]!.endpoints.append(["id": .string(r.str("eid")), "interface": .string(r.str("interface")),
                                             "region_id": region, "region": region, "url": .string(url)])
        }
        return .array(order.map { sid in
            let s = services[sid]!
            return ["id": .string(sid), "type": .string(s.type), "name": .string(s.name), "endpoints": .array(s.endpoints)]
        })
    }

    /// Records a revocation event (callers run it inside `write`, which drops cached
    /// validations) and prunes events older than any token can live, so the check on every
    /// validation stays small.
    func revoke(db: any SQLDatabase, userID: String? = nil, projectID: String? = nil, auditID: String? = nil) async throws {
        let now = Clock.micros()
        let horizon = now - 2 * (settings.tokenExpiration + 3600) * 1_000_000
        try await db.raw("DELETE FROM revocation_event WHERE issued_before < \(bind: horizon)").run()
        try await db.raw("""
            INSERT INTO revocation_event (id, user_id, project_id, audit_id, issued_before, revoked_at)
            VALUES (\(bind: newID()), \(bind: userID), \(bind: projectID), \(bind: auditID), \(bind: now), \(bind: now))
            """).run()
    }
}
