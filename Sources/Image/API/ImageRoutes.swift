import Foundation
import HTTPTypes
import Hummingbird
import StratusCore

/// `/v2/images` and `/v2/images/{id}`: create, list, show, JSON-patch update, delete, and the
/// deactivate / reactivate actions.
struct ImageRoutes {
    let service: ImageService

    func add(to routes: inout RouteTable) {
        routes.post("/v2/images", create)
        routes.get("/v2/images", list)
        routes.get("/v2/images/{id}", show)
        routes.patch("/v2/images/{id}", update)
        routes.delete("/v2/images/{id}", delete)
        routes.post("/v2/images/{id}/actions/deactivate") { r, c in try await transition(r, c, deactivate: true) }
        routes.post("/v2/images/{id}/actions/reactivate") { r, c in try await transition(r, c, deactivate: false) }
    }

    var rules: ImageRules {
        ImageRules(
            diskFormats: service.settings.diskFormats,
            containerFormats: service.settings.containerFormats,
            propertyQuota: service.settings.propertyQuota,
            tagQuota: service.settings.tagQuota
        )
    }

    var view: ImageView { ImageView(settings: service.settings) }

    @Sendable func create(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let caller = try ctx.requireCaller()
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        let now = Clock.now
        var image = ImageRecord(id: "", status: .queued, visibility: .shared, createdAt: now, updatedAt: now)
        image.owner = caller.projectID
        var requestedID: String?
        try rules.create(body, into: &image, requestedID: &requestedID)
        image.id = requestedID.map(Self.canonicalUUID) ?? UUID().uuidString.lowercased()
        // glance's proposed-image target: the owner asked for (or the caller's project).
        let t: [String: JSON] = [
            "project_id": .optional(image.owner), "owner": .optional(image.owner), "visibility": .string(image.visibility.rawValue),
        ]
        if !service.allows(ctx, "add_image", target: t) {
            if image.owner != caller.projectID {
                throw OpenStackError.forbidden("You are not permitted to create images owned by '\(image.owner ?? "None")'.")
            }
            throw OpenStackError.forbidden("You are not authorized to complete add_image action.")
        }
        if body["visibility"] != nil { try service.enforceVisibility(ctx, image.visibility, target: t) }
        let created = image
        try await service.write { sql in
            if try await ImageStore().idTaken(created.id, in: sql) {
                throw OpenStackError.conflict("Image with identifier \(created.id) already exists!")
            }
            try await ImageStore().insert(created, in: sql)
        }
        var headers: HTTPFields = [.location: "/v2/images/\(image.id)"]
        if !service.settings.importMethods.isEmpty {
            headers[HTTPField.Name("OpenStack-image-import-methods")!] = service.settings.importMethods.joined(separator: ",")
        }
        return .json(view.json(image), status: .created, headers: headers)
    }

    static func canonicalUUID(_ s: String) -> String {
        let hex = s.replacingOccurrences(of: "-", with: "").lowercased()
        guard hex.count == 32 else { return s }
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }

    @Sendable func list(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let caller = try ctx.requireCaller()
        try service.authorize(ctx, "get_images", target: ["project_id": .optional(caller.projectID)])
        let viewer: ImageQuery.Viewer = service.isAdmin(ctx) ? .admin(project: caller.projectID) : .project(caller.projectID)
        let items = request.queryItems
        let query = try ImageListQuery.parse(items, viewer: viewer, settings: service.settings)
        let images: [ImageRecord]
        do {
            images = try await service.read { sql in try await ImageStore().list(query, in: sql) }
        } catch is ImageStore.MarkerNotFound {
            throw OpenStackError.badRequest("No image found with ID \(query.marker ?? "")")
        }
        let shown = images.filter { image in
            let member: String? = image.owner == caller.projectID ? nil : caller.projectID
            return service.allows(ctx, "get_image", target: service.target(image, member: member))
        }
        var body: [String: JSON] = [
            "images": .array(shown.map(view.json)),
            "schema": "/v2/schemas/images",
        ]
        // As glance's `dict(request.params)`: one value per name (the last), in first-seen order.
        var others: [(String, String)] = []
        for (name, value) in items where name != "marker" {
            if let i = others.firstIndex(where: { $0.0 == name }) { others[i].1 = value } else { others.append((name, value)) }
        }
        body["first"] = .string(others.isEmpty ? "/v2/images" : "/v2/images?" + Self.encode(others))
        if !shown.isEmpty, images.count == query.limit, let last = shown.last {
            body["next"] = .string("/v2/images?" + Self.encode(others + [("marker", last.id)]))
        }
        return .json(.object(body))
    }

