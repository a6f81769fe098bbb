import SQLKit
import StratusCore

/// A keystone domain as stored: the container of users, groups, projects and domain roles.
struct DomainRecord: Sendable, Equatable {
    var id: String
    var name: String
    var description: String?
    var enabled: Bool
    /// Free-form attributes keystone keeps beside the known ones.
    var extra: [String: JSON]
}

/// Domains in the identity database, with the cascade that removes a domain's contents.
struct DomainStore: Sendable {
    /// One `domain` row, exactly as the table has it.
    struct Row: Decodable {
        var id: String
        var name: String
        var description: String?
        var enabled: Bool
        var extra: String

        func record() throws -> DomainRecord {
            DomainRecord(id: id, name: name, description: description, enabled: enabled, extra: try UserStore.jsonObject(extra))
        }
    }

    /// The domain `id`; `IdentityError.notFound` when there is none.
    func get(_ id: String, in sql: any SQLDatabase) async throws -> DomainRecord {
        guard let row = try await sql.select().columns("*").from("domain").where("id", .equal, id).first() else {
            throw IdentityError.notFound(kind: "domain", id: id)
        }
        return try row.decode(Row.self).record()
    }

    /// The domain called `name` (names are unique across domains), or nil. Without an exact
    /// match, a single domain whose name differs only in case answers, as keystone on the
    /// guide's MariaDB (case-insensitive collation) does: the guide's configs say
    /// `project_domain_name = default` for the domain named `Default`.
    func find(name: String, in sql: any SQLDatabase) async throws -> DomainRecord? {
        if let exact = try await sql.select().columns("*").from("domain").where("name", .equal, name).first() {
            return try exact.decode(Row.self).record()
        }
        let folded = try await sql.select().columns("*").from("domain")
            .where(SQLFunction("LOWER", args: SQLIdentifier("name")), .equal, SQLBind(name.lowercased())).limit(2).all()
        return folded.count == 1 ? try folded[0].decode(Row.self).record() : nil
    }

    /// Whether a domain `id` exists.
    func exists(_ id: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("id").from("domain").where("id", .equal, id).first() != nil
    }

    /// Domains matching every given filter (only `id` when given), by name; at most `limit` rows.
    func list(
        id: String? = nil,
        name: String? = nil,
        matching inexact: [InexactFilter] = [],
        enabled: Bool? = nil,
        limit: Int? = nil,
        in sql: any SQLDatabase
    ) async throws -> [DomainRecord] {
        let query = sql.select().columns("*").from("domain").filter(inexact)
        if let id { query.where("id", .equal, id) }
        if let name { query.where("name", .equal, name) }
        if let enabled { query.where("enabled", .equal, enabled) }
        if let limit { query.limit(limit) }
        return try await query.orderBy("name").all().map { try $0.decode(Row.self).record() }
    }

    /// Enabled domains on which `userID` holds a role, directly or through a group (`/v3/auth/domains`).
    func list(assignedTo userID: String, in sql: any SQLDatabase) async throws -> [DomainRecord] {
        try await sql.select().columns("*").from("domain")
            .where("enabled", .equal, true)
            .where("id", .in, AssignmentStore.targetIDs(grantedTo: userID, types: ["UserDomain", "GroupDomain"]))
            .orderBy("name").all().map { try $0.decode(Row.self).record() }
    }

    /// Inserts `domain`; `StorageError.uniqueViolation` when its id or name is taken.
    @discardableResult
    func create(_ domain: DomainRecord, in sql: any SQLDatabase) async throws -> DomainRecord {
        try await sql.insert(into: "domain")
            .columns("id", "name", "description", "enabled", "extra")
            .values(
                SQLBind(domain.id),
                SQLBind(domain.name),
                SQLBind(domain.description),
                SQLBind(domain.enabled),
                SQLBind(JSON.object(domain.extra).serialized())
            )
            .run()
        return try await get(domain.id, in: sql)
    }

    /// Changes the given attributes (`description: .some(nil)` clears it) and returns the result.
    func update(
        _ id: String,
        name: String? = nil,
        description: String?? = nil,
        enabled: Bool? = nil,
        in sql: any SQLDatabase
    ) async throws -> DomainRecord {
        _ = try await get(id, in: sql)
        let update = sql.update("domain").where("id", .equal, id)
        let changed = [
            update.set("name", ifGiven: name),
            update.set("description", ifGiven: description),
            update.set("enabled", ifGiven: enabled),
        ].contains(true)
        if changed { try await update.run() }
        return try await get(id, in: sql)
    }

    /// Deletes a disabled domain and everything in it: its users (with their credentials and
    /// assignments), groups (with theirs), projects, assignments on it and on its projects, and
    /// its domain-specific roles. 404 unknown; 403 while it is enabled. Runs in the caller's
    /// transaction.
    func delete(_ id: String, in sql: any SQLDatabase) async throws {
        guard try await get(id, in: sql).enabled == false else {
            throw IdentityError.forbidden("Cannot delete a domain that is enabled, please disable it first.")
        }
        let users = SQLSubquery.select { $0.column("id").from("identity_user").where("domain_id", .equal, id) }
        let groups = SQLSubquery.select { $0.column("id").from("identity_group").where("domain_id", .equal, id) }
        let projects = SQLSubquery.select { $0.column("id").from("project").where("domain_id", .equal, id) }
        try await sql.delete(from: "credential").where("user_id", .in, users).run()
        try await sql.delete(from: "assignment").where("actor_id", .in, users).orWhere("actor_id", .in, groups).run()
        try await sql.delete(from: "identity_user").where("domain_id", .equal, id).run()
        try await sql.delete(from: "identity_group").where("domain_id", .equal, id).run()
        try await sql.delete(from: "assignment").where("target_id", .in, projects).orWhere("target_id", .equal, id).run()
        try await sql.delete(from: "project_tag").where("project_id", .in, projects).run()
        try await sql.delete(from: "project").where("domain_id", .equal, id).run()
        try await sql.delete(from: "role").where("domain_id", .equal, id).run()
        try await sql.delete(from: "domain").where("id", .equal, id).run()
    }
}
