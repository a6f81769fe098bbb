import Logging
import StratusCore

/// oslo.db's options for one database group (`[database]`, `[api_database]`,
/// `[placement_database]`), and opening the database they name.
public enum DatabaseOptions {
    /// `connection` and `max_pool_size` in `group`; the other oslo.db tuning options are accepted.
    public static func options(group: String = "database", defaultConnection: String?, help: String) -> [ConfigOption] {
        [
            .string(group, "connection", default: defaultConnection, secret: true, help),
            .int(group, "max_pool_size", default: 5, min: 1, "Connections to the database this process keeps (PostgreSQL)."),
            .int(group, "max_overflow", default: 50, min: 0, "Connections opened past max_pool_size under load (PostgreSQL)."),
            .ignored(group, "connection_recycle_time", "Accepted for compatibility."),
        ]
    }

    /// The URL in `[group] connection`; the error names the file, line and option.
    public static func url(_ config: Config, group: String = "database") throws(ConfigError) -> DatabaseURL {
        do {
            return try DatabaseURL(config.string(group, "connection") ?? "")
        } catch {
            throw ConfigError(message: "\(config.origin(group, "connection")): \(error.message)")
        }
    }

    /// Opens (without migrating) the database `[group]` names. As with oslo.db, at most
    /// `max_pool_size + max_overflow` connections are open at once; they are opened on demand.
    public static func open(_ config: Config, group: String = "database", logger: Logger) async throws -> Database {
        let size = (config.int(group, "max_pool_size") ?? 5) + (config.int(group, "max_overflow") ?? 50)
        return try await Database.open(url(config, group: group), maxPoolSize: size, logger: logger)
    }
}
