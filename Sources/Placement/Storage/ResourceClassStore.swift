import SQLKit
import StratusStorage

/// `resource_classes`: the standard classes (ids in os-resource-classes order, as placement
/// assigns them) and custom `CUSTOM_*` ones (ids from 10000).
struct ResourceClassStore: Sendable {
    static let firstCustomID = 10000

    /// Every class name in id order.
    func list(in sql: any SQLDatabase) async throws -> [(name: String, updatedAt: Int64)] {
        try await sql.select().columns("name", "updated_at").from("resource_classes").orderBy("id").all().map {
            (try $0.decode(column: "name", as: String.self), try $0.decode(column: "updated_at", as: Int64.self))
        }
    }

    /// The class's last change time, or nil when it does not exist.
    func find(_ name: String, in sql: any SQLDatabase) async throws -> Int64? {
        try await sql.select().column("updated_at").from("resource_classes").where("name", .equal, name).first()?
            .decode(column: "updated_at", as: Int64.self)
    }

    /// Which of `names` exist.
    func existing(_ names: [String], in sql: any SQLDatabase) async throws -> Set<String> {
        guard !names.isEmpty else { return [] }
        return Set(
            try await sql.select().column("name").from("resource_classes").where("name", .in, names).all()
                .map { try $0.decode(column: "name", as: String.self) }
        )
    }

    /// Inserts a custom class; `PlacementError.duplicateName` when taken.
    func create(_ name: String, in sql: any SQLDatabase) async throws {
        // The state row first: concurrent creators queue, so MAX(id) + 1 and the name check are current.
        try await ProviderStore().namesChanged(in: sql)
        if try await find(name, in: sql) != nil {
            throw PlacementError.duplicateName("Conflicting resource class already exists: \(name)")
        }
        let row = try await sql.select().column(SQLRaw("MAX(id) AS id")).from("resource_classes").where("id", .greaterThanOrEqual, Self.firstCustomID)
            .first()
        let maxID = try row?.decode(column: "id", as: Int?.self) ?? nil
        let now = Clock.now
        try await sql.insert(into: "resource_classes").columns("name", "id", "created_at", "updated_at")
            .values(SQLBind(name), SQLBind((maxID ?? Self.firstCustomID - 1) + 1), SQLBind(now), SQLBind(now)).run()
        try await ProviderStore().namesChanged(in: sql)
    }

    /// Creates the class unless it exists (PUT from 1.7); true when this call created it.
    func ensure(_ name: String, in sql: any SQLDatabase) async throws -> Bool {
        try await ProviderStore().namesChanged(in: sql)
        if try await find(name, in: sql) != nil { return false }
        try await create(name, in: sql)
        return true
    }

    /// Renames a custom class (before 1.7).
    func rename(_ name: String, to newName: String, in sql: any SQLDatabase) async throws {
        if try await find(newName, in: sql) != nil {
            throw PlacementError.duplicateName("Resource class already exists: \(newName)")
        }
        try await sql.update("resource_classes").set("name", to: newName).set("updated_at", to: Clock.now).where("name", .equal, name).run()
        try await ProviderStore().invalidateAll(in: sql)
        try await ProviderStore().namesChanged(in: sql)
    }

    /// Deletes a custom class; 409 when any inventory or allocation uses it.
    func delete(_ name: String, in sql: any SQLDatabase) async throws {
        let inInventory = try await sql.select().column("resource_class").from("inventories").where("resource_class", .equal, name).limit(1).first()
        let inAllocations = try await sql.select().column("resource_class").from("allocations").where("resource_class", .equal, name).limit(1).first()
        if inInventory != nil || inAllocations != nil {
            throw PlacementError.conflict("Cannot delete resource class \(name). Class is in use in inventory.")
        }
        try await sql.delete(from: "resource_classes").where("name", .equal, name).run()
        try await ProviderStore().namesChanged(in: sql)
    }

    /// Adds the standard classes that are missing, at their standard ids.
    func sync(_ names: [String], in sql: any SQLDatabase) async throws {
        let existing = try await self.existing(names, in: sql)
        let now = Clock.now
        if existing.count < Set(names).count { try await ProviderStore().namesChanged(in: sql) }
        for (id, name) in names.enumerated() where !existing.contains(name) {
            try await sql.insert(into: "resource_classes").columns("name", "id", "created_at", "updated_at")
                .values(SQLBind(name), SQLBind(id), SQLBind(now), SQLBind(now)).run()
        }
    }
}
