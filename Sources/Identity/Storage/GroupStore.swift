import SQLKit
import StratusCore
import StratusStorage

/// A group as stored in `identity_group`.
struct GroupRecord: Sendable, Equatable {
    var id: String
    var name: String
    var domainID: String
    var description: String?
    var extra: [String: JSON] = [:]
}

/// Groups (`identity_group`) and their members (`group_membership`).
struct GroupStore: Sendable {
    /// One `identity_group` row; a missing or mistyped column throws.
    struct Row: Decodable {
        var id: String
        var name: String
        var domainId: String
        var description: String?
        var extra: String
    }

    /// The record of a row selected with `identity_group.*`.
    static func record(_ row: any SQLRow) throws -> GroupRecord {
        let r = try row.decode(Row.self)
        return GroupRecord(id: r.id, name: r.name, domainID: r.domainId, description: r.description, extra: try UserStore.jsonObject(r.extra))
    }

    /// The group with `id`; `IdentityError.notFound(kind: "group")` when absent.
    func get(_ id: String, in sql: any SQLDatabase) async throws -> GroupRecord {
        guard let row = try await sql.select().column("*").from("identity_group").where("id", .equal, id).first() else {
            throw IdentityError.notFound(kind: "group", id: id)
        }
        return try Self.record(row)
    }

    /// Groups matching every given filter, by name; at most `limit` rows.
    func list(
        name: String? = nil,
        matching inexact: [InexactFilter] = [],
        domainID: String? = nil,
        limit: Int? = nil,
        in sql: any SQLDatabase
    ) async throws -> [GroupRecord] {
        var q = sql.select().column("*").from("identity_group").filter(inexact)
        if let name { q = q.where("name", .equal, name) }
        if let domainID { q = q.where("domain_id", .equal, domainID) }
        if let limit { q = q.limit(limit) }
        return try await q.orderBy("name").all().map(Self.record)
    }

    /// Inserts `group`; a taken (domain, name) throws `IdentityError.duplicate`.
    func create(_ group: GroupRecord, in sql: any SQLDatabase) async throws {
        do {
            try await sql.insert(into: "identity_group").columns("id", "name", "domain_id", "description", "extra")
                .values(
                    SQLBind(group.id),
                    SQLBind(group.name),
                    SQLBind(group.domainID),
                    SQLBind(group.description),
                    SQLBind(JSON.object(group.extra).serialized())
                )
                .run()
        } catch {
            throw IdentityError.translating(StorageError.classify(error) ?? error)
        }
    }

    /// Renames and/or redescribes the group (`description: .some(nil)` clears it); returns it updated.
    /// Changes the given attributes; `extra` attributes merge into the stored ones.
    func update(
        _ id: String,
        name: String?,
        description: String??,
        extra: [String: JSON] = [:],
        in sql: any SQLDatabase
    ) async throws
        -> GroupRecord
    {
        let current = try await get(id, in: sql)
        guard name != nil || description != nil || !extra.isEmpty else { return current }
        var q = sql.update("identity_group").where("id", .equal, id)
        if let name { q = q.set("name", to: name) }
        if let description { q = q.set("description", to: description) }
        if !extra.isEmpty { q = q.set("extra", to: JSON.object(current.extra.merging(extra) { _, new in new }).serialized()) }
        do {
            try await q.run()
        } catch {
            throw IdentityError.translating(StorageError.classify(error) ?? error)
        }
        return try await get(id, in: sql)
    }

    /// Deletes the group; memberships go with it (ON DELETE CASCADE). Its role assignments have no
    /// foreign key: the caller removes them (`AssignmentStore.removeAll(actorID:)`). 404 when absent.
    func delete(_ id: String, in sql: any SQLDatabase) async throws {
        _ = try await get(id, in: sql)
        try await sql.delete(from: "identity_group").where("id", .equal, id).run()
    }

    // MARK: Membership

    /// Whether `userID` is a member of `groupID`.
    func isMember(_ userID: String, of groupID: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("user_id").from("group_membership")
            .where("user_id", .equal, userID).where("group_id", .equal, groupID).first() != nil
    }

    /// Adds `userID` to `groupID`; adding a member again is no change.
    func addMember(_ userID: String, to groupID: String, in sql: any SQLDatabase) async throws {
        guard try await !isMember(userID, of: groupID, in: sql) else { return }
        try await sql.insert(into: "group_membership").columns("user_id", "group_id").values(SQLBind(userID), SQLBind(groupID)).run()
    }

    /// Removes `userID` from `groupID`; false when it was not a member.
    @discardableResult
    func removeMember(_ userID: String, from groupID: String, in sql: any SQLDatabase) async throws -> Bool {
        guard try await isMember(userID, of: groupID, in: sql) else { return false }
        try await sql.delete(from: "group_membership").where("user_id", .equal, userID).where("group_id", .equal, groupID).run()
        return true
    }

    /// The ids of the groups `userID` belongs to (effective roles, tokens).
    func groupIDs(ofUser userID: String, in sql: any SQLDatabase) async throws -> [String] {
        try await sql.select().column("group_id").from("group_membership").where("user_id", .equal, userID).orderBy("group_id")
            .all(decodingColumn: "group_id", as: String.self)
    }

    /// The groups `userID` belongs to, by name.
    func groups(ofUser userID: String, in sql: any SQLDatabase) async throws -> [GroupRecord] {
        try await sql.select().column(SQLColumn(SQLLiteral.all, table: SQLIdentifier("g"))).from(SQLAlias(SQLIdentifier("identity_group"), as: "g"))
            .join(
                SQLAlias(SQLIdentifier("group_membership"), as: "m"),
                method: SQLJoinMethod.inner,
                on: SQLColumn("group_id", table: "m"),
                .equal,
                SQLColumn("id", table: "g")
            )
            .where(SQLColumn("user_id", table: "m"), .equal, SQLBind(userID))
            .orderBy(SQLColumn("name", table: "g")).all().map(Self.record)
    }

    /// The members of `groupID`, by name.
    func users(inGroup groupID: String, in sql: any SQLDatabase) async throws -> [UserRecord] {
        try await sql.select().column(SQLColumn(SQLLiteral.all, table: SQLIdentifier("u"))).from(SQLAlias(SQLIdentifier("identity_user"), as: "u"))
            .join(
                SQLAlias(SQLIdentifier("group_membership"), as: "m"),
                method: SQLJoinMethod.inner,
                on: SQLColumn("user_id", table: "m"),
                .equal,
                SQLColumn("id", table: "u")
            )
            .where(SQLColumn("group_id", table: "m"), .equal, SQLBind(groupID))
            .orderBy(SQLColumn("name", table: "u")).all().map(UserStore.record)
    }
}
