import Foundation
import Hummingbird
import Logging
import NIOCore
import SQLKit
import StratusAuth
import StratusCore
import StratusStorage
import Synchronization

/// Settings read once from keystone.conf.
public struct IdentitySettings: Sendable {
    public var tokenExpiration: Int64 = 3600
    public var lockoutFailureAttempts: Int?
    public var lockoutDuration: Int64 = 1800
    public var passwordExpiresDays: Int?
    public var maxPasswordLength = 4096
    /// `[DEFAULT] strict_password_check`: refuse passwords bcrypt would truncate.
    public var strictPasswordCheck = false
    public var defaultDomainID = "default"
    public var bodyLimit = 114_688
    /// How long a validated token stays in the in-process cache when nothing changed here
    /// (another process's writes are seen after at most this long).
    public var cacheSeconds: Double = 5
    /// keystone's `list_limit` options, per driver.
    var listLimits = ListLimits()
    /// `[credential] auth_ttl`: minutes an EC2/S3 request's timestamp stays acceptable.
    public var ec2AuthTTLMinutes: Int64 = 15
    /// `[trust] max_redelegation_count`: how long a chain of redelegated trusts may get.
    public var maxRedelegationCount = TrustRules.defaultMaxRedelegationCount

    public init() {}

    public init(config: Config) {
        tokenExpiration = Int64(config.int("token", "expiration") ?? 3600)
        let attempts = config.int("security_compliance", "lockout_failure_attempts")
        lockoutFailureAttempts = (attempts ?? 0) > 0 ? attempts : nil
        lockoutDuration = Int64(config.int("security_compliance", "lockout_duration") ?? 1800)
        let days = config.int("security_compliance", "password_expires_days")
        passwordExpiresDays = (days ?? 0) > 0 ? days : nil
        maxPasswordLength = config.int("identity", "max_password_length") ?? 4096
        strictPasswordCheck = config.bool("DEFAULT", "strict_password_check")
        defaultDomainID = config.string("identity", "default_domain_id") ?? "default"
        bodyLimit = config.int("oslo_middleware", "max_request_body_size") ?? 114_688
        cacheSeconds = config.bool("cache", "enabled") ? Double(config.int("cache", "expiration_time") ?? 600) : 5
        ec2AuthTTLMinutes = Int64(config.int("credential", "auth_ttl") ?? 15)
        maxRedelegationCount = config.int("trust", "max_redelegation_count") ?? TrustRules.defaultMaxRedelegationCount
        let fallback = config.int("DEFAULT", "list_limit")
        listLimits = ListLimits(
            identity: .resolve(driver: config.int("identity", "list_limit"), fallback: fallback),
            resource: .resolve(driver: config.int("resource", "list_limit"), fallback: fallback),
            role: .resolve(driver: config.int("role", "list_limit"), fallback: fallback),
            assignment: ListLimit(limit: config.int("assignment", "list_limit") ?? ListLimits.defaultAssignmentLimit)
        )
    }
}

/// The Identity service (keystone v3): its database, keys, policy and the token logic the
/// route handlers share. `router(logger:)` builds the HTTP application.
public final class IdentityService: Sendable {
    public let db: Database
    public let settings: IdentitySettings
    let enforcer: PolicyEnforcer
    let keys: KeyRing
    let credentialKeys: KeyRing?
    let hasher: PasswordHasher
    let logger: Logger
    /// Bumped on every write made through this process: cached validations older than the
    /// current generation are recomputed.
    let generation = Atomic<Int>(0)
    /// The newest revocation event seen in the database and when it was read (see `cacheStamp`).
    let revocationMark = Mutex<(value: Int64, readAt: ContinuousClock.Instant?, reading: Bool)>((0, nil, false))
    let validations = LocalCache<ValidatedToken>(capacity: 50_000)
    let scopes = LocalCache<ResolvedScope>(capacity: 50_000)
    let dummy = Mutex<String?>(nil)
    let lookups = LocalCache<String>(capacity: 10_000)
    let rendered = LocalCache<RenderedValidation>(capacity: 50_000)
    let renderedWithoutCatalog = LocalCache<RenderedValidation>(capacity: 50_000)
    let catalogs = LocalCache<JSON>(capacity: 10_000)

