import Foundation
import SQLKit
import StratusCore
import Testing

@testable import StratusStorage

@Suite("database URLs")
struct DatabaseURLTests {
    @Test("SQLAlchemy's sqlite rules: three slashes relative, four absolute")
    func sqlite() throws {
        #expect(try DatabaseURL("sqlite:///rel/k.db") == .sqliteFile(path: "rel/k.db"))
        #expect(try DatabaseURL("sqlite:////var/lib/k.db") == .sqliteFile(path: "/var/lib/k.db"))
        #expect(try DatabaseURL("sqlite://") == .sqliteMemory)
    }

    @Test("postgresql URLs with credentials, port and database")
    func postgres() throws {
        #expect(
            try DatabaseURL("postgresql://keystone:pa%40ss@db.example:5433/keystone")
                == .postgres(host: "db.example", port: 5433, user: "keystone", password: "pa@ss", database: "keystone")
        )
        #expect(try DatabaseURL("postgresql+psycopg2://u:p@h/d") == .postgres(host: "h", port: 5432, user: "u", password: "p", database: "d"))
    }

    @Test("the guide's mysql+pymysql URL is refused with the supported schemes")
    func mysql() {
        do {
            _ = try DatabaseURL("mysql+pymysql://keystone:KEYSTONE_DBPASS@controller/keystone")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("MySQL/MariaDB is not supported"))
            #expect(error.message.contains("postgresql://"))
            #expect(error.message.contains("sqlite:///"))
            #expect(!error.message.contains("KEYSTONE_DBPASS"))
        }
    }
}

/// The same checks on every available database: SQLite always, PostgreSQL when
/// STRATUS_TEST_POSTGRES_URL is set (make test sets it when run as root).
@Suite("storage conformance")
struct StorageConformanceTests {
    /// In CI (`STRATUS_TEST_REQUIRE_ALL=1`, set by scripts/test.sh when `.ci/run` exports `STRATUS_CI=1`) the
    /// PostgreSQL half of these tests must run: without its URL they would pass on SQLite alone.
    @Test("in CI, PostgreSQL is among the databases tested")
    func postgresInCI() {
        let env = ProcessInfo.processInfo.environment
        guard env["STRATUS_TEST_REQUIRE_ALL"] == "1" else { return }
        #expect(env["STRATUS_TEST_POSTGRES_URL"] != nil, "STRATUS_TEST_POSTGRES_URL is unset in CI: the PostgreSQL variants did not run")
    }

    static var urls: [String] {
        var out = ["sqlite:///" + FileManager.default.temporaryDirectory.path + "/stratus-storage-\(UUID().uuidString).db"]
        if let pg = ProcessInfo.processInfo.environment["STRATUS_TEST_POSTGRES_URL"] { out.append(pg) }
        return out
    }

    let migrations = Migrator(
        service: "conformance",
        [
            Migration(
                1,
                "things",
                ["CREATE TABLE thing_\(Self.suffix) (id VARCHAR(64) PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE, n BIGINT NOT NULL)"]
            ),
            Migration(2, "flag", ["ALTER TABLE thing_\(Self.suffix) ADD COLUMN flag BOOLEAN NOT NULL DEFAULT FALSE"]),
        ]
    )
    static let suffix = String(UUID().uuidString.prefix(8)).lowercased()

    @Test(
        "migrations apply in order once; a write that throws leaves nothing; unique violations are classified",
        arguments: urls
    )
    func conformance(url: String) async throws {
        try await withScratchDatabase(url) { db in try await conform(db) }
    }

    func conform(_ db: Database) async throws {
        let table = "thing_\(Self.suffix)"
        // Migrations
        #expect(try await migrations.currentVersion(db) == 0)
        let applied = try await migrations.migrate(db)
        #expect(applied == [1, 2])
        #expect(try await migrations.migrate(db).isEmpty, "re-running is a no-op")
        #expect(try await migrations.currentVersion(db) == 2)
        // Transactions are all or nothing
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await db.write { sql in
                try await sql.raw("INSERT INTO \(unsafeRaw: table) (id, name, n) VALUES ('a', 'first', 1)").run()
                throw Boom()
            }
        }
        let count = try await db.read { sql in
            try await sql.raw("SELECT COUNT(*) AS c FROM \(unsafeRaw: table)").first()!.decode(column: "c", as: Int.self)
        }
        #expect(count == 0)
        try await db.write { sql in
            try await sql.raw("INSERT INTO \(unsafeRaw: table) (id, name, n, flag) VALUES ('a', 'first', 1, \(bind: true))").run()
        }
        await #expect(throws: StorageError.uniqueViolation) {
            try await db.write { sql in try await sql.raw("INSERT INTO \(unsafeRaw: table) (id, name, n) VALUES ('b', 'first', 2)").run() }
        }
        // Concurrent writers on one row: both increments land.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await db.write { sql in try await sql.raw("UPDATE \(unsafeRaw: table) SET n = n + 1 WHERE id = 'a'").run() }
                }
            }
            try await group.waitForAll()
        }
        let n = try await db.read { sql in try await sql.raw("SELECT n, flag FROM \(unsafeRaw: table) WHERE id = 'a'").first()! }
        #expect(try n.decode(column: "n", as: Int.self) == 21)
        #expect(try n.decode(column: "flag", as: Bool.self) == true)
    }
}

