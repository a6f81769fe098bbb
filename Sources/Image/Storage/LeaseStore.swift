import SQLKit
import StratusStorage

/// `upload_leases`: which process is writing which image's data, and since when it was last alive.
struct LeaseStore: Sendable {
    struct Lease: Sendable, Equatable, Decodable {
        var imageId: String
        var process: String
        var kind: String
        /// The files the writer may leave behind, newline-separated.
        var paths: String
        var heartbeat: Int64

        var files: [String] { paths.split(separator: "\n").map(String.init) }
    }

    /// Takes the image's lease; false when another writer holds it.
    func acquire(image: String, process: String, kind: String, paths: [String], in sql: any SQLDatabase) async throws -> Bool {
        if try await sql.select().column("image_id").from("upload_leases").where("image_id", .equal, image).first() != nil { return false }
        try await sql.insert(into: "upload_leases").columns("image_id", "process", "kind", "paths", "heartbeat")
            .values(SQLBind(image), SQLBind(process), SQLBind(kind), SQLBind(paths.joined(separator: "\n")), SQLBind(Clock.now)).run()
        return true
    }

    /// Releases the lease if `process` still holds it; true when it did.
    func release(image: String, process: String, in sql: any SQLDatabase) async throws -> Bool {
        let rows = try await sql.delete(from: "upload_leases").where("image_id", .equal, image).where("process", .equal, process)
            .returning("image_id").all()
        return !rows.isEmpty
    }

    /// Refreshes the leases `process` holds on `images` (the writes it still runs).
    func heartbeat(process: String, images: [String], in sql: any SQLDatabase) async throws {
        guard !images.isEmpty else { return }
        try await sql.update("upload_leases").set("heartbeat", to: Clock.now).where("process", .equal, process)
            .where("image_id", .in, images).run()
    }

    /// Leases not refreshed since `before`.
    func expired(before: Int64, in sql: any SQLDatabase) async throws -> [Lease] {
        try await sql.select().columns("image_id", "process", "kind", "paths", "heartbeat").from("upload_leases")
            .where("heartbeat", .lessThan, before).all().map { try $0.decode(Lease.self) }
    }

    /// Every lease (the reaper keeps their files).
    func all(in sql: any SQLDatabase) async throws -> [Lease] {
        try await sql.select().columns("image_id", "process", "kind", "paths", "heartbeat").from("upload_leases").all()
            .map { try $0.decode(Lease.self) }
    }

    /// Removes an expired lease; false when it was refreshed or taken meanwhile.
    func breakExpired(_ lease: Lease, in sql: any SQLDatabase) async throws -> Bool {
        let rows = try await sql.delete(from: "upload_leases").where("image_id", .equal, lease.imageId).where("process", .equal, lease.process)
            .where("heartbeat", .equal, lease.heartbeat).returning("image_id").all()
        return !rows.isEmpty
    }
}