    public init(
        db: Database,
        settings: IdentitySettings,
        enforcer: PolicyEnforcer,
        keys: KeyRing,
        credentialKeys: KeyRing?,
        hasher: PasswordHasher,
        logger: Logger
    ) {
        self.db = db
        self.settings = settings
        self.enforcer = enforcer
        self.keys = keys
        self.credentialKeys = credentialKeys
        self.hasher = hasher
        self.logger = logger
    }

    /// Opens everything keystone.conf names: database (migrated), key repositories, policy.
    public static func open(config: Config, logger: Logger) async throws -> IdentityService {
        let db = try await DatabaseOptions.open(config, logger: logger)
        try await IdentityMigrations.migrator.migrate(db)
        let keys = try KeyRing(repository: FernetKeyRepository(path: config.string("fernet_tokens", "key_repository")!), logger: logger)
        let credentialKeys = try? KeyRing(repository: FernetKeyRepository(path: config.string("credential", "key_repository")!), logger: logger)
        let enforcer = try PolicyEnforcer(defaults: IdentityPolicy.defaults, config: config, defaultDirectory: "/etc/keystone")
        let hasher = PasswordHasher(cost: config.int("identity", "password_hash_rounds") ?? 12)
        return IdentityService(
            db: db,
            settings: IdentitySettings(config: config),
            enforcer: enforcer,
            keys: keys,
            credentialKeys: credentialKeys,
            hasher: hasher,
            logger: logger
        )
    }

    public func close() async {
        await hasher.shutdown()
        await db.close()
    }

    /// The whole Identity API on one router.
    public func router(logger: Logger) -> Router<StratusContext> {
        let router = Router(context: StratusContext.self)
        router.add(middleware: OpenStackMiddleware(format: .identity, bodyLimit: settings.bodyLimit, logger: logger))
        router.add(middleware: AuthenticateFirst(service: self))
        var routes = RouteTable(router: router)
        VersionRoutes(service: self).add(to: &routes)
        AuthRoutes(service: self).add(to: &routes)
        DomainRoutes(service: self).add(to: &routes)
        ProjectRoutes(service: self).add(to: &routes)
        UserRoutes(service: self).add(to: &routes)
        GroupRoutes(service: self).add(to: &routes)
        RoleRoutes(service: self).add(to: &routes)
        AssignmentRoutes(service: self).add(to: &routes)
        CatalogRoutes(service: self).add(to: &routes)
        ApplicationCredentialRoutes(service: self).add(to: &routes)
        CredentialRoutes(service: self).add(to: &routes)
        RevocationRoutes(service: self).add(to: &routes)
        TrustRoutes(service: self).add(to: &routes)
        EC2Routes(service: self).add(to: &routes)
        AccessRuleRoutes(service: self).add(to: &routes)
        routes.finish()
        return router
    }

    /// The stamp cached entries are checked against (see `LocalCache`).
    var cacheStamp: CacheStamp {
        CacheStamp(
            generation: generation.load(ordering: .relaxed),
            keyVersion: keys.current().version,
            revocations: revocationMark.withLock { $0.value }
        )
    }

    /// How stale this process's view of other processes' revocations may get, whatever
    /// `[cache] expiration_time` says: the revocation table's high-water mark is re-read this often.
    static let revocationRecheck: Duration = .seconds(2)

