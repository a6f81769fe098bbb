import Foundation
import NIOCore
import SQLKit
import StratusCore

/// A serialized validation document and the validation it was built from.
struct RenderedValidation: Sendable {
    let source: ValidatedToken
    let buffer: ByteBuffer
}

/// A validated token: the caller and keystone's token body. A class: the validation cache hands
/// the same instance to every request for the token (copying the struct's fields out of the
/// cache was a visible share of a cached validation's retains and releases).
final class ValidatedToken: Sendable {
    let caller: Caller
    let payload: TokenPayload
    /// The token document without the catalog (added on request).
    let body: [String: JSON]

    init(caller: Caller, payload: TokenPayload, body: [String: JSON]) {
        self.caller = caller
        self.payload = payload
        self.body = body
    }
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
        let stamp = CacheStamp(
            generation: generation.load(ordering: .relaxed),
            keyVersion: ring.version,
            revocations: await refreshedRevocationMark()
        )
        if let hit = validations.value(token, stamp: stamp, ttl: settings.cacheSeconds, now: now),
            hit.payload.expiresAt > Int64(now.timeIntervalSince1970)
        {
            return hit
        }
        guard let (plain, _) = try? Fernet.decrypt(token, keys: ring.keys), let payload = TokenPayload(decoding: plain) else {
            throw IdentityError.invalidToken(reason: "Could not recognize Fernet token")
        }
        guard payload.expiresAt > Int64(now.timeIntervalSince1970) else { throw IdentityError.invalidToken(reason: "Failed to validate token") }
        let validated = try await db.read { db in try await self.resolve(payload, token: token, db: db) }
        validations.store(token, validated, stamp: stamp, now: now)
        return validated
    }

    /// Turns a payload into the caller and token body, checking everything is still valid.
    /// `fresh` skips the revocation check for a token issued just now (every event predates it).
    /// A scoped token must carry a role, unless `allowNoRoles` (the issuer words that refusal itself).
    func resolve(
        _ p: TokenPayload,
        token: String,
        db: any SQLDatabase,
        fresh: Bool = false,
        allowNoRoles: Bool = false
    )
        async throws -> ValidatedToken
    {
        if !fresh {
            var projectID: String?
            if case .project(let id) = p.scope { projectID = id }
            if try await revocations.isRevoked(userID: p.userID, projectID: projectID, auditID: p.auditIDs.first, issuedAt: p.issuedAt, in: db) {
                throw IdentityError.invalidToken(reason: "Token has been revoked")
            }
        }
        let scoped = try await resolvedScope(p, db: db)
        if !fresh {
            for trustor in scoped.delegatingUserIDs
            where try await revocations.isRevoked(userID: trustor, projectID: nil, auditID: nil, issuedAt: p.issuedAt, in: db) {
                throw IdentityError.invalidToken(reason: "Token has been revoked")
            }
        }
        if p.scope != .unscoped, scoped.caller.roleIDs.isEmpty, !allowNoRoles {
            throw IdentityError.invalidToken(reason: "no role on the scope")
        }
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
        /// The trustors whose roles a trust-scoped token carries: their user revocations end it too.
        var delegatingUserIDs: [String] = []
    }

    func resolvedScope(_ p: TokenPayload, db: any SQLDatabase) async throws -> ResolvedScope {
        let key = "\(p.userID)|\(p.scope)|\(p.applicationCredentialID ?? "")|\(p.trustID ?? "")"
        return try await scopes.get(key, stamp: cacheStamp, ttl: settings.cacheSeconds) {
            if let trustID = p.trustID { return try await loadTrustScope(p, trustID: trustID, db: db) }
            return try await loadScope(p, db: db)
        }
    }

    /// The record `load` reads, or `invalidToken(reason)` when it is gone.
    func existing<T>(_ reason: String, _ load: () async throws -> T) async throws -> T {
        do {
            return try await load()
        } catch IdentityError.notFound {
            throw IdentityError.invalidToken(reason: reason)
        }
    }

    /// A token body's `user`.
    static func userDocument(_ user: UserRecord, _ domain: DomainRecord) -> JSON {
        [
            "id": .string(user.id), "name": .string(user.name),
            "domain": ["id": .string(domain.id), "name": .string(domain.name)],
            "password_expires_at": user.passwordExpiresAt.map { .string(Clock.iso(micros: $0, zulu: false)) } ?? .null,
        ]
    }

    /// The project a token is scoped to and its token-body `project`, when it and its domain are
    /// enabled (`invalidToken` otherwise); `knownDomain` is used instead of a read when it is the project's.
    func enabledProject(_ id: String, knownDomain: DomainRecord?, db: any SQLDatabase) async throws -> (Caller.Scope, JSON) {
        let project = try await existing("project is gone or disabled") { try await ProjectStore().get(id, in: db) }
        let domain =
            project.domainID == knownDomain?.id
            ? knownDomain!
            : try await existing("project is gone or disabled") { try await DomainStore().get(project.domainID, in: db) }
        guard project.enabled, domain.enabled else { throw IdentityError.invalidToken(reason: "project is gone or disabled") }
        let document: JSON = ["id": .string(id), "name": .string(project.name), "domain": ["id": .string(domain.id), "name": .string(domain.name)]]
        return (.project(id: id, name: project.name, domainID: domain.id, domainName: domain.name), document)
    }

    /// The user, scope and roles behind a payload, from the stores. The roles may be empty
    /// (`resolve` decides); a disabled or vanished user, scope or credential is `invalidToken`.
    func loadScope(_ p: TokenPayload, db: any SQLDatabase) async throws -> ResolvedScope {
        let (user, userDomain) = try await enabledUser(p.userID, db: db)
        var body: [String: JSON] = ["user": Self.userDocument(user, userDomain)]
        var scope: Caller.Scope = .unscoped
        var roles: [RoleRecord] = []
        let assignments = AssignmentStore()
        switch p.scope {
        case .unscoped:
            break
        case .project(let id):
            // NOTE: the project is usually in the user's domain: that domain is not read twice.
            (scope, body["project"]) = try await enabledProject(id, knownDomain: userDomain, db: db)
            body["is_domain"] = false
            roles = try await assignments.effectiveRoles(user: p.userID, scope: .project(id), in: db)
        case .domain(let id):
            let domain =
                id == userDomain.id
                ? userDomain
                : try await existing("domain is gone or disabled") { try await DomainStore().get(id, in: db) }
            guard domain.enabled else { throw IdentityError.invalidToken(reason: "domain is gone or disabled") }
            scope = .domain(id: id, name: domain.name)
            body["domain"] = ["id": .string(id), "name": .string(domain.name)]
            roles = try await assignments.effectiveRoles(user: p.userID, scope: .domain(id), in: db)
        case .system:
            scope = .system
            body["system"] = ["all": true]
            roles = try await assignments.effectiveRoles(user: p.userID, scope: .system, in: db)
        }
        var restricted = false
        var accessRules: [AccessRule]?
        if let appID = p.applicationCredentialID {
            let app = try await existing("application credential is gone") { try await ApplicationCredentialStore().get(appID, in: db) }
            if let exp = app.expiresAt, exp <= Clock.micros() { throw IdentityError.invalidToken(reason: "application credential expired") }
            let granted = Set(app.roleIDs)
            let expanded = EffectiveRoles.closure(of: granted, implications: try await RoleStore().implications(in: db))
            // Every role the credential was given must still be held by its user.
            guard granted.isSubset(of: Set(roles.map(\.id))) else {
                throw IdentityError.invalidToken(reason: "user no longer holds the credential's roles")
            }
            roles = roles.filter { expanded.contains($0.id) }
            restricted = !app.unrestricted
            var described: [String: JSON] = ["id": .string(appID), "name": .string(app.name), "restricted": .bool(restricted)]
            let rules = try await AccessRuleStore().rules(ofCredential: appID, in: db)
            if !rules.isEmpty {
                described["access_rules"] = .array(rules.map(AccessRuleRoutes.json))
                accessRules = rules
            }
            body["application_credential"] = .object(described)
        }
        if p.scope != .unscoped {
            body["roles"] = .array(roles.map { ["id": .string($0.id), "name": .string($0.name)] })
        }
        var caller = Caller(
            userID: p.userID,
            userName: user.name,
            userDomainID: user.domainID,
            userDomainName: userDomain.name,
            scope: scope,
            roles: roles.map(\.name),
            roleIDs: roles.map(\.id),
            methods: [],
            auditIDs: [],
            applicationCredentialID: p.applicationCredentialID,
            applicationCredentialRestricted: restricted,
            token: ""
        )
        if let accessRules {
            // The rules bind only where the token's catalog lists the service (keystonemiddleware's check).
            caller.accessRules = accessRules
            let catalog = try await catalog(db: db, projectID: caller.projectID)
            caller.catalogServiceTypes = Set((catalog.arrayValue ?? []).compactMap { $0["type"]?.stringValue })
        }
        return ResolvedScope(caller: caller, body: body)
    }

    /// A new token for `payload` and what it resolves to now (no revocation check: it was just
    /// issued). `invalidToken` when its user or scope no longer stands; the roles may be empty
    /// (the caller words that refusal).
    func mint(_ payload: TokenPayload) async throws -> (token: String, validated: ValidatedToken) {
        let token = try issue(payload)
        let validated = try await db.read { sql in try await self.resolve(payload, token: token, db: sql, fresh: true, allowNoRoles: true) }
        return (token, validated)
    }

    /// A token document as POST /v3/auth/tokens returns it: with the catalog when `withCatalog`
    /// and the token is scoped.
    func tokenDocument(_ validated: ValidatedToken, withCatalog: Bool) async throws -> JSON {
        var out = validated.body
        if withCatalog && validated.payload.scope != .unscoped {
            out["catalog"] = try await db.read { sql in try await self.catalog(db: sql, projectID: validated.caller.projectID) }
        }
        return ["token": .object(out)]
    }

    /// The serialized `GET /v3/auth/tokens` document; cached like validations (services
    /// validate the same tokens over and over, so the body is built once per change).
    /// Kept as a `ByteBuffer`, which responses share without copying.
    /// A document is reused only for the very validation it was built from, so one built from a
    /// validation computed under an older stamp is never served under a newer one.
    func renderedValidation(_ token: String, _ validated: ValidatedToken, withCatalog: Bool) async throws -> ByteBuffer {
        let cache = withCatalog ? rendered : renderedWithoutCatalog
        let stamp = cacheStamp
        if let hit = cache.value(token, stamp: stamp, ttl: settings.cacheSeconds), hit.source === validated { return hit.buffer }
        var body = validated.body
        if withCatalog { body["catalog"] = try await db.read { db in try await self.catalog(db: db, projectID: validated.caller.projectID) } }
        let buffer = ByteBuffer(string: JSON.object(["token": .object(body)]).serialized())
        cache.store(token, RenderedValidation(source: validated, buffer: buffer), stamp: stamp)
        return buffer
    }

    /// The service catalog as it appears in tokens and `/v3/auth/catalog`; cached per project
    /// until anything is written through this process (it is read on every validation).
    func catalog(db: any SQLDatabase, projectID: String?) async throws -> JSON {
        try await catalogs.get(projectID ?? "", stamp: cacheStamp, ttl: settings.cacheSeconds) {
            try await buildCatalog(db: db, projectID: projectID)
        }
    }

    /// The catalog document from `CatalogStore`: services with their endpoints, `region` as well as `region_id`.
    func buildCatalog(db: any SQLDatabase, projectID: String?) async throws -> JSON {
        .array(
            try await CatalogStore().catalog(projectID: projectID, in: db).map { service in
                [
                    "id": .string(service.id), "type": .string(service.type), "name": .string(service.name),
                    "endpoints": .array(
                        service.endpoints.map { e in
                            [
                                "id": .string(e.id), "interface": .string(e.interface), "region_id": .optional(e.regionID),
                                "region": .optional(e.regionID), "url": .string(e.url),
                            ]
                        }
                    ),
                ]
            }
        )
    }

    /// Records a revocation event (callers run it inside `write`, which drops cached
    /// validations) and prunes events older than any token can live, so the check on every
    /// validation stays small.
    func revoke(
        db: any SQLDatabase,
        userID: String? = nil,
        projectID: String? = nil,
        auditID: String? = nil,
        trustID: String? = nil
    ) async throws {
        let now = Clock.micros()
        let horizon = now - 2 * (settings.tokenExpiration + 3600) * 1_000_000
        try await revocations.record(
            .init(userID: userID, projectID: projectID, auditID: auditID, trustID: trustID),
            at: now,
            pruningBefore: horizon,
            in: db
        )
    }

    var revocations: RevocationStore { RevocationStore() }
}
