import SQLKit
import StratusCore
import StratusStorage

/// A trust as stored in `trust`, with the ids of the roles it delegates (`trust_role`).
struct TrustRecord: Sendable, Equatable {
    var id: String
    var trustorUserID: String
    var trusteeUserID: String
    var projectID: String?
    var impersonation: Bool
    /// Microseconds since the epoch; nil while the trust stands.
    var deletedAt: Int64?
    /// Microseconds since the epoch; nil when it never expires.
    var expiresAt: Int64?
    /// Tokens it may still issue; nil for no limit.
    var remainingUses: Int?
    /// The trust this one was redelegated from.
    var redelegatedTrustID: String?
    /// How many more times it may be redelegated (0: not at all).
    var redelegationCount: Int
    /// The delegated roles' ids, sorted.
    var roleIDs: [String] = []

    /// Whether a token may be issued or validated through it at `now` (keystone's `get_trust`:
    /// not deleted, not expired, uses left).
    func usable(at now: Int64) -> Bool {
        deletedAt == nil && (expiresAt.map { $0 > now } ?? true) && (remainingUses.map { $0 > 0 } ?? true)
    }
}

/// Trusts and the roles they delegate (`trust`, `trust_role`).
struct TrustStore: Sendable {
    /// One `trust` row; a missing or mistyped column throws.
    struct Row: Decodable {
        var id: String
        var trustorUserId: String
        var trusteeUserId: String
        var projectId: String?
        var impersonation: Bool
        var deletedAt: Int64?
        var expiresAt: Int64?
        var remainingUses: Int?
        var redelegatedTrustId: String?
        var redelegationCount: Int
    }

    /// The trust with `id`, deleted or not, or nil.
    func find(_ id: String, in sql: any SQLDatabase) async throws -> TrustRecord? {
        guard let row = try await sql.select().column("*").from("trust").where("id", .equal, id).first() else { return nil }
        return try await record(row, in: sql)
    }

    /// The trust with `id` when it can be used at `now`; `IdentityError.notFound(kind: "trust")` otherwise
    /// (deleted, expired or used up look the same, as keystone answers).
    func usable(_ id: String, at now: Int64, in sql: any SQLDatabase) async throws -> TrustRecord {
        guard let trust = try await find(id, in: sql), trust.usable(at: now) else { throw IdentityError.notFound(kind: "trust", id: id) }
        return trust
    }

    /// The trusts not deleted, by id, optionally only those of one trustor or trustee (keystone lists
    /// expired and used-up trusts too).
    func list(trustorUserID: String? = nil, trusteeUserID: String? = nil, in sql: any SQLDatabase) async throws -> [TrustRecord] {
        let q = sql.select().column("*").from("trust").where("deleted_at", .is, SQLLiteral.null)
        if let trustorUserID { q.where("trustor_user_id", .equal, trustorUserID) }
        if let trusteeUserID { q.where("trustee_user_id", .equal, trusteeUserID) }
        var out: [TrustRecord] = []
        for row in try await q.orderBy("id").all() { out.append(try await record(row, in: sql)) }
        return out
    }

    /// Inserts `trust` and its role ids.
    func create(_ trust: TrustRecord, in sql: any SQLDatabase) async throws {
        do {
            try await sql.insert(into: "trust")
                .columns(
                    "id",
                    "trustor_user_id",
                    "trustee_user_id",
                    "project_id",
                    "impersonation",
                    "expires_at",
                    "remaining_uses",
                    "redelegated_trust_id",
                    "redelegation_count"
                )
                .values(
                    SQLBind(trust.id),
                    SQLBind(trust.trustorUserID),
                    SQLBind(trust.trusteeUserID),
                    SQLBind(trust.projectID),
                    SQLBind(trust.impersonation),
                    SQLBind(trust.expiresAt),
                    SQLBind(trust.remainingUses),
                    SQLBind(trust.redelegatedTrustID),
                    SQLBind(trust.redelegationCount)
                )
                .run()
            for role in Set(trust.roleIDs).sorted() {
                try await sql.insert(into: "trust_role").columns("trust_id", "role_id").values(SQLBind(trust.id), SQLBind(role)).run()
            }
        } catch {
            throw IdentityError.translating(StorageError.classify(error) ?? error)
        }
    }

    /// Takes one use of a limited trust in a single statement, so two token requests racing for
    /// the last use cannot both win. True when a use was taken or the trust has no limit; false
    /// when it is used up, deleted or gone.
    func consumeUse(_ id: String, in sql: any SQLDatabase) async throws -> Bool {
        guard let trust = try await find(id, in: sql), trust.deletedAt == nil else { return false }
        guard trust.remainingUses != nil else { return true }
        let taken = try await sql.update("trust").set(SQLColumn("remaining_uses"), to: SQLRaw("remaining_uses - 1"))
            .where("id", .equal, id).where("deleted_at", .is, SQLLiteral.null).where("remaining_uses", .greaterThan, 0)
            .returning("id").all()
        return !taken.isEmpty
    }

    /// Marks the trust and every trust redelegated from it (down the chain) deleted at `now`;
    /// returns the ids deleted.
    func softDelete(_ id: String, at now: Int64, in sql: any SQLDatabase) async throws -> [String] {
        var deleted: [String] = []
        var pending = [id]
        while let next = pending.popLast() {
            guard !deleted.contains(next) else { continue }
            try await sql.update("trust").set("deleted_at", to: now).where("id", .equal, next).where("deleted_at", .is, SQLLiteral.null).run()
            deleted.append(next)
            pending += try await sql.select().column("id").from("trust").where("redelegated_trust_id", .equal, next)
                .where("deleted_at", .is, SQLLiteral.null).all(decodingColumn: "id", as: String.self)
        }
        return deleted
    }

    /// The ids of the standing trusts `userID` gave or received (the user is being deleted).
    func ids(involving userID: String, in sql: any SQLDatabase) async throws -> [String] {
        try await sql.select().column("id").from("trust").where("deleted_at", .is, SQLLiteral.null)
            .where(group: { $0.where("trustor_user_id", .equal, userID).orWhere("trustee_user_id", .equal, userID) })
            .orderBy("id").all(decodingColumn: "id", as: String.self)
    }

    /// The ids of the standing trusts on `projectID` (the project is being deleted).
    func ids(onProject projectID: String, in sql: any SQLDatabase) async throws -> [String] {
        try await sql.select().column("id").from("trust").where("deleted_at", .is, SQLLiteral.null).where("project_id", .equal, projectID)
            .orderBy("id").all(decodingColumn: "id", as: String.self)
    }

    /// The record of a `trust` row, with its role ids.
    private func record(_ row: any SQLRow, in sql: any SQLDatabase) async throws -> TrustRecord {
        let r = try row.decode(Row.self)
        let roleIDs = try await sql.select().column("role_id").from("trust_role").where("trust_id", .equal, r.id).orderBy("role_id")
            .all(decodingColumn: "role_id", as: String.self)
        return TrustRecord(
            id: r.id,
            trustorUserID: r.trustorUserId,
            trusteeUserID: r.trusteeUserId,
            projectID: r.projectId,
            impersonation: r.impersonation,
            deletedAt: r.deletedAt,
            expiresAt: r.expiresAt,
            remainingUses: r.remainingUses,
            redelegatedTrustID: r.redelegatedTrustId,
            redelegationCount: r.redelegationCount,
            roleIDs: roleIDs
        )
    }
}
