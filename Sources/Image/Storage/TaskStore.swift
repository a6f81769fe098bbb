import SQLKit
import StratusStorage

/// `tasks`.
struct TaskStore: Sendable {
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
        try await sql.select().columns(Self.columns).from("tasks").where("id", .equal, id).first()?.decode(TaskRecord.self)
    }

    /// Tasks of `owner` (every task when nil), newest first, optionally of one image.
    func list(owner: String?, image: String? = nil, limit: Int, in sql: any SQLDatabase) async throws -> [TaskRecord] {
        let q = sql.select().columns(Self.columns).from("tasks")
        if let owner { q.where("owner", .equal, owner) }
        if let image { q.where("image_id", .equal, image) }
        return try await q.orderBy("created_at", .descending).orderBy("id", .descending).limit(limit).all().map { try $0.decode(TaskRecord.self) }
    }

    func finish(_ id: String, status: String, message: String, result: String?, in sql: any SQLDatabase) async throws {
        let now = Clock.now
        try await sql.update("tasks").set("status", to: status).set("message", to: message).set("result", to: SQLBind(result))
            .set("updated_at", to: now).set("expires_at", to: now + 48 * 3600).where("id", .equal, id).run()
    }

    /// Fails the running tasks of an import that a dead process left behind.
    func failRunning(image: String, message: String, in sql: any SQLDatabase) async throws {
        let now = Clock.now
        try await sql.update("tasks").set("status", to: "failure").set("message", to: message).set("updated_at", to: now)
            .set("expires_at", to: now + 48 * 3600).where("image_id", .equal, image).where("status", .in, ["pending", "processing"]).run()
    }
}
