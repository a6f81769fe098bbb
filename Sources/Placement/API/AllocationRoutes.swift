import Hummingbird
import SQLKit
import StratusCore

/// `/allocations/{consumer_uuid}` (show, replace, delete), `POST /allocations` (1.13, several
/// consumers at once) and `/resource_providers/{uuid}/allocations`.
struct AllocationRoutes: Sendable {
    let service: PlacementService
    let allocations = AllocationStore()

    func add(to r: inout RouteTable) {
        r.get("/allocations/{consumer_uuid}", show)
        r.put("/allocations/{consumer_uuid}", replace)
        r.delete("/allocations/{consumer_uuid}", delete)
        r.post("/allocations", manage)
        r.get("/resource_providers/{uuid}/allocations", listForProvider)
    }

    @Sendable func show(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.listAllocations)
        let uuid = ctx.parameters.get("consumer_uuid")!
        let (consumer, items) = try await service.read { sql in
            (try await allocations.consumer(uuid, in: sql), try await allocations.allocations(of: uuid, in: sql))
        }
        var byProvider: [String: JSON] = [:]
        for a in items {
            var entry = byProvider[a.provider]?.objectValue ?? ["generation": .int(Int64(a.providerGeneration)), "resources": [:]]
            var resources = entry["resources"]!.objectValue!
            resources[a.resourceClass] = .int(Int64(a.used))
            entry["resources"] = .object(resources)
            byProvider[a.provider] = .object(entry)
        }
        var body: [String: JSON] = ["allocations": .object(byProvider)]
        if let consumer, !items.isEmpty {
            if ctx.atLeast(12) {
                body["project_id"] = .string(consumer.projectID)
                body["user_id"] = .string(consumer.userID)
            }
            if ctx.atLeast(28) { body["consumer_generation"] = .int(Int64(consumer.generation)) }
            if ctx.atLeast(38) { body["consumer_type"] = .string(consumer.consumerType ?? "unknown") }
        }
        return PlacementHTTP.json(.object(body), ctx, lastModified: items.map(\.updatedAt).max())
    }

    /// PUT a consumer's allocations: 204. 400 invalid body, unknown provider or class; 409 capacity,
    /// constraints or a stale generation.
    @Sendable func replace(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.updateAllocations)
        let raw = ctx.parameters.get("consumer_uuid")!
        guard PlacementHTTP.isUUIDLike(raw) else { throw PlacementError.badRequest("Malformed consumer_uuid: \(raw)") }
        let uuid = PlacementHTTP.canonicalUUID(raw)
        let json = try await PlacementHTTP.body(req, ctx)
        let write = try AllocationBody(ctx: ctx, settings: service.settings).consumer(uuid, json, listForm: !ctx.atLeast(12))
        try await save([write])
        return PlacementHTTP.noContent()
    }

    /// POST allocations for several consumers (1.13): 204. Errors as PUT.
    @Sendable func manage(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        guard ctx.atLeast(13) else { throw OpenStackError(.methodNotAllowed, "The method specified is not allowed for this resource.") }
        try service.authorize(ctx, PlacementPolicy.manageAllocations)
        guard case .object(let byConsumer) = try await PlacementHTTP.body(req, ctx) else {
            throw PlacementHTTP.invalid("the body is not of type 'object'")
        }
        if byConsumer.isEmpty { throw PlacementHTTP.invalid("{} does not have enough properties") }
        let reader = AllocationBody(ctx: ctx, settings: service.settings)
        var writes: [ConsumerWrite] = []
        for (key, value) in byConsumer.sorted(by: { $0.key < $1.key }) {
            guard key.range(of: PlacementHTTP.uuidPattern, options: .regularExpression) != nil else {
                throw PlacementHTTP.invalid("'\(key)' does not match any of the regexes: '\(PlacementHTTP.uuidPattern)'")
            }
            // POST /allocations could always empty a consumer (placement's DELETABLE_ALLOCATIONS).
            writes.append(try reader.consumer(PlacementHTTP.canonicalUUID(key), value, listForm: false, deletable: true))
        }
        try await save(writes)
        return PlacementHTTP.noContent()
    }

    /// Checks the classes named, then writes with placement's retries on generation races.
    func save(_ writes: [ConsumerWrite]) async throws {
        let classes = Array(Set(writes.flatMap { $0.allocations.map(\.resourceClass) }))
        let known = try await service.read { sql in try await ResourceClassStore().existing(classes, in: sql) }
        if let missing = classes.sorted().first(where: { !known.contains($0) }) {
            throw PlacementError.badRequest("Unable to allocate inventory for consumer \(writes[0].uuid): No such resource class \(missing).")
        }
        try await service.writeRetrying { sql in try await allocations.write(writes, in: sql) }
    }

    /// DELETE a consumer's allocations: 204. 404 none.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.deleteAllocations)
        let uuid = ctx.parameters.get("consumer_uuid")!
        let deleted = try await service.write { sql in try await allocations.delete(consumer: uuid, in: sql) }
        guard deleted else { throw PlacementError.notFound("No allocations for consumer '\(uuid)'") }
        return PlacementHTTP.noContent()
    }

    @Sendable func listForProvider(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.providerAllocations)
        let uuid = ctx.parameters.get("uuid")!
        let p = try await service.provider(uuid, ": No resource provider with uuid \(uuid) found")
        let rows = try await service.read { sql in try await allocations.allocations(onProvider: uuid, in: sql) }
        var byConsumer: [String: [String: JSON]] = [:]
        var generations: [String: Int] = [:]
        for r in rows {
            byConsumer[r.other, default: [:]][r.resourceClass] = .int(Int64(r.used))
            generations[r.other] = r.generation
        }
        let withGeneration = ctx.atLeast(28)
        let body: JSON = [
            "allocations": .object(
                Dictionary(
                    uniqueKeysWithValues: byConsumer.map { consumer, resources in
                        var entry: [String: JSON] = ["resources": .object(resources)]
                        if withGeneration { entry["consumer_generation"] = .int(Int64(generations[consumer]!)) }
                        return (consumer, JSON.object(entry))
                    }
                )
            ),
            "resource_provider_generation": .int(Int64(p.generation)),
        ]
        return PlacementHTTP.json(body, ctx, lastModified: rows.map(\.updatedAt).max() ?? p.updatedAt)
    }
}
