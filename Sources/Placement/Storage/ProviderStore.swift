import Foundation
import SQLKit
import StratusStorage

/// A resource provider as stored.
struct ProviderRecord: Sendable, Equatable, Decodable {
    var uuid: String
    var name: String
    var generation: Int
    var parentUUID: String?
    var rootUUID: String
    var updatedAt: Int64

    /// Decoded straight from a `resource_providers` row (`parent_uuid` arrives as `parentUuid`).
    enum CodingKeys: String, CodingKey {
        case uuid, name, generation, updatedAt
        case parentUUID = "parentUuid"
        case rootUUID = "rootUuid"
    }
}

/// `resource_providers` and `placement_state`: providers, their tree links and generations,
/// and the change sequence the in-memory `ProviderView` follows.
struct ProviderStore: Sendable {
    static let columns = ["uuid", "name", "generation", "parent_uuid", "root_uuid", "updated_at"]

    /// The provider `uuid`, or nil.
    func find(_ uuid: String, in sql: any SQLDatabase) async throws -> ProviderRecord? {
        try await sql.select().columns(Self.columns).from("resource_providers").where("uuid", .equal, uuid).first()?.decode(ProviderRecord.self)
    }

    /// The providers named by `uuids` that exist, by uuid.
    func find(_ uuids: [String], in sql: any SQLDatabase) async throws -> [String: ProviderRecord] {
        guard !uuids.isEmpty else { return [:] }
        let rows = try await sql.select().columns(Self.columns).from("resource_providers").where("uuid", .in, uuids).all()
        return Dictionary(
            uniqueKeysWithValues: try rows.map {
                let r = try $0.decode(ProviderRecord.self)
                return (r.uuid, r)
            }
        )
    }

    /// The provider called `name`, or nil.
    func find(name: String, in sql: any SQLDatabase) async throws -> ProviderRecord? {
        try await sql.select().columns(Self.columns).from("resource_providers").where("name", .equal, name).first()?.decode(ProviderRecord.self)
    }

    /// Inserts a provider (generation 0); a taken name or uuid throws `PlacementError.duplicateName`.
    func create(_ p: ProviderRecord, in sql: any SQLDatabase) async throws {
        // The state row first: concurrent creators queue, so the name and uuid checks are current.
        let seq = try await nextSeq(in: sql)
        if try await find(p.uuid, in: sql) != nil {
            throw PlacementError.duplicateName("Conflicting resource provider uuid: \(p.uuid) already exists.")
        }
        if try await find(name: p.name, in: sql) != nil {
            throw PlacementError.duplicateName("Conflicting resource provider name: \(p.name) already exists.")
        }
        let now = Clock.now
        try await sql.insert(into: "resource_providers")
            .columns("uuid", "name", "generation", "parent_uuid", "root_uuid", "change_seq", "created_at", "updated_at")
            .values(
                SQLBind(p.uuid),
                SQLBind(p.name),
                SQLBind(0),
                SQLBind(p.parentUUID),
                SQLBind(p.rootUUID),
                SQLBind(seq),
                SQLBind(now),
                SQLBind(now)
            )
            .run()
    }

    /// Renames and/or moves a provider (its whole subtree follows it to the new root).
    func update(_ p: ProviderRecord, name: String, parentUUID: String?, rootUUID: String, in sql: any SQLDatabase) async throws {
        if name != p.name, try await find(name: name, in: sql) != nil {
            throw PlacementError.duplicateName("Conflicting resource provider name: \(name) already exists.")
        }
        let seq = try await nextSeq(in: sql)
        try await sql.update("resource_providers").set("name", to: name).set("parent_uuid", to: parentUUID)
            .set("change_seq", to: seq).set("updated_at", to: Clock.now).where("uuid", .equal, p.uuid).run()
        if rootUUID != p.rootUUID {
            for uuid in try await subtree(of: p.uuid, in: sql) {
                try await sql.update("resource_providers").set("root_uuid", to: rootUUID).set("change_seq", to: seq)
                    .where("uuid", .equal, uuid).run()
            }
        }
    }

