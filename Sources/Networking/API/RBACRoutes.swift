import Hummingbird
import SQLKit
import StratusCore

/// `/v2.0/rbac-policies`: sharing a network with one project or all (`access_as_shared`), or
/// letting them use it as an external network (`access_as_external`). The `shared` and
/// `router:external` flags are the entries to `*`.
struct RBACRoutes {
    let service: NetworkService
    let kind = ResourceKind.rbacPolicy
    var store: RecordStore { RecordStore(kind) }

    static let rules: [AttributeRule] = [
        AttributeRule("object_type", .string(max: 32), put: false),
        AttributeRule("object_id", .uuid, put: false),
        AttributeRule("action", .string(max: 32), put: false),
        AttributeRule("target_tenant", .string(max: 255)),
        AttributeRule("target_project", .string(max: 255), default: .null),
    ]

    func add(to routes: inout RouteTable) {
        routes.get("/v2.0/rbac-policies") { request, ctx in
            let query = try ListQuery(request, kind: kind, maxLimit: service.settings.maxPage)
            let items = try await service.read { sql in
                try await service.decorate(kind, try await query.run(store, extraConditions: try service.listScope(ctx), in: sql), in: sql)
            }
            return query.response(request, views: items.filter { service.allows(ctx, "get_rbac_policy", $0) })
        }
        routes.get("/v2.0/rbac-policies/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let view = try await service.read { sql in
                try await service.decorate(kind, [try await service.visible(kind, id, ctx, in: sql)], in: sql)[0]
            }
            return NetworkHTTP.one("rbac_policy", view, fields: NetworkHTTP.fields(request))
        }
        routes.post("/v2.0/rbac-policies") { request, ctx in
            let raw = try await NetworkHTTP.body(request, ctx, key: "rbac_policy")
            var body = try RequestRules.apply(raw, rules: Self.rules, creating: true)
            if let p = body.removeValue(forKey: "target_project"), !p.isNull, body["target_tenant"] == nil { body["target_tenant"] = p }
            guard body["target_tenant"]?.stringValue != nil else {
                throw NetworkError.invalidBody("Failed to parse request. Required attribute 'target_tenant' not specified")
            }
            guard body["object_type"] == "network" else {
                throw NetworkError.invalidInput(
                    "Invalid input for object_type. Reason: '\(RequestRules.python(body["object_type"] ?? .null))' is not in ['network']"
                )
            }
            guard let action = body["action"]?.stringValue, ["access_as_shared", "access_as_external"].contains(action) else {
                throw NetworkError.invalidInput(
                    "Invalid input for action. Reason: '\(RequestRules.python(body["action"] ?? .null))' is not in ['access_as_external', 'access_as_shared']"
                )
            }
            let project = try service.owner(ctx, body)
            body["project_id"] = .string(project)
            try service.authorize(ctx, "create_rbac_policy", body, body: raw)
            let objectID = body["object_id"]!.stringValue!
            let view = try await service.write { [body] sql in
                let network = try await service.visible(.network, objectID, ctx, lock: true, in: sql)
                guard service.isAdmin(ctx) || network["project_id"]?.stringValue == project else { throw NetworkError.notFound(.network, objectID) }
                let same = try await store.list(
                    [
                        .oneOf(kind.attribute("object_id")!, [.string(objectID)]), .oneOf(kind.attribute("action")!, [.string(action)]),
                        .oneOf(kind.attribute("target_tenant")!, [body["target_tenant"]!]),
                    ],
                    in: sql
                )
                if !same.isEmpty {
                    throw NetworkError.make(.conflict, "DuplicateRbacPolicy", "An RBAC policy already exists with those values.")
                }
                try await service.checkQuota(kind, project: project, in: sql)
                let r = NetworkService.stamped(body)
                try await store.insert(r, in: sql)
                if body["target_tenant"] == "*" {
                    try await RecordStore(.network).update(objectID, [action == "access_as_shared" ? "shared" : "router:external": true], in: sql)
                }
                return try await service.decorate(kind, [r], in: sql)[0]
            }
            return NetworkHTTP.one("rbac_policy", view, status: .created)
        }
        routes.put("/v2.0/rbac-policies/{id}") { request, ctx in
            let id = try ctx.parameters.require("id")
            let raw = try await NetworkHTTP.body(request, ctx, key: "rbac_policy")
            let changes = try RequestRules.apply(raw, rules: Self.rules, creating: false)
            guard let target = (changes["target_tenant"] ?? changes["target_project"])?.stringValue else {
                throw NetworkError.invalidBody("Only target_tenant can be updated")
            }
            let view = try await service.write { sql in
                let r = try await service.visible(kind, id, ctx, lock: true, in: sql)
                try service.authorize(
                    ctx,
                    "update_rbac_policy",
                    r,
                    body: ["target_tenant": .string(target)],
                    notFound: NetworkError.notFound(kind, id)
                )
                try await checkUnused(r, in: sql)
                try await store.update(id, ["target_tenant": .string(target)], in: sql)
                return try await service.decorate(kind, [try await store.find(id, in: sql)!], in: sql)[0]
            }
            return NetworkHTTP.one("rbac_policy", view)
        }
        routes.delete("/v2.0/rbac-policies/{id}") { _, ctx in
            let id = try ctx.parameters.require("id")
            try await service.write { sql in
                let r = try await service.visible(kind, id, ctx, lock: true, in: sql)
                try service.authorize(ctx, "delete_rbac_policy", r, notFound: NetworkError.notFound(kind, id))
                try await checkUnused(r, in: sql)
                try await store.delete(id, in: sql)
                if r["target_tenant"] == "*", let network = r["object_id"]?.stringValue {
                    let flag = r["action"] == "access_as_shared" ? "shared" : "router:external"
                    try await RecordStore(.network).update(network, [flag: false], in: sql)
                }
            }
            return .empty()
        }
    }

    /// 409 `RbacPolicyInUse` while a project that only this entry lets in has ports on the network
    /// (shared) or floating IPs and router gateways on it (external).
    func checkUnused(_ r: [String: JSON], in sql: any SQLDatabase) async throws {
        guard let network = r["object_id"]?.stringValue, let action = r["action"]?.stringValue, let id = r["id"]?.stringValue,
            let owner = try await RecordStore(.network).find(network, in: sql)?["project_id"]?.stringValue
        else { return }
        let target = r["target_tenant"]?.stringValue ?? ""
        let ports = try await RecordStore(.port).list([.oneOf(ResourceKind.port.attribute("network_id")!, [.string(network)])], in: sql)
        let owners: Set<String>
        if action == "access_as_shared" {
            owners = Set(ports.filter { !($0["device_owner"]?.stringValue ?? "").hasPrefix("network:") }.compactMap { $0["project_id"]?.stringValue })
        } else {
            let fips = try await RecordStore(.floatingIP).list(
                [.oneOf(ResourceKind.floatingIP.attribute("floating_network_id")!, [.string(network)])],
                in: sql
            )
            let routers = try await RecordStore(.router).list([.oneOf(ResourceKind.router.attribute("gw_network_id")!, [.string(network)])], in: sql)
            owners = Set((fips + routers).compactMap { $0["project_id"]?.stringValue })
        }
        for p in owners where p != owner && (target == "*" || target == p) {
            if !(try await RBACGrantStore().granted(network: network, action: action, project: p, except: id, in: sql)) {
                throw NetworkError.make(
                    .conflict,
                    "RbacPolicyInUse",
                    "RBAC policy on object \(network) cannot be removed because other objects depend on it.\nDetails: Callback neutron.plugins.ml2.plugin.Ml2Plugin.validate_network_rbac_policy_change failed with \"Unable to reconfigure sharing settings for network \(network). Multiple tenants are using it.\""
                )
            }
        }
    }
}
