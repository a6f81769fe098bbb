import Foundation
import Hummingbird
import StratusCore

/// `/flavors`: list, detail, show (no policy, as nova), create / update / delete (admin),
/// extra specs and project access for private flavors.
struct FlavorRoutes {
    let service: ComputeService

    func add(to routes: inout RouteTable) {
        routes.get("/v2.1/flavors") { request, ctx in try await list(request, ctx, detail: false) }
        routes.get("/v2.1/flavors/detail") { request, ctx in try await list(request, ctx, detail: true) }
        routes.post("/v2.1/flavors") { request, ctx in try await create(request, ctx) }
        routes.get("/v2.1/flavors/:id") { request, ctx in try await show(request, ctx) }
        routes.put("/v2.1/flavors/:id") { request, ctx in try await update(request, ctx) }
        routes.delete("/v2.1/flavors/:id") { request, ctx in try await delete(request, ctx) }
        routes.get("/v2.1/flavors/:id/os-extra_specs") { request, ctx in try await specs(request, ctx) }
        routes.post("/v2.1/flavors/:id/os-extra_specs") { request, ctx in try await setSpecs(request, ctx) }
        routes.get("/v2.1/flavors/:id/os-extra_specs/:key") { request, ctx in try await spec(request, ctx) }
        routes.put("/v2.1/flavors/:id/os-extra_specs/:key") { request, ctx in try await setSpec(request, ctx) }
        routes.delete("/v2.1/flavors/:id/os-extra_specs/:key") { request, ctx in try await deleteSpec(request, ctx) }
        routes.get("/v2.1/flavors/:id/os-flavor-access") { request, ctx in try await access(request, ctx) }
        routes.post("/v2.1/flavors/:id/action") { request, ctx in try await action(request, ctx) }
    }

    func view(_ f: FlavorStore.Flavor, _ base: String, _ ctx: StratusContext, detail: Bool, specs: [String: String]?) -> JSON {
        var v: [String: JSON] = ["id": .string(f.flavorid), "name": .string(f.name), "links": ComputeHTTP.links(base, "flavors/\(f.flavorid)")]
        if ctx.atLeast(55) { v["description"] = .optional(f.description) }
        guard detail else { return .object(v) }
        v["ram"] = .int(f.memoryMb)
        v["disk"] = .int(f.rootGb)
        v["vcpus"] = .int(f.vcpus)
        v["swap"] = ctx.atLeast(75) ? .int(f.swap) : (f.swap == 0 ? "" : .int(f.swap))
        v["OS-FLV-EXT-DATA:ephemeral"] = .int(f.ephemeralGb)
        v["os-flavor-access:is_public"] = .bool(f.isPublic)
        if !ctx.atLeast(102) {
            v["OS-FLV-DISABLED:disabled"] = .bool(f.disabled)
            v["rxtx_factor"] = f.rxtxFactor == 0 ? "" : .double(f.rxtxFactor)
        }
        if ctx.atLeast(61), let specs { v["extra_specs"] = .object(specs.mapValues { .string($0) }) }
        return .object(v)
    }

    func showsSpecs(_ ctx: StratusContext) -> Bool { ctx.atLeast(61) && service.allows(ctx, "os_compute_api:os-flavor-extra-specs:index") }

    /// A flavor the caller may see: public ones, private ones its project was given, all for admins.
    func find(_ id: String, _ ctx: StratusContext) async throws -> FlavorStore.Flavor {
        guard let f = try await service.api.read({ sql in try await FlavorStore().find(id, in: sql) }) else { throw ComputeError.flavorNotFound(id) }
        if !f.isPublic, !service.allows(ctx, "context_is_admin") {
            let project = try ctx.requireCaller().projectID ?? ""
            let allowed = try await service.api.read { sql in try await FlavorStore().projects(f.id, in: sql) }
            if !allowed.contains(project) { throw ComputeError.flavorNotFound(id) }
        }
        return f
    }

