import HTTPTypes
import Hummingbird
import SQLKit
import StratusCore

/// `/v2/images/{id}/members[/{member}]`: the owner offers a `shared` image to projects, each
/// member accepts or rejects it. A member sees only its own membership, the owner all of them.
struct MemberRoutes {
    let service: ImageService

    func add(to routes: inout RouteTable) {
        routes.get("/v2/images/{id}/members", list)
        routes.post("/v2/images/{id}/members", create)
        routes.get("/v2/images/{id}/members/{member}", show)
        routes.put("/v2/images/{id}/members/{member}", update)
        routes.delete("/v2/images/{id}/members/{member}", delete)
    }

    static func json(_ m: MemberRecord) -> JSON {
        [
            "member_id": .string(m.member), "image_id": .string(m.imageID), "status": .string(m.status.rawValue),
            "created_at": .string(Timestamp.render(m.createdAt)), "updated_at": .string(Timestamp.render(m.updatedAt)),
            "schema": "/v2/schemas/member",
        ]
    }

    /// The image as the member API looks it up ("Image X not found." when invisible).
    func image(_ id: String, _ ctx: StratusContext, in sql: any SQLDatabase) async throws -> (ImageRecord, MemberRecord?) {
        do {
            return try await service.visibleImage(id, ctx, in: sql)
        } catch let e as OpenStackError where e.status == .notFound {
            throw OpenStackError.notFound("Image \(id) not found.")
        }
    }

    /// Whether the caller sees every membership of the image (its owner, or an admin).
    func seesAll(_ image: ImageRecord, _ ctx: StratusContext) -> Bool {
        service.isAdmin(ctx) || (image.owner != nil && image.owner == ctx.caller?.projectID)
    }

    func onlyShared(_ image: ImageRecord, refusal: String) throws {
        guard image.visibility == .shared else { throw OpenStackError.forbidden(refusal) }
    }

    @Sendable func list(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let members = try await service.read { sql -> [MemberRecord] in
            let (image, membership) = try await image(id, ctx, in: sql)
            try onlyShared(image, refusal: "Not allowed to list members for image \(id): Only shared images have members.")
            try service.enforce(ctx, "get_members", on: image, member: membership?.member)
            let all = try await MemberStore().list(image: id, in: sql)
            return seesAll(image, ctx) ? all : all.filter { $0.member == ctx.caller?.projectID }
        }
        return .json(["members": .array(members.map(Self.json)), "schema": "/v2/schemas/members"])
    }

    @Sendable func create(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        guard let object = body.objectValue else { throw OpenStackError.badRequest("Expected a member in the form: {\"member\": \"image_id\"}") }
        guard let value = object["member"] else { throw OpenStackError.badRequest("Member to be added not specified") }
        guard let memberID = value.stringValue, !memberID.isEmpty else { throw OpenStackError.badRequest("Member can't be empty") }
        let quota = service.settings.memberQuota
        let member = try await service.write { sql -> MemberRecord in
            let (image, membership) = try await image(id, ctx, in: sql)
            try onlyShared(image, refusal: "Not allowed to create members for image \(id).")
            do { try service.enforce(ctx, "add_member", on: image, member: membership?.member) } catch let e as OpenStackError
                where e.status == .forbidden
            {
                throw OpenStackError.forbidden("Not allowed to create members for image \(id).")
            }
            if try await MemberStore().find(image: id, member: memberID, in: sql) != nil {
                throw OpenStackError.conflict("Member \(memberID) is duplicated for image \(id)")
            }
            let count = try await MemberStore().count(image: id, in: sql)
            if quota >= 0, count + 1 > quota {
                throw OpenStackError(
                    .contentTooLarge,
                    "Image member limit exceeded for image \(id): The limit has been exceeded on the number of allowed image members for this image. Attempted: \(count + 1), Maximum: \(quota):"
                )
            }
            let now = Clock.now
            let m = MemberRecord(imageID: id, member: memberID, status: .pending, createdAt: now, updatedAt: now)
            try await MemberStore().insert(m, in: sql)
            return m
        }
        return .json(Self.json(member))
    }

