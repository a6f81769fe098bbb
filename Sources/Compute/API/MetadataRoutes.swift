import Hummingbird
import SQLKit
import StratusCore
import StratusStorage

/// `/servers/{id}/metadata`: a server's key/value metadata (list, merge, replace, one key).
struct MetadataRoutes {
    let service: ComputeService

    func add(to routes: inout RouteTable) {
        routes.get("/v2.1/servers/:id/metadata") { request, ctx in try await list(request, ctx) }
        routes.post("/v2.1/servers/:id/metadata") { request, ctx in try await change(request, ctx, replace: false) }
        routes.put("/v2.1/servers/:id/metadata") { request, ctx in try await change(request, ctx, replace: true) }
        routes.get("/v2.1/servers/:id/metadata/:key") { request, ctx in try await show(request, ctx) }
        routes.put("/v2.1/servers/:id/metadata/:key") { request, ctx in try await set(request, ctx) }
        routes.delete("/v2.1/servers/:id/metadata/:key") { request, ctx in try await delete(request, ctx) }
    }

    func load(_ ctx: StratusContext, _ action: String) async throws -> (Instance, [String: JSON]) {
        let id = try ctx.parameters.require("id")
        let (i, _) = try await ServerRoutes(service: service).load(id, ctx)
        if i.deleted != 0 { throw ComputeError.instanceNotFound(id) }
        try service.authorize(ctx, action, ["project_id": .string(i.projectId), "user_id": .string(i.userId)])
        return (i, ServerView.object(i.metadata))
    }

    /// The metadata body (`{"metadata": {k: v}}` or `{"meta": {k: v}}`), checked as nova's schema.
    func items(_ body: JSON, key: String) throws -> [String: String] {
        guard let o = body[key]?.objectValue else {
            throw ComputeError.badRequest("Invalid input for field/attribute \(key). Value: None. '\(key)' is a required property")
        }
        var out: [String: String] = [:]
        for (k, v) in o {
            guard let s = v.stringValue else { throw ComputeError.invalidField(k, value: v, "\(ComputeError.pythonRepr(v)) is not of type 'string'") }
            guard !k.isEmpty, k.count <= 255, s.count <= 255 else {
                throw ComputeError.badRequest(
                    "Invalid input for field/attribute \(key). Value: \(ComputeError.pythonRepr(.object(o))). Metadata keys and values are 1 to 255 characters."
                )
            }
            out[k] = s
        }
        return out
    }

    func save(_ i: Instance, _ metadata: [String: JSON]) async throws {
        if metadata.count > service.settings.quotas["metadata_items"] ?? 128 {
            throw OpenStackError(.forbidden, "Quota exceeded for metadata_items: maximum is \(service.settings.quotas["metadata_items"] ?? 128)")
        }
        guard let (_, db) = try await ServerLookup(service: service).cell(of: i.uuid) else {
            throw ComputeError.conflict("Cannot 'update metadata' instance \(i.uuid) while it is in vm_state building")
        }
        let text = JSON.object(metadata).serialized()
        let uuid = i.uuid
        try await db.write { sql in _ = try await InstanceStore().update(uuid, ["metadata": SQLBind(text)], now: ComputeTime.now(), in: sql) }
    }

    func list(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let (_, metadata) = try await load(ctx, "os_compute_api:server-metadata:index")
        return .json(["metadata": .object(metadata)])
    }

    func change(_ request: Request, _ ctx: StratusContext, replace: Bool) async throws -> Response {
        let (i, current) = try await load(ctx, replace ? "os_compute_api:server-metadata:update_all" : "os_compute_api:server-metadata:create")
        let given = try items(try await request.jsonBody(limit: ctx.bodyLimit), key: "metadata").mapValues { JSON.string($0) }
        let merged = replace ? given : current.merging(given) { _, new in new }
        try await save(i, merged)
        return .json(["metadata": .object(merged)])
    }

    func show(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let key = try ctx.parameters.require("key")
        let (_, metadata) = try await load(ctx, "os_compute_api:server-metadata:show")
        guard let v = metadata[key] else { throw ComputeError.notFound("Metadata item was not found") }
        return .json(["meta": [key: v]])
    }

    func set(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let key = try ctx.parameters.require("key")
        let (i, current) = try await load(ctx, "os_compute_api:server-metadata:update")
        let given = try items(try await request.jsonBody(limit: ctx.bodyLimit), key: "meta")
        guard given.count == 1, let value = given[key] else { throw ComputeError.badRequest("Request body and URI mismatch") }
        var merged = current
        merged[key] = .string(value)
        try await save(i, merged)
        return .json(["meta": [key: .string(value)]])
    }

    func delete(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let key = try ctx.parameters.require("key")
        let (i, current) = try await load(ctx, "os_compute_api:server-metadata:delete")
        guard current[key] != nil else { throw ComputeError.notFound("Metadata item was not found") }
        var left = current
        left[key] = nil
        try await save(i, left)
        return .empty(.noContent)
    }
}