    func list(_ request: Request, _ ctx: StratusContext, detail: Bool) async throws -> Response {
        let caller = try ctx.requireCaller()
        let admin = service.allows(ctx, "context_is_admin")
        var isPublic: Bool? = true
        if let text = request.query("is_public"), admin {
            switch text.lowercased() {
            case "none": isPublic = nil
            case "true", "1", "yes", "on", "t", "y": isPublic = true
            case "false", "0", "no", "off", "f", "n": isPublic = false
            default: throw ComputeError.badRequest("Invalid is_public filter [\(text)]")
            }
        }
        let minRAM = try request.query("minRam").map { t -> Int64 in
            guard let n = Int64(t) else { throw ComputeError.badRequest("Invalid minRam filter [\(t)]") }
            return n
        }
        let minDisk = try request.query("minDisk").map { t -> Int64 in
            guard let n = Int64(t) else { throw ComputeError.badRequest("Invalid minDisk filter [\(t)]") }
            return n
        }
        let project = admin && request.query("is_public") != nil ? nil : caller.projectID
        let publicOnly = isPublic
        var flavors = try await service.api.read { sql in
            try await FlavorStore().list(isPublic: publicOnly, project: project, minRAM: minRAM, minDisk: minDisk, in: sql)
        }
        let page = try ComputeHTTP.page(request)
        if let marker = page.marker {
            guard let at = flavors.firstIndex(where: { $0.flavorid == marker }) else { throw ComputeError.badRequest("marker [\(marker)] not found") }
            flavors = Array(flavors[(at + 1)...])
        }
        let limit = min(page.limit ?? 1000, 1000)
        flavors = Array(flavors.prefix(limit))
        let base = ComputeHTTP.base(request)
        let withSpecs = detail && showsSpecs(ctx)
        var out: [JSON] = []
        for f in flavors {
            let specs = withSpecs ? try await service.api.read { sql in try await FlavorStore().extraSpecs(f.id, in: sql) } : nil
            out.append(view(f, base, ctx, detail: detail, specs: specs))
        }
        var body: [String: JSON] = ["flavors": .array(out)]
        if page.limit != nil, flavors.count == limit, let last = flavors.last {
            body["flavors_links"] = [
                ["rel": "next", "href": .string("\(base)/v2.1/flavors\(detail ? "/detail" : "")?limit=\(limit)&marker=\(last.flavorid)")]
            ]
        }
        return .json(.object(body))
    }

    func show(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let f = try await find(try ctx.parameters.require("id"), ctx)
        let specs = showsSpecs(ctx) ? try await service.api.read { sql in try await FlavorStore().extraSpecs(f.id, in: sql) } : nil
        return .json(["flavor": view(f, ComputeHTTP.base(request), ctx, detail: true, specs: specs)])
    }

    func create(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-flavor-manage:create")
        let spec: FlavorSpec
        switch FlavorRules.create(try await request.jsonBody(limit: ctx.bodyLimit), minor: ctx.computeVersion.minor) {
        case .success(let s): spec = s
        case .failure(let r): throw ComputeError.badRequest(r.message)
        }
        let (name, id) = (spec.name, spec.flavorID)
        let flavor = FlavorStore.Flavor(
            id: 0,
            flavorid: id,
            name: name,
            memoryMb: Int64(spec.ram),
            vcpus: Int64(spec.vcpus),
            rootGb: Int64(spec.disk),
            ephemeralGb: Int64(spec.ephemeral),
            swap: Int64(spec.swap),
            rxtxFactor: spec.rxtxFactor,
            isPublic: spec.isPublic,
            disabled: false,
            description: spec.description
        )
        let now = ComputeTime.now()
        let stored: FlavorStore.Flavor
        do {
            stored = try await service.api.write { sql in try await FlavorStore().create(flavor, now: now, in: sql) }
        } catch FlavorStore.Taken.name {
            throw ComputeError.conflict(FlavorRules.nameExists(name))
        } catch FlavorStore.Taken.id {
            throw ComputeError.conflict(FlavorRules.idExists(id))
        }
        return .json(["flavor": view(stored, ComputeHTTP.base(request), ctx, detail: true, specs: showsSpecs(ctx) ? [:] : nil)])
    }

    func update(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        guard ctx.atLeast(55) else { throw ComputeError.notFound("The resource could not be found.") }
        try service.authorize(ctx, "os_compute_api:os-flavor-manage:update")
        let f = try await find(try ctx.parameters.require("id"), ctx)
        let description: String?
        switch FlavorRules.updateDescription(try await request.jsonBody(limit: ctx.bodyLimit)) {
        case .success(let d): description = d
        case .failure(let r): throw ComputeError.badRequest(r.message)
        }
        try await service.api.write { sql in try await FlavorStore().setDescription(f.id, description, in: sql) }
        var fresh = f
        fresh.description = description
        let specs = showsSpecs(ctx) ? try await service.api.read { sql in try await FlavorStore().extraSpecs(f.id, in: sql) } : nil
        return .json(["flavor": view(fresh, ComputeHTTP.base(request), ctx, detail: true, specs: specs)])
    }

    func delete(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-flavor-manage:delete")
        let id = try ctx.parameters.require("id")
        guard let f = try await service.api.read({ sql in try await FlavorStore().find(id, in: sql) }) else { throw ComputeError.flavorNotFound(id) }
        try await service.api.write { sql in try await FlavorStore().delete(f.id, in: sql) }
        return .empty(.accepted)
    }

    func specs(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-flavor-extra-specs:index")
        let f = try await find(try ctx.parameters.require("id"), ctx)
        let specs = try await service.api.read { sql in try await FlavorStore().extraSpecs(f.id, in: sql) }
        return .json(["extra_specs": .object(specs.mapValues { .string($0) })])
    }

