import SQLKit
import StratusStorage

/// `image_members`: the projects a shared image is offered to, and their answers.
struct MemberStore: Sendable {
    private struct Row: Decodable {
        var imageId: String
        var member: String
        var status: String
        var createdAt: Int64
        var updatedAt: Int64
        var record: MemberRecord {
            MemberRecord(imageID: imageId, member: member, status: .init(rawValue: status) ?? .pending, createdAt: createdAt, updatedAt: updatedAt)
        }
    }

    static let columns = ["image_id", "member", "status", "created_at", "updated_at"]

    func list(image: String, in sql: any SQLDatabase) async throws -> [MemberRecord] {
        try await sql.select().columns(Self.columns).from("image_members").where("image_id", .equal, image).orderBy("created_at").orderBy("member")
            .all().map { try $0.decode(Row.self).record }
    }

    func find(image: String, member: String, in sql: any SQLDatabase) async throws -> MemberRecord? {
        try await sql.select().columns(Self.columns).from("image_members").where("image_id", .equal, image).where("member", .equal, member)
            .first()?.decode(Row.self).record
    }

    func count(image: String, in sql: any SQLDatabase) async throws -> Int {
        try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("image_members")
            .where("image_id", .equal, image).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    func insert(_ m: MemberRecord, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "image_members").columns(Self.columns)
            .values(SQLBind(m.imageID), SQLBind(m.member), SQLBind(m.status.rawValue), SQLBind(m.createdAt), SQLBind(m.updatedAt)).run()
    }

    func setStatus(image: String, member: String, status: MemberRecord.Status, in sql: any SQLDatabase) async throws {
        try await sql.update("image_members").set("status", to: status.rawValue).set("updated_at", to: Clock.now)
            .where("image_id", .equal, image).where("member", .equal, member).run()
    }

    func delete(image: String, member: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "image_members").where("image_id", .equal, image).where("member", .equal, member).run()
    }
}

/// `tasks`.
struct TaskStore: Sendable {
    private struct Row: Decodable {
        var id: String
        var type: String
        var status: String
        var owner: String
        var input: String
        var result: String?
        var message: String
        var imageId: String?
        var requestId: String?
        var userId: String?
        var expiresAt: Int64?
        var createdAt: Int64
        var updatedAt: Int64
        var record: TaskRecord {
            TaskRecord(
                id: id,
                type: type,
                status: status,
                owner: owner,
                input: input,
                result: result,
                message: message,
                imageID: imageId,
                requestID: requestId,
                userID: userId,
                expiresAt: expiresAt,
                createdAt: createdAt,
                updatedAt: updatedAt
            )
        }
    }

    static let columns = [
        "id", "type", "status", "owner", "input", "result", "message", "image_id", "request_id", "user_id", "expires_at", "created_at",
        "updated_at",
    ]

    func insert(_ t: TaskRecord, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "tasks").columns(Self.columns)
            .values(
                SQLBind(t.id),
                SQLBind(t.type),
                SQLBind(t.status),
                SQLBind(t.owner),
                SQLBind(t.input),
                SQLBind(t.result),
                SQLBind(t.message),
                SQLBind(t.imageID),
                SQLBind(t.requestID),
                SQLBind(t.userID),
                SQLBind(t.expiresAt),
                SQLBind(t.createdAt),
                SQLBind(t.updatedAt)
            ).run()
    }

    func find(_ id: String, in sql: any SQLDatabase) async throws -> TaskRecord? {
        try await sql.select().columns(Self.columns).from("tasks").where("id", .equal, id).first()?.decode(Row.self).record
    }

    /// Tasks of `owner` (every task when nil), newest first, optionally of one image.
    func list(owner: String?, image: String? = nil, limit: Int, in sql: any SQLDatabase) async throws -> [TaskRecord] {
        let q = sql.select().columns(Self.columns).from("tasks")
        if let owner { q.where("owner", .equal, owner) }
        if let image { q.where("image_id", .equal, image) }
        return try await q.orderBy("created_at", .descending).orderBy("id", .descending).limit(limit).all().map { try $0.decode(Row.self).record }
    }

    func finish(_ id: String, status: String, message: String, result: String?, in sql: any SQLDatabase) async throws {
        let now = Clock.now
        try await sql.update("tasks").set("status", to: status).set("message", to: message).set("result", to: SQLBind(result))
            .set("updated_at", to: now).set("expires_at", to: now + 48 * 3600).where("id", .equal, id).run()
    }

    /// Marks `processing` the tasks of an import that a dead process left behind.
    func failRunning(image: String, message: String, in sql: any SQLDatabase) async throws {
        let now = Clock.now
        try await sql.update("tasks").set("status", to: "failure").set("message", to: message).set("updated_at", to: now)
            .set("expires_at", to: now + 48 * 3600).where("image_id", .equal, image).where("status", .in, ["pending", "processing"]).run()
    }
}

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

    /// Refreshes every lease `process` holds.
    func heartbeat(process: String, in sql: any SQLDatabase) async throws {
        try await sql.update("upload_leases").set("heartbeat", to: Clock.now).where("process", .equal, process).run()
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
