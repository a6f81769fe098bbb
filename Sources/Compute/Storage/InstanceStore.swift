import Foundation
import SQLKit
import StratusStorage

/// A server as a cell database (or, before scheduling, a build request) keeps it. JSON columns
/// hold what nova keeps in side tables (flavor, metadata, network info, security groups, tags,
/// the boot request).
struct Instance: Sendable, Codable, Equatable {
    var id: Int64 = 0
    var uuid: String
    var projectId: String
    var userId: String
    var displayName: String
    var displayDescription: String?
    var hostname: String
    var imageRef: String
    var flavor: String
    var keyName: String?
    var keyData: String?
    var userData: String?
    var metadata: String
    var vmState: String
    var taskState: String?
    var powerState: Int64
    var host: String?
    var node: String?
    var availabilityZone: String?
    var launchedAt: String?
    var terminatedAt: String?
    var createdAt: String
    var updatedAt: String?
    var deletedAt: String?
    var deleted: Int64 = 0
    var launchIndex: Int64
    var reservationId: String
    var networkInfo: String
    var securityGroups: String
    var accessIpV4: String?
    var accessIpV6: String?
    var locked: Bool = false
    var tags: String
    var request: String
    /// The flavor's VCPU and MEMORY_MB, as columns so quota usage is one SQL sum.
    var vcpus: Int64 = 0
    var memoryMb: Int64 = 0

    static let columns = [
        "id", "uuid", "project_id", "user_id", "display_name", "display_description", "hostname", "image_ref", "flavor", "key_name",
        "key_data", "user_data", "metadata", "vm_state", "task_state", "power_state", "host", "node", "availability_zone", "launched_at",
        "terminated_at", "created_at", "updated_at", "deleted_at", "deleted", "launch_index", "reservation_id", "network_info",
        "security_groups", "access_ip_v4", "access_ip_v6", "locked", "tags", "request", "vcpus", "memory_mb",
    ]

    /// The record as a build request stores it.
    func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    static func decoded(_ text: String) -> Instance? {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(Instance.self, from: Data(text.utf8))
    }

    var binds: [any SQLExpression] {
        [
            SQLBind(uuid), SQLBind(projectId), SQLBind(userId), SQLBind(displayName), SQLBind(displayDescription), SQLBind(hostname),
            SQLBind(imageRef), SQLBind(flavor), SQLBind(keyName), SQLBind(keyData), SQLBind(userData), SQLBind(metadata), SQLBind(vmState),
            SQLBind(taskState), SQLBind(powerState), SQLBind(host), SQLBind(node), SQLBind(availabilityZone), SQLBind(launchedAt),
            SQLBind(terminatedAt), SQLBind(createdAt), SQLBind(updatedAt), SQLBind(deletedAt), SQLBind(deleted), SQLBind(launchIndex),
            SQLBind(reservationId), SQLBind(networkInfo), SQLBind(securityGroups), SQLBind(accessIpV4), SQLBind(accessIpV6), SQLBind(locked),
            SQLBind(tags), SQLBind(request), SQLBind(vcpus), SQLBind(memoryMb),
        ]
    }
}

/// What `GET /servers` narrows by in SQL; the rest (name regex, ip, tags) is matched on the rows.
struct InstanceQuery: Sendable {
    var project: String?
    var deleted = false
    var vmStates: [String]? = nil
    var host: String? = nil
    var image: String? = nil
    var changesSince: String? = nil
    var changesBefore: String? = nil
    var uuids: [String]? = nil
    /// At most this many rows, newest first.
    var limit: Int? = nil
    /// Only rows after this one in the list's order (created_at, then uuid, descending).
    var after: (createdAt: String, uuid: String)? = nil

    /// Whether a record passes the query's conditions (for build requests, which are not in SQL).
    func matches(_ i: Instance) -> Bool {
        if let p = project, i.projectId != p { return false }
        if let v = vmStates, !v.contains(i.vmState) { return false }
        if let h = host, i.host != h { return false }
        if let im = image, i.imageRef != im { return false }
        if let a = after, (i.createdAt, i.uuid) >= (a.createdAt, a.uuid) { return false }
        return true
    }
}

/// The instances, faults and actions of one cell database.
struct InstanceStore: Sendable {
    /// Adds an instance (its id is the database's); an instance already there (a redelivered
    /// build) is returned as it is.
    func insert(_ i: Instance, in sql: any SQLDatabase) async throws -> Instance {
        if let existing = try await find(i.uuid, in: sql) { return existing }
        try await sql.insert(into: "instances").columns(Array(Instance.columns.dropFirst())).values(i.binds).run()
        return try await find(i.uuid, in: sql)!
    }

