import Foundation
import SQLKit
import StratusStorage

/// The API database's cells v2 records: cell mappings, host mappings, instance mappings and
/// build requests (a server between `POST /servers` and its placement in a cell).
struct CellStore: Sendable {
    struct Cell: Sendable, Decodable, Equatable {
        var id: Int64
        var uuid: String
        var name: String?
        var transportUrl: String
        var databaseConnection: String
        var disabled: Bool
    }

    struct InstanceMapping: Sendable, Decodable {
        var instanceUuid: String
        var cellId: Int64?
        var projectId: String
        var userId: String
        var queuedForDelete: Bool
    }

    /// cell0's uuid, fixed in nova (`CellMapping.CELL0_UUID`).
    static let cell0UUID = "00000000-0000-0000-0000-000000000000"

    func cells(in sql: any SQLDatabase) async throws -> [Cell] {
        try await sql.select().columns("id", "uuid", "name", "transport_url", "database_connection", "disabled").from("cell_mappings")
            .orderBy("id").all().map { try $0.decode(Cell.self) }
    }

    /// Adds a cell; nil when one with that uuid (or, when named, that name and URL) exists.
    func addCell(
        uuid: String,
        name: String?,
        transportURL: String,
        connection: String,
        now: String,
        in sql: any SQLDatabase
    ) async throws
        -> Cell?
    {
        let existing = try await cells(in: sql)
        if existing.contains(where: { $0.uuid == uuid }) { return nil }
        try await sql.insert(into: "cell_mappings").columns("uuid", "name", "transport_url", "database_connection", "disabled", "created_at")
            .values(SQLBind(uuid), SQLBind(name), SQLBind(transportURL), SQLBind(connection), SQLBind(false), SQLBind(now)).run()
        return try await cells(in: sql).first { $0.uuid == uuid }
    }

    func hostMappings(in sql: any SQLDatabase) async throws -> [(host: String, cellID: Int64)] {
        try await sql.select().columns("host", "cell_id").from("host_mappings").orderBy("host").all().map {
            (try $0.decode(column: "host", as: String.self), try $0.decode(column: "cell_id", as: Int64.self))
        }
    }

    /// Maps a host to a cell; false when it was mapped already.
    func mapHost(_ host: String, cell: Int64, now: String, in sql: any SQLDatabase) async throws -> Bool {
        if try await sql.select().column("host").from("host_mappings").where("host", .equal, host).first() != nil { return false }
        try await sql.insert(into: "host_mappings").columns("cell_id", "host", "created_at").values(SQLBind(cell), SQLBind(host), SQLBind(now))
            .run()
        return true
    }

    func addInstanceMapping(_ uuid: String, project: String, user: String, now: String, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "instance_mappings").columns("instance_uuid", "project_id", "user_id", "queued_for_delete", "created_at")
            .values(SQLBind(uuid), SQLBind(project), SQLBind(user), SQLBind(false), SQLBind(now)).run()
    }

    /// Removes a mapping (a boot taken back before anything was built).
    func deleteInstanceMapping(_ uuid: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "instance_mappings").where("instance_uuid", .equal, uuid).run()
    }

    func instanceMapping(_ uuid: String, in sql: any SQLDatabase) async throws -> InstanceMapping? {
        try await sql.select().columns("instance_uuid", "cell_id", "project_id", "user_id", "queued_for_delete").from("instance_mappings")
            .where("instance_uuid", .equal, uuid).first()?.decode(InstanceMapping.self)
    }

    func setCell(_ uuid: String, cell: Int64, in sql: any SQLDatabase) async throws {
        try await sql.update("instance_mappings").set("cell_id", to: cell).where("instance_uuid", .equal, uuid).run()
    }

    func queueForDelete(_ uuid: String, in sql: any SQLDatabase) async throws {
        try await sql.update("instance_mappings").set("queued_for_delete", to: true).where("instance_uuid", .equal, uuid).run()
    }

    /// Build requests: the server's first record, in the API database until a cell holds it.
    func addBuildRequest(_ uuid: String, project: String, instance: String, now: String, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "build_requests").columns("instance_uuid", "project_id", "instance", "created_at")
            .values(SQLBind(uuid), SQLBind(project), SQLBind(instance), SQLBind(now)).run()
    }

    func buildRequest(_ uuid: String, in sql: any SQLDatabase) async throws -> String? {
        try await sql.select().column("instance").from("build_requests").where("instance_uuid", .equal, uuid).first()?
            .decode(column: "instance", as: String.self)
    }

    /// Every build request's instance record (of one project, or all).
    func buildRequests(project: String?, in sql: any SQLDatabase) async throws -> [String] {
        var q = sql.select().column("instance").from("build_requests")
        if let project { q = q.where("project_id", .equal, project) }
        return try await q.all().map { try $0.decode(column: "instance", as: String.self) }
    }

    /// Removes a build request; false when it was gone already.
    @discardableResult
    func deleteBuildRequest(_ uuid: String, in sql: any SQLDatabase) async throws -> Bool {
        let found = try await buildRequest(uuid, in: sql) != nil
        try await sql.delete(from: "build_requests").where("instance_uuid", .equal, uuid).run()
        return found
    }
}