    /// `uuid` and every provider below it.
    func subtree(of uuid: String, in sql: any SQLDatabase) async throws -> [String] {
        var result = [uuid]
        var frontier = [uuid]
        while !frontier.isEmpty {
            let rows = try await sql.select().column("uuid").from("resource_providers").where("parent_uuid", .in, frontier).all()
            frontier = try rows.map { try $0.decode(column: "uuid", as: String.self) }
            result += frontier
        }
        return result
    }

    /// Whether any provider has `uuid` as its parent.
    func hasChildren(_ uuid: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("uuid").from("resource_providers").where("parent_uuid", .equal, uuid).limit(1).first() != nil
    }

    /// Deletes a provider with its inventories, traits and aggregate links.
    func delete(_ uuid: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "resource_providers").where("uuid", .equal, uuid).run()
        try await invalidateAll(in: sql)
    }

    /// Makes every process reload all providers (a change no provider's row records, such as a
    /// resource class rename).
    func invalidateAll(in sql: any SQLDatabase) async throws {
        try await sql.update("placement_state").set(SQLIdentifier("structure"), to: SQLRaw("structure + 1")).where("id", .equal, 1).run()
        _ = try await nextSeq(in: sql)
    }

    /// Bumps the provider's generation if it is still `expected`; else `PlacementError.concurrentUpdate`
    /// (placement's "resource provider generation conflict"). Returns the new generation.
    @discardableResult
    func bumpGeneration(_ uuid: String, expected: Int, in sql: any SQLDatabase) async throws -> Int {
        let seq = try await nextSeq(in: sql)
        let rows = try await sql.update("resource_providers")
            .set(SQLIdentifier("generation"), to: SQLRaw("generation + 1"))
            .set("change_seq", to: seq).set("updated_at", to: Clock.now)
            .where("uuid", .equal, uuid).where("generation", .equal, expected)
            .returning("generation").all()
        guard let row = rows.first else { throw PlacementError.concurrentUpdate("resource provider generation conflict") }
        return try row.decode(column: "generation", as: Int.self)
    }

    /// Marks providers changed (for `ProviderView`) without touching their generation.
    func touch(_ uuids: [String], in sql: any SQLDatabase) async throws {
        guard !uuids.isEmpty else { return }
        let seq = try await nextSeq(in: sql)
        try await sql.update("resource_providers").set("change_seq", to: seq).where("uuid", .in, uuids).run()
    }

    /// Queues this transaction behind every other placement write (the state row's lock), so the
    /// checks that follow see every committed change.
    func lock(in sql: any SQLDatabase) async throws {
        _ = try await nextSeq(in: sql)
    }

    /// The next change sequence number (row-locked until the transaction ends, so numbers commit in order).
    func nextSeq(in sql: any SQLDatabase) async throws -> Int64 {
        let row = try await sql.update("placement_state").set(SQLIdentifier("seq"), to: SQLRaw("seq + 1")).where("id", .equal, 1)
            .returning("seq").first()
        return try row!.decode(column: "seq", as: Int64.self)
    }

    /// The current change counters.
    func state(in sql: any SQLDatabase) async throws -> ViewState {
        let row = try await sql.select().columns("seq", "structure", "names").from("placement_state").where("id", .equal, 1).first()!
        return ViewState(
            seq: try row.decode(column: "seq", as: Int64.self),
            structure: try row.decode(column: "structure", as: Int64.self),
            names: try row.decode(column: "names", as: Int64.self)
        )
    }

    /// Records that resource classes or traits changed (see `PlacementMigrations`).
    func namesChanged(in sql: any SQLDatabase) async throws {
        try await sql.update("placement_state").set(SQLIdentifier("names"), to: SQLRaw("names + 1")).where("id", .equal, 1).run()
    }
}

/// `placement_state`'s counters: what a `ProviderView` compares to know whether it is current.
struct ViewState: Sendable, Equatable {
    var seq: Int64
    var structure: Int64
    var names: Int64
}

/// Seconds since the epoch, as placement's rows store timestamps.
enum Clock {
    static var now: Int64 { Int64(Date().timeIntervalSince1970) }
}
