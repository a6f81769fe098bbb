import Foundation
import Hummingbird
import SQLKit
import StratusCore

/// The authentication methods of `POST /v3/auth/tokens` and the scope a token request names.
extension AuthRoutes {
    /// The `password` method: finds the user, enforces lockout and expiry, checks the hash.
    func authenticatePassword(_ u: [String: JSON]) async throws -> String {
        guard let password = u["password"]?.stringValue else { throw invalid("password", "'password' is a required property") }
        let user: UserRecord?
        if let id = u["id"]?.stringValue {
            user = try await service.read { sql in try await Self.absentAsNil { try await users.get(id, in: sql) } }
        } else if let name = u["name"]?.stringValue {
            let domain = try await resolveDomainRef(u["domain"], field: "domain")
            user = try await service.read { sql in try await users.find(name: name, domainID: domain, in: sql) }
        } else {
            throw invalid("user", "either 'id' or 'name' with 'domain' is required")
        }
        let userID = try await service.checkPassword(password, user: user)
        if let exp = user?.passwordExpiresAt, exp <= Clock.micros() {
            throw OpenStackError.unauthorized("The password is expired and needs to be changed for user: \(userID).")
        }
        return userID
    }

    /// The `application_credential` method: by id, or by name with its user; checks the secret and expiry.
    func authenticateApplicationCredential(_ ac: [String: JSON]) async throws -> ApplicationCredentialRecord {
        guard let secret = ac["secret"]?.stringValue else { throw invalid("secret", "'secret' is a required property") }
        var found: ApplicationCredentialRecord?
        if let id = ac["id"]?.stringValue {
            // keystone 30 answers an unknown (or deleted) credential id with 404, naming it.
            found = try await service.read { sql in try await Self.absentAsNil { try await credentials.get(id, in: sql) } }
            if found == nil { throw OpenStackError.notFound("Could not find Application Credential: \(id).") }
        } else if let name = ac["name"]?.stringValue, let user = ac["user"]?.objectValue {
            var userID = user["id"]?.stringValue
            if userID == nil, let userName = user["name"]?.stringValue {
                let domain = try await resolveDomainRef(user["domain"], field: "domain")
                userID = try await service.read { sql in try await users.find(name: userName, domainID: domain, in: sql)?.id }
            }
            if let userID {
                found = try await service.read { sql in try await credentials.find(name: name, userID: userID, in: sql) }
            }
        } else {
            throw invalid("application_credential", "either 'id' or 'name' with 'user' is required")
        }
        guard let found, let ok = try? await service.hasher.verify(secret, hash: found.secretHash), ok else {
            throw OpenStackError.unauthorized()
        }
        if let exp = found.expiresAt, exp <= Clock.micros() { throw OpenStackError.unauthorized() }
        return found
    }

    /// `load`'s record, or nil when it does not exist.
    static func absentAsNil<T>(_ load: () async throws -> T) async throws -> T? {
        do {
            return try await load()
        } catch IdentityError.notFound {
            return nil
        }
    }

    /// `{"id": …}` or `{"name": …}` → domain id; 401 when unknown (authentication must not reveal more).
    func resolveDomainRef(_ ref: JSON?, field: String) async throws -> String {
        guard let ref = ref?.objectValue else { throw invalid(field, "'\(field)' with 'id' or 'name' is required") }
        if let id = ref["id"]?.stringValue { return id }
        guard let name = ref["name"]?.stringValue else { throw invalid(field, "'\(field)' needs 'id' or 'name'") }
        guard let id = try await lookupID(key: "domain|\(name)", { sql in try await domains.find(name: name, in: sql)?.id }) else {
            throw OpenStackError.unauthorized()
        }
        return id
    }

    /// A name → id lookup for token requests, cached until anything is written here (renames
    /// and deletes go through `write`); misses are not cached.
    func lookupID(key: String, _ find: @Sendable (any SQLDatabase) async throws -> String?) async throws -> String? {
        let stamp = service.cacheStamp
        if let hit = service.lookups.value(key, stamp: stamp, ttl: service.settings.cacheSeconds) { return hit }
        guard let id = try await service.read(find) else { return nil }
        service.lookups.store(key, id, stamp: stamp)
        return id
    }

