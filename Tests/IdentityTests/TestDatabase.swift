import Foundation
import StratusStorage

/// Where store tests keep their data: a new SQLite file, or, when
/// `STRATUS_TEST_STORE_POSTGRES_URL` names a PostgreSQL database (scripts/test.sh sets it for a
/// second run of the store tests as root), a new schema in it, so the same tests check both dialects.
enum TestDatabase {
    static func open() async throws -> Database {
        if let url = ProcessInfo.processInfo.environment["STRATUS_TEST_STORE_POSTGRES_URL"], !url.isEmpty {
            return try await Database.open(try DatabaseURL(url), schema: "t_" + UUID().uuidString.prefix(12).lowercased())
        }
        let dir = FileManager.default.temporaryDirectory.path + "/stratus-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return try await Database.open(.sqliteFile(path: dir + "/k.db"))
    }
}
