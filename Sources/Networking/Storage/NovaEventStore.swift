import SQLKit
import StratusCore
import StratusStorage

/// `nova_events`: batches of events Compute did not take yet, with their next attempt.
struct NovaEventStore: Sendable {
    struct Pending: Sendable, Decodable {
        var id: String
        var body: String
        var createdAt: Int64
        var nextAttempt: Int64
        var attempts: Int64
    }

    func add(id: String, body: JSON, now: Int64, next: Int64, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "nova_events").columns("id", "body", "created_at", "next_attempt", "attempts")
            .values(SQLBind(id), SQLBind(body.serialized()), SQLBind(now), SQLBind(next), SQLBind(Int64(1))).run()
    }

    func due(now: Int64, limit: Int = 50, in sql: any SQLDatabase) async throws -> [Pending] {
        try await sql.select().columns("id", "body", "created_at", "next_attempt", "attempts").from("nova_events")
            .where("next_attempt", .lessThanOrEqual, now).orderBy("created_at").limit(limit).all().map { try $0.decode(Pending.self) }
    }

    /// Takes a batch for one attempt (another process that read it too loses the race).
    func claim(_ p: Pending, until: Int64, in sql: any SQLDatabase) async throws -> Bool {
        !(try await sql.update("nova_events").set("next_attempt", to: until).set("attempts", to: p.attempts + 1)
            .where("id", .equal, p.id).where("next_attempt", .equal, p.nextAttempt).returning("id").all()).isEmpty
    }

    func remove(_ id: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "nova_events").where("id", .equal, id).run()
    }
}
