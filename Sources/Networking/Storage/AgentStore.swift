import SQLKit
import StratusCore
import StratusStorage

/// `agents`: the network agents and their last heartbeats (written by the agents through the
/// agent channel once the data plane exists; tests insert rows directly until then).
public struct AgentStore: Sendable {
    public struct Agent: Sendable, Decodable {
        public var id: String
        public var agentType: String
        public var binaryName: String
        public var topic: String
        public var host: String
        public var adminStateUp: Int64
        public var availabilityZone: String?
        public var description: String
        public var configurations: String
        public var resourcesSynced: Int64?
        public var createdAt: String
        public var startedAt: String
        public var heartbeatTimestamp: String

        public init(
            id: String,
            agentType: String,
            binary: String,
            topic: String,
            host: String,
            availabilityZone: String?,
            configurations: String,
            heartbeat: String
        ) {
            self.id = id
            self.agentType = agentType
            self.binaryName = binary
            self.topic = topic
            self.host = host
            self.adminStateUp = 1
            self.availabilityZone = availabilityZone
            self.description = ""
            self.configurations = configurations
            self.resourcesSynced = nil
            self.createdAt = heartbeat
            self.startedAt = heartbeat
            self.heartbeatTimestamp = heartbeat
        }
    }

    static let columns = [
        "id", "agent_type", "binary_name", "topic", "host", "admin_state_up", "availability_zone", "description", "configurations",
        "resources_synced", "created_at", "started_at", "heartbeat_timestamp",
    ]

    public init() {}

    public func all(in sql: any SQLDatabase) async throws -> [Agent] {
        try await sql.select().columns(Self.columns).from("agents").orderBy("host").orderBy("agent_type").all().map { try $0.decode(Agent.self) }
    }

    public func find(_ id: String, in sql: any SQLDatabase) async throws -> Agent? {
        try await sql.select().columns(Self.columns).from("agents").where("id", .equal, id).first()?.decode(Agent.self)
    }

    public func find(type: String, host: String, in sql: any SQLDatabase) async throws -> Agent? {
        try await sql.select().columns(Self.columns).from("agents").where("agent_type", .equal, type).where("host", .equal, host).first()?
            .decode(Agent.self)
    }

    /// Registers an agent or records its heartbeat (the agent channel's report_state).
    public func report(_ a: Agent, in sql: any SQLDatabase) async throws {
        if try await find(type: a.agentType, host: a.host, in: sql) != nil {
            try await sql.update("agents").set("heartbeat_timestamp", to: a.heartbeatTimestamp).set("configurations", to: a.configurations)
                .where("agent_type", .equal, a.agentType).where("host", .equal, a.host).run()
        } else {
            try await sql.insert(into: "agents").columns(Self.columns).values(
                SQLBind(a.id),
                SQLBind(a.agentType),
                SQLBind(a.binaryName),
                SQLBind(a.topic),
                SQLBind(a.host),
                SQLBind(a.adminStateUp),
                SQLBind(a.availabilityZone),
                SQLBind(a.description),
                SQLBind(a.configurations),
                SQLBind(a.resourcesSynced),
                SQLBind(a.createdAt),
                SQLBind(a.startedAt),
                SQLBind(a.heartbeatTimestamp)
            ).run()
        }
    }

    func update(_ id: String, adminStateUp: Bool?, description: String?, in sql: any SQLDatabase) async throws {
        let q = sql.update("agents")
        var any = false
        if let adminStateUp {
            q.set("admin_state_up", to: Int64(adminStateUp ? 1 : 0))
            any = true
        }
        if let description {
            q.set("description", to: description)
            any = true
        }
        if any { try await q.where("id", .equal, id).run() }
    }

    @discardableResult
    func delete(_ id: String, in sql: any SQLDatabase) async throws -> Bool {
        !(try await sql.delete(from: "agents").where("id", .equal, id).returning("id").all()).isEmpty
    }
}
