import SQLKit
import StratusCore
import StratusStorage

/// Token revocation events (`revocation_event`), keystone's way of revoking Fernet tokens
/// that cannot be deleted: a token issued before a matching event is invalid.
struct RevocationStore: Sendable {
    /// What an event matches; nil fields match anything. A user event without project revokes
    /// all the user's tokens, a project event all tokens scoped to the project, an audit event
    /// one token (and nothing else of its chain).
    struct Event: Sendable, Equatable {
        var userID: String?
        var projectID: String?
        var auditID: String?
        /// A trust's event: its tokens are refused by the trust's own check (`TrustStore.usable`);
        /// the event tells other processes and OS-REVOKE readers.
        var trustID: String?
    }

    /// Records `event` at `now` (microseconds), bumps the revocation counter in the same
    /// transaction, and prunes events issued before `horizon`, which no living token can
    /// predate, so the check on every validation stays small.
    func record(_ event: Event, at now: Int64, pruningBefore horizon: Int64, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "revocation_event").where("issued_before", .lessThan, horizon).run()
        try await sql.insert(into: "revocation_event")
            .columns("id", "user_id", "project_id", "audit_id", "trust_id", "issued_before", "revoked_at")
            .values(
                SQLBind(newID()),
                SQLBind(event.userID),
                SQLBind(event.projectID),
                SQLBind(event.auditID),
                SQLBind(event.trustID),
                SQLBind(now),
                SQLBind(now)
            )
            .run()
        try await sql.update("revocation_counter").set(SQLColumn("value"), to: SQLRaw("value + 1")).where("id", .equal, 1).run()
    }

    /// Whether a token of `userID`, scoped to `projectID` (nil: not project-scoped), with own
    /// audit id `auditID` and issued at `issuedAt` (microseconds) is revoked by any event.
    func isRevoked(userID: String, projectID: String?, auditID: String?, issuedAt: Int64, in sql: any SQLDatabase) async throws -> Bool {
        // NOTE: "" never matches a stored id, so a missing project or audit id matches no event.
        let project = projectID ?? ""
        return try await sql.select().column("id").from("revocation_event")
            .where("issued_before", .greaterThanOrEqual, issuedAt)
            .where(group: {
                $0
                    .where(group: {
                        $0.where("user_id", .equal, userID).where("project_id", .is, SQLLiteral.null)
                            .where("audit_id", .is, SQLLiteral.null)
                    })
                    .orWhere(group: { $0.where("project_id", .equal, project).where("user_id", .is, SQLLiteral.null) })
                    .orWhere(group: { $0.where("user_id", .equal, userID).where("project_id", .equal, project) })
                    .orWhere("audit_id", .equal, auditID ?? "")
            })
            .limit(1).first() != nil
    }

    /// An event as stored (times in microseconds).
    struct StoredEvent: Decodable, Sendable, Equatable {
        var userID: String?
        var projectID: String?
        var auditID: String?
        var trustID: String?
        var issuedBefore: Int64
        var revokedAt: Int64

        enum CodingKeys: String, CodingKey {
            case userID = "user_id"
            case projectID = "project_id"
            case auditID = "audit_id"
            case trustID = "trust_id"
            case issuedBefore = "issued_before"
            case revokedAt = "revoked_at"
        }
    }

    /// The events in force, oldest first; only those recorded after `since` when given.
    func list(recordedAfter since: Int64?, in sql: any SQLDatabase) async throws -> [StoredEvent] {
        let query = sql.select().columns("user_id", "project_id", "audit_id", "trust_id", "issued_before", "revoked_at").from("revocation_event")
        if let since { query.where("revoked_at", .greaterThan, since) }
        return try await query.orderBy("revoked_at").orderBy("id").all(decoding: StoredEvent.self)
    }

    /// How many revocations were ever recorded: one row, cheap to read, and it moves with every
    /// committed revocation whatever its timestamp or the order transactions commit in.
    func highWaterMark(in sql: any SQLDatabase) async throws -> Int64 {
        struct Mark: Decodable { var value: Int64 }
        return try await sql.select().column("value").from("revocation_counter").where("id", .equal, 1).first(decoding: Mark.self)?.value ?? 0
    }
}
