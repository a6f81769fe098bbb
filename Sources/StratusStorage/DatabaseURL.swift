import Foundation
import StratusCore

/// A `[database] connection` URL, read with SQLAlchemy's rules.
///
/// - `sqlite://` — in memory; `sqlite:///relative/path`; `sqlite:////absolute/path`.
/// - `postgresql://user:password@host[:port]/dbname` (also `postgresql+psycopg2://`, `postgres://`).
/// - Anything else, MySQL/MariaDB included, is refused with the list of supported schemes.
public enum DatabaseURL: Sendable, Equatable {
    case sqliteMemory
    case sqliteFile(path: String)
    case postgres(host: String, port: Int, user: String, password: String?, database: String)

    public static let supported =
        "supported URL schemes are sqlite:///relative/path, sqlite:////absolute/path and postgresql://user:password@host[:port]/dbname"

    public init(_ url: String) throws(ConfigError) {
        guard let schemeEnd = url.range(of: "://") else {
            throw ConfigError(message: "'\(DatabaseURL.redacted(url))' is not a database URL; \(DatabaseURL.supported)")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = String(url[schemeEnd.upperBound...])
        switch scheme {
        case "sqlite":
            if rest.isEmpty {
                self = .sqliteMemory
                return
            }
            guard rest.hasPrefix("/") else {
                throw ConfigError(message: "'\(url)': a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path")
            }
            let path = String(rest.dropFirst()).split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
            if path.isEmpty || path == ":memory:" { self = .sqliteMemory } else { self = .sqliteFile(path: path) }
        case "postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg":
            var body = rest.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
            var user = "postgres"
            var password: String?
            if let at = body.lastIndex(of: "@") {
                let creds = body[..<at]
                body = String(body[body.index(after: at)...])
                if let colon = creds.firstIndex(of: ":") {
                    user = String(creds[..<colon]).removingPercentEncoding ?? String(creds[..<colon])
                    let p = String(creds[creds.index(after: colon)...])
                    password = p.removingPercentEncoding ?? p
                } else {
                    user = String(creds)
                }
            }
            guard let slash = body.firstIndex(of: "/") else {
                throw ConfigError(message: "'\(DatabaseURL.redacted(url))' names no database; expected postgresql://user:password@host[:port]/dbname")
            }
            let hostPort = body[..<slash]
            let database = String(body[body.index(after: slash)...])
            var host = String(hostPort)
            var port = 5432
            if let colon = hostPort.lastIndex(of: ":") {
                guard let p = Int(hostPort[hostPort.index(after: colon)...]) else {
                    throw ConfigError(message: "'\(DatabaseURL.redacted(url))' has an invalid port")
                }
                port = p
                host = String(hostPort[..<colon])
            }
            guard !database.isEmpty else {
                throw ConfigError(message: "'\(DatabaseURL.redacted(url))' names no database; expected postgresql://user:password@host[:port]/dbname")
            }
            self = .postgres(host: host.isEmpty ? "localhost" : host, port: port, user: user, password: password, database: database)
        default:
            let hint =
                scheme.hasPrefix("mysql") || scheme.hasPrefix("mariadb")
                ? "MySQL/MariaDB is not supported yet (no driver); use PostgreSQL or SQLite instead: " : ""
            throw ConfigError(message: "unsupported database URL scheme '\(scheme)://'. \(hint)\(DatabaseURL.supported)")
        }
    }

    /// The URL with its password replaced, for messages.
    public static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url.lastIndex(of: "@"), at > schemeEnd.upperBound else { return url }
        let creds = url[schemeEnd.upperBound..<at]
        guard let colon = creds.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}

extension DatabaseURL {
    /// The URL of database `name` beside `base` (all-in-one's naming): `base` itself when
    /// `name` is `primary`; else, for SQLite, `<name>.db` in the same directory; for PostgreSQL,
    /// database `<D>_<name>` on the same server with the same credentials and options; an
    /// in-memory SQLite base gives in-memory databases.
    public static func derived(from base: String, name: String, primary: String) throws(ConfigError) -> String {
        guard name != primary else { return base }
        switch try DatabaseURL(base) {
        case .sqliteMemory:
            return "sqlite://"
        case .sqliteFile(let path):
            let dir = (path as NSString).deletingLastPathComponent
            return "sqlite:///" + (dir.isEmpty ? "" : dir + "/") + name + ".db"
        case .postgres:
            // The database is the URL's last path segment: append to it, keep the query.
            let queryStart = base.firstIndex(of: "?") ?? base.endIndex
            return base[..<queryStart] + "_" + name + base[queryStart...]
        }
    }
}
