import Foundation
import Hummingbird
import Logging
import SQLKit
import StratusAuth
import StratusCore
import StratusStorage
import Synchronization

/// The Compute service (nova-api) with its databases: the API database and the cell databases
/// the cell mappings name. `router()` builds the HTTP application; the conductor, the scheduler
/// and the compute agent are workers started beside it (`Workers/`).
public final class ComputeService: Sendable {
    public let api: Database
    let cells: CellConnections
    public let settings: ComputeSettings
    let enforcer: PolicyEnforcer
    let validator: any TokenValidator
    let signal: TaskSignal
    let clients: ComputeClients
    let logger: Logger
    let background = Mutex<[Task<Void, Never>]>([])
    let runsCompute = Mutex(false)
    /// The cell mappings and when they were read (`cellMappings`).
    let cellCache = Mutex<(cells: [CellStore.Cell], at: ContinuousClock.Instant)?>(nil)

    init(
        api: Database,
        cells: CellConnections,
        settings: ComputeSettings,
        enforcer: PolicyEnforcer,
        validator: any TokenValidator,
        signal: TaskSignal,
        clients: ComputeClients,
        logger: Logger
    ) {
        self.api = api
        self.cells = cells
        self.settings = settings
        self.enforcer = enforcer
        self.validator = validator
        self.signal = signal
        self.clients = clients
        self.logger = logger
    }

    /// Opens what nova.conf names: the API database (migrated when `migrate`, else it must be
    /// current), the cells it maps, the policy and the clients of the other services.
    public static func open(config: Config, validator: any TokenValidator, migrate: Bool = false, logger: Logger) async throws -> ComputeService {
        let settings = try ComputeSettings(config: config)
        let api = try await DatabaseOptions.open(config, group: "api_database", logger: logger)
        do {
            if migrate {
                try await ComputeMigrations.api.migrate(api)
            } else {
                let current = try await ComputeMigrations.api.currentVersion(api)
                if current < ComputeMigrations.api.latest {
                    throw ConfigError(
                        message: "the nova_api database is at version \(current), not \(ComputeMigrations.api.latest): run `nova-manage api_db sync`"
                    )
                }
            }
            let enforcer = try PolicyEnforcer(defaults: ComputePolicy.defaults, config: config, defaultDirectory: "/etc/nova")
            let cells = CellConnections(api: api, maxPool: (config.int("database", "max_pool_size") ?? 5) + 10, logger: logger)
            return ComputeService(
                api: api,
                cells: cells,
                settings: settings,
                enforcer: enforcer,
                validator: validator,
                signal: TaskSignal(),
                clients: ComputeClients(config: config),
                logger: logger
            )
        } catch {
            await api.close()
            throw error
        }
    }

    /// `nova-manage api_db sync`: (from, to).
    public static func migrateAPI(_ db: Database) async throws -> (Int, Int) {
        let from = try await ComputeMigrations.api.currentVersion(db)
        try await ComputeMigrations.api.migrate(db)
        return (from, ComputeMigrations.api.latest)
    }

    public func close() async {
        stopWorkers()
        await cells.closeAll()
        await api.close()
    }

    /// The whole compute API on one router.
    public func router() -> Router<StratusContext> {
        let router = Router(context: StratusContext.self)
        router.add(middleware: OpenStackMiddleware(format: .compute, bodyLimit: 1_048_576, logger: logger))
        router.add(
            middleware: AuthMiddleware(
                validator: validator,
                challenge: settings.authURI,
                publicPaths: ["/", "/v2.1", "/v2.1/", "/healthcheck"],
                serviceType: settings.serviceType
            )
        )
        router.add(middleware: ComputeVersionErrorMiddleware())
        router.add(middleware: MicroversionMiddleware(ComputeVersions.range, exempt: ["/"]))
        var routes = RouteTable(router: router, methodNotAllowed: "The method is not allowed for the requested URL.")
        VersionRoutes().add(to: &routes)
        FlavorRoutes(service: self).add(to: &routes)
        KeypairRoutes(service: self).add(to: &routes)
        ServerRoutes(service: self).add(to: &routes)
        ServerActionRoutes(service: self).add(to: &routes)
        MetadataRoutes(service: self).add(to: &routes)
        ExtensionRoutes(service: self).add(to: &routes)
        HostRoutes(service: self).add(to: &routes)
        LimitRoutes(service: self).add(to: &routes)
        EventRoutes(service: self).add(to: &routes)
        AgentRoutes(service: self).add(to: &routes)
        routes.healthcheck { [api] in try await api.ping() }
        routes.finish()
        return router
    }

