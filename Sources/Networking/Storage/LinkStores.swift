import SQLKit
import StratusCore
import StratusStorage

/// `port_security_groups`: the security groups of each port.
struct PortSecurityGroupStore: Sendable {
    func set(_ port: String, _ groups: [String], in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "port_security_groups").where("port_id", .equal, port).run()
        for g in Set(groups) {
            try await sql.insert(into: "port_security_groups").columns("port_id", "security_group_id").values(SQLBind(port), SQLBind(g)).run()
        }
    }

    func forPorts(_ ids: [String], in sql: any SQLDatabase) async throws -> [String: [String]] {
        guard !ids.isEmpty else { return [:] }
        var out: [String: [String]] = [:]
        for chunk in ids.chunked(500) {
            for r in try await sql.select().columns("port_id", "security_group_id").from("port_security_groups").where("port_id", .in, Array(chunk))
                .orderBy("security_group_id").all()
            {
                out[try r.decode(column: "port_id", as: String.self), default: []].append(try r.decode(column: "security_group_id", as: String.self))
            }
        }
        return out
    }

    func ports(groups: [String], in sql: any SQLDatabase) async throws -> [String] {
        try await sql.select().distinct().column("port_id").from("port_security_groups").where("security_group_id", .in, groups).all()
            .map { try $0.decode(column: "port_id", as: String.self) }
    }

    func inUse(_ group: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("port_id").from("port_security_groups").where("security_group_id", .equal, group).first() != nil
    }
}

/// `router_ports`: a router's gateway and interface ports.
struct RouterPortStore: Sendable {
    struct Link: Sendable {
        var routerID: String
        var portID: String
        var portType: String
    }

    func add(router: String, port: String, type: String, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "router_ports").columns("router_id", "port_id", "port_type")
            .values(SQLBind(router), SQLBind(port), SQLBind(type)).run()
    }

    func ports(router: String, in sql: any SQLDatabase) async throws -> [Link] {
        try await sql.select().columns("router_id", "port_id", "port_type").from("router_ports").where("router_id", .equal, router)
            .orderBy("port_id").all().map {
                Link(
                    routerID: try $0.decode(column: "router_id", as: String.self),
                    portID: try $0.decode(column: "port_id", as: String.self),
                    portType: try $0.decode(column: "port_type", as: String.self)
                )
            }
    }
}

/// `default_security_groups`: each project's `default` group.
struct DefaultSecurityGroupStore: Sendable {
    func find(project: String, in sql: any SQLDatabase) async throws -> String? {
        try await sql.select().column("security_group_id").from("default_security_groups").where("project_id", .equal, project).first()?
            .decode(column: "security_group_id", as: String.self)
    }

    func add(project: String, group: String, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "default_security_groups").columns("project_id", "security_group_id")
            .values(SQLBind(project), SQLBind(group)).run()
    }

    func isDefault(_ group: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("project_id").from("default_security_groups").where("security_group_id", .equal, group).first() != nil
    }

    func all(in sql: any SQLDatabase) async throws -> Set<String> {
        Set(
            try await sql.select().column("security_group_id").from("default_security_groups").all().map {
                try $0.decode(column: "security_group_id", as: String.self)
            }
        )
    }
}

/// `tags`, for every taggable kind (resource ids are uuids, unique across kinds).
struct TagStore: Sendable {
    func tags(_ ids: [String], in sql: any SQLDatabase) async throws -> [String: [String]] {
        guard !ids.isEmpty else { return [:] }
        var out: [String: [String]] = [:]
        for chunk in ids.chunked(500) {
            for r in try await sql.select().columns("resource_id", "tag").from("tags").where("resource_id", .in, Array(chunk)).orderBy("tag").all() {
                out[try r.decode(column: "resource_id", as: String.self), default: []].append(try r.decode(column: "tag", as: String.self))
            }
        }
        return out
    }

    func replace(_ id: String, _ tags: [String], in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "tags").where("resource_id", .equal, id).run()
        for t in Set(tags) { try await add(id, t, in: sql) }
    }

    func add(_ id: String, _ tag: String, in sql: any SQLDatabase) async throws {
        guard !(try await has(id, tag, in: sql)) else { return }
        try await sql.insert(into: "tags").columns("resource_id", "tag").values(SQLBind(id), SQLBind(tag)).run()
    }

    func has(_ id: String, _ tag: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("tag").from("tags").where("resource_id", .equal, id).where("tag", .equal, tag).first() != nil
    }

    @discardableResult
    func remove(_ id: String, _ tag: String?, in sql: any SQLDatabase) async throws -> Bool {
        let q = sql.delete(from: "tags").where("resource_id", .equal, id)
        if let tag { q.where("tag", .equal, tag) }
        return !(try await q.returning("tag").all()).isEmpty
    }
}