    /// The membership named in the URL, if the caller may see it.
    func lookup(_ image: ImageRecord, _ member: String, _ ctx: StratusContext, in sql: any SQLDatabase) async throws -> MemberRecord {
        let found = try await MemberStore().find(image: image.id, member: member, in: sql)
        guard let found, seesAll(image, ctx) || found.member == ctx.caller?.projectID else {
            throw OpenStackError.notFound("\(member) not found in the member list of the image \(image.id).")
        }
        return found
    }

    @Sendable func show(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let memberID = try ctx.parameters.require("member")
        let member = try await service.read { sql -> MemberRecord in
            let (image, membership) = try await image(id, ctx, in: sql)
            try onlyShared(image, refusal: "Only shared images have members.")
            try service.enforce(ctx, "get_member", on: image, member: membership?.member)
            return try await lookup(image, memberID, ctx, in: sql)
        }
        return .json(Self.json(member))
    }

    @Sendable func update(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let memberID = try ctx.parameters.require("member")
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        guard let object = body.objectValue else { throw OpenStackError.badRequest("Expected a status in the form: {\"status\": \"status\"}") }
        guard let value = object["status"] else { throw OpenStackError.badRequest("Status not specified") }
        guard let s = value.stringValue, let status = MemberRecord.Status(rawValue: s) else {
            throw OpenStackError.badRequest("Incorrect request: Status must be \"pending\", \"accepted\" or \"rejected\".")
        }
        let member = try await service.write { sql -> MemberRecord in
            let (image, membership) = try await image(id, ctx, in: sql)
            try onlyShared(image, refusal: "Not allowed to update members for image \(id).")
            var m = try await lookup(image, memberID, ctx, in: sql)
            try service.enforce(ctx, "modify_member", on: image, member: membership?.member)
            m.status = status
            m.updatedAt = Clock.now
            try await MemberStore().setStatus(image: id, member: memberID, status: status, in: sql)
            return m
        }
        return .json(Self.json(member))
    }

    @Sendable func delete(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let memberID = try ctx.parameters.require("member")
        try await service.write { sql in
            let (image, membership) = try await image(id, ctx, in: sql)
            try onlyShared(image, refusal: "Not allowed to delete members for image \(id).")
            _ = try await lookup(image, memberID, ctx, in: sql)
            try service.enforce(ctx, "delete_member", on: image, member: membership?.member)
            try await MemberStore().delete(image: id, member: memberID, in: sql)
        }
        return .empty()
    }
}

/// `PUT/DELETE /v2/images/{id}/tags/{tag}`.
struct TagRoutes {
    let service: ImageService

    func add(to routes: inout RouteTable) {
        routes.put("/v2/images/{id}/tags/{tag}") { r, c in try await change(r, c, adding: true) }
        routes.delete("/v2/images/{id}/tags/{tag}") { r, c in try await change(r, c, adding: false) }
    }

    func change(_ request: Request, _ ctx: StratusContext, adding: Bool) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let tag = try ctx.parameters.require("tag")
        let quota = service.settings.tagQuota
        try await service.write { sql in
            let found: ImageRecord
            let membership: MemberRecord?
            do { (found, membership) = try await service.visibleImage(id, ctx, lock: true, in: sql) } catch let e as OpenStackError
                where e.status == .notFound
            {
                throw OpenStackError.notFound("Image \(id) not found.")
            }
            var image = found
            do { try service.enforce(ctx, "modify_image", on: image, member: membership?.member) } catch let e as OpenStackError
                where e.status == .forbidden
            {
                throw OpenStackError.forbidden("Not allowed to \(adding ? "update" : "delete") tags for image \(id).")
            }
            if adding {
                guard tag.count <= 255 else {
                    throw OpenStackError.badRequest("Could not update image: Provided object does not match schema 'image': '\(tag)' is too long")
                }
                if image.tags.contains(tag) { return }
                image.tags.append(tag)
                if quota >= 0, image.tags.count > quota {
                    throw OpenStackError(
                        .contentTooLarge,
                        "Image tag limit exceeded for image \(id): The limit has been exceeded on the number of allowed image tags. Attempted: \(image.tags.count), Maximum: \(quota):"
                    )
                }
            } else {
                guard let i = image.tags.firstIndex(of: tag) else { throw OpenStackError.notFound("Tag \(tag) not found") }
                image.tags.remove(at: i)
            }
            image.updatedAt = Clock.now
            try await ImageStore().updateMetadata(image, in: sql)
        }
        return .empty()
    }
}
