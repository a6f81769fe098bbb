import Hummingbird
import StratusCore

/// `/limits` and os-quota-sets: nova.conf's `[quota]` limits, per-project overrides, usage
/// counted from the cells (or Placement with `[quota] count_usage_from_placement`).
struct LimitRoutes {
    let service: ComputeService

    func add(to routes: inout RouteTable) {
        routes.get("/v2.1/limits") { request, ctx in try await limits(request, ctx) }
        routes.get("/v2.1/os-quota-sets/:project") { request, ctx in try await show(request, ctx, detail: false) }
        routes.get("/v2.1/os-quota-sets/:project/detail") { request, ctx in try await show(request, ctx, detail: true) }
        routes.get("/v2.1/os-quota-sets/:project/defaults") { request, ctx in try await defaults(request, ctx) }
        routes.put("/v2.1/os-quota-sets/:project") { request, ctx in try await update(request, ctx) }
        routes.delete("/v2.1/os-quota-sets/:project") { request, ctx in try await reset(request, ctx) }
    }

    /// The quota names at a microversion, in nova's order.
    func names(_ ctx: StratusContext) -> [String] {
        var n = ["instances", "cores", "ram", "metadata_items", "key_pairs", "server_groups", "server_group_members"]
        if !ctx.atLeast(57) { n += ["injected_files", "injected_file_content_bytes", "injected_file_path_bytes"] }
        if !ctx.atLeast(36) { n += ["fixed_ips", "floating_ips", "security_groups", "security_group_rules"] }
        return n
    }

    func value(_ limits: [String: Int], _ name: String) -> Int {
        if name == "injected_file_path_bytes" { return limits["injected_file_path_length"] ?? 255 }
        return limits[name] ?? -1
    }

    func limits(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let caller = try ctx.requireCaller()
        try service.authorize(ctx, "os_compute_api:limits")
        if ctx.atLeast(75), let unknown = request.queryItems.map(\.0).first(where: { $0 != "tenant_id" && $0 != "reserved" }) {
            throw ComputeError.badRequest(
                "Invalid input for query parameters \(unknown). Value: \(request.query(unknown) ?? ""). Additional properties are not allowed ('\(unknown)' was unexpected)"
            )
        }
        var project = caller.projectID ?? ""
        if let other = request.query("tenant_id") {
            try service.authorize(ctx, "os_compute_api:limits:other_project")
            project = other
        }
        let q = QuotaCheck(service: service)
        let l = try await q.limits(project: project)
        let used = try await q.usage(project: project)
        var a: [String: JSON] = [
            "maxTotalRAMSize": .int(Int64(l["ram"]!)), "maxTotalInstances": .int(Int64(l["instances"]!)), "maxTotalCores": .int(Int64(l["cores"]!)),
            "maxTotalKeypairs": .int(Int64(l["key_pairs"]!)), "maxServerMeta": .int(Int64(l["metadata_items"]!)),
            "maxServerGroups": .int(Int64(l["server_groups"]!)), "maxServerGroupMembers": .int(Int64(l["server_group_members"]!)),
            "totalRAMUsed": .int(Int64(used.ram)), "totalCoresUsed": .int(Int64(used.cores)), "totalInstancesUsed": .int(Int64(used.instances)),
            "totalServerGroupsUsed": 0,
        ]
        if !ctx.atLeast(36) {
            for k in ["maxTotalFloatingIps", "maxSecurityGroups", "maxSecurityGroupRules"] { a[k] = -1 }
            a["totalFloatingIpsUsed"] = 0
            a["totalSecurityGroupsUsed"] = 0
        }
        if !ctx.atLeast(39) { a["maxImageMeta"] = .int(Int64(l["metadata_items"]!)) }
        if !ctx.atLeast(57) {
            a["maxPersonality"] = .int(Int64(l["injected_files"]!))
            a["maxPersonalitySize"] = .int(Int64(l["injected_file_content_bytes"]!))
        }
        return .json(["limits": ["rate": [], "absolute": .object(a)]])
    }

    func show(_ request: Request, _ ctx: StratusContext, detail: Bool) async throws -> Response {
        let project = try ctx.parameters.require("project")
        try service.authorize(
            ctx,
            detail ? "os_compute_api:os-quota-sets:detail" : "os_compute_api:os-quota-sets:show",
            ["project_id": .string(project)]
        )
        try await ComputeHTTP.verifyProject(project, service: service, ctx)
        let q = QuotaCheck(service: service)
        let l = try await q.limits(project: project)
        var out: [String: JSON] = ["id": .string(project)]
        var used: [String: Int] = [:]
        if detail {
            let u = try await q.usage(project: project)
            used = ["instances": u.instances, "cores": u.cores, "ram": u.ram]
            let keypairs = try await service.api.read { sql in try await KeypairStore().list(user: try ctx.requireCaller().userID, in: sql).count }
            used["key_pairs"] = keypairs
        }
        for n in names(ctx) {
            out[n] = detail ? ["in_use": .int(Int64(used[n] ?? 0)), "limit": .int(Int64(value(l, n))), "reserved": 0] : .int(Int64(value(l, n)))
        }
        return .json(["quota_set": .object(out)])
    }

    func defaults(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let project = try ctx.parameters.require("project")
        try service.authorize(ctx, "os_compute_api:os-quota-sets:defaults")
        try await ComputeHTTP.verifyProject(project, service: service, ctx)
        var out: [String: JSON] = ["id": .string(project)]
        for n in names(ctx) { out[n] = .int(Int64(value(service.settings.quotas, n))) }
        return .json(["quota_set": .object(out)])
    }

    func update(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let project = try ctx.parameters.require("project")
        try service.authorize(ctx, "os_compute_api:os-quota-sets:update", ["project_id": .string(project)])
        try await ComputeHTTP.verifyProject(project, service: service, ctx)
        let body = try await ComputeHTTP.body(request, ctx, "quota_set")
        let known = Set(names(ctx))
        let force = body["force"]?.boolValue ?? false
        var set: [String: Int] = [:]
        for (k, v) in body where k != "force" {
            guard known.contains(k) else { throw BootRequest.extraProperty(body, k) }
            let n: Int64? = v.intValue ?? v.stringValue.flatMap { Int64($0) }
            guard let n, n >= -1, n <= 2_147_483_647 else {
                throw ComputeError.invalidField(k, value: v, "\(ComputeError.pythonRepr(v)) is not valid under any of the given schemas")
            }
            set[k == "injected_file_path_bytes" ? "injected_file_path_length" : k] = Int(n)
        }
        if !force {
            let u = try await QuotaCheck(service: service).usage(project: project)
            for (k, used) in [("instances", u.instances), ("cores", u.cores), ("ram", u.ram)] {
                if let limit = set[k], limit >= 0, limit < used {
                    throw ComputeError.badRequest("Quota limit \(limit) for \(k) must be greater than or equal to already used and reserved \(used).")
                }
            }
        }
        let values = set
        try await service.api.write { sql in try await ComputeQuotaStore().set(project: project, values, in: sql) }
        let l = try await QuotaCheck(service: service).limits(project: project)
        var out: [String: JSON] = [:]
        for n in names(ctx) { out[n] = .int(Int64(value(l, n))) }
        return .json(["quota_set": .object(out)])
    }

    func reset(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let project = try ctx.parameters.require("project")
        try service.authorize(ctx, "os_compute_api:os-quota-sets:delete", ["project_id": .string(project)])
        try await service.api.write { sql in try await ComputeQuotaStore().clear(project: project, in: sql) }
        return .empty(.accepted)
    }
}