    /// The revocation high-water mark, re-read when older than `revocationRecheck` (by one
    /// request at a time; the others use the value they find). Timed on the monotonic clock.
    func refreshedRevocationMark() async -> Int64 {
        let now = ContinuousClock.now
        let (value, due) = revocationMark.withLock { m -> (Int64, Bool) in
            let stale = m.readAt.map { now - $0 >= Self.revocationRecheck } ?? true
            guard !m.reading, stale else { return (m.value, false) }
            m.reading = true
            return (m.value, true)
        }
        guard due else { return value }
        let fresh = try? await db.read { sql in try await revocations.highWaterMark(in: sql) }
        return revocationMark.withLock { m in
            m.reading = false
            guard let fresh else { return m.value }  // a failed read is retried by the next request
            m.value = fresh
            m.readAt = now
            return fresh
        }
    }

    /// One write transaction: committed when `body` returns, rolled back when it throws. Storage
    /// failures become `IdentityError`s; this process's cached validations are invalidated after.
    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        defer { generation.add(1, ordering: .relaxed) }
        do {
            return try await db.write(body)
        } catch {
            throw IdentityError.translating(error)
        }
    }

    /// Reads outside a transaction (no snapshot needed); storage failures become `IdentityError`s.
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            return try await db.read(body)
        } catch {
            throw IdentityError.translating(error)
        }
    }

    /// The caller behind `X-Auth-Token`; 401 when it is missing or invalid.
    func authenticate(_ request: Request) async throws -> Caller {
        guard let token = request.headers[.xAuthToken], !token.isEmpty else { throw OpenStackError.unauthorized() }
        let caller: Caller
        do {
            caller = try await validate(token).caller
        } catch IdentityError.invalidToken {
            throw OpenStackError.unauthorized()
        }
        // keystone 30: a token minted from an EC2 or S3 signature is for the gateway's service, never for Identity's API.
        if caller.methods.contains("ec2credential") { throw OpenStackError.forbidden("You are not authorized to perform the requested action.") }
        if let rules = caller.accessRules {
            // Identity enforces access rules on its own API as keystone does (service type `identity`).
            var serviceCaller: Caller?
            if let serviceToken = request.headers[.xServiceToken], !serviceToken.isEmpty, serviceToken != token {
                serviceCaller = try? await validate(serviceToken).caller
            }
            let allowed = AccessRule.permits(
                rules,
                serviceType: "identity",
                method: request.method.rawValue,
                path: request.uri.path,
                catalogServiceTypes: caller.catalogServiceTypes,
                hasValidServiceToken: AccessRule.liftsRules(serviceCaller)
            )
            guard allowed else { throw OpenStackError.unauthorized() }
        }
        return caller
    }

    /// The bcrypt hash of a password someone sets, after `PasswordRules`: 400 for a NUL, 403 for
    /// one bcrypt would truncate under `strict_password_check` (else a warning).
    func hashNewPassword(_ password: String) async throws -> String {
        switch PasswordRules.check(password, maxPasswordLength: settings.maxPasswordLength, strict: settings.strictPasswordCheck) {
        case .accepted: break
        case .containsNUL: throw invalid("password", "the password contains a NUL character")
        case .tooLong(let limit): throw OpenStackError.forbidden(PasswordRules.tooLongMessage(limit: limit))
        case .truncated(let bytes):
            logger.warning("a password of \(bytes) bytes is used truncated to \(PasswordRules.bcryptMaxBytes) bytes (bcrypt's limit)")
        }
        return try await hasher.hash(password)
    }

    /// Authenticates, then enforces `action` against `target`.
    func authorize(_ request: Request, _ action: String, target: [String: JSON] = [:]) async throws -> Caller {
        let caller = try await authenticate(request)
        try enforcer.authorize(action, target: target, caller: caller)
        return caller
    }
}

extension IdentityService: TokenValidator {
    /// In-process validation for services running beside Identity (all-in-one).
    public func caller(for token: String) async throws -> Caller {
        do { return try await validate(token).caller } catch IdentityError.invalidToken { throw OpenStackError.unauthorized() }
    }
}
