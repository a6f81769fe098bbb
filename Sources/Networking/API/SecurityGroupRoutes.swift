import Hummingbird
import SQLKit
import StratusCore

/// `/v2.0/security-groups` and `/v2.0/security-group-rules`, with each project's `default`
/// group created on first use with neutron's four default rules.
struct SecurityGroupRoutes {
    let service: NetworkService
    let kind = ResourceKind.securityGroup
    let ruleKind = ResourceKind.securityGroupRule
    var store: RecordStore { RecordStore(kind) }
    var rules: RecordStore { RecordStore(ruleKind) }

    static let groupRules: [AttributeRule] = [
        AttributeRule("name", .string(max: 255), default: ""),
        AttributeRule("stateful", .bool, default: true),
        AttributeRule("security_group_rules", .list, post: false, put: false),
        AttributeRule("shared", .bool, post: false, put: false),
    ]

    static let ruleRules: [AttributeRule] = [
        AttributeRule("security_group_id", .uuid, put: false),
        AttributeRule("direction", .string(max: 16), put: false),
        AttributeRule("ethertype", .string(max: 16), put: false, default: "IPv4"),
        AttributeRule("protocol", .any, put: false, default: .null),
        AttributeRule("port_range_min", .any, put: false, default: .null),
        AttributeRule("port_range_max", .any, put: false, default: .null),
        AttributeRule("remote_ip_prefix", .nullableString(max: 64), put: false, default: .null),
        AttributeRule("remote_group_id", .nullableUUID, put: false, default: .null),
        AttributeRule("remote_address_group_id", .nullableUUID, put: false, default: .null),
        AttributeRule("normalized_cidr", .string(max: 64), post: false, put: false),
        AttributeRule("belongs_to_default_sg", .bool, post: false, put: false),
    ]

