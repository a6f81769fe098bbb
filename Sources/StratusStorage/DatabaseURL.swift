import Foundation
import StratusCore

/// A `[database] connection` URL, read with SQLAlchemy's rules.
///
/// - `sqlite://` — in memory; `sqlite:///relative/path`; `sqlite:////absolute/path`.
/// - `postgresql://user:password@host[:port]/dbname[?sslmode=…&sslrootcert=FILE]` (also
///   `postgresql+psycopg2://`, `postgres://`), `sslmode` as libpq reads it.
/// - Anything else, MySQL/MariaDB included, is refused with the list of supported schemes.
public enum DatabaseURL: Sendable, Equatable {
    case sqliteMemory
    case sqliteFile(path: String)
    case postgres(host: String, port: Int, user: String, password: String?, database: String, tls: PostgresTLS = .init())

    /// libpq's `sslmode` and `sslrootcert`. Without `sslmode` the connection is plaintext, as
    /// before (libpq's own default, `prefer`, silently falls back to plaintext as well).
    public struct PostgresTLS: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable {
            case disable, allow, prefer, require
            case verifyCA = "verify-ca"
            case verifyFull = "verify-full"
        }
        public var mode: Mode = .disable
        /// The CA certificates (PEM) the server's certificate must chain to; else the system's.
        public var rootCert: String?

        public init(mode: Mode = .disable, rootCert: String? = nil) {
            self.mode = mode
            self.rootCert = rootCert
        }

        /// From a URL's query: `sslmode` (an unknown value is an error naming it) and `sslrootcert`.
        init(query: Substring?) throws(ConfigError) {
            for pair in (query ?? "").split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                guard kv.count == 2 else { continue }
                switch kv[0] {
                case "sslmode":
                    guard let m = Mode(rawValue: kv[1]) else {
                        throw ConfigError(
                            message:
                                "invalid sslmode value '\(kv[1])' in the database URL; use one of \(Mode.allCases.map(\.rawValue).joined(separator: ", "))"
                        )
                    }
                    mode = m
                case "sslrootcert": rootCert = kv[1]
                default: continue  // other options (e.g. charset) are accepted and ignored
                }
            }
        }
    }

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
            let halves = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            var body = halves.first.map(String.init) ?? ""
            let tls = try PostgresTLS(query: halves.count > 1 ? halves[1] : nil)
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
            self = .postgres(host: host.isEmpty ? "localhost" : host, port: port, user: user, password: password, database: database, tls: tls)
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