/// `segment_allocations`: the flat physnets, VLANs and VNIs in use (one network each).
struct SegmentStore: Sendable {
    func taken(type: String, physnet: String, id: Int64, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("network_id").from("segment_allocations").where("network_type", .equal, type)
            .where("physical_network", .equal, physnet).where("segmentation_id", .equal, id).first() != nil
    }

    func add(type: String, physnet: String, id: Int64, network: String, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "segment_allocations").columns("network_type", "physical_network", "segmentation_id", "network_id")
            .values(SQLBind(type), SQLBind(physnet), SQLBind(id), SQLBind(network)).run()
    }

    /// Every id in use for the type and physnet, ascending.
    func used(type: String, physnet: String, in sql: any SQLDatabase) async throws -> [Int64] {
        try await sql.select().column("segmentation_id").from("segment_allocations").where("network_type", .equal, type)
            .where("physical_network", .equal, physnet).orderBy("segmentation_id").all()
            .map { try $0.decode(column: "segmentation_id", as: Int64.self) }
    }

    /// Serializes allocations of one type: PostgreSQL takes a transaction-scoped advisory lock.
    func lock(type: String, in sql: any SQLDatabase) async throws {
        guard sql.dialect.name == "postgresql" else { return }
        var h: Int64 = 7_919
        for b in type.utf8 { h = h &* 31 &+ Int64(b) }
        _ = try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: h))").all()
    }

    func release(network: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "segment_allocations").where("network_id", .equal, network).run()
    }
}

/// `quotas`: per-project limits that differ from the configured defaults.
struct QuotaStore: Sendable {
    func limits(project: String, in sql: any SQLDatabase) async throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        for r in try await sql.select().columns("resource", "hard_limit").from("quotas").where("project_id", .equal, project).all() {
            out[try r.decode(column: "resource", as: String.self)] = try r.decode(column: "hard_limit", as: Int64.self)
        }
        return out
    }

    func projects(in sql: any SQLDatabase) async throws -> [String] {
        try await sql.select().distinct().column("project_id").from("quotas").orderBy("project_id").all()
            .map { try $0.decode(column: "project_id", as: String.self) }
    }

    func set(project: String, resource: String, limit: Int64, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "quotas").where("project_id", .equal, project).where("resource", .equal, resource).run()
        try await sql.insert(into: "quotas").columns("project_id", "resource", "hard_limit")
            .values(SQLBind(project), SQLBind(resource), SQLBind(limit)).run()
    }

    func reset(project: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "quotas").where("project_id", .equal, project).run()
    }
}

/// What `rbac_policies` grant a project: network ids shared with it or usable as external.
struct RBACGrantStore: Sendable {
    struct Grants: Sendable {
        var shared: Set<String> = []
        var external: Set<String> = []
        var all: [String] { Array(shared.union(external)) }
    }

    func grants(project: String, in sql: any SQLDatabase) async throws -> Grants {
        var g = Grants()
        for r in try await sql.select().columns("object_id", "action").from("rbac_policies").where("object_type", .equal, "network")
            .where("target_tenant", .in, [project, "*"]).all()
        {
            let id = try r.decode(column: "object_id", as: String.self)
            if try r.decode(column: "action", as: String.self) == "access_as_shared" { g.shared.insert(id) } else { g.external.insert(id) }
        }
        return g
    }

    /// The wildcard entry of a network's flag (`shared` → access_as_shared to `*`).
    func wildcard(network: String, action: String, in sql: any SQLDatabase) async throws -> String? {
        try await sql.select().column("id").from("rbac_policies").where("object_id", .equal, network).where("action", .equal, action)
            .where("target_tenant", .equal, "*").first()?.decode(column: "id", as: String.self)
    }

    /// Whether any entry other than `except` still grants `action` on the network to `project`.
    func granted(network: String, action: String, project: String, except: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("id").from("rbac_policies").where("object_id", .equal, network).where("action", .equal, action)
            .where("target_tenant", .in, [project, "*"]).where("id", .notEqual, except).first() != nil
    }
}
