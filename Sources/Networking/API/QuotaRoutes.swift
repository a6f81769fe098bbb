import Hummingbird
import SQLKit
import StratusCore

/// `/v2.0/quotas`: per-project limits over the `[quotas]` defaults, with usage in `details.json`.
struct QuotaRoutes {
    let service: NetworkService

    static let resources: [(String, ResourceKind)] = [
        ("network", .network), ("subnet", .subnet), ("port", .port), ("router", .router), ("floatingip", .floatingIP),
        ("security_group", .securityGroup), ("security_group_rule", .securityGroupRule), ("rbac_policy", .rbacPolicy),
    ]

    /// Quotas neutron lists for extensions whose resources Stratus does not have yet (limits
    /// only, nothing uses them): extra routes per router and subnet pools.
    static let reported: [(String, Int64)] = [("router_route", 30), ("subnetpool", -1)]

    func add(to routes: inout RouteTable) {
        routes.get("/v2.0/quotas") { _, ctx in
            guard service.isAdmin(ctx) else { throw NetworkError.policy("get_quota") }
            let quotas = try await service.read { sql in
                var out: [JSON] = []
                for p in try await QuotaStore().projects(in: sql) {
                    var q = try await limits(p, in: sql)
                    q["project_id"] = .string(p)
                    q["tenant_id"] = .string(p)
                    out.append(.object(q))
                }
                return out
            }
            return .json(["quotas": .array(quotas)])
        }
        routes.get("/v2.0/quotas/{project}") { _, ctx in
            let project = try ctx.parameters.require("project")
            try service.authorize(ctx, "get_quota", ["project_id": .string(project)])
            return .json(["quota": .object(try await service.read { sql in try await limits(project, in: sql) })])
        }
        routes.get("/v2.0/quotas/{project}/default") { _, ctx in
            let project = try ctx.parameters.require("project")
            try service.authorize(ctx, "get_quota", ["project_id": .string(project)])
            var q: [String: JSON] = [:]
            for (name, _) in Self.resources { q[name] = .int(service.settings.quotas[name] ?? -1) }
            for (name, limit) in Self.reported { q[name] = .int(limit) }
            q["project_id"] = .string(project)
            q["tenant_id"] = .string(project)
            return .json(["quota": .object(q)])
        }
        routes.get("/v2.0/quotas/{project}/details.json") { _, ctx in
            let project = try ctx.parameters.require("project")
            try service.authorize(ctx, "get_quota", ["project_id": .string(project)])
            let details = try await service.read { sql in
                var out: [String: JSON] = [:]
                let l = try await limits(project, in: sql)
                for (name, kind) in Self.resources {
                    let used = try await RecordStore(kind).count([.oneOf(kind.attribute("project_id")!, [.string(project)])], in: sql)
                    out[name] = ["limit": l[name] ?? -1, "used": .int(Int64(used)), "reserved": 0]
                }
                for (name, _) in Self.reported { out[name] = ["limit": l[name] ?? -1, "used": 0, "reserved": 0] }
                return out
            }
            return .json(["quota": .object(details)])
        }
        routes.put("/v2.0/quotas/{project}") { request, ctx in
            let project = try ctx.parameters.require("project")
            try service.authorize(ctx, "update_quota", ["project_id": .string(project)])
            let body = try await NetworkHTTP.body(request, ctx, key: "quota")
            let known = Set(Self.resources.map(\.0) + Self.reported.map(\.0))
            var values: [String: Int64] = [:]
            let force = body["force"]?.boolValue ?? false
            for (k, v) in body where k != "force" {
                guard known.contains(k) else { throw NetworkError.unrecognized([k]) }
                guard let n = v.intValue ?? v.stringValue.flatMap({ Int64($0) }), n >= -1 else {
                    throw NetworkError.invalidInput("'\(RequestRules.python(v))' is not a valid quota limit for \(k)")
                }
                values[k] = n
            }
            let quota = try await service.write { [values] sql in
                for (k, n) in values {
                    if !force, n >= 0, let kind = Self.resources.first(where: { $0.0 == k })?.1 {
                        let used = try await RecordStore(kind).count([.oneOf(kind.attribute("project_id")!, [.string(project)])], in: sql)
                        if Int64(used) > n {
                            throw NetworkError.make(
                                .badRequest,
                                "HTTPBadRequest",
                                "Quota limit \(n) for \(k) must be greater than or equal to already used \(used)"
                            )
                        }
                    }
                    try await QuotaStore().set(project: project, resource: k, limit: n, in: sql)
                }
                return try await limits(project, in: sql)
            }
            return .json(["quota": .object(quota)])
        }
        routes.delete("/v2.0/quotas/{project}") { _, ctx in
            let project = try ctx.parameters.require("project")
            try service.authorize(ctx, "delete_quota", ["project_id": .string(project)])
            try await service.write { sql in
                guard !(try await QuotaStore().limits(project: project, in: sql)).isEmpty else {
                    throw NetworkError.make(.notFound, "TenantQuotaNotFound", "Quota for project \(project) could not be found.")
                }
                try await QuotaStore().reset(project: project, in: sql)
            }
            return .empty()
        }
    }

    func limits(_ project: String, in sql: any SQLDatabase) async throws -> [String: JSON] {
        let set = try await QuotaStore().limits(project: project, in: sql)
        var q: [String: JSON] = [:]
        for (name, _) in Self.resources { q[name] = .int(set[name] ?? service.settings.quotas[name] ?? -1) }
        for (name, limit) in Self.reported { q[name] = .int(set[name] ?? limit) }
        return q
    }
}
