import Foundation
import Hummingbird
import Logging
import SQLKit
import StratusAuth
import StratusCore
import StratusStorage

/// The Networking service (neutron-server with ML2 and the router plugin): its database,
/// policy and settings. `router()` builds the HTTP application.
public final class NetworkService: Sendable {
    public let db: Database
    public let settings: NetworkSettings
    let enforcer: PolicyEnforcer
    let validator: any TokenValidator
    let notifier: NovaNotifier
    let logger: Logger

    init(db: Database, settings: NetworkSettings, enforcer: PolicyEnforcer, validator: any TokenValidator, notifier: NovaNotifier, logger: Logger) {
        self.db = db
        self.settings = settings
        self.enforcer = enforcer
        self.validator = validator
        self.notifier = notifier
        self.logger = logger
    }

    /// Opens what neutron.conf and ml2_conf.ini name: the database (migrated when `migrate`,
    /// otherwise it must be current) and the policy.
    public static func open(config: Config, validator: any TokenValidator, migrate: Bool = false, logger: Logger) async throws -> NetworkService {
        let settings = try NetworkSettings(config: config)
        let db = try await DatabaseOptions.open(config, group: "database", logger: logger)
        do {
            if migrate {
                try await NetworkMigrations.migrator.migrate(db)
            } else {
                let current = try await NetworkMigrations.migrator.currentVersion(db)
                if current < NetworkMigrations.migrator.latest {
                    throw ConfigError(
                        message:
                            "the neutron database is at version \(current), not \(NetworkMigrations.migrator.latest): run `neutron-db-manage upgrade head`"
                    )
                }
            }
            let enforcer = try PolicyEnforcer(defaults: NetworkPolicy.defaults, config: config, defaultDirectory: "/etc/neutron")
            let notifier = NovaNotifier.make(config: config, settings: settings, db: db, logger: logger)
            await notifier.start()
            return NetworkService(db: db, settings: settings, enforcer: enforcer, validator: validator, notifier: notifier, logger: logger)
        } catch {
            await db.close()
            throw error
        }
    }

    /// The schema version neutron-db-manage reports: (current, latest).
    public static func schemaVersion(_ db: Database) async throws -> (Int, Int) {
        (try await NetworkMigrations.migrator.currentVersion(db), NetworkMigrations.migrator.latest)
    }

    /// Migrates to the latest schema: (from, to).
    public static func migrate(_ db: Database) async throws -> (Int, Int) {
        let from = try await NetworkMigrations.migrator.currentVersion(db)
        try await NetworkMigrations.migrator.migrate(db)
        return (from, NetworkMigrations.migrator.latest)
    }

    public func close() async {
        await notifier.stop()
        await db.close()
    }

    /// The whole Networking API on one router.
    public func router() -> Router<StratusContext> {
        let router = Router(context: StratusContext.self)
        router.add(middleware: OpenStackMiddleware(format: .network, bodyLimit: 1_048_576, logger: logger))
        router.add(
            middleware: AuthMiddleware(
                validator: validator,
                challenge: settings.authURI,
                publicPaths: ["/", "/healthcheck"],
                serviceType: settings.serviceType
            )
        )
        var routes = RouteTable(router: router, methodNotAllowed: "The method is not allowed for the requested URL.")
        ExtensionRoutes(service: self).add(to: &routes)
        NetworkRoutes(service: self).add(to: &routes)
        SubnetRoutes(service: self).add(to: &routes)
        PortRoutes(service: self).add(to: &routes)
        RouterRoutes(service: self).add(to: &routes)
        FloatingIPRoutes(service: self).add(to: &routes)
        SecurityGroupRoutes(service: self).add(to: &routes)
        QuotaRoutes(service: self).add(to: &routes)
        AgentRoutes(service: self).add(to: &routes)
        TagRoutes(service: self).add(to: &routes)
        RBACRoutes(service: self).add(to: &routes)
        routes.healthcheck { [db] in try await db.ping() }
        routes.finish()
        return router
    }

