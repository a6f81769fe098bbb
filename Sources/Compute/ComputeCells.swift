import Foundation
import Logging
import SQLKit
import StratusCore
import StratusStorage

/// Cells v2 as `nova-manage cell_v2` manages them: cell0's URL derived from `[database]
/// connection` (nova appends `_cell0` to the database name; for a SQLite file, before its
/// extension), cell mappings, and host discovery.
public enum ComputeCells {
    /// nova's fixed uuid of cell0.
    public static let cell0UUID = CellStore.cell0UUID

    /// cell0's connection for a cell database URL.
    public static func cell0URL(_ connection: String) throws -> String {
        switch try DatabaseURL(connection) {
        case .sqliteMemory:
            return connection
        case .sqliteFile(let path):
            let ext = (path as NSString).pathExtension
            let stem = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
            return "sqlite:///" + stem + "_cell0" + (ext.isEmpty ? "" : "." + ext)
        case .postgres:
            let queryStart = connection.firstIndex(of: "?") ?? connection.endIndex
            return connection[..<queryStart] + "_cell0" + connection[queryStart...]
        }
    }

    /// Opens, creates if needed (PostgreSQL) and migrates a cell database.
    public static func syncCell(_ url: String, logger: Logger) async throws -> (Int, Int) {
        try await Database.createIfMissing(DatabaseURL(url), logger: logger)
        let db = try await Database.open(DatabaseURL(url), maxPoolSize: 2, logger: logger)
        defer { Task { await db.close() } }
        let from = try await ComputeMigrations.cell.currentVersion(db)
        try await ComputeMigrations.cell.migrate(db)
        return (from, ComputeMigrations.cell.latest)
    }

    public struct CellInfo: Sendable {
        public var uuid: String
        public var name: String?
        public var transportURL: String
        public var connection: String
        public var disabled: Bool
    }

    static func info(_ c: CellStore.Cell) -> CellInfo {
        CellInfo(uuid: c.uuid, name: c.name, transportURL: c.transportUrl, connection: c.databaseConnection, disabled: c.disabled)
    }

    public static func cells(_ api: Database) async throws -> [CellInfo] {
        try await api.read { sql in try await CellStore().cells(in: sql) }.map(info)
    }

    /// Maps cell0 (nova's fixed uuid); false when it was mapped already.
    public static func mapCell0(_ api: Database, connection: String) async throws -> Bool {
        try await api.write { sql in
            try await CellStore().addCell(
                uuid: CellStore.cell0UUID,
                name: "cell0",
                transportURL: "none:///",
                connection: connection,
                now: ComputeTime.now(),
                in: sql
            ) != nil
        }
    }

    /// Creates a cell mapping; nil when a cell with that database and transport exists already.
    public static func createCell(_ api: Database, name: String?, transportURL: String, connection: String) async throws -> CellInfo? {
        try await api.write { sql in
            let existing = try await CellStore().cells(in: sql)
            if existing.contains(where: { $0.databaseConnection == connection && $0.transportUrl == transportURL }) { return nil }
            return try await CellStore().addCell(
                uuid: UUID().uuidString.lowercased(),
                name: name,
                transportURL: transportURL,
                connection: connection,
                now: ComputeTime.now(),
                in: sql
            ).map(info)
        }
    }

    /// Maps every compute host of every cell that is not mapped yet; returns what it mapped:
    /// (cell uuid, host, the host's compute node uuid, which nova's --verbose prints).
    public static func discoverHosts(_ api: Database, logger: Logger) async throws -> [(cell: String, host: String, node: String)] {
        let cells = try await api.read { sql in try await CellStore().cells(in: sql) }
        var mapped: [(String, String, String)] = []
        for cell in cells where cell.uuid != CellStore.cell0UUID {
            let db = try await Database.open(DatabaseURL(cell.databaseConnection), maxPoolSize: 2, logger: logger)
            let nodes = try await db.read { sql in try await ServiceStore().nodes(in: sql) }
            await db.close()
            var seen: Set<String> = []
            for node in nodes.sorted(by: { $0.host < $1.host }) where seen.insert(node.host).inserted {
                let added = try await api.write { sql in try await CellStore().mapHost(node.host, cell: cell.id, now: ComputeTime.now(), in: sql) }
                if added { mapped.append((cell.uuid, node.host, node.uuid)) }
            }
        }
        return mapped
    }

    /// Host mappings: (cell name, host).
    public static func hosts(_ api: Database) async throws -> [(cellName: String, cellUUID: String, host: String)] {
        try await api.read { sql in
            let cells = try await CellStore().cells(in: sql)
            return try await CellStore().hostMappings(in: sql).compactMap { m in
                guard let c = cells.first(where: { $0.id == m.cellID }) else { return nil }
                return (c.name ?? "", c.uuid, m.host)
            }
        }
    }

    /// What all-in-one and the guide's first commands leave: the API schema, cell0 and cell1
    /// mapped and migrated.
    public static func bootstrap(config: Config, logger: Logger) async throws {
        let api = try await DatabaseOptions.open(config, group: "api_database", logger: logger)
        defer { Task { await api.close() } }
        try await ComputeMigrations.api.migrate(api)
        guard let cellURL = config.string("database", "connection") else { return }
        let zero = try cell0URL(cellURL)
        _ = try await syncCell(zero, logger: logger)
        _ = try await syncCell(cellURL, logger: logger)
        _ = try await mapCell0(api, connection: zero)
        if try await cells(api).allSatisfy({ $0.uuid == CellStore.cell0UUID }) {
            _ = try await createCell(api, name: "cell1", transportURL: config.string("DEFAULT", "transport_url") ?? "none:///", connection: cellURL)
        }
    }
}
