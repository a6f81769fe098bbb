import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit
import StratusCore
import Synchronization

/// One service's database: SQLite (embedded, WAL) or PostgreSQL, behind SQLKit.
///
/// `read` runs queries outside a transaction; `write` runs its body in one transaction that
/// commits when the body returns and rolls back when it throws, so an API write is all or
/// nothing. SQLite writers are serialized in process (one writer connection, `BEGIN
/// IMMEDIATE`), readers use their own connections; PostgreSQL uses a `PostgresClient` pool.
public final class Database: Sendable {
    /// Which SQL the database speaks.
    public enum Dialect: Sendable { case sqlite, postgres }

    /// The connections behind the database.
    enum Backend: Sendable {
        case sqlite(writer: SQLiteConnection, readers: [SQLiteConnection])
        case postgres(PostgresClient, runner: Task<Void, Never>)
    }

    public let dialect: Dialect
    let backend: Backend
    let writeLock = AsyncLock()
    let nextReader = Mutex(0)
    let logger: Logger

    init(dialect: Dialect, backend: Backend, logger: Logger) {
        self.dialect = dialect
        self.backend = backend
        self.logger = logger
    }

    /// Opens the database named by a `[database] connection` URL.
    ///
    /// - Parameters:
    ///   - maxPoolSize: the most PostgreSQL connections this process opens to the database at once
    ///     (`DatabaseOptions` passes oslo.db's `max_pool_size + max_overflow`); SQLite keeps one
    ///     writer and two readers.
    ///   - schema: PostgreSQL only: create this schema if needed and make it the connections'
    ///     `search_path`, so a test gets an empty database of its own cheaply.
    public static func open(
        _ url: DatabaseURL,
        maxPoolSize: Int = 5,
        schema: String? = nil,
        logger: Logger = Logger(label: "stratus.storage")
    ) async throws -> Database {
        switch url {
        case .sqliteMemory:
            let c = try await SQLiteConnection.open(storage: .memory, logger: logger)
            try await c.sql().raw("PRAGMA foreign_keys=ON").run()
            return Database(dialect: .sqlite, backend: .sqlite(writer: c, readers: [c]), logger: logger)
        case .sqliteFile(let path):
            try createPrivately(path)
            // Files are private to their owner (0600): another user (the guide's `su … keystone`
            // after a root-run command made the file) gets a message saying so, not SQLite's cantOpen.
            if access(path, R_OK | W_OK) != 0, errno == EACCES {
                var st = stat()
                let owner = stat(path, &st) == 0 ? " (owner uid \(st.st_uid), mode \(String(st.st_mode & 0o777, radix: 8)))" : ""
                throw ConfigError(
                    message:
                        "cannot open the SQLite database \(path): permission denied\(owner); run the command as the file's owner, or chown the file to this user"
                )
            }
            let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            try await configure(writer)
            var readers: [SQLiteConnection] = []
            for _ in 0..<2 {
                let r = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                try await configure(r)
                readers.append(r)
            }
            return Database(dialect: .sqlite, backend: .sqlite(writer: writer, readers: readers), logger: logger)
        case .postgres(let host, let port, let user, let password, let database, let tls):
            if let schema {
                let admin = try await open(url, maxPoolSize: 1, logger: logger)
                try await admin.write { sql in try await sql.raw("CREATE SCHEMA IF NOT EXISTS \(ident: schema)").run() }
                await admin.close()
            }
            // One direct connection first: the pool retries a refused handshake or login for
            // about a minute before it gives up, where a single attempt fails at once with the reason.
            do {
                let probe = try await PostgresConnection.connect(
                    configuration: .init(
                        host: host,
                        port: port,
                        username: user,
                        password: password,
                        database: database,
                        tls: try tls.connectionTLS()
                    ),
                    id: 0,
                    logger: logger
                )
                try await probe.close()
            } catch let error as ConfigError {
                throw error
            } catch {
                throw ConfigError(message: "cannot connect to PostgreSQL at \(host):\(port)/\(database) as \(user): \(Self.reason(error))")
            }
            var config = PostgresClient.Configuration(
                host: host,
                port: port,
                username: user,
                password: password,
                database: database,
                tls: try tls.clientTLS()
            )
            config.options.maximumConnections = max(1, maxPoolSize)
            if let schema { config.options.additionalStartupParameters = [("search_path", schema)] }
            let client = PostgresClient(configuration: config, backgroundLogger: logger)
            let runner = Task { await client.run() }
            let db = Database(dialect: .postgres, backend: .postgres(client, runner: runner), logger: logger)
            // Fail fast with a clear message when the server is unreachable.
            do {
                _ = try await db.read { try await $0.raw("SELECT 1").all() }
            } catch {
                runner.cancel()
                throw ConfigError(message: "cannot connect to PostgreSQL at \(host):\(port)/\(database) as \(user): \(Self.reason(error))")
            }
            return db
        }
    }

