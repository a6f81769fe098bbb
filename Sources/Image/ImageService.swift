import Foundation
import Hummingbird
import Logging
import SQLKit
import StratusAuth
import StratusCore
import StratusStorage

/// The Image service (glance v2): its database, the file store, policy and settings.
/// `router()` builds the HTTP application; `leases` keeps this process's uploads alive and
/// returns abandoned ones to `queued`.
public final class ImageService: Sendable {
    public let db: Database
    public let settings: ImageSettings
    let enforcer: PolicyEnforcer
    let validator: any TokenValidator
    let store: FileStore
    let staging: FileStore
    let leases: UploadLeases
    /// Imports running in this process (`close` waits for them).
    let imports = TaskSet()
    let logger: Logger

    init(db: Database, settings: ImageSettings, enforcer: PolicyEnforcer, validator: any TokenValidator, logger: Logger) {
        self.db = db
        self.settings = settings
        self.enforcer = enforcer
        self.validator = validator
        self.store = FileStore(directory: settings.storeDirectory)
        self.staging = FileStore(directory: settings.stagingDirectory)
        self.leases = UploadLeases(db: db, stores: [store, staging], expiry: settings.leaseSeconds, logger: logger)
        self.logger = logger
    }

    /// Opens what glance-api.conf names: the database (migrated when `migrate`, otherwise it must
    /// be current), the store and staging directories and the policy; then reaps uploads that
    /// dead processes abandoned and starts this process's lease keeper.
    public static func open(config: Config, validator: any TokenValidator, migrate: Bool = false, logger: Logger) async throws -> ImageService {
        let settings = try ImageSettings(config: config)
        let db = try await DatabaseOptions.open(config, group: "database", logger: logger)
        do {
            if migrate {
                try await ImageMigrations.migrator.migrate(db)
            } else {
                let current = try await ImageMigrations.migrator.currentVersion(db)
                if current < ImageMigrations.migrator.latest {
                    throw ConfigError(
                        message: "the glance database is at version \(current), not \(ImageMigrations.migrator.latest): run `glance-manage db_sync`"
                    )
                }
            }
            let enforcer = try PolicyEnforcer(defaults: ImagePolicy.defaults, config: config, defaultDirectory: "/etc/glance")
            let unserved = config.list("DEFAULT", "enabled_import_methods").filter { !ImageSettings.servedImportMethods.contains($0) }
            if !unserved.isEmpty {
                logger.notice(
                    "enabled_import_methods: \(unserved.joined(separator: ", ")) not served by Stratus yet; offering \(settings.importMethods)"
                )
            }
            let service = ImageService(db: db, settings: settings, enforcer: enforcer, validator: validator, logger: logger)
            for dir in [service.store, service.staging] {
                do { try dir.ensureDirectory() } catch {
                    throw ConfigError(message: "cannot create \(dir.directory): \(error.localizedDescription)")
                }
            }
            await service.leases.start()
            return service
        } catch {
            await db.close()
            throw error
        }
    }

    /// The schema version glance-manage reports: (current, latest).
    public static func schemaVersion(_ db: Database) async throws -> (Int, Int) {
        (try await ImageMigrations.migrator.currentVersion(db), ImageMigrations.migrator.latest)
    }

    /// Migrates to the latest schema: (from, to).
    public static func migrate(_ db: Database) async throws -> (Int, Int) {
        let from = try await ImageMigrations.migrator.currentVersion(db)
        try await ImageMigrations.migrator.migrate(db)
        return (from, ImageMigrations.migrator.latest)
    }

    public func close() async {
        await imports.waitAll()
        await leases.stop()
        await db.close()
    }

    /// The whole Image API on one router.
    public func router() -> Router<StratusContext> {
        let router = Router(context: StratusContext.self)
        router.add(middleware: OpenStackMiddleware(format: .image, bodyLimit: 65_536, logger: logger))
        if settings.authenticated {
            router.add(
                middleware: AuthMiddleware(
                    validator: validator,
                    challenge: settings.authURI,
                    publicPaths: ["/", "/versions", "/healthcheck"],
                    serviceType: settings.serviceType
                )
            )
        } else {
            router.add(middleware: ImageNoAuthMiddleware())
        }
        var routes = RouteTable(
            router: router,
            methodNotAllowed: "The server could not comply with the request since it is either malformed or otherwise incorrect."
        )
        VersionRoutes(settings: settings).add(to: &routes)
        SchemaRoutes().add(to: &routes)
        ImageRoutes(service: self).add(to: &routes)
        ImageDataRoutes(service: self).add(to: &routes)
        MemberRoutes(service: self).add(to: &routes)
        TagRoutes(service: self).add(to: &routes)
        ImportRoutes(service: self).add(to: &routes)
        routes.healthcheck { [db] in try await db.ping() }
        routes.finish()
        return router
    }

    /// One write transaction. A write that raced another on the same row (a unique key taken
    /// meanwhile, a serialization failure) is glance's 409; one whose image vanished is a 404.
    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            return try await db.write(body)
        } catch let error as StorageError {
            switch error {
            case .uniqueViolation, .conflict:
                throw OpenStackError.conflict("There was a conflict when trying to complete your request.")
            case .foreignKeyViolation:
                throw OpenStackError.notFound("The resource could not be found.")
            }
        }
    }

    /// Reads outside a transaction.
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await db.read(body)
    }

    /// Enforces `action` on a target; 403 with glance's wording when refused.
    func authorize(_ ctx: StratusContext, _ action: String, target: [String: JSON]) throws {
        let caller = try ctx.requireCaller()
        guard enforcer.scopeAllows(action, credentials: caller.policyCredentials),
            enforcer.allows(action, target: target, credentials: caller.policyCredentials)
        else {
            throw OpenStackError.forbidden("You are not authorized to complete \(action) action.")
        }
    }

    func allows(_ ctx: StratusContext, _ action: String, target: [String: JSON]) -> Bool {
        guard let caller = ctx.caller else { return false }
        return enforcer.scopeAllows(action, credentials: caller.policyCredentials)
            && enforcer.allows(action, target: target, credentials: caller.policyCredentials)
    }

    /// Whether the caller is an admin as glance's `context_is_admin` says.
    func isAdmin(_ ctx: StratusContext) -> Bool {
        allows(ctx, "context_is_admin", target: [:])
    }
}
