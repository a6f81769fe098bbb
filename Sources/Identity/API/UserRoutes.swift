import Hummingbird
import StratusCore

/// `/v3/users`: CRUD (passwords hashed with bcrypt; a password change or disabling revokes the
/// user's tokens), filters `name`, `domain_id`, `enabled`; change own password; the user's groups.
struct UserRoutes: Sendable {
    let service: IdentityService
    let users = UserStore()
    let groups = GroupStore()
    let domains = DomainStore()
    let projects = ProjectStore()
    let credentials = CredentialStore()
    let assignments = AssignmentStore()

    /// Body fields that are not free-form `extra`.
    static let known: Set<String> = ["name", "domain_id", "password", "enabled", "default_project_id", "options", "federated"]

    func add(to r: inout RouteTable) {
        r.get("/v3/users", list)
        r.post("/v3/users", create)
        r.get("/v3/users/{user_id}", get)
        r.patch("/v3/users/{user_id}", update)
        r.delete("/v3/users/{user_id}", delete)
        r.post("/v3/users/{user_id}/password", changePassword)
        r.get("/v3/users/{user_id}/groups", listGroups)
    }

    /// GET users, filtered by `name`, `domain_id` (default: a domain-scoped caller's domain), `enabled`: 200. 403 by policy.
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (_, listed) = try await service.authorizeList(req, IdentityPolicy.listUsers, domainFilter: req.query("domain_id"))
        if listed.isEmpty { return .json(["users": [], "links": collectionLinks(req)]) }
        let domain = listed.domainID
        let name = req.query("name")
        let enabled = req.query("enabled").map(queryBool)
        let limit = service.settings.listLimits.identity
        let rows = try await service.read { sql in
            try await users.list(name: name, matching: req.nameFilters, domainID: domain, enabled: enabled, limit: limit.fetch, in: sql)
        }
        let (found, truncated) = limit.apply(rows)
        return collectionBody("users", found.map { Self.json($0, req) }, truncated: truncated, req)
    }

    /// POST a user (in `domain_id`, default the default domain): 201. 400 invalid body; 404 unknown domain or
    /// default project; 409 name taken in the domain; 403 by policy.
    @Sendable func create(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "user")
        let name = try b.name(required: true)!
        let domain = try b.string("domain_id", maxLength: 64) ?? service.settings.defaultDomainID
        _ = try await service.authorize(req, IdentityPolicy.createUser, target: ["target": ["user": ["domain_id": .string(domain)]]])
        _ = try await service.read { sql in try await domains.get(domain, in: sql) }
        let options = try Self.optionChanges(b)
        let password = try b.string("password", nullable: true, maxLength: service.settings.maxPasswordLength)
        let enabled = try b.bool("enabled") ?? true
        let defaultProject = try b.string("default_project_id", nullable: true, maxLength: 64)
        if let defaultProject { _ = try await service.read { sql in try await projects.get(defaultProject, in: sql) } }
        let hash: String? = if let password { try await service.hashNewPassword(password) } else { nil }
        let now = Clock.micros()
        let user = UserRecord(
            id: newID(),
            name: name,
            domainID: domain,
            enabled: enabled,
            defaultProjectID: defaultProject,
            passwordHash: hash,
            passwordExpiresAt: hash == nil ? nil : passwordExpiry(from: now),
            createdAt: now,
            extra: b.extra(excluding: Self.known),
            options: UserOptions.apply(options, to: [:])
        )
        let created = try await service.write { sql in
            try await users.create(user, in: sql)
            return try await users.get(user.id, in: sql)
        }
        return .json(["user": Self.json(created, req)], status: .created)
    }

    /// GET one user: 200. 404 unknown; 403 by policy.
    @Sendable func get(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let user = try await authorized(req, ctx, IdentityPolicy.getUser)
        return .json(["user": Self.json(user, req)])
    }

    /// PATCH a user (name, enabled, password, default project, extra attributes); disabling or a new
    /// password revokes the user's tokens: 200. 400 invalid body or another `domain_id`; 404 unknown user or
    /// default project; 409 name taken; 403 by policy.
    @Sendable func update(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let user = try await authorized(req, ctx, IdentityPolicy.updateUser)
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "user")
        var changes = UserChanges()
        changes.name = try b.name(required: false)
        changes.enabled = try b.bool("enabled")
        let password = try b.string("password", nullable: true, maxLength: service.settings.maxPasswordLength)
        let defaultProject = try b.string("default_project_id", nullable: true, maxLength: 64)
        if let defaultProject { _ = try await service.read { sql in try await projects.get(defaultProject, in: sql) } }
        if b.has("default_project_id") { changes.defaultProjectID = .some(defaultProject) }
        if let d = try b.string("domain_id"), d != user.domainID { throw invalid("domain_id", "a user cannot move to another domain") }
        changes.extra = b.extra(excluding: Self.known)
        changes.options = try Self.optionChanges(b)
        let hash: String? = if let password { try await service.hashNewPassword(password) } else { nil }
        let expires = passwordExpiry(from: Clock.micros())
        let newPassword = b.has("password")
        let edit = changes
        let updated = try await service.write { sql in
            var updated = try await users.update(user.id, edit, in: sql)
            if edit.enabled == false { try await service.revoke(db: sql, userID: user.id) }
            if newPassword {
                try await users.setPassword(user.id, hash: hash, expiresAt: expires, in: sql)
                try await service.revoke(db: sql, userID: user.id)
                updated = try await users.get(user.id, in: sql)
            }
            return updated
        }
        return .json(["user": Self.json(updated, req)])
    }

    /// DELETE a user with its role assignments and credentials (memberships and application credentials
    /// cascade); its tokens are revoked: 204. 404 unknown; 403 by policy.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let user = try await authorized(req, ctx, IdentityPolicy.deleteUser)
        try await service.write { sql in
            try await assignments.removeAll(actorID: user.id, in: sql)
            try await credentials.deleteAll(ofUser: user.id, in: sql)
            // keystone deletes the trusts the user gave or received (and those redelegated from them).
            try await service.deleteTrusts(try await TrustStore().ids(involving: user.id, in: sql), in: sql)
            try await users.delete(user.id, in: sql)
            try await AccessRuleStore().deleteAll(ofUser: user.id, in: sql)
            try await service.revoke(db: sql, userID: user.id)
        }
        return .empty()
    }

    /// POST a new password for oneself: 204. 400 invalid body; 401 wrong original password, unknown or
    /// disabled user, or a locked account (failures count toward the lockout, as a login's do).
    /// No policy (keystone's is unenforced): the original password is the proof of identity.
    @Sendable func changePassword(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("user_id")
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "user")
        let original = try b.string("original_password", required: true, maxLength: service.settings.maxPasswordLength)!
        let password = try b.string("password", required: true, maxLength: service.settings.maxPasswordLength)!
        // NOTE: the same checks, lockout and failure counting as a login; an expired password may be
        // changed, that is the point.
        let user = try await service.read { sql in try await users.find(id: id, in: sql) }
        _ = try await service.checkPassword(original, user: user)
        let newHash = try await service.hashNewPassword(password)
        let expires = passwordExpiry(from: Clock.micros())
        try await service.write { sql in
            try await users.setPassword(id, hash: newHash, expiresAt: expires, in: sql)
            try await service.revoke(db: sql, userID: id)
        }
        return .empty()
    }

    /// GET the groups a user belongs to: 200. 404 unknown user; 403 by policy.
    @Sendable func listGroups(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("user_id")
        let user = try await service.read { sql in try await users.get(id, in: sql) }
        let caller = try await service.authorize(
            req,
            IdentityPolicy.listGroupsForUser,
            target: ["user_id": .string(id), "target": ["user": ["id": .string(id), "domain_id": .string(user.domainID)]]]
        )
        // keystone: a domain-scoped caller sees only its domain's groups; entries carry membership_expires_at
        let found = try await service.read { sql in try await groups.groups(ofUser: id, in: sql) }
            .filter { group in caller.domainID.map { $0 == group.domainID } ?? true }
        let entries = found.map { group -> JSON in
            var entry = GroupRoutes.json(group, req).objectValue ?? [:]
            entry["membership_expires_at"] = JSON.null
            return .object(entry)
        }
        return .json(["groups": .array(entries), "links": collectionLinks(req)])
    }

    /// Loads `{user_id}` (404 first) and enforces `action` with keystone's user target.
    func authorized(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> UserRecord {
        let id = try ctx.parameters.require("user_id")
        let user = try await service.read { sql in try await users.get(id, in: sql) }
        _ = try await service.authorize(req, action, target: ["target": ["user": ["id": .string(id), "domain_id": .string(user.domainID)]]])
        return user
    }

    /// When a password set at `now` expires (`[security_compliance] password_expires_days`), or nil.
    func passwordExpiry(from now: Int64) -> Int64? {
        service.settings.passwordExpiresDays.map { now + Int64($0) * 86_400_000_000 }
    }

    /// The `options` of a user body (`UserOptions`): 400 for an option Stratus does not implement.
    static func optionChanges(_ b: EntityBody) throws -> [String: JSON] {
        guard let value = b.fields["options"] else { return [:] }
        switch UserOptions.changes(value) {
        case .success(let changes): return changes
        case .failure(let refusal): throw invalid(refusal.field, refusal.message)
        }
    }

    /// keystone's user representation: `extra` attributes merged under the known ones.
    static func json(_ user: UserRecord, _ req: Request) -> JSON {
        var base: [String: JSON] = [
            "id": .string(user.id), "name": .string(user.name), "domain_id": .string(user.domainID),
            "enabled": .bool(user.enabled), "options": .object(user.options),
            "password_expires_at": user.passwordExpiresAt.map { .string(Clock.iso(micros: $0, zulu: false)) } ?? .null,
            "links": ["self": .string(req.baseURL + "/v3/users/" + user.id)],
        ]
        if let project = user.defaultProjectID { base["default_project_id"] = .string(project) }
        return merged(base, user.extra)
    }
}
