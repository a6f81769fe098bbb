import HTTPTypes
import Hummingbird
import StratusCore

/// `/resource_classes` (1.2): list, create, show, update (rename before 1.7; create-or-check from
/// 1.7), delete. Standard classes cannot change.
struct ResourceClassRoutes: Sendable {
    let service: PlacementService
    let classes = ResourceClassStore()

    func add(to r: inout RouteTable) {
        r.get("/resource_classes", list)
        r.post("/resource_classes", create)
        r.get("/resource_classes/{name}", show)
        r.put("/resource_classes/{name}", update)
        r.delete("/resource_classes/{name}", delete)
    }

    static func json(_ name: String) -> JSON {
        ["name": .string(name), "links": [["rel": "self", "href": .string("/resource_classes/\(name)")]]]
    }

    /// 404 before 1.2, as the route did not exist.
    func requireVersion(_ ctx: StratusContext) throws {
        guard ctx.atLeast(2) else { throw PlacementError.notFound("The resource could not be found.") }
    }

    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try requireVersion(ctx)
        try service.authorize(ctx, PlacementPolicy.listResourceClasses)
        let all = try await service.read { sql in try await classes.list(in: sql) }
        return PlacementHTTP.json(["resource_classes": .array(all.map { Self.json($0.name) })], ctx, lastModified: all.map(\.updatedAt).max())
    }

    /// POST a custom class: 201 with Location. 400 not `CUSTOM_*`; 409 exists.
    @Sendable func create(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try requireVersion(ctx)
        try service.authorize(ctx, PlacementPolicy.createResourceClass)
        let o = try PlacementHTTP.object(try await PlacementHTTP.body(req, ctx), allowed: ["name"], required: ["name"])
        let name = try PlacementHTTP.string(o["name"]!, pattern: PlacementHTTP.customPattern, maxLength: 255)
        try await service.write { sql in try await classes.create(name, in: sql) }
        var headers = HTTPFields()
        headers[.location] = "/resource_classes/\(name)"
        return .empty(.created, headers: headers)
    }

    @Sendable func show(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try requireVersion(ctx)
        try service.authorize(ctx, PlacementPolicy.showResourceClass)
        let name = ctx.parameters.get("name")!
        guard let updated = try await service.read({ sql in try await classes.find(name, in: sql) }) else {
            throw PlacementError.notFound("No such resource class \(name).")
        }
        return PlacementHTTP.json(Self.json(name), ctx, lastModified: updated)
    }

    /// Before 1.7: rename a custom class (body `name`), 200. From 1.7: create if missing (201) or 204.
    @Sendable func update(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try requireVersion(ctx)
        try service.authorize(ctx, PlacementPolicy.updateResourceClass)
        let name = ctx.parameters.get("name")!
        if ctx.atLeast(7) {
            _ = try PlacementHTTP.string(.string(name), pattern: PlacementHTTP.customPattern, maxLength: 255)
            let created = try await service.write { sql in try await classes.ensure(name, in: sql) }
            var headers = HTTPFields()
            headers[.location] = "/resource_classes/\(name)"
            return .empty(created ? .created : .noContent, headers: headers)
        }
        let o = try PlacementHTTP.object(try await PlacementHTTP.body(req, ctx), allowed: ["name"], required: ["name"])
        let newName = try PlacementHTTP.string(o["name"]!, pattern: PlacementHTTP.customPattern, maxLength: 255)
        try await service.write { sql in
            guard try await classes.find(name, in: sql) != nil else { throw PlacementError.notFound("No such resource class \(name).") }
            if StandardNames.resourceClasses.contains(name) { throw PlacementError.badRequest("Cannot update standard resource class \(name)") }
            try await classes.rename(name, to: newName, in: sql)
        }
        return PlacementHTTP.json(Self.json(newName), ctx)
    }

    /// DELETE a custom class: 204. 400 standard; 404; 409 in use.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        try requireVersion(ctx)
        try service.authorize(ctx, PlacementPolicy.deleteResourceClass)
        let name = ctx.parameters.get("name")!
        try await service.write { sql in
            guard try await classes.find(name, in: sql) != nil else { throw PlacementError.notFound("No such resource class \(name).") }
            if StandardNames.resourceClasses.contains(name) {
                throw PlacementError.badRequest("Error in delete resource class: Cannot delete standard resource class \(name).")
            }
            do { try await classes.delete(name, in: sql) } catch PlacementError.conflict(let m) {
                throw PlacementError.conflict("Error in delete resource class: \(m)")
            }
        }
        return PlacementHTTP.noContent()
    }
}