    /// Why a connection failed, for an operator: the server's message (a refused login, an
    /// unknown database), else the error code and its cause (a certificate that does not
    /// verify). PSQLError's own description is generic on purpose; nothing here holds the password.
    static func reason(_ error: any Error) -> String {
        guard let e = error as? PSQLError else { return String(describing: error).prefix(300).description }
        if let message = e.serverInfo?[.message] { return message }
        let cause = e.underlying.map { ": " + String(describing: $0).prefix(300) } ?? ""
        return e.code.description + cause
    }

    /// Creates the database `url` names when it does not exist yet (PostgreSQL: through the
    /// `postgres` maintenance database, so the role needs CREATEDB; SQLite files are created on
    /// open). all-in-one uses it for the databases it derives from keystone's.
    public static func createIfMissing(_ url: DatabaseURL, logger: Logger = Logger(label: "stratus.storage")) async throws {
        guard case .postgres(let host, let port, let user, let password, let database, let tls) = url else { return }
        let maintenance = try await open(
            .postgres(host: host, port: port, user: user, password: password, database: "postgres", tls: tls),
            maxPoolSize: 1,
            logger: logger
        )
        do {
            try await create(database, through: maintenance)
        } catch {
            await maintenance.close()
            throw error
        }
        await maintenance.close()
    }

    /// `CREATE DATABASE` unless it exists; a concurrent start that created it first (42P04
    /// duplicate_database) is fine.
    static func create(_ database: String, through maintenance: Database) async throws {
        /// A count.
        struct Row: Decodable { var n: Int }
        func exists() async throws -> Bool {
            let row = try await maintenance.read { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM pg_database WHERE datname = \(bind: database)").first(decoding: Row.self)
            }
            return (row?.n ?? 0) > 0
        }
        guard try await !exists() else { return }
        do {
            // CREATE DATABASE cannot run inside a transaction block.
            try await maintenance.read { sql in try await sql.raw("CREATE DATABASE \(ident: database)").run() }
        } catch {
            if try await !exists() { throw error }
        }
    }

    /// A new SQLite file is created 0600 before SQLite opens it (its WAL and shared-memory files
    /// take the database file's mode), and a missing directory 0700, whatever the umask: the
    /// files hold password hashes. Existing files and directories keep the mode they have.
    static func createPrivately(_ path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let fd = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 {
            // open() applies the umask too; a umask can only remove bits, so 0600 stays at most that.
            fchmod(fd, 0o600)
            Glibc.close(fd)
        }
    }

    static func configure(_ c: SQLiteConnection) async throws {
        let db = c.sql()
        // case_sensitive_like: LIKE compares as PostgreSQL's does (the Identity list filters rely on it).
        for pragma in [
            "PRAGMA journal_mode=WAL", "PRAGMA busy_timeout=10000", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
            "PRAGMA case_sensitive_like=ON",
        ] {
            try await db.raw(SQLQueryString(pragma)).run()
        }
    }

    /// Runs queries without a transaction (a consistent snapshot is not needed).
    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite(_, let readers):
            let index = nextReader.withLock { n in
                n = (n + 1) % readers.count
                return n
            }
            return try await body(readers[index].sql())
        case .postgres(let client, _):
            return try await client.withConnection { conn in try await body(conn.sql()) }
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    public func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite(let writer, _):
            await writeLock.lock()
            do {
                let result = try await Database.transaction(writer.sql(), begin: "BEGIN IMMEDIATE", body)
                await writeLock.unlock()
                return result
            } catch {
                await writeLock.unlock()
                throw error
            }
        case .postgres(let client, _):
            return try await client.withConnection { conn in
                try await Database.transaction(conn.sql(), begin: "BEGIN", body)
            }
        }
    }

    static func transaction<T>(_ db: any SQLDatabase, begin: String, _ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await db.raw(SQLQueryString(begin)).run()
        do {
            let result = try await body(db)
            try await db.raw("COMMIT").run()
            return result
        } catch {
            try? await db.raw("ROLLBACK").run()
            throw StorageError.classify(error) ?? error
        }
    }

    /// Runs a trivial query; throws when the database does not answer (health checks).
    public func ping() async throws {
        _ = try await read { sql in try await sql.raw("SELECT 1").all() }
    }

    public func close() async {
        switch backend {
        case .sqlite(let writer, let readers):
            for r in readers where r !== writer { try? await r.close() }
            try? await writer.close()
        case .postgres(_, let runner):
            runner.cancel()
        }
    }
}
