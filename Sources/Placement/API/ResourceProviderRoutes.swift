import Foundation
import HTTPTypes
import Hummingbird
import StratusCore

/// `/resource_providers`: list (filters `name`, `uuid`, `member_of` 1.3, `resources` 1.4, `in_tree`
/// 1.14, `required` 1.18), create, show, update (reparenting from 1.37), delete.
struct ResourceProviderRoutes: Sendable {
    let service: PlacementService
    let providers = ProviderStore()

    func add(to r: inout RouteTable) {
        r.get("/resource_providers", list)
        r.post("/resource_providers", create)
        r.get("/resource_providers/{uuid}", show)
        r.delete("/resource_providers/{uuid}", delete)
        r.put("/resource_providers/{uuid}", update)
    }

    /// A provider as the API shows it at the request's microversion.
    static func json(_ p: ProviderRecord, _ ctx: StratusContext) -> JSON {
        let base = "/resource_providers/\(p.uuid)"
        var links: [JSON] = [["rel": "self", "href": .string(base)]]
        links.append(["rel": "inventories", "href": .string(base + "/inventories")])
        links.append(["rel": "usages", "href": .string(base + "/usages")])
        if ctx.atLeast(1) { links.append(["rel": "aggregates", "href": .string(base + "/aggregates")]) }
        if ctx.atLeast(6) { links.append(["rel": "traits", "href": .string(base + "/traits")]) }
        if ctx.atLeast(11) { links.append(["rel": "allocations", "href": .string(base + "/allocations")]) }
        var o: [String: JSON] = ["uuid": .string(p.uuid), "name": .string(p.name), "generation": .int(Int64(p.generation)), "links": .array(links)]
        if ctx.atLeast(14) {
            o["parent_provider_uuid"] = .optional(p.parentUUID)
            o["root_provider_uuid"] = .string(p.rootUUID)
        }
        return .object(o)
    }