    /// A project's live instances, VCPUs and MB of RAM (nova's quota usage count).
    func usage(project: String, in sql: any SQLDatabase) async throws -> (instances: Int, cores: Int, ram: Int) {
        // SUM of a BIGINT is NUMERIC on PostgreSQL: cast it back.
        let row = try await sql.select().column(SQLRaw("COUNT(*) AS n")).column(SQLRaw("CAST(COALESCE(SUM(vcpus), 0) AS BIGINT) AS cores"))
            .column(SQLRaw("CAST(COALESCE(SUM(memory_mb), 0) AS BIGINT) AS ram")).from("instances").where("project_id", .equal, project)
            .where("deleted", .equal, 0).first()
        return (
            try row?.decode(column: "n", as: Int.self) ?? 0, try row?.decode(column: "cores", as: Int.self) ?? 0,
            try row?.decode(column: "ram", as: Int.self) ?? 0
        )
    }

    /// Which of `uuids` are live instances here.
    func liveUUIDs(_ uuids: [String], in sql: any SQLDatabase) async throws -> Set<String> {
        guard !uuids.isEmpty else { return [] }
        let rows = try await sql.select().column("uuid").from("instances").where("uuid", .in, uuids).where("deleted", .equal, 0).all()
        return Set(try rows.map { try $0.decode(column: "uuid", as: String.self) })
    }

    func find(_ uuid: String, in sql: any SQLDatabase) async throws -> Instance? {
        try await sql.select().columns(Instance.columns).from("instances").where("uuid", .equal, uuid).first()?.decode(Instance.self)
    }

    func list(_ q: InstanceQuery, in sql: any SQLDatabase) async throws -> [Instance] {
        var s = sql.select().columns(Instance.columns).from("instances")
        if let p = q.project { s = s.where("project_id", .equal, p) }
        s = q.deleted ? s.where("deleted", .notEqual, 0) : s.where("deleted", .equal, 0)
        if let v = q.vmStates { s = s.where("vm_state", .in, v) }
        if let h = q.host { s = s.where("host", .equal, h) }
        if let i = q.image { s = s.where("image_ref", .equal, i) }
        if let c = q.changesSince { s = s.where("updated_at", .greaterThanOrEqual, c) }
        if let c = q.changesBefore { s = s.where("updated_at", .lessThanOrEqual, c) }
        if let u = q.uuids { s = s.where("uuid", .in, u) }
        if let a = q.after {
            s = s.where { w in
                w.where("created_at", .lessThan, a.createdAt).orWhere { inner in
                    inner.where("created_at", .equal, a.createdAt).where("uuid", .lessThan, a.uuid)
                }
            }
        }
        s = s.orderBy("created_at", .descending).orderBy("uuid", .descending)
        if let n = q.limit { s = s.limit(n) }
        return try await s.all().map { try $0.decode(Instance.self) }
    }

    /// Changes columns of a live instance, when its task state is one of `expecting` (nova's
    /// `expected_task_state`; nil accepts any). False when the instance moved on meanwhile.
    @discardableResult
    func update(
        _ uuid: String,
        _ values: [String: any SQLExpression],
        expecting: [String?]? = nil,
        now: String,
        in sql: any SQLDatabase
    ) async throws -> Bool {
        guard let current = try await find(uuid, in: sql), current.deleted == 0 else { return false }
        if let expecting, !expecting.contains(current.taskState) { return false }
        var u = sql.update("instances").set("updated_at", to: now)
        for (k, v) in values.sorted(by: { $0.key < $1.key }) { u = u.set(SQLIdentifier(k), to: v) }
        u = u.where("uuid", .equal, uuid).where("deleted", .equal, 0)
        if let expecting {
            let states = expecting.compactMap { $0 }
            let acceptsNone = expecting.contains { $0 == nil }
            u = u.where { w in
                var w = w
                if !states.isEmpty { w = w.orWhere("task_state", .in, states) }
                if acceptsNone { w = w.orWhere("task_state", .is, SQLLiteral.null) }
                return w
            }
        }
        try await u.run()
        return true
    }

    /// Marks an instance deleted as nova does (`deleted` = its id, `vm_state` deleted).
    func markDeleted(_ uuid: String, now: String, in sql: any SQLDatabase) async throws {
        try await sql.update("instances").set("deleted", to: SQLIdentifier("id")).set("deleted_at", to: now).set("updated_at", to: now)
            .set("terminated_at", to: now).set("vm_state", to: "deleted").set("task_state", to: SQLLiteral.null).set("power_state", to: 0)
            .where("uuid", .equal, uuid).where("deleted", .equal, 0).run()
    }

