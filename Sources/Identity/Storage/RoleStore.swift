import SQLKit
import StratusCore
import StratusStorage

/// A role: global, or specific to one domain.
struct RoleRecord: Sendable, Equatable {
    var id: String
    var name: String
    /// nil for a global role (stored as `'<<null>>'`, see `IdentityMigrations`).
    var domainID: String?
    var description: String?
}

/// Roles and implied-role rules (`role`, `implied_role`), and the roles granted on a target.
struct RoleStore: Sendable {
    /// What `role.domain_id` holds for a global role, so (domain_id, name) stays unique on both databases.
    static let globalDomain = "<<null>>"

    /// One `role` row (the columns the API shows).
    struct Row: Decodable {
        var id: String
        var name: String
        var domainId: String
        var description: String?

        var record: RoleRecord {
            RoleRecord(id: id, name: name, domainID: domainId == RoleStore.globalDomain ? nil : domainId, description: description)
        }
    }

    /// One `implied_role` row.
    struct ImplicationRow: Decodable {
        var priorRoleId: String
        var impliedRoleId: String
    }

    static let columns = ["id", "name", "domain_id", "description"]

    /// The role `id`; `IdentityError.notFound(kind: "role")` when absent.
    func get(_ id: String, in sql: any SQLDatabase) async throws -> RoleRecord {
        guard let row = try await sql.select().columns(Self.columns).from("role").where("id", .equal, id).first() else {
            throw IdentityError.notFound(kind: "role", id: id)
        }
        return try row.decode(Row.self).record
    }

    /// The role called `name` in `domainID` (nil: the global one), or nil.
    func find(name: String, domainID: String?, in sql: any SQLDatabase) async throws -> RoleRecord? {
        try await sql.select().columns(Self.columns).from("role").where("name", .equal, name)
            .where("domain_id", .equal, domainID ?? Self.globalDomain).first()?.decode(Row.self).record
    }

    /// The roles of `domainID` (nil: the global roles), optionally only the one called `name`, by name.
    func list(
        domainID: String?,
        name: String? = nil,
        matching inexact: [InexactFilter] = [],
        limit: Int? = nil,
        in sql: any SQLDatabase
    ) async throws -> [RoleRecord] {
        let query = sql.select().columns(Self.columns).from("role").where("domain_id", .equal, domainID ?? Self.globalDomain).filter(inexact)
        if let name { query.where("name", .equal, name) }
        if let limit { query.limit(limit) }
        return try await query.orderBy("name").all().map { try $0.decode(Row.self).record }
    }

    /// Inserts `role` and returns it as stored; a taken (domain, name) throws `IdentityError.duplicate`.
    func create(_ role: RoleRecord, in sql: any SQLDatabase) async throws -> RoleRecord {
        do {
            try await sql.insert(into: "role").columns(Self.columns)
                .values(SQLBind(role.id), SQLBind(role.name), SQLBind(role.domainID ?? Self.globalDomain), SQLBind(role.description))
                .run()
        } catch {
            throw IdentityError.translating(StorageError.classify(error) ?? error)
        }
        return try await get(role.id, in: sql)
    }

    /// Renames and/or re-describes the role (`description: .some(nil)` clears it); 404 unknown.
    func update(_ id: String, name: String?, description: String??, in sql: any SQLDatabase) async throws -> RoleRecord {
        let update = sql.update("role").where("id", .equal, id)
        let changed = [
            update.set("name", ifGiven: name),
            update.set("description", ifGiven: description),
        ].contains(true)
        if changed {
            do {
                try await update.run()
            } catch {
                throw IdentityError.translating(StorageError.classify(error) ?? error)
            }
        }
        return try await get(id, in: sql)
    }

