import SQLKit
import StratusStorage

/// Flavors, their extra specs and their project access (API database).
struct FlavorStore: Sendable {
    struct Flavor: Sendable, Decodable, Equatable {
        var id: Int64
        var flavorid: String
        var name: String
        var memoryMb: Int64
        var vcpus: Int64
        var rootGb: Int64
        var ephemeralGb: Int64
        var swap: Int64
        var rxtxFactor: Double
        var isPublic: Bool
        var disabled: Bool
        var description: String?
    }

    static let columns = [
        "id", "flavorid", "name", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "swap", "rxtx_factor", "is_public", "disabled", "description",
    ]

    enum Taken: Error { case name, id }

    func create(_ f: Flavor, now: String, in sql: any SQLDatabase) async throws(Taken) -> Flavor {
        do {
            if try await sql.select().column("id").from("flavors").where("name", .equal, f.name).first() != nil { throw Taken.name }
            if try await find(f.flavorid, in: sql) != nil { throw Taken.id }
            try await sql.insert(into: "flavors").columns(Array(Self.columns.dropFirst()) + ["created_at"]).values(
                SQLBind(f.flavorid),
                SQLBind(f.name),
                SQLBind(f.memoryMb),
                SQLBind(f.vcpus),
                SQLBind(f.rootGb),
                SQLBind(f.ephemeralGb),
                SQLBind(f.swap),
                SQLBind(f.rxtxFactor),
                SQLBind(f.isPublic),
                SQLBind(false),
                SQLBind(f.description),
                SQLBind(now)
            ).run()
            guard let stored = try await find(f.flavorid, in: sql) else { throw Taken.id }
            return stored
        } catch let e as Taken {
            throw e
        } catch StorageError.uniqueViolation {
            throw Taken.name
        } catch {
            throw Taken.id
        }
    }

    func find(_ flavorid: String, in sql: any SQLDatabase) async throws -> Flavor? {
        try await sql.select().columns(Self.columns).from("flavors").where("flavorid", .equal, flavorid).first()?.decode(Flavor.self)
    }

    /// Flavors in nova's default order (flavorid), public ones and, for `project`, the private
    /// ones it was given; nil `project` with `includePrivate` lists every flavor (admin).
    func list(isPublic: Bool?, project: String?, minRAM: Int64?, minDisk: Int64?, in sql: any SQLDatabase) async throws -> [Flavor] {
        var q = sql.select().columns(Self.columns.map { SQLColumn($0, table: "flavors") }).from("flavors")
        if let isPublic {
            if isPublic, let project {
                q = q.where { w in
                    w.where(SQLColumn("is_public", table: "flavors"), .equal, SQLBind(true))
                        .orWhere(
                            SQLColumn("id", table: "flavors"),
                            .in,
                            SQLSubquery.select { $0.column("flavor_id").from("flavor_projects").where("project_id", .equal, project) }
                        )
                }
            } else {
                q = q.where(SQLColumn("is_public", table: "flavors"), .equal, SQLBind(isPublic))
            }
        }
        if let minRAM { q = q.where("memory_mb", .greaterThanOrEqual, minRAM) }
        if let minDisk { q = q.where("root_gb", .greaterThanOrEqual, minDisk) }
        return try await q.orderBy("flavorid").all().map { try $0.decode(Flavor.self) }
    }

