import Foundation
import Hummingbird
import SQLKit
import StratusCore

/// `/v2.0/agents` (admin) and `/v2.0/availability_zones`, over the agents table.
struct AgentRoutes {
    let service: NetworkService

    /// Whether the agent's last heartbeat is within `agent_down_time`.
    static func alive(_ a: AgentStore.Agent, downTime: Int, now: Date = Date()) -> Bool {
        guard let beat = Timestamps.parse(a.heartbeatTimestamp) else { return false }
        return now.timeIntervalSince(beat) <= TimeInterval(downTime)
    }

    /// Neutron shows agent times as `2024-01-31 12:00:00`.
    static func agentTime(_ s: String) -> String {
        s.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "")
    }

    func view(_ a: AgentStore.Agent) -> [String: JSON] {
        [
            "id": .string(a.id), "agent_type": .string(a.agentType), "binary": .string(a.binaryName), "topic": .string(a.topic),
            "host": .string(a.host), "admin_state_up": .bool(a.adminStateUp != 0), "availability_zone": .optional(a.availabilityZone),
            "description": .string(a.description), "configurations": (try? JSON.parse(Array(a.configurations.utf8))) ?? [:],
            "resources_synced": a.resourcesSynced.map { .bool($0 != 0) } ?? .null, "created_at": .string(Self.agentTime(a.createdAt)),
            "started_at": .string(Self.agentTime(a.startedAt)), "heartbeat_timestamp": .string(Self.agentTime(a.heartbeatTimestamp)),
            "alive": .bool(Self.alive(a, downTime: service.settings.agentDownTime)), "ha_state": .null,
        ]
    }

    func add(to routes: inout RouteTable) {
        routes.get("/v2.0/agents") { request, ctx in
            // Neutron filters what the caller may not read: a member gets an empty list.
            guard service.allows(ctx, "get_agent", [:]) else { return .json(["agents": []]) }
            var agents = try await service.read { sql in try await AgentStore().all(in: sql) }.map(view)
            for (name, value) in request.queryItems where !ListQuery.reserved.contains(name) {
                agents = agents.filter { a in
                    guard let v = a[name] else { return true }
                    return RequestRules.python(v).lowercased() == value.lowercased()
                }
            }
            let fields = NetworkHTTP.fields(request)
            return .json(["agents": .array(agents.map { .object(NetworkHTTP.project($0, fields)) })])
        }
        routes.get("/v2.0/agents/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            guard service.allows(ctx, "get_agent", [:]) else { throw NetworkError.notFound(.agent, id) }
            guard let a = try await service.read({ sql in try await AgentStore().find(id, in: sql) }) else { throw NetworkError.notFound(.agent, id) }
            return NetworkHTTP.one("agent", view(a), fields: NetworkHTTP.fields(request))
        }
        routes.put("/v2.0/agents/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            try service.authorize(ctx, "update_agent", [:])
            let body = try await NetworkHTTP.body(request, ctx, key: "agent")
            let unknown = body.keys.filter { $0 != "admin_state_up" && $0 != "description" }
            if !unknown.isEmpty { throw NetworkError.unrecognized(unknown.sorted()) }
            let admin = try body["admin_state_up"].map { try RequestRules.convert($0, AttributeRule("admin_state_up", .bool)).boolValue! }
            let a = try await service.write { sql -> AgentStore.Agent in
                guard try await AgentStore().find(id, in: sql) != nil else { throw NetworkError.notFound(.agent, id) }
                try await AgentStore().update(id, adminStateUp: admin, description: body["description"]?.stringValue, in: sql)
                return try await AgentStore().find(id, in: sql)!
            }
            return NetworkHTTP.one("agent", view(a))
        }
        routes.delete("/v2.0/agents/{id}") { _, ctx in
            let id = try ctx.parameters.require("id")
            try service.authorize(ctx, "delete_agent", [:])
            guard try await service.write({ sql in try await AgentStore().delete(id, in: sql) }) else { throw NetworkError.notFound(.agent, id) }
            return .empty()
        }
        routes.get("/v2.0/availability_zones") { _, ctx in
            try service.authorize(ctx, "get_availability_zone", [:])
            let agents = try await service.read { sql in try await AgentStore().all(in: sql) }
            var zones: [String: Set<String>] = [:]
            for a in agents {
                guard let zone = a.availabilityZone else { continue }
                if a.agentType == "DHCP agent" { zones[zone, default: []].insert("network") }
                if a.agentType == "L3 agent" { zones[zone, default: []].insert("router") }
            }
            let list: [JSON] = zones.keys.sorted().flatMap { z in
                zones[z]!.sorted().map { r -> JSON in ["name": .string(z), "resource": .string(r), "state": "available"] }
            }
            return .json(["availability_zones": .array(list)])
        }
    }
}
