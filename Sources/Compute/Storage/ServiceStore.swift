import SQLKit
import StratusCore
import StratusStorage

/// nova's services (one row per daemon and host) and compute nodes (one per hypervisor), in the
/// cell database.
struct ServiceStore: Sendable {
    struct Service: Sendable, Decodable {
        var id: Int64
        var uuid: String
        var host: String
        var binaryName: String
        var topic: String
        var reportCount: Int64
        var disabled: Bool
        var disabledReason: String?
        var forcedDown: Bool
        var lastSeenUp: String?
        var createdAt: String
        var updatedAt: String?
    }

    struct Node: Sendable, Decodable {
        var id: Int64
        var uuid: String
        var serviceId: Int64
        var host: String
        var hypervisorHostname: String
        var hypervisorType: String
        var hypervisorVersion: Int64
        var vcpus: Int64
        var memoryMb: Int64
        var localGb: Int64
        var hostIp: String
        var cpuInfo: String
        var createdAt: String
        var updatedAt: String?
        /// JSON: `[[arch, hv_type, vm_mode], …]`.
        var supportedInstances: String

        /// `supportedInstances` read.
        var supported: [[String]] {
            ((try? JSON.parse(Array(supportedInstances.utf8)))?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.stringValue) }
        }
    }

    static let columns = [
        "id", "uuid", "host", "binary_name", "topic", "report_count", "disabled", "disabled_reason", "forced_down", "last_seen_up",
        "created_at", "updated_at",
    ]
    static let nodeColumns = [
        "id", "uuid", "service_id", "host", "hypervisor_hostname", "hypervisor_type", "hypervisor_version", "vcpus", "memory_mb", "local_gb",
        "host_ip", "cpu_info", "created_at", "updated_at", "supported_instances",
    ]

    /// Registers a daemon (or finds its row) and records it as up.
    func register(host: String, binary: String, topic: String, uuid: String, now: String, in sql: any SQLDatabase) async throws -> Service {
        if let s = try await find(host: host, binary: binary, in: sql) {
            try await heartbeat(s.id, now: now, in: sql)
            return try await find(id: s.id, in: sql)!
        }
        try await sql.insert(into: "services").columns(
            "uuid",
            "host",
            "binary_name",
            "topic",
            "report_count",
            "disabled",
            "forced_down",
            "last_seen_up",
            "created_at",
            "updated_at"
        )
        .values(
            SQLBind(uuid),
            SQLBind(host),
            SQLBind(binary),
            SQLBind(topic),
            SQLBind(0),
            SQLBind(false),
            SQLBind(false),
            SQLBind(now),
            SQLBind(now),
            SQLBind(now)
        ).run()
        return try await find(host: host, binary: binary, in: sql)!
    }

    func heartbeat(_ id: Int64, now: String, in sql: any SQLDatabase) async throws {
        try await sql.update("services").set("last_seen_up", to: now).set("updated_at", to: now)
            .set(SQLIdentifier("report_count"), to: SQLRaw("report_count + 1")).where("id", .equal, id).run()
    }

    func find(host: String, binary: String, in sql: any SQLDatabase) async throws -> Service? {
        try await sql.select().columns(Self.columns).from("services").where("host", .equal, host).where("binary_name", .equal, binary).first()?
            .decode(Service.self)
    }

    func find(id: Int64, in sql: any SQLDatabase) async throws -> Service? {
        try await sql.select().columns(Self.columns).from("services").where("id", .equal, id).first()?.decode(Service.self)
    }

    func find(uuid: String, in sql: any SQLDatabase) async throws -> Service? {
        try await sql.select().columns(Self.columns).from("services").where("uuid", .equal, uuid).first()?.decode(Service.self)
    }

    func list(binary: String? = nil, host: String? = nil, in sql: any SQLDatabase) async throws -> [Service] {
        var q = sql.select().columns(Self.columns).from("services")
        if let binary { q = q.where("binary_name", .equal, binary) }
        if let host { q = q.where("host", .equal, host) }
        return try await q.orderBy("id").all().map { try $0.decode(Service.self) }
    }

    func setStatus(_ id: Int64, disabled: Bool?, reason: String??, forcedDown: Bool?, now: String, in sql: any SQLDatabase) async throws {
        var u = sql.update("services").set("updated_at", to: now)
        if let disabled { u = u.set("disabled", to: disabled) }
        if let reason { u = u.set("disabled_reason", to: SQLBind(reason)) }
        if let forcedDown { u = u.set("forced_down", to: forcedDown) }
        try await u.where("id", .equal, id).run()
    }

    func delete(_ id: Int64, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "compute_nodes").where("service_id", .equal, id).run()
        try await sql.delete(from: "services").where("id", .equal, id).run()
    }

    /// Creates or refreshes the compute node of a host's hypervisor.
    func saveNode(_ n: Node, now: String, in sql: any SQLDatabase) async throws -> Node {
        if let existing = try await node(hostname: n.hypervisorHostname, in: sql) {
            try await sql.update("compute_nodes").set("vcpus", to: n.vcpus).set("memory_mb", to: n.memoryMb).set("local_gb", to: n.localGb)
                .set("host_ip", to: n.hostIp).set("service_id", to: n.serviceId).set("hypervisor_type", to: n.hypervisorType)
                .set("hypervisor_version", to: n.hypervisorVersion).set("supported_instances", to: n.supportedInstances)
                .set("updated_at", to: now).where("id", .equal, existing.id).run()
            return try await node(hostname: n.hypervisorHostname, in: sql)!
        }
        try await sql.insert(into: "compute_nodes").columns(Array(Self.nodeColumns.dropFirst())).values(
            SQLBind(n.uuid),
            SQLBind(n.serviceId),
            SQLBind(n.host),
            SQLBind(n.hypervisorHostname),
            SQLBind(n.hypervisorType),
            SQLBind(n.hypervisorVersion),
            SQLBind(n.vcpus),
            SQLBind(n.memoryMb),
            SQLBind(n.localGb),
            SQLBind(n.hostIp),
            SQLBind(n.cpuInfo),
            SQLBind(now),
            SQLBind(now),
            SQLBind(n.supportedInstances)
        ).run()
        return try await node(hostname: n.hypervisorHostname, in: sql)!
    }

    func node(hostname: String, in sql: any SQLDatabase) async throws -> Node? {
        try await sql.select().columns(Self.nodeColumns).from("compute_nodes").where("hypervisor_hostname", .equal, hostname).first()?
            .decode(Node.self)
    }

    func nodes(in sql: any SQLDatabase) async throws -> [Node] {
        try await sql.select().columns(Self.nodeColumns).from("compute_nodes").orderBy("id").all().map { try $0.decode(Node.self) }
    }
}