    func addFault(_ uuid: String, code: Int, message: String, details: String, now: String, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "instance_faults").columns("instance_uuid", "code", "message", "details", "created_at")
            .values(SQLBind(uuid), SQLBind(code), SQLBind(message), SQLBind(details), SQLBind(now)).run()
    }

    /// The newest fault of each instance.
    func faults(_ uuids: [String], in sql: any SQLDatabase) async throws -> [String: (code: Int, message: String, details: String, created: String)] {
        guard !uuids.isEmpty else { return [:] }
        var out: [String: (code: Int, message: String, details: String, created: String)] = [:]
        let rows = try await sql.select().columns("instance_uuid", "code", "message", "details", "created_at").from("instance_faults")
            .where("instance_uuid", .in, uuids).orderBy("created_at").all()
        for r in rows {
            out[try r.decode(column: "instance_uuid", as: String.self)] = (
                try r.decode(column: "code", as: Int.self), try r.decode(column: "message", as: String.self),
                try r.decode(column: "details", as: String.self), try r.decode(column: "created_at", as: String.self)
            )
        }
        return out
    }
}

/// os-instance-actions: one row per API action on a server, with the events of its steps.
struct ActionStore: Sendable {
    struct Action: Sendable, Decodable {
        var id: Int64
        var instanceUuid: String
        var action: String
        var requestId: String
        var projectId: String
        var userId: String
        var startTime: String
        var finishTime: String?
        var message: String?
        var updatedAt: String?
    }

    struct Event: Sendable, Decodable {
        var id: Int64
        var actionId: Int64
        var event: String
        var startTime: String
        var finishTime: String?
        var result: String?
        var host: String?
        var traceback: String?
    }

    static let columns = [
        "id", "instance_uuid", "action", "request_id", "project_id", "user_id", "start_time", "finish_time", "message", "updated_at",
    ]

    func start(
        _ uuid: String,
        action: String,
        requestID: String,
        project: String,
        user: String,
        now: String,
        in sql: any SQLDatabase
    )
        async throws
    {
        try await sql.insert(into: "instance_actions").columns(Array(Self.columns.dropFirst()))
            .values(
                SQLBind(uuid),
                SQLBind(action),
                SQLBind(requestID),
                SQLBind(project),
                SQLBind(user),
                SQLBind(now),
                SQLBind(String?.none),
                SQLBind(String?.none),
                SQLBind(now)
            ).run()
    }

    /// The newest action of a server named `action`.
    func latest(_ uuid: String, action: String, in sql: any SQLDatabase) async throws -> Action? {
        try await sql.select().columns(Self.columns).from("instance_actions").where("instance_uuid", .equal, uuid).where("action", .equal, action)
            .orderBy("id", .descending).first()?.decode(Action.self)
    }

    /// Records a step's event (`compute__do_build_and_run_instance`) and ends the action on failure.
    func record(
        _ uuid: String,
        action: String,
        event: String,
        host: String?,
        failed: Bool,
        start: String,
        now: String,
        in sql: any SQLDatabase
    )
        async throws
    {
        guard let a = try await latest(uuid, action: action, in: sql) else { return }
        try await sql.insert(into: "instance_actions_events").columns("action_id", "event", "start_time", "finish_time", "result", "host")
            .values(SQLBind(a.id), SQLBind(event), SQLBind(start), SQLBind(now), SQLBind(failed ? "Error" : "Success"), SQLBind(host)).run()
        var u = sql.update("instance_actions").set("updated_at", to: now).set("finish_time", to: now)
        if failed { u = u.set("message", to: "Error") }
        try await u.where("id", .equal, a.id).run()
    }

    func list(_ uuid: String, in sql: any SQLDatabase) async throws -> [Action] {
        try await sql.select().columns(Self.columns).from("instance_actions").where("instance_uuid", .equal, uuid)
            .orderBy("start_time", .descending).orderBy("id", .descending).all().map { try $0.decode(Action.self) }
    }

    func find(_ uuid: String, requestID: String, in sql: any SQLDatabase) async throws -> Action? {
        try await sql.select().columns(Self.columns).from("instance_actions").where("instance_uuid", .equal, uuid)
            .where("request_id", .equal, requestID).first()?.decode(Action.self)
    }

    func events(_ action: Int64, in sql: any SQLDatabase) async throws -> [Event] {
        try await sql.select().columns("id", "action_id", "event", "start_time", "finish_time", "result", "host", "traceback")
            .from("instance_actions_events").where("action_id", .equal, action).orderBy("id").all().map { try $0.decode(Event.self) }
    }
}
