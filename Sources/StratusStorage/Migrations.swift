import SQLKit

/// One forward-only schema step of a service. `statements` are run in order, in one
/// transaction; `postgres` replaces them on PostgreSQL when the SQL differs.
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var statements: [String]
    public var postgres: [String]?

    public init(_ version: Int, _ name: String, _ statements: [String], postgres: [String]? = nil) {
        self.version = version
        self.name = name
        self.statements = statements
        self.postgres = postgres
    }
}

/// Applies one service's migrations in version order and records each in
/// `stratus_migrations(service, version)`, so several services can share a database (a test
/// database, or an operator who points two services at one) without one's version 1 counting
/// as another's. Re-running is a no-op; there are no downgrades (OpenStack's expand/contract is
/// forward-only too).
public struct Migrator: Sendable {
    /// The service whose schema this is (`identity`, `image`, …): the first key of its rows.
    public let service: String
    public let migrations: [Migration]

    public init(service: String, _ migrations: [Migration]) {
        precondition(Set(migrations.map(\.version)).count == migrations.count, "duplicate migration version")
        self.service = service
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// The newest version the code knows.
    public var latest: Int { migrations.last?.version ?? 0 }

    /// The version the database is at for this service (0 when never migrated).
    public func currentVersion(_ db: Database) async throws -> Int {
        try await db.write { sql in
            try await MigrationTable.ensure(sql, dialect: db.dialect)
            return try await MigrationTable.version(of: service, in: sql)
        }
    }

    /// Brings the schema to `latest`; returns the versions applied.
    @discardableResult
    public func migrate(_ db: Database) async throws -> [Int] {
        var applied: [Int] = []
        let current = try await currentVersion(db)
        for m in migrations where m.version > current {
            let ran = try await db.write { sql in
                // Another process may have migrated meanwhile: re-check inside the transaction.
                guard try await !MigrationTable.isApplied(m.version, of: service, in: sql) else { return false }
                let statements = db.dialect == .postgres ? (m.postgres ?? m.statements) : m.statements
                for s in statements { try await sql.raw(SQLQueryString(s)).run() }
                try await sql.insert(into: MigrationTable.name)
                    .columns("service", "version", "name")
                    .values(SQLBind(service), SQLBind(m.version), SQLBind(m.name))
                    .run()
                return true
            }
            if ran { applied.append(m.version) }
        }
        return applied
    }
}

/// `stratus_migrations`: which versions of which service's schema a database has.
enum MigrationTable {
    static let name = "stratus_migrations"

    /// Creates the table, or upgrades the first layout (`version` only, written when Identity was
    /// the only service) by keying its rows to `identity`.
    static func ensure(_ sql: any SQLDatabase, dialect: Database.Dialect) async throws {
        if try await hasVersionOnlyLayout(sql, dialect: dialect) {
            try await sql.raw("ALTER TABLE stratus_migrations RENAME TO stratus_migrations_v1").run()
            try await create(sql)
            try await sql.raw("INSERT INTO stratus_migrations (service, version, name) SELECT 'identity', version, name FROM stratus_migrations_v1")
                .run()
            try await sql.raw("DROP TABLE stratus_migrations_v1").run()
        } else {
            try await create(sql)
        }
    }

    static func create(_ sql: any SQLDatabase) async throws {
        try await sql.raw(
            """
            CREATE TABLE IF NOT EXISTS stratus_migrations (service VARCHAR(64) NOT NULL, version BIGINT NOT NULL,
              name TEXT NOT NULL, PRIMARY KEY (service, version))
            """
        ).run()
    }

    static func hasVersionOnlyLayout(_ sql: any SQLDatabase, dialect: Database.Dialect) async throws -> Bool {
        /// A column name, as both catalogs list it.
        struct Column: Decodable { var name: String }
        let columns: [String]
        switch dialect {
        case .sqlite:
            columns = try await sql.raw("SELECT name FROM pragma_table_info('stratus_migrations')").all(decoding: Column.self).map(\.name)
        case .postgres:
            columns = try await sql.raw(
                """
                SELECT column_name AS name FROM information_schema.columns
                WHERE table_name = 'stratus_migrations' AND table_schema = current_schema()
                """
            ).all(decoding: Column.self).map(\.name)
        }
        return !columns.isEmpty && !columns.contains("service")
    }

    static func version(of service: String, in sql: any SQLDatabase) async throws -> Int {
        /// The highest applied version (NULL when none).
        struct Row: Decodable { var v: Int? }
        let row = try await sql.select().column(SQLFunction("MAX", args: SQLColumn("version")), as: "v")
            .from(name).where("service", .equal, service)
            .first(decoding: Row.self)
        return row?.v ?? 0
    }

    static func isApplied(_ version: Int, of service: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("version").from(name)
            .where("service", .equal, service).where("version", .equal, version)
            .first() != nil
    }
}