/// Opens `url` for one test — on PostgreSQL in a schema of its own, so nothing another test or
/// run left behind is seen — runs `body`, then drops the schema and closes, also when `body` throws.
func withScratchDatabase(_ url: String, _ body: (Database) async throws -> Void) async throws {
    let postgres = url.hasPrefix("postgres")
    let schema = "t_" + String(UUID().uuidString.prefix(8)).lowercased()
    let db = try await Database.open(try DatabaseURL(url), schema: postgres ? schema : nil)
    func cleanUp() async throws {
        if postgres { try await db.write { sql in try await sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run() } }
        await db.close()
    }
    do {
        try await body(db)
    } catch {
        try? await cleanUp()
        throw error
    }
    try await cleanUp()
}

@Suite("migrations of several services")
struct MultiServiceMigrationTests {
    static var urls: [String] { StorageConformanceTests.urls }

    @Test("two services' version 1 are recorded apart, and the first (version-only) table becomes identity's", arguments: urls)
    func twoServices(url: String) async throws {
        try await withScratchDatabase(url) { db in try await upgradeOldLayout(db) }
    }

    func upgradeOldLayout(_ db: Database) async throws {
        let schema = "t_" + String(UUID().uuidString.prefix(8)).lowercased()
        // The layout Identity wrote before there were other services.
        try await db.write { sql in
            try await sql.raw("CREATE TABLE stratus_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)").run()
            try await sql.raw("INSERT INTO stratus_migrations (version, name) VALUES (1, 'initial identity schema')").run()
        }
        let identity = Migrator(service: "identity", [Migration(1, "initial identity schema", ["CREATE TABLE a_\(schema) (id INT)"])])
        let image = Migrator(service: "image", [Migration(1, "images", ["CREATE TABLE b_\(schema) (id INT)"])])
        #expect(try await identity.currentVersion(db) == 1, "the old rows belong to identity")
        #expect(try await identity.migrate(db).isEmpty, "identity's version 1 is not applied again")
        #expect(try await image.currentVersion(db) == 0, "identity's version 1 is not image's")
        #expect(try await image.migrate(db) == [1])
        #expect(try await image.currentVersion(db) == 1)
        struct Row: Decodable {
            var service: String
            var version: Int
        }
        let rows = try await db.read { sql in
            try await sql.raw("SELECT service, version FROM stratus_migrations ORDER BY service").all(decoding: Row.self)
        }
        #expect(rows.map(\.service) == ["identity", "image"])
    }

    @Test("all-in-one's database naming: beside keystone.db on SQLite, D_name on PostgreSQL")
    func derivedNames() throws {
        #expect(try DatabaseURL.derived(from: "sqlite:////var/x/keystone.db", name: "glance", primary: "keystone") == "sqlite:////var/x/glance.db")
        #expect(
            try DatabaseURL.derived(from: "sqlite:////var/x/keystone.db", name: "keystone", primary: "keystone")
                == "sqlite:////var/x/keystone.db"
        )
        #expect(
            try DatabaseURL.derived(from: "postgresql://u:p@h:5433/cloud?sslmode=disable", name: "nova_api", primary: "keystone")
                == "postgresql://u:p@h:5433/cloud_nova_api?sslmode=disable"
        )
        #expect(try DatabaseURL.derived(from: "sqlite://", name: "placement", primary: "keystone") == "sqlite://")
        #expect(throws: ConfigError.self) { try DatabaseURL.derived(from: "mysql+pymysql://u:p@h/k", name: "glance", primary: "keystone") }
    }
}

@Suite("column names")
struct ColumnNameTests {
    @Test("property names map to the columns SQLKit's convertFromSnakeCase names, cached or not")
    func snakeCase() {
        let cases = [
            "projectId": "project_id", "domainID": "domain_iD", "myURLField": "my_uRL_field", "uuid": "uuid", "vcpus": "vcpus",
            "memoryMb": "memory_mb", "a1B": "a1_b", "x": "x", "createdAt": "created_at", "roleIDs": "role_i_ds",
        ]
        for (property, column) in cases {
            #expect(ColumnNames.snakeCase(property) == column, "\(property)")
            #expect(ColumnNames.column(for: property) == column, "\(property)")
            #expect(ColumnNames.column(for: property) == column, "\(property) (cached)")
        }
    }
}

