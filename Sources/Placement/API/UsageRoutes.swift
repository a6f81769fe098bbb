import Hummingbird
import StratusCore

/// `/resource_providers/{uuid}/usages` and `/usages` (1.9; per consumer type from 1.38).
struct UsageRoutes: Sendable {
    let service: PlacementService
    let allocations = AllocationStore()

    func add(to r: inout RouteTable) {
        r.get("/resource_providers/{uuid}/usages", forProvider)
        r.get("/usages", total)
    }

    @Sendable func forProvider(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.providerUsages)
        let uuid = ctx.parameters.get("uuid")!
        let p = try await service.provider(uuid, ": No resource provider with uuid \(uuid) found")
        let (invs, used) = try await service.read { sql in
            (try await InventoryStore().list(uuid, in: sql), try await allocations.usage(provider: uuid, in: sql))
        }
        var usages: [String: JSON] = [:]
        for inv in invs { usages[inv.resourceClass] = .int(Int64(used[inv.resourceClass] ?? 0)) }
        return PlacementHTTP.json(["usages": .object(usages), "resource_provider_generation": .int(Int64(p.generation))], ctx)
    }

    /// GET a project's (or one user's) usage: 200. 400 without `project_id`.
    @Sendable func total(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        guard ctx.atLeast(9) else { throw PlacementError.notFound("The resource could not be found.") }
        let user = req.query("user_id")
        let caller = try ctx.requireCaller()
        // Policy first (placement answers 403 before it looks at the query).
        try service.authorize(
            ctx,
            PlacementPolicy.totalUsages,
            target: ["project_id": .optional(req.query("project_id")), "user_id": .string(user ?? caller.userID)]
        )
        try PlacementHTTP.checkQuery(req, allowed: ctx.atLeast(38) ? ["project_id", "user_id", "consumer_type"] : ["project_id", "user_id"])
        guard let project = req.query("project_id") else {
            throw PlacementError.badRequest("Invalid query string parameters: 'project_id' is a required property")
        }
        let typeFilter = req.query("consumer_type")
        let (rows, counts) = try await service.read { sql in
            (
                try await allocations.usages(project: project, user: user, in: sql),
                try await allocations.consumerCounts(project: project, user: user, in: sql)
            )
        }
        guard ctx.atLeast(38) else {
            var usages: [String: Int] = [:]
            for r in rows { usages[r.resourceClass, default: 0] += r.used }
            return PlacementHTTP.json(["usages": .object(usages.mapValues { .int(Int64($0)) })], ctx)
        }
        var grouped: [String: [String: Int]] = [:]
        for r in rows {
            let type = r.type ?? "unknown"
            if typeFilter == nil || typeFilter == type || typeFilter == "all" {
                grouped[typeFilter == "all" ? "all" : type, default: [:]][r.resourceClass, default: 0] += r.used
            }
        }
        for c in counts {
            let type = c.type ?? "unknown"
            if typeFilter == nil || typeFilter == type || typeFilter == "all" {
                grouped[typeFilter == "all" ? "all" : type, default: [:]]["consumer_count", default: 0] += c.count
            }
        }
        return PlacementHTTP.json(["usages": .object(grouped.mapValues { .object($0.mapValues { .int(Int64($0)) }) })], ctx)
    }
}
