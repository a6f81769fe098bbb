import SQLKit
import StratusCore

extension IdentityService {
    /// A trust-scoped payload's user, project and roles, checked as keystone does on every
    /// validation: the trust stands (not deleted, not expired), the token's user is its trustee,
    /// trustor and trustee (and their domains) are enabled, and the trustor (the chain's first, for
    /// a redelegated trust) still holds every delegated role on the project. The token shows the
    /// trustor as its user under impersonation, the trustee otherwise.
    func loadTrustScope(_ p: TokenPayload, trustID: String, db: any SQLDatabase) async throws -> ResolvedScope {
        guard p.applicationCredentialID == nil else {
            throw IdentityError.invalidToken(reason: "a trust token cannot come from an application credential")
        }
        let now = Clock.micros()
        let trusts = TrustStore()
        guard let trust = try await trusts.find(trustID, in: db), trust.deletedAt == nil, trust.expiresAt.map({ $0 > now }) ?? true
        else { throw IdentityError.invalidToken(reason: "trust is gone") }
        guard p.userID == trust.trusteeUserID else { throw IdentityError.invalidToken(reason: "User is not a trustee.") }
        let trustee = try await enabledUser(trust.trusteeUserID, db: db)
        let trustor = try await enabledUser(trust.trustorUserID, db: db)
        var originalTrustor = trust.trustorUserID
        var delegating = [trust.trustorUserID]
        var parentID = trust.redelegatedTrustID
        var depth = 0
        while let id = parentID {
            depth += 1
            guard depth <= settings.maxRedelegationCount + 1, let parent = try await trusts.find(id, in: db), parent.deletedAt == nil else {
                throw IdentityError.invalidToken(reason: "trust is gone")
            }
            _ = try await enabledUser(parent.trusteeUserID, db: db)
            _ = try await enabledUser(parent.trustorUserID, db: db)
            originalTrustor = parent.trustorUserID
            delegating.append(parent.trustorUserID)
            parentID = parent.redelegatedTrustID
        }
        let shown = trust.impersonation ? trustor : trustee
        var body: [String: JSON] = [
            "user": Self.userDocument(shown.user, shown.domain),
            "OS-TRUST:trust": [
                "id": .string(trust.id), "impersonation": .bool(trust.impersonation),
                "trustor_user": ["id": .string(trust.trustorUserID)], "trustee_user": ["id": .string(trust.trusteeUserID)],
            ],
        ]
        var scope: Caller.Scope = .unscoped
        var roles: [RoleRecord] = []
        if let projectID = trust.projectID {
            (scope, body["project"]) = try await enabledProject(projectID, knownDomain: trustor.domain, db: db)
            let held = try await AssignmentStore().effectiveRoles(user: originalTrustor, scope: .project(projectID), in: db)
            guard
                let delegated = TrustRules.delegatedRoles(
                    trustRoles: Set(trust.roleIDs),
                    implications: try await RoleStore().implications(in: db),
                    trustorRoles: Set(held.map(\.id))
                )
            else { throw IdentityError.invalidToken(reason: "Trustee has no delegated roles.") }
            roles = held.filter { delegated.contains($0.id) && $0.domainID == nil }
            body["roles"] = .array(roles.map { ["id": .string($0.id), "name": .string($0.name)] })
        }
        let caller = Caller(
            userID: shown.user.id,
            userName: shown.user.name,
            userDomainID: shown.domain.id,
            userDomainName: shown.domain.name,
            scope: scope,
            roles: roles.map(\.name),
            roleIDs: roles.map(\.id),
            methods: [],
            auditIDs: [],
            trustID: trust.id,
            token: ""
        )
        return ResolvedScope(caller: caller, body: body, delegatingUserIDs: delegating)
    }

    /// Deletes the trusts `ids` and those redelegated from them, recording a revocation event for
    /// each (run inside `write`).
    func deleteTrusts(_ ids: [String], in sql: any SQLDatabase) async throws {
        let now = Clock.micros()
        for id in ids {
            for deleted in try await TrustStore().softDelete(id, at: now, in: sql) { try await revoke(db: sql, trustID: deleted) }
        }
    }

    /// The user `id` and its domain when both are enabled; `invalidToken` otherwise.
    func enabledUser(_ id: String, db: any SQLDatabase) async throws -> (user: UserRecord, domain: DomainRecord) {
        let user = try await existing("user is gone or disabled") { try await UserStore().get(id, in: db) }
        let domain = try await existing("user is gone or disabled") { try await DomainStore().get(user.domainID, in: db) }
        guard user.enabled, domain.enabled else { throw IdentityError.invalidToken(reason: "user is gone or disabled") }
        return (user, domain)
    }
}