    /// The caller's credentials; refuses a rule as nova's 403 (system-scoped tokens included:
    /// every compute rule is project-scoped).
    func authorize(_ ctx: StratusContext, _ action: String, _ target: [String: JSON] = [:]) throws {
        let caller = try ctx.requireCaller()
        var t = target
        if t["project_id"] == nil { t["project_id"] = .optional(caller.projectID) }
        if t["user_id"] == nil { t["user_id"] = .string(caller.userID) }
        guard enforcer.scopeAllows(action, credentials: caller.policyCredentials),
            enforcer.allows(action, target: t, credentials: caller.policyCredentials)
        else { throw ComputeError.policy(action) }
    }

    func allows(_ ctx: StratusContext, _ action: String, _ target: [String: JSON] = [:]) -> Bool {
        (try? authorize(ctx, action, target)) != nil
    }

    /// The cell database that holds cell1 (the first cell that is not cell0).
    func primaryCell() async throws -> (CellStore.Cell, Database) {
        var all = try await cellMappings()
        if !all.contains(where: { $0.uuid != CellStore.cell0UUID }) { all = try await cellMappings(fresh: true) }
        guard let cell = all.first(where: { $0.uuid != CellStore.cell0UUID }) else {
            throw OpenStackError(.serviceUnavailable, "No cell is mapped: run `nova-manage cell_v2 create_cell`.")
        }
        return (cell, try await cells.database(cell))
    }

    /// cell0, where servers that could not be scheduled live.
    func cell0() async throws -> (CellStore.Cell, Database) {
        var all = try await cellMappings()
        if !all.contains(where: { $0.uuid == CellStore.cell0UUID }) { all = try await cellMappings(fresh: true) }
        guard let cell = all.first(where: { $0.uuid == CellStore.cell0UUID }) else {
            throw OpenStackError(.serviceUnavailable, "cell0 is not mapped: run `nova-manage cell_v2 map_cell0`.")
        }
        return (cell, try await cells.database(cell))
    }

    /// Every mapped cell with its database.
    func allCells() async throws -> [(CellStore.Cell, Database)] {
        let all = try await cellMappings()
        var out: [(CellStore.Cell, Database)] = []
        for c in all { out.append((c, try await cells.database(c))) }
        return out
    }

    /// The cell mappings, read again when older than five seconds or when `fresh` (nova-api
    /// reads them once per process; callers that miss a cell ask again with `fresh`, so a cell
    /// `nova-manage` just created is seen on first use).
    func cellMappings(fresh: Bool = false) async throws -> [CellStore.Cell] {
        let now = ContinuousClock.now
        if !fresh, let hit = cellCache.withLock({ $0 }), now - hit.at < .seconds(5) { return hit.cells }
        let cells = try await api.read { sql in try await CellStore().cells(in: sql) }
        cellCache.withLock { $0 = (cells, now) }
        return cells
    }

    /// Enqueues a task and wakes in-process workers of its queue.
    func enqueue(queue: String, kind: String, payload: JSON, in sql: any SQLDatabase) async throws {
        try await TaskQueue(dialect: api.dialect).enqueue(queue: queue, kind: kind, payload: payload, in: sql)
    }
}

/// The open connections to cell databases, by cell id, opened on first use.
actor CellConnections {
    let api: Database
    let maxPool: Int
    let logger: Logger
    var open: [Int64: Database] = [:]

    init(api: Database, maxPool: Int, logger: Logger) {
        self.api = api
        self.maxPool = maxPool
        self.logger = logger
    }

    func database(_ cell: CellStore.Cell) async throws -> Database {
        if let db = open[cell.id] { return db }
        let db = try await Database.open(DatabaseURL(cell.databaseConnection), maxPoolSize: maxPool, logger: logger)
        if let raced = open[cell.id] {
            await db.close()
            return raced
        }
        open[cell.id] = db
        return db
    }

    func closeAll() async {
        for db in open.values { await db.close() }
        open = [:]
    }
}

/// Timestamps as nova stores and shows them.
enum ComputeTime {
    /// `2026-11-27T22:51:49.123456` (stored; keypairs show it as is).
    static func now() -> String { stamp(Date()) }

    static func stamp(_ d: Date) -> String {
        let f = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        var s = d.formatted(f)
        s.removeLast()  // Z
        return s + "000"
    }

    /// `2026-11-27T22:51:49Z` (servers' `created`, `updated`).
    static func api(_ stored: String?) -> JSON {
        guard let stored else { return .null }
        return .string(String(stored.prefix(19)) + "Z")
    }

    /// `2026-11-27T22:51:49.123456` (launched_at, instance actions).
    static func micro(_ stored: String?) -> JSON {
        guard let stored else { return .null }
        return .string(stored)
    }

    static func parse(_ text: String) -> Date? {
        var t = text
        if !t.hasSuffix("Z"), !t.contains("+") { t += "Z" }
        if let d = try? Date(t, strategy: .iso8601) { return d }
        return try? Date(t, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
