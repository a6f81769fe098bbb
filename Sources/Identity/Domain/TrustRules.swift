/// keystone's rules for trusts that need no I/O: which roles a trust-scoped token carries, and
/// what a redelegated trust may ask of the trust it comes from.
enum TrustRules {
    /// `[trust] max_redelegation_count`'s default.
    static let defaultMaxRedelegationCount = 3

    /// The roles a token through the trust carries: the trust's roles and every role they imply.
    /// Nil when the trustor no longer holds one of them on the trust's project (keystone then
    /// refuses the token: "Trustee has no delegated roles.").
    static func delegatedRoles(trustRoles: Set<String>, implications: [RoleImplication], trustorRoles: Set<String>) -> Set<String>? {
        let wanted = EffectiveRoles.closure(of: trustRoles, implications: implications)
        return wanted.isSubset(of: trustorRoles) ? wanted : nil
    }

    /// What a new trust asks for, as the redelegation checks see it.
    struct Request: Equatable {
        var projectID: String?
        var roleIDs: Set<String>
        var impersonation: Bool
        var expiresAt: Int64?
        var remainingUses: Int?
    }

    /// What a trust in the chain offers.
    struct Offer: Equatable {
        var id: String
        var projectID: String?
        var roleIDs: Set<String>
        var impersonation: Bool
        var expiresAt: Int64?
        var redelegationCount: Int
    }

    /// Why `request` may not be redelegated from `parent` (keystone's messages, 403), or nil when
    /// it may. An omitted expiry is the parent's (`effectiveExpiry`).
    static func redelegationRefusal(from parent: Offer, request: Request, maxCount: Int) -> String? {
        guard parent.redelegationCount > 0, parent.redelegationCount <= maxCount else {
            return "Remaining redelegation depth of \(parent.redelegationCount) out of allowed range of [0..\(maxCount)]"
        }
        // The chain delegates the first trustor's roles on one project: a link naming another
        // project would hand out that trustor's roles there (Stratus's rule; keystone checks roles only).
        if request.projectID != parent.projectID { return "A redelegated trust must be on the project of the trust it comes from" }
        if let uses = request.remainingUses {
            return "Field \"remaining_uses\" is set to \(uses) while it must not be set in order to redelegate a trust"
        }
        if let wanted = request.expiresAt, let limit = parent.expiresAt, wanted > limit {
            return "Requested expiration time is more than redelegated trust can provide"
        }
        if !request.roleIDs.isSubset(of: parent.roleIDs) { return "Some of requested roles are not in redelegated trust" }
        if request.impersonation && !parent.impersonation {
            return "Impersonation is not allowed because redelegated trust does not specify impersonation. Redelegated trust id: \(parent.id)"
        }
        return nil
    }

    /// The redelegation count a new trust gets, or the refusal (status, message). `allow` and
    /// `requested` are the body's `allow_redelegation` and `redelegation_count`; `parent` the
    /// trust redelegated from, if any.
    static func redelegationCount(
        allow: Bool,
        requested: Int?,
        remainingUses: Int?,
        parent: Offer?,
        maxCount: Int
    ) -> Result<
        Int, Refusal
    > {
        let redelegatable = allow && requested != 0
        if !redelegatable {
            return .success(0)
        }
        if let requested, requested > maxCount {
            return .failure(.forbidden("Requested redelegation depth of \(requested) is greater than allowed \(maxCount)"))
        }
        if remainingUses != nil { return .failure(.badRequest("remaining_uses must not be set if redelegation is allowed")) }
        if let parent {
            let remaining = parent.redelegationCount - 1
            if let requested, requested != remaining {
                return .failure(
                    .forbidden("Modifying \"redelegation_count\" upon redelegation is forbidden. Omitting this parameter is advised.")
                )
            }
            return .success(remaining)
        }
        return .success(requested ?? maxCount)
    }

    /// A refusal with keystone's status.
    enum Refusal: Error, Equatable {
        case badRequest(String)
        case forbidden(String)
    }
}