    /// Query items as `urlencode` writes them.
    static func encode(_ items: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        func enc(_ s: String) -> String {
            (s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s).replacingOccurrences(of: "%20", with: "+")
        }
        return items.map { enc($0.0) + "=" + enc($0.1) }.joined(separator: "&")
    }

    @Sendable func show(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let (image, _) = try await service.read { sql in try await service.visibleImage(id, ctx, in: sql) }
        return .json(view.json(image))
    }

    @Sendable func update(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        guard let media = request.mediaType, let draft = ImageRules.patchTypes[media] else {
            let allowed = ImageRules.patchTypes.keys.sorted().joined(separator: ", ")
            throw OpenStackError(
                .unsupportedMediaType,
                "Image PATCH expects Content-Type one of: \(allowed)",
                headers: [HTTPField.Name("Accept-Patch")!: allowed]
            )
        }
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        let changes = try rules.parsePatch(body, draft: draft)
        let admin = service.isAdmin(ctx)
        let rules = self.rules
        let updated = try await service.write { sql -> ImageRecord in
            let (found, membership) = try await service.visibleImage(id, ctx, lock: true, in: sql)
            var image = found
            try service.enforce(ctx, "modify_image", on: image, member: membership?.member)
            let t = service.target(image, member: membership?.member)
            try rules.apply(changes, to: &image, isAdmin: admin) { visibility in
                try service.enforceVisibility(ctx, visibility, target: t)
            }
            if image != found {
                image.updatedAt = Clock.now
                try await ImageStore().updateMetadata(image, in: sql)
            }
            return image
        }
        return .json(view.json(updated))
    }

    @Sendable func delete(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let location = try await service.write { sql -> String? in
            let image: ImageRecord
            let membership: MemberRecord?
            do { (image, membership) = try await service.visibleImage(id, ctx, lock: true, in: sql) } catch let e as OpenStackError
                where e.status == .notFound
            {
                throw OpenStackError.notFound("Failed to find image \(id) to delete")
            }
            try service.enforce(ctx, "delete_image", on: image, member: membership?.member)
            if image.protected { throw OpenStackError.forbidden("Image \(id) is protected and cannot be deleted.") }
            try await ImageStore().delete(id, in: sql)
            return image.location
        }
        // The row is gone first: a crash here leaves an orphan file, never an image without data.
        if let location, let path = service.store.path(location: location) { FileStore.remove(path) }
        FileStore.remove(service.staging.path(of: id))
        return .empty()
    }

    func transition(_ request: Request, _ ctx: StratusContext, deactivate: Bool) async throws -> Response {
        let id = try ctx.parameters.require("id")
        try await service.write { sql in
            let (image, membership) = try await service.visibleImage(id, ctx, lock: true, in: sql)
            try service.enforce(ctx, deactivate ? "deactivate" : "reactivate", on: image, member: membership?.member)
            let (from, to): (ImageStatus, ImageStatus) = deactivate ? (.active, .deactivated) : (.deactivated, .active)
            if image.status == to { return }
            guard image.status == from else {
                throw OpenStackError.forbidden(
                    "Not allowed to \(deactivate ? "deactivate" : "reactivate") image in status '\(image.status.rawValue)'"
                )
            }
            _ = try await ImageStore().transition(id, from: [from], to: to, in: sql)
        }
        return .empty()
    }
}
