import HTTPTypes
import Hummingbird
import StratusCore

/// `/traits` (1.6): list (`name=startswith:` / `in:`, `associated`), create-or-check, show, delete;
/// and a provider's traits (`/resource_providers/{uuid}/traits`): list, replace, delete all.
struct TraitRoutes: Sendable {
    let service: PlacementService
    let traits = TraitStore()
    let providers = ProviderStore()

    func add(to r: inout RouteTable) {
        r.get("/traits", list)
        r.get("/traits/{name}", show)
        r.put("/traits/{name}", put)
        r.delete("/traits/{name}", delete)
        r.get("/resource_providers/{uuid}/traits", listForProvider)
        r.put("/resource_providers/{uuid}/traits", setForProvider)
        r.delete("/resource_providers/{uuid}/traits", deleteForProvider)
    }

    func requireVersion(_ ctx: StratusContext) throws {
        guard ctx.atLeast(6) else { throw PlacementError.notFound("The resource could not be found.") }
    }

    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try requireVersion(ctx)
        try service.authorize(ctx, PlacementPolicy.listTraits)
        try PlacementHTTP.checkQuery(req, allowed: ["name", "associated"])
        var names: [String]? = nil
        var prefix: String? = nil
        if let filter = req.query("name") {
            if filter.hasPrefix("startswith:") {
                prefix = String(filter.dropFirst("startswith:".count))
            } else if filter.hasPrefix("in:") {
                names = filter.dropFirst(3).split(separator: ",").map(String.init)
            } else {
                throw PlacementError.badRequest(
                    "Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: \"\(filter)\""
                )
            }
        }
        var associated: Bool? = nil
        if let a = req.query("associated") {
            switch a.lowercased() {
            case "true": associated = true
            case "false": associated = false
            default: throw PlacementError.badRequest("The query parameter \"associated\" only accepts \"true\" or \"false\"")
            }
        }
        let (n, p, a) = (names, prefix, associated)
        let found = try await service.read { sql in try await traits.list(names: n, prefix: p, associated: a, in: sql) }
        return PlacementHTTP.json(["traits": .array(found.map(JSON.string))], ctx)
    }

    @Sendable func show(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try requireVersion(ctx)
        try service.authorize(ctx, PlacementPolicy.showTrait)
        let name = ctx.parameters.get("name")!
        guard try await service.read({ sql in try await traits.exists(name, in: sql) }) else {
            throw PlacementError.notFound("No such trait(s): \(name).")
        }
        return PlacementHTTP.noContent()
    }

    /// PUT a custom trait: 201 created, 204 existed. 400 not `CUSTOM_*`.
    @Sendable func put(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try requireVersion(ctx)
        try service.authorize(ctx, PlacementPolicy.updateTrait)
        let name = ctx.parameters.get("name")!
        guard name.count <= 255, name.range(of: PlacementHTTP.customPattern, options: .regularExpression) != nil else {
            throw PlacementError.badRequest(
                "The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix \"CUSTOM_\" and use following characters: \"A\"-\"Z\", \"0\"-\"9\" and \"_\""
            )
        }
        let created = try await service.write { sql in try await traits.create(name, in: sql) }
        var headers = HTTPFields()
        headers[.location] = "/traits/\(name)"
        return .empty(created ? .created : .noContent, headers: headers)
    }

    /// DELETE a custom trait: 204. 400 standard; 404; 409 in use.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try requireVersion(ctx)
        try service.authorize(ctx, PlacementPolicy.deleteTrait)
        let name = ctx.parameters.get("name")!
        if StandardNames.traits.contains(name) { throw PlacementError.badRequest("Cannot delete standard trait \(name).") }
        try await service.write { sql in try await traits.delete(name, in: sql) }
        return PlacementHTTP.noContent()
    }

    func traitsBody(_ names: [String], generation: Int) -> JSON {
        ["traits": .array(names.map(JSON.string)), "resource_provider_generation": .int(Int64(generation))]
    }

    @Sendable func listForProvider(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try requireVersion(ctx)
        try service.authorize(ctx, PlacementPolicy.listProviderTraits)
        let uuid = ctx.parameters.get("uuid")!
        let p = try await service.provider(uuid, ": No resource provider with uuid \(uuid) found")
        let names = try await service.read { sql in try await traits.of(provider: uuid, in: sql) }
        return PlacementHTTP.json(traitsBody(names, generation: p.generation), ctx, lastModified: p.updatedAt)
    }

    /// PUT a provider's traits with its generation: 200. 400 invalid or unknown trait; 404; 409 stale generation.
    @Sendable func setForProvider(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try requireVersion(ctx)
        try service.authorize(ctx, PlacementPolicy.updateProviderTraits)
        let uuid = ctx.parameters.get("uuid")!
        _ = try await service.provider(uuid, ": No resource provider with uuid \(uuid) found")
        let o = try PlacementHTTP.object(
            try await PlacementHTTP.body(req, ctx),
            allowed: ["traits", "resource_provider_generation"],
            required: ["traits", "resource_provider_generation"]
        )
        let generation = try PlacementHTTP.int(o["resource_provider_generation"]!)
        guard case .array(let items) = o["traits"]! else { throw PlacementHTTP.invalid("\(PlacementHTTP.repr(o["traits"]!)) is not of type 'array'") }
        let names = try items.map { try PlacementHTTP.string($0, pattern: "^[A-Z0-9_]+$", maxLength: 255) }
        if Set(names).count != names.count { throw PlacementHTTP.invalid("\(PlacementHTTP.repr(o["traits"]!)) has non-unique elements") }
        let gen = try await service.write { sql in
            let known = Set(try await traits.list(names: names, in: sql))
            let missing = names.filter { !known.contains($0) }
            if !missing.isEmpty { throw PlacementError.badRequest("No such trait \(missing.joined(separator: ", "))") }
            guard let current = try await providers.find(uuid, in: sql) else {
                throw PlacementError.notFound("No resource provider with uuid \(uuid) found")
            }
            if current.generation != generation {
                throw PlacementError.concurrentUpdate("Resource provider's generation already changed. Please update the generation and try again.")
            }
            try await traits.set(provider: uuid, traits: names, in: sql)
            return try await providers.bumpGeneration(uuid, expected: generation, in: sql)
        }
        return PlacementHTTP.json(traitsBody(names.sorted(), generation: gen), ctx)
    }

    @Sendable func deleteForProvider(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try requireVersion(ctx)
        try service.authorize(ctx, PlacementPolicy.deleteProviderTraits)
        let uuid = ctx.parameters.get("uuid")!
        let p = try await service.provider(uuid, ": No resource provider with uuid \(uuid) found")
        try await service.write { sql in
            try await traits.set(provider: uuid, traits: [], in: sql)
            _ = try await providers.bumpGeneration(uuid, expected: p.generation, in: sql)
        }
        return PlacementHTTP.noContent()
    }
}
