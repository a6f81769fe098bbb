import Hummingbird
import StratusCore

/// `/resource_providers/{uuid}/aggregates` (1.1): list and replace; from 1.19 both carry the
/// provider generation and the replacement checks it.
struct AggregateRoutes: Sendable {
    let service: PlacementService
    let aggregates = AggregateStore()
    let providers = ProviderStore()

    func add(to r: inout RouteTable) {
        r.get("/resource_providers/{uuid}/aggregates", list)
        r.put("/resource_providers/{uuid}/aggregates", set)
    }

    func body(_ uuids: [String], generation: Int, _ ctx: StratusContext) -> JSON {
        var o: [String: JSON] = ["aggregates": .array(uuids.map(JSON.string))]
        if ctx.atLeast(19) { o["resource_provider_generation"] = .int(Int64(generation)) }
        return .object(o)
    }

    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        guard ctx.atLeast(1) else { throw PlacementError.notFound("The resource could not be found.") }
        try service.authorize(ctx, PlacementPolicy.listAggregates)
        let uuid = ctx.parameters.get("uuid")!
        let p = try await service.provider(uuid)
        let list = try await service.read { sql in try await aggregates.of(provider: uuid, in: sql) }
        return PlacementHTTP.json(body(list, generation: p.generation, ctx), ctx, lastModified: p.updatedAt)
    }

    /// PUT the aggregates (a list before 1.19; `{aggregates, resource_provider_generation}` after): 200. 400; 404; 409.
    @Sendable func set(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        guard ctx.atLeast(1) else { throw PlacementError.notFound("The resource could not be found.") }
        try service.authorize(ctx, PlacementPolicy.updateAggregates)
        let uuid = ctx.parameters.get("uuid")!
        let p = try await service.provider(uuid)
        let json = try await PlacementHTTP.body(req, ctx)
        var generation: Int? = nil
        let items: JSON
        if ctx.atLeast(19) {
            let o = try PlacementHTTP.object(
                json,
                allowed: ["aggregates", "resource_provider_generation"],
                required: ["aggregates", "resource_provider_generation"]
            )
            generation = try PlacementHTTP.int(o["resource_provider_generation"]!)
            items = o["aggregates"]!
        } else {
            items = json
        }
        guard case .array(let list) = items else { throw PlacementHTTP.invalid("\(PlacementHTTP.repr(items)) is not of type 'array'") }
        let uuids = try list.map { PlacementHTTP.canonicalUUID(try PlacementHTTP.string($0, pattern: PlacementHTTP.uuidPattern)) }
        if Set(uuids).count != uuids.count { throw PlacementHTTP.invalid("\(PlacementHTTP.repr(items)) has non-unique elements") }
        let given = generation
        let gen = try await service.write { sql in
            let generation = given
            let expected = generation ?? p.generation
            guard let current = try await providers.find(uuid, in: sql) else {
                throw PlacementError.notFound("No resource provider with uuid \(uuid) found")
            }
            if current.generation != expected {
                throw PlacementError.concurrentUpdate("Resource provider's generation already changed. Please update the generation and try again.")
            }
            try await aggregates.set(provider: uuid, aggregates: uuids, in: sql)
            // Before 1.19 the generation does not move.
            guard generation != nil else {
                try await providers.touch([uuid], in: sql)
                return expected
            }
            return try await providers.bumpGeneration(uuid, expected: expected, in: sql)
        }
        return PlacementHTTP.json(body(uuids.sorted(), generation: gen, ctx), ctx)
    }
}