    /// One write transaction, retried as neutron's DB retry decorator does when a concurrent
    /// request took a unique key first or the database reported a serialization failure (the
    /// body runs again from the start on fresh reads); after the last attempt it is a 409.
    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await db.write(body)
            } catch let error as StorageError {
                switch error {
                case .uniqueViolation, .conflict:
                    if attempt < 10 { continue }
                    throw NetworkError.conflict("A concurrent request changed the same resource; retry.")
                case .foreignKeyViolation:
                    throw NetworkError.conflict("A related resource was removed while the request ran; retry.")
                }
            }
        }
    }

    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await db.read(body)
    }

    /// The caller's oslo.policy credentials with neutron's `tenant_id` beside `project_id`.
    func credentials(_ ctx: StratusContext) throws -> [String: JSON] {
        var creds = try ctx.requireCaller().policyCredentials
        creds["tenant_id"] = creds["project_id"] ?? .null
        return creds
    }

    func allows(_ ctx: StratusContext, _ action: String, _ target: [String: JSON]) -> Bool {
        guard let creds = try? credentials(ctx) else { return false }
        if let decided = enforcer.decisionWithoutTarget(action, credentials: creds) { return decided }
        return enforcer.allows(action, target: Self.policyTarget(target), credentials: creds)
    }

    /// Neutron's targets carry `tenant_id` beside `project_id`.
    static func policyTarget(_ t: [String: JSON]) -> [String: JSON] {
        var t = t
        if t["tenant_id"] == nil { t["tenant_id"] = t["project_id"] ?? .null }
        return t
    }

    func isAdmin(_ ctx: StratusContext) -> Bool { allows(ctx, "context_is_admin", [:]) }

    /// Enforces an action and, for creates and updates, the attribute rules of every attribute
    /// the body sets (`create_network:shared`); refusals are neutron's 403 naming the rule.
    /// `hideAs404`: a caller who may not even read the resource gets its 404 instead, as neutron.
    func authorize(
        _ ctx: StratusContext,
        _ action: String,
        _ target: [String: JSON],
        body: [String: JSON] = [:],
        notFound: OpenStackError? = nil
    ) throws {
        guard allows(ctx, action, target) else {
            if let notFound, let getter = Self.getter(of: action), !allows(ctx, getter, target) { throw notFound }
            throw NetworkError.policy(action)
        }
        for attribute in NetworkPolicy.attributeRules[action] ?? [] {
            let path = attribute.split(separator: ":").map(String.init)
            guard Self.sets(body, path) else { continue }
            let rule = "\(action):\(attribute)"
            var t = target
            for (k, v) in body { t[k] = v }
            guard allows(ctx, rule, t) else { throw NetworkError.policy(action, attribute: rule) }
        }
    }

    /// `update_port` → `get_port`.
    static func getter(of action: String) -> String? {
        for verb in ["update_", "delete_", "add_", "remove_"] where action.hasPrefix(verb) {
            return "get_" + action.dropFirst(verb.count)
        }
        return nil
    }

    /// Whether a body sets an attribute path: `binding:host_id` is one key; `fixed_ips:ip_address`
    /// is `ip_address` inside any item of `fixed_ips`; `external_gateway_info:enable_snat` a key of that dict.
    static func sets(_ body: [String: JSON], _ path: [String]) -> Bool {
        let whole = path.joined(separator: ":")
        if body[whole] != nil { return true }
        guard path.count >= 2, let head = body[path[0]] else { return false }
        let rest = path.dropFirst().joined(separator: ":")
        switch head {
        case .object(let o): return o[rest] != nil
        case .array(let items): return items.contains { $0[rest] != nil }
        default: return false
        }
    }

    /// The view with the attributes the caller may not read removed (`get_network:provider:*`).
    func visibleAttributes(_ ctx: StratusContext, _ kind: ResourceKind, _ view: [String: JSON]) -> [String: JSON] {
        let action = "get_\(kind.singular)"
        var out = view
        for attribute in NetworkPolicy.attributeRules[action] ?? [] where out[attribute] != nil {
            if !allows(ctx, "\(action):\(attribute)", view) { out[attribute] = nil }
        }
        return out
    }
}
