import Hummingbird
import SQLKit
import StratusCore

/// `/v3/OS-TRUST/trusts`: a trustor delegates some of its roles on a project to a trustee, who
/// gets trust-scoped tokens with them (as the trustor when `impersonation`). Deleting a trust
/// (or the trust it was redelegated from) ends its tokens.
struct TrustRoutes: Sendable {
    let service: IdentityService
    let trusts = TrustStore()
    let roles = RoleStore()

    static let base = "/v3/OS-TRUST/trusts"

    func add(to r: inout RouteTable) {
        r.post(Self.base, create)
        r.get(Self.base, list)
        r.get(Self.base + "/{trust_id}", get)
        r.delete(Self.base + "/{trust_id}", delete)
        r.get(Self.base + "/{trust_id}/roles", listRoles)
        r.get(Self.base + "/{trust_id}/roles/{role_id}", getRole)
    }

    /// POST a trust from the caller (the trustor) to a trustee: 201. 400 invalid body or an expiry
    /// in the past; 403 by policy, a trustor other than the caller, no roles for a project, a
    /// application credential's token, a redelegation the source trust does not allow;
    /// 404 unknown trustee, project or role, or a role the trustor does not hold there.
    @Sendable func create(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "trust")
        let fields = b.fields
        let caller = try await service.authorize(
            req,
            IdentityPolicy.createTrust,
            target: ["target": ["trust": ["trustor_user_id": fields["trustor_user_id"] ?? .null]]]
        )
        let trustorID = try b.string("trustor_user_id", required: true, maxLength: 64)!
        let trusteeID = try b.string("trustee_user_id", required: true, maxLength: 64)!
        guard let impersonation = try b.bool("impersonation") else { throw invalid("trust", "'impersonation' is a required property") }
        let projectID = try b.string("project_id", nullable: true, maxLength: 64)
        let remainingUses = try Self.optionalInt(fields, "remaining_uses", minimum: 1)
        let requestedCount = try Self.optionalInt(fields, "redelegation_count", minimum: 0)
        let allowRedelegation = try Self.optionalBool(fields, "allow_redelegation") ?? false
        let requestedRoles = try Self.roleReferences(fields["roles"])
        try Self.requireNotApplicationCredential(caller)
        if projectID != nil && requestedRoles.isEmpty {
            throw OpenStackError.forbidden("You are not authorized to perform the requested action: At least one role should be specified.")
        }
        guard caller.userID == trustorID else {
            throw OpenStackError.forbidden("You are not authorized to perform the requested action: The authenticated user should match the trustor.")
        }
        let expiresAt = try Self.expiry(b.string("expires_at", nullable: true))
        let now = Clock.micros()
        let created = try await service.write { sql in
            _ = try await UserStore().get(trusteeID, in: sql)
            let roleIDs = try await resolve(requestedRoles, in: sql)
            // The redelegation chain: the trust behind a trust-scoped caller, and its ancestors
            // (an application credential's token is not a delegation here, as in keystone).
            var chain: [TrustRecord] = []
            if let source = caller.trustID { chain = try await pedigree(of: source, at: now, in: sql) }
            if let projectID {
                _ = try await ProjectStore().get(projectID, in: sql)
                let originalTrustor = chain.last?.trustorUserID ?? trustorID
                let held = Set(try await AssignmentStore().effectiveRoles(user: originalTrustor, scope: .project(projectID), in: sql).map(\.id))
                if let missing = roleIDs.first(where: { !held.contains($0) }) { throw IdentityError.notFound(kind: "role", id: missing) }
            } else if let first = roleIDs.first {
                // without a project the trustor holds no role to delegate (keystone: 404 for the role)
                throw IdentityError.notFound(kind: "role", id: first)
            }
            let count: Int
            switch TrustRules.redelegationCount(
                allow: allowRedelegation,
                requested: requestedCount,
                remainingUses: remainingUses,
                parent: chain.first.map(Self.offer),
                maxCount: service.settings.maxRedelegationCount
            ) {
            case .success(let n): count = n
            case .failure(.badRequest(let message)): throw OpenStackError.badRequest(message)
            case .failure(.forbidden(let message)): throw OpenStackError.forbidden(message)
            }
            let request = TrustRules.Request(
                projectID: projectID,
                roleIDs: Set(roleIDs),
                impersonation: impersonation,
                expiresAt: expiresAt ?? chain.first?.expiresAt,
                remainingUses: remainingUses
            )
            for ancestor in chain {
                if let refusal = TrustRules.redelegationRefusal(
                    from: Self.offer(ancestor),
                    request: request,
                    maxCount: service.settings.maxRedelegationCount
                ) {
                    throw OpenStackError.forbidden(refusal)
                }
            }
            let trust = TrustRecord(
                id: newID(),
                trustorUserID: trustorID,
                trusteeUserID: trusteeID,
                projectID: projectID,
                impersonation: impersonation,
                expiresAt: request.expiresAt,
                remainingUses: remainingUses,
                redelegatedTrustID: chain.first?.id,
                redelegationCount: count,
                roleIDs: roleIDs
            )
            try await trusts.create(trust, in: sql)
            return trust
        }
        return .json(["trust": try await json(created, req, withRoles: true)], status: .created)
    }

    /// GET the trusts of a trustor (`trustor_user_id`) or a trustee (`trustee_user_id`), or all of
    /// them (admins and system readers): 200. 403 by policy.
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (trustor, trustee) = (req.query("trustor_user_id"), req.query("trustee_user_id"))
        let caller: Caller
        if let trustor {
            caller = try await service.authorize(
                req,
                IdentityPolicy.listTrustsForTrustor,
                target: ["target": ["trust": ["trustor_user_id": .string(trustor)]]]
            )
        } else if let trustee {
            caller = try await service.authorize(
                req,
                IdentityPolicy.listTrustsForTrustee,
                target: ["target": ["trust": ["trustee_user_id": .string(trustee)]]]
            )
        } else {
            caller = try await service.authorize(req, IdentityPolicy.listTrusts)
        }
        try Self.requireNotApplicationCredential(caller)
        let found = try await service.read { sql in
            try await trusts.list(trustorUserID: trustor, trusteeUserID: trustor == nil ? trustee : nil, in: sql)
        }
        var items: [JSON] = []
        for trust in found { items.append(try await json(trust, req, withRoles: false)) }
        return .json(["trusts": .array(items), "links": collectionLinks(req)])
    }

    /// GET one trust with its roles: 200. 404 unknown, deleted, expired or used up; 403 neither its
    /// trustor nor its trustee (by policy).
    @Sendable func get(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let trust = try await authorized(req, ctx, IdentityPolicy.getTrust)
        return .json(["trust": try await json(trust, req, withRoles: true)])
    }

    /// DELETE a trust and the trusts redelegated from it: 204; their tokens stop validating. 404 as
    /// GET; 403 not its trustor (by policy) or an application credential's token.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let trust = try await authorized(req, ctx, IdentityPolicy.deleteTrust)
        try await service.write { sql in try await service.deleteTrusts([trust.id], in: sql) }
        return .empty()
    }

    /// GET the roles a trust delegates: 200. 404 and 403 as GET.
    @Sendable func listRoles(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let trust = try await authorized(req, ctx, IdentityPolicy.listRolesForTrust)
        let delegated = try await service.read { sql in try await records(trust.roleIDs, in: sql) }
        return .json(["roles": .array(delegated.map { RoleRoutes.json($0, req) }), "links": Self.rolesLinks(trust, req)])
    }

    /// GET one role of a trust: 200. 404 a role it does not delegate; 404 and 403 as GET.
    @Sendable func getRole(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let trust = try await authorized(req, ctx, IdentityPolicy.getRoleForTrust)
        let roleID = try ctx.parameters.require("role_id")
        guard trust.roleIDs.contains(roleID) else { throw IdentityError.notFound(kind: "role", id: roleID) }
        let role = try await service.read { sql in try await roles.get(roleID, in: sql) }
        return .json(["role": RoleRoutes.json(role, req)])
    }

    /// Loads `{trust_id}` (404 when it cannot be used, before any policy, as keystone answers) and
    /// enforces `action` on its trustor and trustee.
    func authorized(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> TrustRecord {
        let id = try ctx.parameters.require("trust_id")
        let trust = try await service.read { sql in try await trusts.usable(id, at: Clock.micros(), in: sql) }
        let caller = try await service.authorize(
            req,
            action,
            target: [
                "target": ["trust": ["trustor_user_id": .string(trust.trustorUserID), "trustee_user_id": .string(trust.trusteeUserID)]]
            ]
        )
        try Self.requireNotApplicationCredential(caller)
        return trust
    }

    /// The trust `id` and the trusts it was redelegated from, nearest first; 404 when one cannot be used.
    func pedigree(of id: String, at now: Int64, in sql: any SQLDatabase) async throws -> [TrustRecord] {
        var chain = [try await trusts.usable(id, at: now, in: sql)]
        while let parent = chain.last?.redelegatedTrustID, chain.count <= service.settings.maxRedelegationCount + 1 {
            chain.append(try await trusts.usable(parent, at: now, in: sql))
        }
        return chain
    }

    /// Role references (`{"id"}` or `{"name"}`) → role ids: an unknown name is 404 as keystone words it.
    func resolve(_ references: [RoleReference], in sql: any SQLDatabase) async throws -> [String] {
        var ids: [String] = []
        for reference in references {
            switch reference {
            case .id(let id): ids.append(id)
            case .name(let name):
                guard let role = try await roles.find(name: name, domainID: nil, in: sql) else {
                    throw OpenStackError.notFound("Role \(name) is not defined")
                }
                ids.append(role.id)
            }
        }
        return ids
    }

    /// The roles with these ids that still exist.
    func records(_ ids: [String], in sql: any SQLDatabase) async throws -> [RoleRecord] {
        var out: [RoleRecord] = []
        for id in ids {
            if let role = try await AuthRoutes.absentAsNil({ try await roles.get(id, in: sql) }) { out.append(role) }
        }
        return out
    }

    /// keystone's trust document; `roles` and `roles_links` only for one trust (lists leave them out).
    func json(_ trust: TrustRecord, _ req: Request, withRoles: Bool) async throws -> JSON {
        var out: [String: JSON] = [
            "id": .string(trust.id), "trustor_user_id": .string(trust.trustorUserID), "trustee_user_id": .string(trust.trusteeUserID),
            "project_id": .optional(trust.projectID), "impersonation": .bool(trust.impersonation),
            "deleted_at": trust.deletedAt.map { .string(Clock.iso(micros: $0)) } ?? .null,
            "expires_at": trust.expiresAt.map { .string(Clock.iso(micros: $0)) } ?? .null,
            "remaining_uses": trust.remainingUses.map { .int(Int64($0)) } ?? .null,
            "redelegated_trust_id": .optional(trust.redelegatedTrustID), "redelegation_count": .int(Int64(trust.redelegationCount)),
            "links": ["self": .string(req.baseURL + Self.base + "/" + trust.id)],
        ]
        if withRoles {
            let delegated = try await service.read { sql in try await records(trust.roleIDs, in: sql) }
            out["roles"] = .array(delegated.map { RoleRoutes.json($0, req) })
            out["roles_links"] = Self.rolesLinks(trust, req)
        }
        return .object(out)
    }

    /// The links of a trust's role list (keystone's own points at `/v3/<trust id>/roles`, a path it
    /// does not serve; this one is the route).
    static func rolesLinks(_ trust: TrustRecord, _ req: Request) -> JSON {
        ["self": .string(req.baseURL + base + "/" + trust.id + "/roles"), "previous": nil, "next": nil]
    }

    static func offer(_ trust: TrustRecord) -> TrustRules.Offer {
        TrustRules.Offer(
            id: trust.id,
            projectID: trust.projectID,
            roleIDs: Set(trust.roleIDs),
            impersonation: trust.impersonation,
            expiresAt: trust.expiresAt,
            redelegationCount: trust.redelegationCount
        )
    }

    /// keystone 30 keeps every application credential's token away from trusts (restricted or not:
    /// a trust would let the credential's holder hand its roles on to anyone).
    static func requireNotApplicationCredential(_ caller: Caller) throws {
        if caller.applicationCredentialID != nil {
            throw OpenStackError.forbidden("You are not authorized to perform the requested action: Delegated tokens cannot manage trusts.")
        }
    }

    /// A role named in a request body.
    enum RoleReference: Equatable {
        case id(String)
        case name(String)
    }

    /// `roles`: absent or null → none; each item exactly one of `id` or `name` (400 otherwise).
    static func roleReferences(_ value: JSON?) throws -> [RoleReference] {
        guard let value, !value.isNull else { return [] }
        guard case .array(let items) = value else { throw invalid("roles", "\(value.typeName) is not of type 'array'") }
        return try items.map { item in
            guard let object = item.objectValue, object.count == 1 else {
                throw invalid("roles", "\(item.serialized()) must have exactly one of 'id' or 'name'")
            }
            if let id = object["id"]?.stringValue { return .id(id) }
            if let name = object["name"]?.stringValue { return .name(name) }
            throw invalid("roles", "\(item.serialized()) must have exactly one of 'id' or 'name'")
        }
    }

    /// `expires_at` as keystone reads it: 400 when it is not a time or is already past.
    static func expiry(_ text: String?) throws -> Int64? {
        guard let text else { return nil }
        guard let t = Clock.parse(text) else { throw OpenStackError.badRequest("Timestamp not in expected format.") }
        guard t > Clock.micros() else { throw OpenStackError.badRequest("The 'expires_at' must not be before now.") }
        return t
    }

    /// An optional integer field (null allowed) at least `minimum`.
    static func optionalInt(_ fields: [String: JSON], _ key: String, minimum: Int) throws -> Int? {
        guard let v = fields[key], !v.isNull else { return nil }
        guard case .int(let n) = v else { throw invalid(key, "\(v.serialized()) is not of type 'integer', 'null'") }
        guard n >= minimum else { throw invalid(key, "\(n) is less than the minimum of \(minimum)") }
        return Int(n)
    }

    /// An optional boolean field (null allowed).
    static func optionalBool(_ fields: [String: JSON], _ key: String) throws -> Bool? {
        guard let v = fields[key], !v.isNull else { return nil }
        guard case .bool(let b) = v else { throw invalid(key, "\(v.serialized()) is not of type 'boolean', 'null'") }
        return b
    }
}