    /// The `scope` of a token request: a project (by id, or name and domain), a domain or the system.
    func resolveScope(_ scope: JSON) async throws -> TokenPayload.Scope {
        if let project = scope["project"]?.objectValue {
            if let id = project["id"]?.stringValue { return .project(id) }
            guard let name = project["name"]?.stringValue else { throw invalid("project", "'project' needs 'id' or 'name'") }
            let domain = try await resolveDomainRef(project["domain"], field: "domain")
            let id = try await lookupID(key: "project|\(domain)|\(name)") { sql in
                try await projects.find(name: name, domainID: domain, in: sql)?.id
            }
            guard let id else { throw OpenStackError.unauthorized("Could not find project: \(name).") }
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

    /// The trust a `{"OS-TRUST:trust": {"id": …}}` scope names, when it can be used now and
    /// `trusteeID` is its trustee; 401 otherwise (keystone answers every such refusal so).
    func trustForScope(_ reference: JSON, trusteeID: String, now: Int64) async throws -> TrustRecord {
        guard let id = reference["id"]?.stringValue else { throw invalid("OS-TRUST:trust", "'id' is a required property") }
        let trust = try await service.read { sql in try await Self.absentAsNil { try await TrustStore().usable(id, at: now, in: sql) } }
        guard let trust, trust.trusteeUserID == trusteeID else { throw OpenStackError.unauthorized() }
        return trust
    }

    /// Keystone scopes a token without scope to the user's default project when they have a role there.
    func defaultScope(userID: String) async throws -> TokenPayload.Scope {
        try await service.read { sql in
            guard let user = try await Self.absentAsNil({ try await users.get(userID, in: sql) }), let id = user.defaultProjectID,
                let project = try await Self.absentAsNil({ try await projects.get(id, in: sql) }), project.enabled,
                let domain = try await Self.absentAsNil({ try await domains.get(project.domainID, in: sql) }), domain.enabled,
                !(try await assignments.effectiveRoles(user: userID, scope: .project(id), in: sql)).isEmpty
            else { return .unscoped }
            return .project(id)
        }
    }
}

extension IdentityService {
    /// The password check shared by login and password change: the user and its domain must be
    /// enabled, the account not locked; a failure is counted (a lock expires after
    /// `lockout_duration` and the count starts again), a success resets the count. Unknown and
    /// disabled users cost a hash too, so timing does not tell who exists. Returns the user id.
    func checkPassword(_ password: String, user: UserRecord?) async throws -> String {
        var domainEnabled = false
        if let domainID = user?.domainID {
            domainEnabled = try await read { sql in
                try await AuthRoutes.absentAsNil { try await DomainStore().get(domainID, in: sql) }?.enabled ?? false
            }
        }
        guard let user, user.enabled, domainEnabled else {
            _ = try? await hasher.verify(password, hash: try await dummyHash())
            throw OpenStackError.unauthorized()
        }
        let now = Clock.micros()
        let window = settings.lockoutDuration * 1_000_000
        // A user with `ignore_lockout_failure_attempts` (the service users) neither locks nor counts.
        let counts = !UserOptions.ignoresLockout(user.options)
        if counts, let attempts = settings.lockoutFailureAttempts, user.failedAuthCount >= Int64(attempts),
            now - (user.lastFailedAuthAt ?? 0) < window
        {
            throw OpenStackError.unauthorized("The account is locked for user: \(user.id).")
        }
        // NOTE: these counters never change what a token resolves to, so they bypass `write` and leave the caches alone.
        // bcrypt would stop at a NUL; no password that holds one can be set (`PasswordRules`). The
        // hash is checked either way, so the answer takes as long as any other wrong password.
        let stored: String
        if let h = user.passwordHash { stored = h } else { stored = try await dummyHash() }
        let matches = try await hasher.verify(password, hash: stored)
        guard user.passwordHash != nil, matches, !password.utf8.contains(0) else {
            if counts {
                try await db.write { sql in try await UserStore().recordFailedLogin(user.id, at: now, lockoutWindow: window, in: sql) }
            }
            throw OpenStackError.unauthorized()
        }
        if user.failedAuthCount > 0 {
            try await db.write { sql in try await UserStore().resetFailedLogins(user.id, in: sql) }
        }
        return user.id
    }

    /// A hash at the configured cost of a random password, made once, for checks against users that do not exist.
    func dummyHash() async throws -> String {
        if let h = dummy.withLock({ $0 }) { return h }
        let h = try await hasher.hash(IdentityService.newSecret())
        dummy.withLock { $0 = h }
        return h
    }
}