    /// GET providers matching the filters: 200. 400 bad filter.
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.listProviders)
        var allowed = ["name", "uuid"]
        if ctx.atLeast(3) { allowed.append("member_of") }
        if ctx.atLeast(4) { allowed.append("resources") }
        if ctx.atLeast(14) { allowed.append("in_tree") }
        if ctx.atLeast(18) { allowed.append("required") }
        try PlacementHTTP.checkQuery(req, allowed: allowed)
        let filter = try ProviderFilter(req, ctx)
        let world = try await service.view.current(service.db)
        try world.checkNames(
            classes: filter.resources.map(\.0),
            traits: filter.required.flatMap { $0 } + filter.forbidden,
            traitMessage: { "Invalid trait(s) in \"required\" parameter: No such trait(s): \($0)." }
        )
        let matches = try filter.apply(world)
        let records = matches.map { i -> ProviderRecord in
            let p = world.provider(i)
            return ProviderRecord(uuid: p.uuid, name: p.name, generation: p.generation, parentUUID: p.parentUUID, rootUUID: p.rootUUID, updatedAt: 0)
        }
        return PlacementHTTP.json(["resource_providers": .array(records.map { Self.json($0, ctx) })], ctx)
    }

    /// POST a provider: 201 (200 with the provider from 1.20). 400 invalid body or unknown parent; 409 name or uuid taken.
    @Sendable func create(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.createProvider)
        let body = try await PlacementHTTP.body(req, ctx)
        let o = try PlacementHTTP.object(
            body,
            allowed: ctx.atLeast(14) ? ["name", "uuid", "parent_provider_uuid"] : ["name", "uuid"],
            required: ["name"]
        )
        let name = try PlacementHTTP.string(o["name"]!, minLength: 1, maxLength: 200)
        let uuid =
            try o["uuid"].map { try PlacementHTTP.canonicalUUID(PlacementHTTP.string($0, pattern: PlacementHTTP.uuidPattern)) }
            ?? UUID().uuidString.lowercased()
        var parent: String? = nil
        if let p = o["parent_provider_uuid"], !p.isNull {
            parent = PlacementHTTP.canonicalUUID(try PlacementHTTP.string(p, pattern: PlacementHTTP.uuidPattern))
        }
        let parentUUID = parent
        let created = try await service.write { sql in
            let parent = parentUUID
            var root = uuid
            if let parent {
                guard let p = try await providers.find(parent, in: sql) else {
                    throw PlacementError.badRequest("parent provider UUID does not exist.")
                }
                root = p.rootUUID
            }
            let record = ProviderRecord(uuid: uuid, name: name, generation: 0, parentUUID: parent, rootUUID: root, updatedAt: 0)
            try await providers.create(record, in: sql)
            return try await providers.find(uuid, in: sql)!
        }
        var headers = HTTPFields()
        headers[.location] = "/resource_providers/\(uuid)"
        if ctx.atLeast(20) { return PlacementHTTP.json(Self.json(created, ctx), ctx, lastModified: created.updatedAt, headers: headers) }
        return .empty(.created, headers: headers)
    }

    /// GET one provider: 200. 404 unknown.
    @Sendable func show(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.showProvider)
        let uuid = ctx.parameters.get("uuid")!
        let p = try await service.provider(uuid)
        return PlacementHTTP.json(Self.json(p, ctx), ctx, lastModified: p.updatedAt)
    }

    /// PUT a provider's name (and parent from 1.14): 200. 400 invalid or a forbidden reparenting; 404; 409 name taken.
    @Sendable func update(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.updateProvider)
        let uuid = ctx.parameters.get("uuid")!
        let body = try await PlacementHTTP.body(req, ctx)
        let o = try PlacementHTTP.object(body, allowed: ctx.atLeast(14) ? ["name", "parent_provider_uuid"] : ["name"], required: ["name"])
        let name = try PlacementHTTP.string(o["name"]!, minLength: 1, maxLength: 200)
        let parentGiven = o["parent_provider_uuid"] != nil
        var parent: String? = nil
        if let p = o["parent_provider_uuid"], !p.isNull {
            parent = PlacementHTTP.canonicalUUID(try PlacementHTTP.string(p, pattern: PlacementHTTP.uuidPattern))
        }
        let reparenting = ctx.atLeast(37)
        let parentUUID = parent
        let updated = try await service.write { sql in
            let parent = parentUUID
            try await providers.lock(in: sql)
            guard let current = try await providers.find(uuid, in: sql) else {
                throw PlacementError.notFound("No resource provider with uuid \(uuid) found")
            }
            var newParent = current.parentUUID
            var root = current.rootUUID
            if parentGiven, parent != current.parentUUID {
                if current.parentUUID != nil, !reparenting {
                    throw PlacementError.badRequest(
                        parent == nil ? "un-parenting a provider is not currently allowed." : "re-parenting a provider is not currently allowed."
                    )
                }
                if let parent {
                    guard let p = try await providers.find(parent, in: sql) else {
                        throw PlacementError.badRequest("parent provider UUID does not exist.")
                    }
                    if try await providers.subtree(of: uuid, in: sql).contains(parent) {
                        throw PlacementError.badRequest("creating loop in the provider tree is not allowed.")
                    }
                    root = p.rootUUID
                } else {
                    root = uuid
                }
                newParent = parent
            }
            if name != current.name, try await providers.find(name: name, in: sql) != nil {
                throw PlacementError.duplicateName("Conflicting resource provider \(name) already exists.")
            }
            try await providers.update(current, name: name, parentUUID: newParent, rootUUID: root, in: sql)
            return try await providers.find(uuid, in: sql)!
        }
        return PlacementHTTP.json(Self.json(updated, ctx), ctx, lastModified: updated.updatedAt)
    }

    /// DELETE a provider with its inventories, traits and aggregates: 204. 404; 409 allocations or children.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, PlacementPolicy.deleteProvider)
        let uuid = ctx.parameters.get("uuid")!
        try await service.write { sql in
            guard try await providers.find(uuid, in: sql) != nil else {
                throw PlacementError.notFound("No resource provider with uuid \(uuid) found for delete")
            }
            if try await providers.hasChildren(uuid, in: sql) {
                throw PlacementError.cannotDeleteParent("Unable to delete parent resource provider \(uuid): It has child resource providers.")
            }
            if try await !AllocationStore().usage(provider: uuid, in: sql).isEmpty {
                throw PlacementError.providerInUse("Unable to delete resource provider \(uuid): Resource provider has allocations.")
            }
            try await providers.delete(uuid, in: sql)
        }
        return PlacementHTTP.noContent()
    }
}
