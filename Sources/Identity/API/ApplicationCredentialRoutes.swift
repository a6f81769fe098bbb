import Foundation
import Hummingbird
import SQLKit
import StratusCore

/// `/v3/users/{user_id}/application_credentials`: create (bound to the token's project, with
/// a subset of the caller's roles), list (filter `name`), show, delete. The secret is shown
/// once, at creation, and stored only as a bcrypt hash.
struct ApplicationCredentialRoutes: Sendable {
    let service: IdentityService
    let credentials = ApplicationCredentialStore()
    let accessRules = AccessRuleStore()

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
        let requestedRules = try Self.accessRules(b.fields["access_rules"])
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
        let (created, roles, rules) = try await service.write { sql in
            try await credentials.create(credential, in: sql)
            let rules = try await attach(requestedRules, to: credential, in: sql)
            return (try await credentials.get(credential.id, in: sql), try await credentials.roles(of: credential.id, in: sql), rules)
        }
        var json = Self.json(created, roles: roles, rules: rules, req).objectValue!
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
            var out: [JSON] = []
            for credential in try await credentials.list(userID: userID, name: name, in: sql) {
                let (roles, rules) = (
                    try await credentials.roles(of: credential.id, in: sql), try await accessRules.rules(ofCredential: credential.id, in: sql)
                )
                out.append(Self.json(credential, roles: roles, rules: rules, req))
            }
            return out
        }
        return .json(["application_credentials": .array(found), "links": collectionLinks(req)])
    }

    /// GET one application credential (no secret): 200. 404 unknown or another user's; 403 by policy.
    @Sendable func get(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let credential = try await authorized(req, ctx, IdentityPolicy.getApplicationCredential)
        let (roles, rules) = try await service.read { sql in
            (try await credentials.roles(of: credential.id, in: sql), try await accessRules.rules(ofCredential: credential.id, in: sql))
        }
        return .json(["application_credential": Self.json(credential, roles: roles, rules: rules, req)])
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
    static func json(
        _ credential: ApplicationCredentialRecord,
        roles: [ApplicationCredentialStore.RoleRow],
        rules: [AccessRule],
        _ req: Request
    )
        -> JSON
    {
        var out: [String: JSON] = [
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
        // keystone leaves the key out when there are no rules
        if !rules.isEmpty { out["access_rules"] = .array(rules.map(AccessRuleRoutes.json)) }
        return .object(out)
    }

    /// The `access_rules` of a create body, validated as keystone's schema (400 naming the field):
    /// each an object with any of `id`, `service`, `path` (from `/`), `method` (upper case).
    static func accessRules(_ value: JSON?) throws -> [RequestedRule] {
        guard let value, !value.isNull else { return [] }
        guard case .array(let items) = value else { throw invalid("access_rules", "\(value.serialized()) is not of type 'array'") }
        return try items.map { item in
            guard let fields = item.objectValue else { throw invalid("access_rules", "\(item.serialized()) is not of type 'object'") }
            func text(_ key: String) throws -> String? {
                guard let v = fields[key] else { return nil }
                guard case .string(let s) = v else { throw invalid(key, "\(v.serialized()) is not of type 'string'") }
                return s
            }
            let id = try text("id")
            let service = try text("service")
            let path = try text("path")
            let method = try text("method")
            for (key, v) in [("id", id), ("service", service)] {
                if let v, v.isEmpty || v.count > 64 || !v.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
                    throw invalid(key, "'\(v)' does not match '^[a-zA-Z0-9-]+$'")
                }
            }
            if let path {
                guard path.hasPrefix("/") else { throw invalid("path", "'\(path)' does not match '^/'") }
                guard path.count <= 128 else { throw invalid("path", "the value is too long (maximum 128 characters)") }
            }
            if let method, !Self.ruleMethods.contains(method) {
                throw invalid("method", "'\(method)' is not one of \(Self.ruleMethods)")
            }
            return RequestedRule(id: id, service: service, path: path, method: method)
        }
    }

    static let ruleMethods = ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]

    /// A rule as a create body gives it: by id (an existing rule of the user), or by content.
    struct RequestedRule: Sendable {
        var id: String?
        var service: String?
        var path: String?
        var method: String?
    }

    /// Links the credential to its rules: a rule named by the id of one of the user's rules is that
    /// rule (404 when the id is another user's), one the user already has with the same service, path
    /// and method is reused, any other is created (all four fields needed then: 400 otherwise). The
    /// same rule twice is 409, as keystone.
    func attach(_ requested: [RequestedRule], to credential: ApplicationCredentialRecord, in sql: any SQLDatabase) async throws -> [AccessRule] {
        var out: [AccessRule] = []
        for r in requested {
            var rule: AccessRule?
            if let id = r.id, let found = try await accessRules.find(id: id, in: sql) {
                guard found.userID == credential.userID else { throw IdentityError.notFound(kind: "Access Rule", id: id) }
                rule = found.rule
            }
            if rule == nil {
                guard let service = r.service else { throw invalid("service", "'service' is a required property") }
                guard let path = r.path else { throw invalid("path", "'path' is a required property") }
                guard let method = r.method else { throw invalid("method", "'method' is a required property") }
                rule = try await accessRules.find(userID: credential.userID, service: service, path: path, method: method, in: sql)
                if rule == nil {
                    let made = AccessRule(id: r.id ?? newID(), service: service, path: path, method: method)
                    try await accessRules.create(made, userID: credential.userID, in: sql)
                    rule = made
                }
            }
            guard let rule, !out.contains(rule) else {
                throw OpenStackError.conflict(
                    "Conflict occurred attempting to store application_credential - Duplicate entry found with name \(credential.name)."
                )
            }
            try await accessRules.link(credentialID: credential.id, ruleID: rule.id, in: sql)
            out.append(rule)
        }
        return out
    }
}

extension IdentityService {
    /// A random secret (64 bytes, base64url without padding) for application credentials.
    static func newSecret() -> String {
        Data(randomBytes(64)).base64URLEncodedString(padded: false)
    }
}
