import Foundation
import Hummingbird
import Logging
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
    public var defaultDomainID = "default"
    public var bodyLimit = 114_688
    /// How long a validated token stays in the in-process cache when nothing changed here
    /// (another process's writes are seen after at most this long).
    public var cacheSeconds: Double = 5

    public init() {}

    public init(config: Config) {
        tokenExpiration = Int64(config.int("token", "expiration") ?? 3600)
        let attempts = config.int("security_compliance", "lockout_failure_attempts")
        lockoutFailureAttempts = (attempts ?? 0) > 0 ? attempts : nil
        lockoutDuration = Int64(config.int("security_compliance", "lockout_duration") ?? 1800)
        let days = config.int("security_compliance", "password_expires_days")
        passwordExpiresDays = (days ?? 0) > 0 ? days : nil
        maxPasswordLength = config.int("identity", "max_password_length") ?? 4096
        defaultDomainID = config.string("identity", "default_domain_id") ?? "default"
        bodyLimit = config.int("oslo_middleware", "max_request_body_size") ?? 114_688
        cacheSeconds = config.bool("cache", "enabled") ? Double(config.int("cache", "expiration_time") ?? 600) : 5
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
    let validations = LocalCache<ValidatedToken>(capacity: 50_000)
    let scopes = LocalCache<ResolvedScope>(capacity: 50_000)
    let dummy = Mutex<String?>(nil)
    let lookups = LocalCache<String>(capacity: 10_000)
    let rendered = LocalCache<String>(capacity: 50_000)
    let catalogs = LocalCache<JSON>(capacity: 10_000)

    public init(db: Database, settings: IdentitySettings, enforcer: PolicyEnforcer, keys: KeyRing, credentialKeys: KeyRing?,
                hasher: PasswordHasher, logger: Logger) {
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
        let url = try DatabaseURL(config.string("database", "connection") ?? "")
        let db = try await Database.open(url, logger: logger)
        try await IdentityMigrations.migrator.migrate(db)
        let keys = try KeyRing(repository: FernetKeyRepository(path: config.string("fernet_tokens", "key_repository")!))
        let credentialKeys = try? KeyRing(repository: FernetKeyRepository(path: config.string("credential", "key_repository")!))
        var policyFile = config.string("oslo_policy", "policy_file") ?? "policy.yaml"
        if !policyFile.hasPrefix("/") {
            let dir = config.files.last.map { ($0 as NSString).deletingLastPathComponent } ?? "/etc/keystone"
            policyFile = "\(dir)/\(policyFile)"
        }
        let enforcer = try PolicyEnforcer(defaults: IdentityPolicyDefaults.rules, policyFile: policyFile)
        let hasher = PasswordHasher(cost: config.int("identity", "password_hash_rounds") ?? 12)
        return IdentityService(db: db, settings: IdentitySettings(config: config), enforcer: enforcer, keys: keys,
                               credentialKeys: credentialKeys, hasher: hasher, logger: logger)
    }

    public func close() async {
        await hasher.shutdown()
        await db.close()
    }

    /// The whole Identity API on one router.
    public func router(logger: Logger) -> Router<StratusContext> {
        let router = Router(context: StratusContext.self)
        router.add(middleware: OpenStackMiddleware(format: .identity, bodyLimit: settings.bodyLimit, logger: logger))
        var routes = RouteTable(router: router)
        addVersionRoutes(&routes)
        addAuthRoutes(&routes)
        addDomainRoutes(&routes)
        addProjectRoutes(&routes)
        addUserRoutes(&routes)
        addGroupRoutes(&routes)
        addRoleRoutes(&routes)
        addAssignmentRoutes(&routes)
        addCatalogRoutes(&routes)
        addApplicationCredentialRoutes(&routes)
        addCredentialRoutes(&routes)
        routes.finish()
        return router
    }

    /// The stamp cached entries are checked against (see `LocalCache`).
    var cacheStamp: CacheStamp {
        CacheStamp(generation: generation.load(ordering: .relaxed), keyVersion: keys.current().version)
    }

    /// A write transaction; invalidates this process's cached validations afterwards.
    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        defer { generation.add(1, ordering: .relaxed) }
        do {
            return try await db.write(body)
        } catch StorageError.uniqueViolation {
            throw OpenStackError.conflict("Conflict occurred attempting to store the resource: a resource with the same unique attributes exists.")
        } catch StorageError.foreignKeyViolation {
            throw OpenStackError.conflict("Conflict occurred attempting to store the resource: a resource it refers to changed meanwhile.")
        } catch StorageError.conflict {
            throw OpenStackError.conflict("Conflict occurred attempting to store the resource: a concurrent change; retry.")
        }
    }

    /// The caller behind `X-Auth-Token`; 401 when it is missing or invalid.
    func authenticate(_ request: Request) async throws -> Caller {
        guard let token = request.header("X-Auth-Token"), !token.isEmpty else { throw OpenStackError.unauthorized() }
        do {
            return try await validate(token).caller
        } catch is TokenInvalid {
            throw OpenStackError.unauthorized()
        }
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
        do { return try await validate(token).caller } catch is TokenInvalid { throw OpenStackError.unauthorized() }
    }
}
