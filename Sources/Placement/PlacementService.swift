import Foundation
import Hummingbird
import Logging
import SQLKit
import StratusAuth
import StratusCore
import StratusStorage

/// The Placement service: its database, policy, settings and the in-memory provider view that
/// allocation candidates read. `router()` builds the HTTP application.
public final class PlacementService: Sendable {
    public let db: Database
    public let settings: PlacementSettings
    let enforcer: PolicyEnforcer
    let validator: any TokenValidator
    let view = ProviderView()
    let summaries = SummaryCache()
    let logger: Logger

    public init(db: Database, settings: PlacementSettings, enforcer: PolicyEnforcer, validator: any TokenValidator, logger: Logger) {
        self.db = db
        self.settings = settings
        self.enforcer = enforcer
        self.validator = validator
        self.logger = logger
    }

    /// Opens what placement.conf names: the database (migrated when `sync_on_startup` or `migrate`,
    /// otherwise it must be current), the standard traits and resource classes synced as the
    /// reference does at start, and the policy.
    public static func open(
        config: Config,
        validator: any TokenValidator,
        migrate: Bool = false,
        logger: Logger
    ) async throws
        -> PlacementService
    {
        let db = try await DatabaseOptions.open(config, group: "placement_database", logger: logger)
        do {
            if migrate || config.bool("placement_database", "sync_on_startup") {
                try await PlacementMigrations.migrator.migrate(db)
            } else {
                let current = try await PlacementMigrations.migrator.currentVersion(db)
                if current < PlacementMigrations.migrator.latest {
                    throw ConfigError(
                        message:
                            "the placement database is at version \(current), not \(PlacementMigrations.migrator.latest): run `placement-manage db sync`"
                    )
                }
            }
            try await syncStandardNames(db)
            let enforcer = try PolicyEnforcer(defaults: PlacementPolicy.defaults, config: config, defaultDirectory: "/etc/placement")
            return PlacementService(db: db, settings: PlacementSettings(config: config), enforcer: enforcer, validator: validator, logger: logger)
        } catch {
            await db.close()
            throw error
        }
    }

    /// Adds the standard traits (os-traits) and resource classes (os-resource-classes) that are missing.
    static func syncStandardNames(_ db: Database) async throws {
        try await db.write { sql in
            try await ResourceClassStore().sync(StandardNames.resourceClasses, in: sql)
            try await TraitStore().sync(StandardNames.traits, in: sql)
        }
    }

    /// The schema version placement-manage and placement-status report: (current, latest).
    public static func schemaVersion(_ db: Database) async throws -> (Int, Int) {
        (try await PlacementMigrations.migrator.currentVersion(db), PlacementMigrations.migrator.latest)
    }

    /// Migrates to the latest schema: (from, to).
    public static func migrate(_ db: Database) async throws -> (Int, Int) {
        let from = try await PlacementMigrations.migrator.currentVersion(db)
        try await PlacementMigrations.migrator.migrate(db)
        return (from, PlacementMigrations.migrator.latest)
    }

    public func close() async {
        await db.close()
    }

    /// The whole Placement API on one router.
    public func router() -> Router<StratusContext> {
        let router = Router(context: StratusContext.self)
        router.add(middleware: OpenStackMiddleware(format: .placement, bodyLimit: settings.bodyLimit, logger: logger))
        if !settings.cors.allowedOrigins.isEmpty { router.add(middleware: CORSMiddleware(settings: settings.cors)) }
        switch settings.authStrategy {
        case .keystone:
            router.add(
                middleware: AuthMiddleware(validator: validator, challenge: settings.authURI, publicPaths: ["/"], serviceType: settings.serviceType)
            )
        case .noauth2: router.add(middleware: NoAuthMiddleware())
        }
        router.add(middleware: PlacementVersionErrorMiddleware())
        router.add(middleware: MicroversionMiddleware(PlacementVersions.range))
        router.add(middleware: PlacementErrorCodeMiddleware())
        var routes = RouteTable(router: router, methodNotAllowed: "The method specified is not allowed for this resource.")
        RootRoutes().add(to: &routes)
        ResourceProviderRoutes(service: self).add(to: &routes)
        InventoryRoutes(service: self).add(to: &routes)
        ResourceClassRoutes(service: self).add(to: &routes)
        TraitRoutes(service: self).add(to: &routes)
        AggregateRoutes(service: self).add(to: &routes)
        AllocationRoutes(service: self).add(to: &routes)
        UsageRoutes(service: self).add(to: &routes)
        AllocationCandidateRoutes(service: self).add(to: &routes)
        ReshaperRoutes(service: self).add(to: &routes)
        routes.healthcheck { [db] in try await db.ping() }
        routes.finish()
        return router
    }

    /// One write transaction; storage failures become `PlacementError`s.
    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            return try await db.write(body)
        } catch {
            throw PlacementError.translating(error)
        }
    }

    /// A write that placement retries when a provider generation moved under it
    /// (`[placement] allocation_conflict_retry_count`), then reports as a concurrent update.
    func writeRetrying<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        var attempts = 0
        while true {
            do {
                return try await db.write(body)
            } catch is AllocationStore.Raced {
                attempts += 1
            } catch StorageError.conflict {
                attempts += 1
            }
            if attempts >= max(1, settings.conflictRetries) {
                throw PlacementError.concurrentUpdate(
                    "Inventory and/or allocations changed while attempting to allocate: Another thread concurrently updated the resource provider data. Please retry your update"
                )
            }
        }
    }

    /// Reads outside a transaction.
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            return try await db.read(body)
        } catch {
            throw PlacementError.translating(error)
        }
    }

    /// Enforces `action` for the request's caller; the default target is the caller's own project and user, as placement's.
    func authorize(_ ctx: StratusContext, _ action: String, target: [String: JSON]? = nil) throws {
        let caller = try ctx.requireCaller()
        let t: [String: JSON] = target ?? ["project_id": .optional(caller.projectID), "user_id": .string(caller.userID)]
        // oslo.policy's scope refusal names only the rule; a failed check string says more.
        guard enforcer.scopeAllows(action, credentials: caller.policyCredentials) else { throw PlacementError.forbidden(action) }
        guard enforcer.allows(action, target: t, credentials: caller.policyCredentials) else {
            throw PlacementError.forbidden("Policy does not allow \(action) to be performed.")
        }
    }
}