    func delete(_ id: Int64, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "flavor_extra_specs").where("flavor_id", .equal, id).run()
        try await sql.delete(from: "flavor_projects").where("flavor_id", .equal, id).run()
        try await sql.delete(from: "flavors").where("id", .equal, id).run()
    }

    func setDescription(_ id: Int64, _ description: String?, in sql: any SQLDatabase) async throws {
        try await sql.update("flavors").set("description", to: SQLBind(description)).where("id", .equal, id).run()
    }

    func extraSpecs(_ id: Int64, in sql: any SQLDatabase) async throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try await sql.select().columns("spec_key", "spec_value").from("flavor_extra_specs").where("flavor_id", .equal, id).all() {
            out[try row.decode(column: "spec_key", as: String.self)] = try row.decode(column: "spec_value", as: String.self)
        }
        return out
    }

    func setExtraSpecs(_ id: Int64, _ specs: [String: String], in sql: any SQLDatabase) async throws {
        for (k, v) in specs.sorted(by: { $0.key < $1.key }) {
            try await sql.delete(from: "flavor_extra_specs").where("flavor_id", .equal, id).where("spec_key", .equal, k).run()
            try await sql.insert(into: "flavor_extra_specs").columns("flavor_id", "spec_key", "spec_value").values(
                SQLBind(id),
                SQLBind(k),
                SQLBind(v)
            )
            .run()
        }
    }

    /// Removes one extra spec; false when the flavor had none by that key.
    func deleteExtraSpec(_ id: Int64, _ key: String, in sql: any SQLDatabase) async throws -> Bool {
        guard try await extraSpecs(id, in: sql)[key] != nil else { return false }
        try await sql.delete(from: "flavor_extra_specs").where("flavor_id", .equal, id).where("spec_key", .equal, key).run()
        return true
    }

    func projects(_ id: Int64, in sql: any SQLDatabase) async throws -> [String] {
        try await sql.select().column("project_id").from("flavor_projects").where("flavor_id", .equal, id).orderBy("project_id").all()
            .map { try $0.decode(column: "project_id", as: String.self) }
    }

    /// Grants a project access; false when it had it.
    func addProject(_ id: Int64, _ project: String, in sql: any SQLDatabase) async throws -> Bool {
        if try await projects(id, in: sql).contains(project) { return false }
        try await sql.insert(into: "flavor_projects").columns("flavor_id", "project_id").values(SQLBind(id), SQLBind(project)).run()
        return true
    }

    /// Revokes a project's access; false when it had none.
    func removeProject(_ id: Int64, _ project: String, in sql: any SQLDatabase) async throws -> Bool {
        guard try await projects(id, in: sql).contains(project) else { return false }
        try await sql.delete(from: "flavor_projects").where("flavor_id", .equal, id).where("project_id", .equal, project).run()
        return true
    }
}

/// Key pairs, per user (API database).
struct KeypairStore: Sendable {
    struct Keypair: Sendable, Decodable {
        var id: Int64
        var name: String
        var userId: String
        var fingerprint: String
        var publicKey: String
        var type: String
        var createdAt: String
    }

    static let columns = ["id", "name", "user_id", "fingerprint", "public_key", "type", "created_at"]

    /// Adds a key pair; nil when the user has one by that name.
    func create(
        name: String,
        user: String,
        fingerprint: String,
        publicKey: String,
        type: String,
        now: String,
        in sql: any SQLDatabase
    )
        async throws -> Keypair?
    {
        if try await find(user: user, name: name, in: sql) != nil { return nil }
        try await sql.insert(into: "key_pairs").columns(Array(Self.columns.dropFirst())).values(
            SQLBind(name),
            SQLBind(user),
            SQLBind(fingerprint),
            SQLBind(publicKey),
            SQLBind(type),
            SQLBind(now)
        ).run()
        return try await find(user: user, name: name, in: sql)
    }

    func find(user: String, name: String, in sql: any SQLDatabase) async throws -> Keypair? {
        try await sql.select().columns(Self.columns).from("key_pairs").where("user_id", .equal, user).where("name", .equal, name).first()?
            .decode(Keypair.self)
    }

    func list(user: String, in sql: any SQLDatabase) async throws -> [Keypair] {
        try await sql.select().columns(Self.columns).from("key_pairs").where("user_id", .equal, user).orderBy("name").all()
            .map { try $0.decode(Keypair.self) }
    }

    func delete(user: String, name: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "key_pairs").where("user_id", .equal, user).where("name", .equal, name).run()
    }
}

/// Per-project quota limits set through os-quota-sets (API database); the rest are nova.conf's.
struct ComputeQuotaStore: Sendable {
    func limits(project: String, in sql: any SQLDatabase) async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for row in try await sql.select().columns("resource", "hard_limit").from("quotas").where("project_id", .equal, project).all() {
            out[try row.decode(column: "resource", as: String.self)] = try row.decode(column: "hard_limit", as: Int.self)
        }
        return out
    }

    func set(project: String, _ limits: [String: Int], in sql: any SQLDatabase) async throws {
        for (resource, limit) in limits.sorted(by: { $0.key < $1.key }) {
            try await sql.delete(from: "quotas").where("project_id", .equal, project).where("resource", .equal, resource).run()
            try await sql.insert(into: "quotas").columns("project_id", "resource", "hard_limit").values(
                SQLBind(project),
                SQLBind(resource),
                SQLBind(limit)
            )
            .run()
        }
    }

    func clear(project: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "quotas").where("project_id", .equal, project).run()
    }
}
