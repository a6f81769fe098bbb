import Foundation
import Hummingbird
import StratusCore

/// `/v3/users/{user_id}/application_credentials`: create (bound to the token's project, with
/// a subset of the caller's roles), list (filter `name`), show, delete. The secret is shown
/// once, at creation, and stored only as a bcrypt hash.
struct ApplicationCredentialRoutes: Sendable {
    let service: IdentityService
    let credentials = ApplicationCredentialStore()

    static let base = "/v3/users/{user_id}/application_credentials"

    func add(to r: inout RouteTable) {
        r.post(Self.base, create)
        r.get(Self.base, list)
        r.get(Self.base + "/{id}", get)
        r.delete(Self.base + "/{id}", delete)
    }

    /// POST an application credential for oneself, on the token's project: 201 with the secret. 400 invalid
    /// body, expiry in the past or a token without project; 403 a role the caller lacks, a restricted
    /// application credential's token, or by policy; 409 name taken.
    @Sendable func create(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let userID = try ctx.parameters.require("user_id")
        let caller = try await service.authorize(req, IdentityPolicy.createApplicationCredential, target: ["user_id": .string(userID)])
        try Self.requireNoTrust(caller)
        if caller.applicationCredentialRestricted { throw Self.restricted }
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
        // NOTE: an absent or empty role list means all of the caller's roles on the project (keystone's rule).
        if let requested = b.fields["roles"], requested != .array([]), !requested.isNull {
            guard case .array(let items) = requested else { throw invalid("roles", "\(requested.typeName) is not of type 'array'") }
            roleIDs = []
            for item in items {
                let held = zip(caller.roleIDs, caller.roles)
                if let id = item["id"]?.stringValue, caller.roleIDs.contains(id) {
                    roleIDs.append(id)
                } else if let n = item["name"]?.stringValue, let (id, _) = held.first(where: { $0.1 == n }) {
                    roleIDs.append(id)
                } else {
                    throw OpenStackError.forbidden("The caller does not hold role \(item.serialized()) on project \(projectID).")
                }
            }
            // As keystone, the roles the requested ones imply come with them (the caller's
            // token holds those too, implied roles included).
            let implications = try await service.read { sql in try await RoleStore().implications(in: sql) }
            let implied = EffectiveRoles.closure(of: Set(roleIDs), implications: implications)
            roleIDs += implied.subtracting(roleIDs).filter { caller.roleIDs.contains($0) }.sorted()
        }
        let credential = ApplicationCredentialRecord(
            id: newID(),
            name: name,
            secretHash: try await service.hasher.hash(secret),
            description: description,
            userID: userID,
            projectID: projectID,
            expiresAt: expiry,
            unrestricted: unrestricted,
            createdAt: Clock.micros(),
            roleIDs: roleIDs
        )
        let (created, roles) = try await service.write { sql in
            try await credentials.create(credential, in: sql)
            return (try await credentials.get(credential.id, in: sql), try await credentials.roles(of: credential.id, in: sql))
        }
        var json = Self.json(created, roles: roles, req).objectValue!
        json["secret"] = .string(secret)
        return .json(["application_credential": .object(json)], status: .created)
    }

    /// GET one's application credentials, filtered by `name`: 200. 403 by policy.
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let userID = try ctx.parameters.require("user_id")
        try Self.requireNoTrust(
            try await service.authorize(
                req,
                IdentityPolicy.listApplicationCredentials,
                target: ["user_id": .string(userID), "target": ["user": ["id": .string(userID)]]]
            )
        )
        let name = req.query("name")
        let found = try await service.read { sql in
            var out: [(ApplicationCredentialRecord, [ApplicationCredentialStore.RoleRow])] = []
            for credential in try await credentials.list(userID: userID, name: name, in: sql) {
                out.append((credential, try await credentials.roles(of: credential.id, in: sql)))
            }
            return out
        }
        return .json(["application_credentials": .array(found.map { Self.json($0.0, roles: $0.1, req) }), "links": collectionLinks(req)])
    }

    /// GET one application credential (no secret): 200. 404 unknown or another user's; 403 by policy.
    @Sendable func get(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let credential = try await authorized(req, ctx, IdentityPolicy.getApplicationCredential)
        let roles = try await service.read { sql in try await credentials.roles(of: credential.id, in: sql) }
        return .json(["application_credential": Self.json(credential, roles: roles, req)])
    }

    /// DELETE an application credential: 204. 404 unknown or another user's; 403 by policy or from a
    /// restricted application credential's token.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let credential = try await authorized(req, ctx, IdentityPolicy.deleteApplicationCredential)
        let caller = try await service.authenticate(req)
        if caller.applicationCredentialRestricted { throw Self.restricted }
        try await service.write { sql in try await credentials.delete(credential.id, in: sql) }
        return .empty()
    }

    /// Enforces `action` for `{user_id}`, then loads `{id}`: another user's id (or an unknown one) is 404,
    /// so its existence does not leak.
    func authorized(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> ApplicationCredentialRecord {
        let (userID, id) = (try ctx.parameters.require("user_id"), try ctx.parameters.require("id"))
        try Self.requireNoTrust(
            try await service.authorize(req, action, target: ["user_id": .string(userID), "target": ["user": ["id": .string(userID)]]])
        )
        guard let credential = try await service.read({ sql in try await credentials.get(id, ofUser: userID, in: sql) }) else {
            throw IdentityError.notFound(kind: "Application Credential", id: id)
        }
        return credential
    }

    /// keystone 30 keeps trust-scoped tokens away from application credentials: one made through a
    /// trust would outlive it. 403 with keystone's (generic) message.
    static func requireNoTrust(_ caller: Caller) throws {
        if caller.trustID != nil { throw OpenStackError.forbidden("You are not authorized to perform the requested action.") }
    }

    /// keystone's refusal for tokens of restricted application credentials.
    static let restricted = OpenStackError.forbidden(
        "Using method 'application_credential' is not allowed for managing additional application credentials."
    )

    /// keystone's application credential representation (without the secret).
    static func json(_ credential: ApplicationCredentialRecord, roles: [ApplicationCredentialStore.RoleRow], _ req: Request) -> JSON {
        [
            "id": .string(credential.id), "name": .string(credential.name), "description": .optional(credential.description),
            "user_id": .string(credential.userID), "project_id": .optional(credential.projectID), "system": nil,
            "expires_at": credential.expiresAt.map { .string(Clock.iso(micros: $0, zulu: false)) } ?? .null,
            "unrestricted": .bool(credential.unrestricted),
            "roles": .array(
                roles.map {
                    ["id": .string($0.id), "name": .string($0.name), "domain_id": nil, "description": .optional($0.description), "options": [:]]
                }
            ),
            "links": ["self": .string(req.baseURL + "/v3/application_credentials/\(credential.id)")],
        ]
    }
}

extension IdentityService {
    /// A random secret (64 bytes, base64url without padding) for application credentials.
    static func newSecret() -> String {
        Data(randomBytes(64)).base64URLEncodedString(padded: false)
    }
}