    func parseSpecs(_ body: JSON, key: String = "extra_specs") throws -> [String: String] {
        guard let o = body[key]?.objectValue else {
            throw ComputeError.badRequest("Invalid input for field/attribute \(key). Value: None. '\(key)' is a required property")
        }
        var out: [String: String] = [:]
        for (k, v) in o {
            guard !k.isEmpty, k.count <= 255, k.allSatisfy({ $0.isLetter || $0.isNumber || "-_:. ".contains($0) }) else {
                throw ComputeError.badRequest(
                    "Invalid input for field/attribute extra_specs. Value: \(ComputeError.pythonRepr(.object(o))). Additional properties are not allowed ('\(k)' was unexpected)"
                )
            }
            let value = v.stringValue ?? v.intValue.map { String($0) } ?? v.boolValue.map { $0 ? "True" : "False" }
            guard let value, value.count <= 255 else {
                throw ComputeError.invalidField(k, value: v, "\(ComputeError.pythonRepr(v)) is not of type 'string', 'integer', 'number', 'boolean'")
            }
            out[k] = value
        }
        return out
    }

    /// From 2.86, each spec against nova's registry (before the flavor is looked up, as nova).
    func validate(_ specs: [String: String], _ ctx: StratusContext) throws {
        guard ctx.atLeast(86) else { return }
        for key in specs.keys.sorted() {
            if let message = ExtraSpecRules.refusal(key, specs[key] ?? "") { throw ComputeError.badRequest(message) }
        }
    }

    func setSpecs(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-flavor-extra-specs:create")
        let specs = try parseSpecs(try await request.jsonBody(limit: ctx.bodyLimit))
        try validate(specs, ctx)
        let f = try await find(try ctx.parameters.require("id"), ctx)
        try await service.api.write { sql in try await FlavorStore().setExtraSpecs(f.id, specs, in: sql) }
        return .json(["extra_specs": .object(specs.mapValues { .string($0) })])
    }

    func spec(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-flavor-extra-specs:show")
        let f = try await find(try ctx.parameters.require("id"), ctx)
        let key = try ctx.parameters.require("key")
        guard let v = try await service.api.read({ sql in try await FlavorStore().extraSpecs(f.id, in: sql) })[key] else {
            throw ComputeError.notFound("Flavor \(f.flavorid) has no extra specs with key \(key).")
        }
        return .json([key: .string(v)])
    }

    func setSpec(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-flavor-extra-specs:update")
        let key = try ctx.parameters.require("key")
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        let specs = try parseSpecs(["extra_specs": body])
        try validate(specs, ctx)
        guard let o = body.objectValue, o.count == 1, o[key] != nil else { throw ComputeError.badRequest("Request body and URI mismatch") }
        let f = try await find(try ctx.parameters.require("id"), ctx)
        try await service.api.write { sql in try await FlavorStore().setExtraSpecs(f.id, specs, in: sql) }
        return .json(.object(specs.mapValues { .string($0) }))
    }

    func deleteSpec(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-flavor-extra-specs:delete")
        let f = try await find(try ctx.parameters.require("id"), ctx)
        let key = try ctx.parameters.require("key")
        guard try await service.api.write({ sql in try await FlavorStore().deleteExtraSpec(f.id, key, in: sql) }) else {
            throw ComputeError.notFound("Flavor \(f.flavorid) has no extra specs with key \(key).")
        }
        return .empty(.ok)
    }

    func accessList(_ f: FlavorStore.Flavor) async throws -> JSON {
        let projects = try await service.api.read { sql in try await FlavorStore().projects(f.id, in: sql) }
        return ["flavor_access": .array(projects.map { ["flavor_id": .string(f.flavorid), "tenant_id": .string($0)] })]
    }

    func access(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-flavor-access")
        let f = try await find(try ctx.parameters.require("id"), ctx)
        if f.isPublic { throw ComputeError.notFound("Access list not available for public flavors.") }
        return .json(try await accessList(f))
    }

    func action(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        let id = try ctx.parameters.require("id")
        // nova's order: policy, the project in Identity, then the flavor.
        if let add = body["addTenantAccess"] {
            try service.authorize(ctx, "os_compute_api:os-flavor-access:add_tenant_access")
            guard let project = add["tenant"]?.stringValue else { throw ComputeError.badRequest("Missing tenant parameter") }
            try await ComputeHTTP.verifyProject(project, service: service, ctx)
            let f = try await find(id, ctx)
            if f.isPublic, ctx.atLeast(7) { throw ComputeError.conflict("Can not add access to a public flavor.") }
            guard try await service.api.write({ sql in try await FlavorStore().addProject(f.id, project, in: sql) }) else {
                // nova names the flavor by its database id here (and in the 404 below).
                throw ComputeError.conflict("Flavor access already exists for flavor \(f.id) and project \(project) combination.")
            }
            return .json(try await accessList(f))
        }
        if let remove = body["removeTenantAccess"] {
            try service.authorize(ctx, "os_compute_api:os-flavor-access:remove_tenant_access")
            guard let project = remove["tenant"]?.stringValue else { throw ComputeError.badRequest("Missing tenant parameter") }
            // nova asks Identity here too but lets a project it does not know be removed.
            let f = try await find(id, ctx)
            guard try await service.api.write({ sql in try await FlavorStore().removeProject(f.id, project, in: sql) }) else {
                throw ComputeError.notFound("Flavor access not found for \(f.id) / \(project) combination.")
            }
            return .json(try await accessList(f))
        }
        throw ComputeError.badRequest("There is no such action: \(body.objectValue?.keys.sorted().first ?? "")")
    }
}