@Suite("SQLite files")
struct SQLiteFileModeTests {
    func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("a new database, its WAL and a new directory are private to the owner whatever the umask")
    func privateModes() async throws {
        let root = FileManager.default.temporaryDirectory.path + "/stratus-mode-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/data/keystone.db"
        let old = umask(0o022)
        defer { umask(old) }
        let db = try await Database.open(.sqliteFile(path: path))
        try await db.write { sql in try await sql.raw("CREATE TABLE t (x INTEGER)").run() }
        try await db.write { sql in try await sql.raw("INSERT INTO t VALUES (1)").run() }
        #expect(try mode(root + "/data") == 0o700)
        #expect(try mode(path) == 0o600)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(try mode(path + "-wal") == 0o600)
        #expect(try mode(path + "-shm") == 0o600)
        await db.close()
    }
}

@Suite("PostgreSQL sslmode")
struct PostgresTLSTests {
    @Test("sslmode and sslrootcert are read from the URL as libpq reads them; an unknown mode is refused naming it")
    func parsing() throws {
        let url = try DatabaseURL("postgresql://k:p@db/keystone?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&charset=utf8")
        #expect(
            url
                == .postgres(
                    host: "db",
                    port: 5432,
                    user: "k",
                    password: "p",
                    database: "keystone",
                    tls: .init(mode: .verifyFull, rootCert: "/etc/ca.pem")
                )
        )
        #expect(try DatabaseURL("postgresql://k:p@db/keystone") == .postgres(host: "db", port: 5432, user: "k", password: "p", database: "keystone"))
        for mode in ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] {
            guard case .postgres(_, _, _, _, _, let tls) = try DatabaseURL("postgresql://k@db/d?sslmode=\(mode)") else {
                Issue.record("not a PostgreSQL URL")
                continue
            }
            #expect(tls.mode.rawValue == mode)
        }
        do {
            _ = try DatabaseURL("postgresql://k:secret@db/d?sslmode=requir")
            Issue.record("an unknown sslmode was accepted")
        } catch {
            #expect(error.message.contains("'requir'") && error.message.contains("verify-full"))
            #expect(!error.message.contains("secret"))
        }
        #expect(
            try DatabaseURL.derived(from: "postgresql://k@db/d?sslmode=require", name: "glance", primary: "keystone")
                == "postgresql://k@db/d_glance?sslmode=require"
        )
    }

    /// Against the test server (scripts/postgres.sh turns TLS on with a self-signed certificate
    /// for localhost and 127.0.0.1); skipped without it, and in CI that skip is a failure.
    @Test("require encrypts; verify-full accepts the server's certificate given as sslrootcert; disable stays plaintext")
    func againstTheServer() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let base = env["STRATUS_TEST_POSTGRES_URL"], let ca = env["STRATUS_TEST_POSTGRES_CA"] else {
            #expect(env["STRATUS_TEST_REQUIRE_ALL"] != "1", "the PostgreSQL TLS test did not run in CI")
            return
        }
        func encrypted(_ query: String) async throws -> Bool {
            let db = try await Database.open(try DatabaseURL(base + query))
            struct Row: Decodable { var ssl: Bool }
            do {
                let row = try await db.read { sql in
                    try await sql.raw("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first(decoding: Row.self)
                }
                await db.close()
                return try #require(row).ssl
            } catch {
                await db.close()
                throw error
            }
        }
        #expect(try await encrypted("?sslmode=require"))
        #expect(try await encrypted("?sslmode=verify-full&sslrootcert=\(ca)"))
        #expect(try await encrypted("?sslmode=disable") == false)
        #expect(try await encrypted("") == false)
        // A certificate that does not verify is refused at once, with the reason: verify-ca
        // against the system's CAs, and against a CA that did not sign the server's certificate.
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("stratus-other-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: other) }
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-keyout", other.appendingPathComponent("ca.key").path, "-out", other.appendingPathComponent("ca.crt").path,
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)
        for query in ["?sslmode=verify-ca", "?sslmode=verify-ca&sslrootcert=\(other.appendingPathComponent("ca.crt").path)"] {
            let started = ContinuousClock.now
            do {
                let db = try await Database.open(try DatabaseURL(base + query))
                await db.close()
                Issue.record("\(query) connected to a server whose certificate it cannot verify")
            } catch let error as ConfigError {
                #expect(
                    error.message.contains("cannot connect to PostgreSQL") && error.message.contains("CERTIFICATE_VERIFY_FAILED"),
                    "\(error.message)"
                )
                #expect(!error.message.contains(":stratus@"), "no password in the message")
            }
            #expect(ContinuousClock.now - started < .seconds(15), "refused at once, not after the pool's retries")
        }
    }
}
