import SQLKit
import StratusCore
import StratusStorage

/// Application credential access rules (`access_rule`) and which credentials use them
/// (`application_credential_access_rule`). A rule belongs to one user; the user's credentials
/// asking for the same (service, path, method) share it.
struct AccessRuleStore: Sendable {
    /// One `access_rule` row.
    struct Row: Decodable {
        var id: String
        var userId: String
        var service: String
        var path: String
        var method: String

        enum CodingKeys: String, CodingKey {
            case id, service, path, method
            case userId = "user_id"
        }
    }

    static func rule(_ r: Row) -> AccessRule { AccessRule(id: r.id, service: r.service, path: r.path, method: r.method) }

    /// The rule with `id` and its owner, whoever owns it, or nil.
    func find(id: String, in sql: any SQLDatabase) async throws -> (rule: AccessRule, userID: String)? {
        guard let row = try await sql.select().column("*").from("access_rule").where("id", .equal, id).first(decoding: Row.self) else { return nil }
        return (Self.rule(row), row.userId)
    }

    /// `userID`'s rule for exactly this service, path and method, or nil.
    func find(userID: String, service: String, path: String, method: String, in sql: any SQLDatabase) async throws -> AccessRule? {
        try await sql.select().column("*").from("access_rule").where("user_id", .equal, userID).where("service", .equal, service)
            .where("path", .equal, path).where("method", .equal, method).first(decoding: Row.self).map(Self.rule)
    }

    /// Inserts `rule` for `userID`; a taken id or a duplicate (service, path, method) throws `IdentityError.duplicate`.
    func create(_ rule: AccessRule, userID: String, in sql: any SQLDatabase) async throws {
        do {
            try await sql.insert(into: "access_rule").columns("id", "user_id", "service", "path", "method")
                .values(SQLBind(rule.id), SQLBind(userID), SQLBind(rule.service), SQLBind(rule.path), SQLBind(rule.method)).run()
        } catch {
            throw IdentityError.translating(StorageError.classify(error) ?? error)
        }
    }

    /// Records that the credential uses the rule.
    func link(credentialID: String, ruleID: String, in sql: any SQLDatabase) async throws {
        do {
            try await sql.insert(into: "application_credential_access_rule").columns("application_credential_id", "access_rule_id")
                .values(SQLBind(credentialID), SQLBind(ruleID)).run()
        } catch {
            throw IdentityError.translating(StorageError.classify(error) ?? error)
        }
    }

    /// The rules a credential uses, by id.
    func rules(ofCredential credentialID: String, in sql: any SQLDatabase) async throws -> [AccessRule] {
        try await sql.select().column(SQLColumn("*", table: "r"))
            .from(SQLAlias(SQLIdentifier("access_rule"), as: "r"))
            .join(
                SQLAlias(SQLIdentifier("application_credential_access_rule"), as: "l"),
                method: SQLJoinMethod.inner,
                on: SQLColumn("access_rule_id", table: "l"),
                .equal,
                SQLColumn("id", table: "r")
            )
            .where(SQLColumn("application_credential_id", table: "l"), .equal, SQLBind(credentialID))
            .orderBy(SQLColumn("id", table: "r")).all(decoding: Row.self).map(Self.rule)
    }

    /// `userID`'s rules matching every given filter, by id.
    func list(userID: String, service: String?, path: String?, method: String?, in sql: any SQLDatabase) async throws -> [AccessRule] {
        let q = sql.select().column("*").from("access_rule").where("user_id", .equal, userID)
        if let service { q.where("service", .equal, service) }
        if let path { q.where("path", .equal, path) }
        if let method { q.where("method", .equal, method) }
        return try await q.orderBy("id").all(decoding: Row.self).map(Self.rule)
    }

    /// Whether any credential uses the rule.
    func inUse(_ id: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("access_rule_id").from("application_credential_access_rule").where("access_rule_id", .equal, id)
            .limit(1).first() != nil
    }

    /// Deletes the rule (callers check it is unused).
    func delete(_ id: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "access_rule").where("id", .equal, id).run()
    }

    /// Deletes every rule of `userID` (the user is being deleted; its credentials went first).
    func deleteAll(ofUser userID: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "application_credential_access_rule").where(
            "access_rule_id",
            .in,
            SQLSubquery.select { $0.column("id").from("access_rule").where("user_id", .equal, userID) }
        ).run()
        try await sql.delete(from: "access_rule").where("user_id", .equal, userID).run()
    }
}