    func add(to routes: inout RouteTable) {
        routes.get("/v2.0/security-groups") { request, ctx in
            let query = try ListQuery(request, kind: kind, maxLimit: service.settings.maxPage)
            if let project = try ctx.requireCaller().projectID,
                try await service.read({ sql in try await DefaultSecurityGroupStore().find(project: project, in: sql) }) == nil
            {
                _ = try await service.write { sql in try await defaultGroup(project: project, in: sql) }
            }
            let items = try await service.read { sql in
                try await groupViews(try await query.run(store, extraConditions: try service.listScope(ctx), in: sql), in: sql)
            }
            return query.response(request, views: items.filter { service.allows(ctx, "get_security_group", $0) })
        }
        routes.post("/v2.0/security-groups") { request, ctx in
            let raw = try await NetworkHTTP.body(request, ctx, key: "security_group")
            var body = try RequestRules.apply(raw, rules: Self.groupRules, creating: true)
            let project = try service.owner(ctx, body)
            body["project_id"] = .string(project)
            try service.authorize(ctx, "create_security_group", body, body: raw)
            if body["name"]?.stringValue == "default" {
                throw NetworkError.make(.conflict, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
            }
            let view = try await service.write { [body] sql in
                _ = try await defaultGroup(project: project, in: sql)
                try await service.checkQuota(kind, project: project, in: sql)
                let g = NetworkService.stamped(body)
                try await store.insert(g, in: sql)
                let id = g["id"]!.stringValue!
                for ethertype in ["IPv4", "IPv6"] {
                    try await insertRule(
                        ["security_group_id": .string(id), "direction": "egress", "ethertype": .string(ethertype)],
                        project: project,
                        in: sql
                    )
                }
                return try await groupViews([g], in: sql)[0]
            }
            return NetworkHTTP.one("security_group", view, status: .created)
        }
        routes.get("/v2.0/security-groups/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let view = try await service.read { sql in try await groupViews([try await service.visible(kind, id, ctx, in: sql)], in: sql)[0] }
            return NetworkHTTP.one("security_group", view, fields: NetworkHTTP.fields(request))
        }
        routes.put("/v2.0/security-groups/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let raw = try await NetworkHTTP.body(request, ctx, key: "security_group")
            var changes = try RequestRules.apply(raw, rules: Self.groupRules, creating: false)
            changes.removeValue(forKey: "project_id")
            let view = try await service.write { [changes] sql in
                let g = try await service.visible(kind, id, ctx, lock: true, in: sql)
                try service.authorize(ctx, "update_security_group", g, body: raw, notFound: NetworkError.notFound(kind, id))
                try NetworkHTTP.checkRevision(request, g)
                if try await DefaultSecurityGroupStore().isDefault(id, in: sql), let name = changes["name"], name != "default" {
                    throw NetworkError.make(.conflict, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
                }
                try await store.update(id, changes, in: sql)
                return try await groupViews([try await store.find(id, in: sql)!], in: sql)[0]
            }
            return NetworkHTTP.one("security_group", view)
        }
        routes.delete("/v2.0/security-groups/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            try await service.write { sql in
                let g = try await service.visible(kind, id, ctx, lock: true, in: sql)
                try service.authorize(ctx, "delete_security_group", g, notFound: NetworkError.notFound(kind, id))
                try NetworkHTTP.checkRevision(request, g)
                if try await DefaultSecurityGroupStore().isDefault(id, in: sql), !service.isAdmin(ctx) {
                    throw NetworkError.make(.conflict, "SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.")
                }
                if try await PortSecurityGroupStore().inUse(id, in: sql) {
                    throw NetworkError.make(.conflict, "SecurityGroupInUse", "Security Group \(id) in use.")
                }
                let remote = try await rules.count([.oneOf(ruleKind.attribute("remote_group_id")!, [.string(id)])], in: sql)
                let selfRef = try await rules.count(
                    [.oneOf(ruleKind.attribute("remote_group_id")!, [.string(id)]), .oneOf(ruleKind.attribute("security_group_id")!, [.string(id)])],
                    in: sql
                )
                if remote > selfRef { throw NetworkError.make(.conflict, "SecurityGroupInUse", "Security Group \(id) in use.") }
                for r in try await rules.list([.oneOf(ruleKind.attribute("security_group_id")!, [.string(id)])], in: sql) {
                    try await rules.delete(r["id"]!.stringValue!, in: sql)
                }
                try await store.delete(id, in: sql)
            }
            return .empty()
        }

        routes.get("/v2.0/security-group-rules") { request, ctx in
            let query = try ListQuery(request, kind: ruleKind, maxLimit: service.settings.maxPage)
            let items = try await service.read { sql in
                try await ruleViews(try await query.run(rules, extraConditions: try service.listScope(ctx), in: sql), in: sql)
            }
            return query.response(request, views: items.filter { service.allows(ctx, "get_security_group_rule", $0) })
        }
        routes.post("/v2.0/security-group-rules") { request, ctx in
            let raw = try await NetworkHTTP.body(request, ctx, key: "security_group_rule")
            let body = try RuleRules.validate(try RequestRules.apply(raw, rules: Self.ruleRules, creating: true))
            let groupID = body["security_group_id"]!.stringValue!
            let view = try await service.write { [body] sql in
                var body = body
                let g = try await service.visible(kind, groupID, ctx, lock: true, in: sql)
                let project = body["project_id"]?.stringValue ?? g["project_id"]?.stringValue ?? ""
                body["project_id"] = .string(project)
                var t = body
                t["security_group:tenant_id"] = g["project_id"] ?? .null
                try service.authorize(ctx, "create_security_group_rule", t, body: raw)
                if let remote = body["remote_group_id"]?.stringValue, try await store.find(remote, in: sql) == nil {
                    throw NetworkError.notFound(kind, remote)
                }
                try await service.checkQuota(ruleKind, project: project, in: sql)
                let r = try await insertRule(body, project: project, in: sql)
                try await store.touch(groupID, in: sql)
                return try await ruleViews([r], in: sql)[0]
            }
            return NetworkHTTP.one("security_group_rule", view, status: .created)
        }
        routes.get("/v2.0/security-group-rules/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let view = try await service.read { sql in
                try await ruleViews([try await service.visible(ruleKind, id, ctx, target: { try await ruleTarget($0, in: sql) }, in: sql)], in: sql)[
                    0
                ]
            }
            return NetworkHTTP.one("security_group_rule", view, fields: NetworkHTTP.fields(request))
        }
        routes.delete("/v2.0/security-group-rules/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            try await service.write { sql in
                let r = try await service.visible(ruleKind, id, ctx, target: { try await ruleTarget($0, in: sql) }, in: sql)
                try service.authorize(
                    ctx,
                    "delete_security_group_rule",
                    try await ruleTarget(r, in: sql),
                    notFound: NetworkError.notFound(ruleKind, id)
                )
                try await rules.delete(id, in: sql)
                if let g = r["security_group_id"]?.stringValue { try await store.touch(g, in: sql) }
            }
            return .empty()
        }
    }

    func ruleTarget(_ r: [String: JSON], in sql: any SQLDatabase) async throws -> [String: JSON] {
        var t = r
        t["security_group:tenant_id"] = try await store.find(r["security_group_id"]?.stringValue ?? "", in: sql)?["project_id"] ?? .null
        return t
    }

    /// Stores a rule unless the group has the same one (409 `SecurityGroupRuleExists`).
    @discardableResult
    func insertRule(_ body: [String: JSON], project: String, in sql: any SQLDatabase) async throws -> [String: JSON] {
        let existing = try await rules.list([.oneOf(ruleKind.attribute("security_group_id")!, [body["security_group_id"]!])], in: sql)
        var candidate = body
        if candidate["normalized_cidr"] == nil { candidate["normalized_cidr"] = .null }
        if let same = existing.first(where: { RuleRules.same($0, candidate) }) {
            throw NetworkError.ruleExists(same["id"]?.stringValue ?? "")
        }
        var r = NetworkService.stamped(candidate)
        r["project_id"] = .string(project)
        try await rules.insert(r, in: sql)
        return r
    }

    /// The project's `default` group, created with neutron's rules when it does not exist yet.
    func defaultGroup(project: String, in sql: any SQLDatabase) async throws -> String {
        let defaults = DefaultSecurityGroupStore()
        if let id = try await defaults.find(project: project, in: sql) { return id }
        let g = NetworkService.stamped(["name": "default", "description": "Default security group", "project_id": .string(project), "stateful": true])
        let id = g["id"]!.stringValue!
        try await store.insert(g, in: sql)
        try await defaults.add(project: project, group: id, in: sql)
        for ethertype in ["IPv4", "IPv6"] {
            try await insertRule(
                ["security_group_id": .string(id), "direction": "ingress", "ethertype": .string(ethertype), "remote_group_id": .string(id)],
                project: project,
                in: sql
            )
            try await insertRule(
                ["security_group_id": .string(id), "direction": "egress", "ethertype": .string(ethertype)],
                project: project,
                in: sql
            )
        }
        return id
    }

    func groupViews(_ records: [[String: JSON]], in sql: any SQLDatabase) async throws -> [[String: JSON]] {
        let ids = records.compactMap { $0["id"]?.stringValue }
        let all = ids.isEmpty ? [] : try await rules.list([.oneOf(ruleKind.attribute("security_group_id")!, ids.map(JSON.string))], in: sql)
        let ruleViews = try await ruleViews(all, in: sql)
        var byGroup: [String: [JSON]] = [:]
        for r in ruleViews { byGroup[r["security_group_id"]?.stringValue ?? "", default: []].append(.object(r)) }
        return try await service.decorate(kind, records, in: sql).map { g in
            var v = g
            v["security_group_rules"] = .array(byGroup[g["id"]?.stringValue ?? ""] ?? [])
            v["shared"] = false
            return v
        }
    }

    func ruleViews(_ records: [[String: JSON]], in sql: any SQLDatabase) async throws -> [[String: JSON]] {
        let defaults = try await DefaultSecurityGroupStore().all(in: sql)
        return try await service.decorate(ruleKind, records, in: sql).map { r in
            var v = r
            v["belongs_to_default_sg"] = .bool(defaults.contains(r["security_group_id"]?.stringValue ?? ""))
            v.removeValue(forKey: "tags")
            return v
        }
    }
}