    /// Deletes the role with its assignments, the rules it takes part in and its delegations
    /// to application credentials.
    func delete(_ id: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "assignment").where("role_id", .equal, id).run()
        try await sql.delete(from: "implied_role").where("prior_role_id", .equal, id).orWhere("implied_role_id", .equal, id).run()
        try await sql.delete(from: "application_credential_role").where("role_id", .equal, id).run()
        try await sql.delete(from: "role").where("id", .equal, id).run()
    }

    /// The roles granted (not inherited) to `actor` on `target`, by name.
    func granted(
        to actor: RoleGrant.Actor,
        on target: RoleGrant.Target,
        inherited: Bool = false,
        in sql: any SQLDatabase
    ) async throws
        -> [RoleRecord]
    {
        let key = AssignmentStore.Key(actor: actor, target: target)
        return try await sql.select().columns(Self.columns.map { SQLColumn($0, table: "r") })
            .from(SQLAlias(SQLIdentifier("role"), as: "r"))
            .join(
                SQLAlias(SQLIdentifier("assignment"), as: "a"),
                method: SQLJoinMethod.inner,
                on: SQLColumn("role_id", table: "a"),
                .equal,
                SQLColumn("id", table: "r")
            )
            .where(SQLColumn("type", table: "a"), .equal, SQLBind(key.type))
            .where(SQLColumn("actor_id", table: "a"), .equal, SQLBind(key.actorID))
            .where(SQLColumn("target_id", table: "a"), .equal, SQLBind(key.targetID))
            .where(SQLColumn("inherited", table: "a"), .equal, SQLBind(inherited))
            .orderBy(SQLColumn("name", table: "r")).all().map { try $0.decode(Row.self).record }
    }

    // MARK: Implied roles

    /// The roles `prior` implies directly, by name.
    func implied(by prior: String, in sql: any SQLDatabase) async throws -> [RoleRecord] {
        try await sql.select().columns(Self.columns.map { SQLColumn($0, table: "r") })
            .from(SQLAlias(SQLIdentifier("role"), as: "r"))
            .join(
                SQLAlias(SQLIdentifier("implied_role"), as: "i"),
                method: SQLJoinMethod.inner,
                on: SQLColumn("implied_role_id", table: "i"),
                .equal,
                SQLColumn("id", table: "r")
            )
            .where(SQLColumn("prior_role_id", table: "i"), .equal, SQLBind(prior))
            .orderBy(SQLColumn("name", table: "r")).all().map { try $0.decode(Row.self).record }
    }

    /// Whether the rule exists.
    func exists(_ rule: RoleImplication, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("prior_role_id").from("implied_role")
            .where("prior_role_id", .equal, rule.prior).where("implied_role_id", .equal, rule.implied).first() != nil
    }

    /// Adds the rule; adding it again is not an error.
    func add(_ rule: RoleImplication, in sql: any SQLDatabase) async throws {
        try await remove(rule, in: sql)
        try await sql.insert(into: "implied_role").columns("prior_role_id", "implied_role_id")
            .values(SQLBind(rule.prior), SQLBind(rule.implied)).run()
    }

    /// Removes the rule (nothing when it does not exist).
    func remove(_ rule: RoleImplication, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "implied_role")
            .where("prior_role_id", .equal, rule.prior).where("implied_role_id", .equal, rule.implied).run()
    }

    /// Every implied-role rule, by prior then implied role id.
    func implications(in sql: any SQLDatabase) async throws -> [RoleImplication] {
        try await sql.select().columns("prior_role_id", "implied_role_id").from("implied_role")
            .orderBy("prior_role_id").orderBy("implied_role_id").all()
            .map {
                let r = try $0.decode(ImplicationRow.self)
                return RoleImplication(prior: r.priorRoleId, implied: r.impliedRoleId)
            }
    }

    /// The roles that take part in any rule, by name.
    func rolesInRules(in sql: any SQLDatabase) async throws -> [RoleRecord] {
        try await sql.select().columns(Self.columns).from("role")
            .where("id", .in, SQLSubquery.select { $0.column("prior_role_id").from("implied_role") })
            .orWhere("id", .in, SQLSubquery.select { $0.column("implied_role_id").from("implied_role") })
            .orderBy("name").all().map { try $0.decode(Row.self).record }
    }
}
