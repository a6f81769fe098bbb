import Foundation
import Hummingbird
import SQLKit
import StratusCore

/// `/v3/users/{user_id}/application_credentials`: create (bound to the token's project, with
/// a subset of the caller's roles), list (filter `name`), show, delete. The secret is shown
/// once, at creation, and stored only as a bcrypt hash.
extension IdentityService {
    func addApplicationCredentialRoutes(_ r: inout RouteTable) {
        let base = "/v3/users/{user_id}/application_credentials"
        r.post(base) { req, ctx in
            let userID = ctx.parameters.get("user_id")!
            let caller = try await self.authorize(req, "identity:create_application_credential", target: ["user_id": .string(userID)])
            if caller.applicationCredentialRestricted {
                throw OpenStackError.forbidden("Using method 'application_credential' is not allowed for managing additional application credentials.")
            }
            guard let projectID = caller.projectID else {
                throw OpenStackError.badRequest("Application credentials must be created with a project-scoped token.")
            }
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "application_credential")
            let name = try b.name(required: true)!
            let description = try b.string("description", nullable: true, maxLength: 255)
            let secret = try b.string("secret", nullable: true, maxLength: 4096, minLength: 1) ?? IdentityService.newSecret()
            let unrestricted = try b.bool("unrestricted") ?? false
            var expiry: Int64?
            if let text = try b.string("expires_at", nullable: true) {
                guard let t = Clock.parse(text) else { throw invalid("expires_at", "'\(text)' is not an ISO 8601 time") }
                guard t > Clock.micros() else { throw invalid("expires_at", "'\(text)' is in the past") }
                expiry = t
            }
            var roleIDs = caller.roleIDs
            // An absent or empty role list means all of the caller's roles on the project (keystone's rule).
            if let requested = b.fields["roles"], requested != .array([]), !requested.isNull {
                guard case .array(let items) = requested else { throw invalid("roles", "\(requested.typeName) is not of type 'array'") }
                roleIDs = []
                for item in items {
                    let held = zip(caller.roleIDs, caller.roles)
                    if let id = item["id"]?.stringValue, caller.roleIDs.contains(id) { roleIDs.append(id) }
                    else if let n = item["name"]?.stringValue, let (id, _) = held.first(where: { $0.1 == n }) { roleIDs.append(id) }
                    else { throw OpenStackError.forbidden("The caller does not hold role \(item.serialized()) on project \(projectID).") }
                }
            }
            let hash = try await self.hasher.hash(secret)
            let id = newID()
            let roles = roleIDs
            let expiresAt = expiry
            let row = try await self.write { db in
                try await db.raw("""
                    INSERT INTO application_credential (id, name, secret_hash, description, user_id, project_id, expires_at, unrestricted, created_at)
                    VALUES (\(bind: id), \(bind: name), \(bind: hash), \(bind: description), \(bind: userID), \(bind: projectID), \(bind: expiresAt), \(bind: unrestricted), \(bind: Clock.micros()))
                    """).run()
                for role in Set(roles) {
                    try await db.raw("INSERT INTO application_credential_role (application_credential_id, role_id) VALUES (\(bind: id), \(bind: role))").run()
                }
                return try await db.raw("SELECT * FROM application_credential WHERE id = \(bind: id)").first()!
            }
            var json = try await self.applicationCredentialJSON(row, req).objectValue!
            json["secret"] = .string(secret)
            return .json(["application_credential": .object(json)], status: .created)
        }
        r.get(base) { req, ctx in
            let userID = ctx.parameters.get("user_id")!
            _ = try await self.authorize(req, "identity:list_application_credentials", target: ["user_id": .string(userID), "target": ["user": ["id": .string(userID)]]])
            var q: SQLQueryString = "SELECT * FROM application_credential WHERE user_id = \(bind: userID)"
            if let name = req.query("name") { q += " AND name = \(bind: name)" }
            let rows = try await self.rows(q + " ORDER BY name")
            var list: [JSON] = []
            for row in rows { list.append(try await self.applicationCredentialJSON(row, req)) }
            return .json(["application_credentials": .array(list), "links": collectionLinks(req)])
        }
        r.get(base + "/{id}") { req, ctx in
            let row = try await self.applicationCredentialForAction(req, ctx, "identity:get_application_credential")
            return .json(["application_credential": try await self.applicationCredentialJSON(row, req)])
        }
        r.delete(base + "/{id}") { req, ctx in
            let row = try await self.applicationCredentialForAction(req, ctx, "identity:delete_application_credential")
            let caller = try await self.authenticate(req)
            if caller.applicationCredentialRestricted {
                throw OpenStackError.forbidden("Using method 'application_credential' is not allowed for managing additional application credentials.")
            }
            let id = row.str("id")
            try await self.write { db in try await db.raw("DELETE FROM application_credential WHERE id = \(bind: id)").run() }
            return .empty()
        }
    }

    /// A credential of `{user_id}`; another user's id (or an unknown one) is 404, so its existence does not leak.
    func applicationCredentialForAction(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> any SQLRow {
        let userID = ctx.parameters.get("user_id")!
        let id = ctx.parameters.get("id")!
        _ = try await authorize(req, action, target: ["user_id": .string(userID), "target": ["user": ["id": .string(userID)]]])
        let row = try await db.read { db in try await db.raw("SELECT * FROM application_credential WHERE id = \(bind: id) AND user_id = \(bind: userID)").first() }
        guard let row else { throw OpenStackError.notFound("Could not find Application Credential: \(id).") }
        return row
    }

    func applicationCredentialJSON(_ row: any SQLRow, _ req: Request) async throws -> JSON {
        let id = row.str("id")
        let roles = try await db.read { db in
            try await db.raw("SELECT r.id, r.name, r.domain_id FROM role r JOIN application_credential_role a ON a.role_id = r.id WHERE a.application_credential_id = \(bind: id) ORDER BY r.name").all()
        }
        return ["id": .string(id), "name": .string(row.str("name")), "description": .optional(row.optStr("description")),
                "user_id": .string(row.str("user_id")), "project_id": .optional(row.optStr("project_id")), "system": nil,
                "expires_at": row.int("expires_at").map { .string(Clock.iso(micros: $0, zulu: false)) } ?? .null,
                "unrestricted": .bool(row.bool("unrestricted")), "access_rules": [],
                "roles": .array(roles.map { ["id": .string($0.str("id")), "name": .string($0.str("name")), "domain_id": nil] }),
                "links": ["self": .string(req.baseURL + "/v3/users/\(row.str("user_id"))/application_credentials/\(id)")]]
    }

    static func newSecret() -> String {
        Data(randomBytes(64)).base64URLEncodedString(padded: false)
    }
}
