import HTTPTypes
import SQLKit
import StratusCore

/// Who may see and change an image: glance's visibility rule (the database layer's
/// `is_image_visible`) and its policy targets, with its habit of answering 404 rather than 403
/// to a caller who may not even see the image.
extension ImageService {
    /// The image policy target: the image's attributes and custom properties, `project_id`
    /// (its owner) and `member_id` (the caller's project when it is a member).
    func target(_ image: ImageRecord, member: String?) -> [String: JSON] {
        var t: [String: JSON] = [:]
        for (k, v) in image.properties { t[k] = .string(v) }
        t["id"] = .string(image.id)
        t["image_id"] = .string(image.id)
        t["project_id"] = .optional(image.owner)
        t["owner"] = .optional(image.owner)
        t["visibility"] = .string(image.visibility.rawValue)
        t["member_id"] = .optional(member)
        t["member"] = .optional(member)
        t["status"] = .string(image.status.rawValue)
        t["name"] = .optional(image.name)
        t["protected"] = .bool(image.protected)
        return t
    }

    /// The image if the caller can see it, and the caller's membership; 404 otherwise.
    /// `lock` holds the image row until the write transaction ends (see `ImageStore.find`).
    func visibleImage(_ id: String, _ ctx: StratusContext, lock: Bool = false, in sql: any SQLDatabase) async throws -> (ImageRecord, MemberRecord?) {
        guard let image = try await ImageStore().find(id, lock: lock, in: sql) else { throw imageNotFound(id) }
        let project = try ctx.requireCaller().projectID
        var membership: MemberRecord?
        if let project, image.visibility == .shared, image.owner != project {
            membership = try await MemberStore().find(image: id, member: project, in: sql)
        }
        if !isAdmin(ctx) {
            let visible =
                image.visibility == .public || image.visibility == .community || (project != nil && image.owner == project)
                || membership != nil
            guard visible else { throw imageNotFound(id) }
        }
        try enforce(ctx, "get_image", on: image, member: membership?.member)
        return (image, membership)
    }

    /// Enforces an image rule: 404 when the caller may not even see the image, else 403.
    func enforce(_ ctx: StratusContext, _ action: String, on image: ImageRecord, member: String?) throws {
        let t = target(image, member: member)
        if allows(ctx, action, target: t) { return }
        if action == "get_image" || !allows(ctx, "get_image", target: t) { throw imageNotFound(image.id) }
        throw OpenStackError.forbidden("You are not authorized to complete \(action) action.")
    }

    /// publicize_image / communitize_image for a visibility the caller asks for.
    func enforceVisibility(_ ctx: StratusContext, _ visibility: Visibility, target t: [String: JSON]) throws {
        let rule: String
        switch visibility {
        case .public: rule = "publicize_image"
        case .community: rule = "communitize_image"
        default: return
        }
        guard allows(ctx, rule, target: t) else {
            throw OpenStackError.forbidden("You are not authorized to complete \(rule) action.")
        }
    }
}
