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

/// Applies a service's migrations in version order and records each in `stratus_migrations`.
/// Re-running is a no-op; there are no downgrades (OpenStack's expand/contract is forward-only too).
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(_ migrations: [Migration]) {
        precondition(Set(migrations.map(\.version)).count == migrations.count, "duplicate migration version")
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// The newest version the code knows.
    public var latest: Int { migrations.last?.version ?? 0 }

    /// The version the database is at (0 when never migrated).
    public func currentVersion(_ db: Database) async throws -> Int {
        try await db.write { sql in
            try await Migrator.ensureTable(sql)
            let row = try await sql.raw("SELECT MAX(version) AS v FROM stratus_migrations").first()
            return (try? row?.decode(column: "v", as: Int?.self)) ?? 0
        }
    }

    /// Brings the schema to `latest`; returns the versions applied.
    @discardableResult
    public func migrate(_ db: Database) async throws -> [Int] {
        var applied: [Int] = []
        let current = try await currentVersion(db)
        for m in migrations where m.version > current {
            try await db.write { sql in
                // Another process may have migrated meanwhile: re-check inside the transaction.
                let row = try await sql.raw("SELECT COUNT(*) AS n FROM stratus_migrations WHERE version = \(bind: m.version)").first()
                if (try row?.decode(column: "n", as: Int.self)) ?? 0 > 0 { return }
                let statements = db.dialect == .postgres ? (m.postgres ?? m.statements) : m.statements
                for s in statements { try await sql.raw(SQLQueryString(s)).run() }
                try await sql.raw("INSERT INTO stratus_migrations (version, name) VALUES (\(bind: m.version), \(bind: m.name))").run()
            }
            applied.append(m.version)
        }
        return applied
    }

    static func ensureTable(_ sql: any SQLDatabase) async throws {
        try await sql.raw("CREATE TABLE IF NOT EXISTS stratus_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)").run()
    }
}
