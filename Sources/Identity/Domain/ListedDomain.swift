/// Which domain a list call may see (keystone's rule for `/v3/users`, `/v3/groups`,
/// `/v3/projects`): a domain-scoped token sees only its own domain, so asking it for another
/// domain lists nothing (200, empty), not 403; other tokens list the `domain_id` they ask for, or all.
enum ListedDomain: Equatable, Sendable {
    case all
    case only(String)
    case nothing

    init(filter: String?, tokenDomain: String?) {
        switch (filter, tokenDomain) {
        case (nil, nil): self = .all
        case (let f?, nil): self = .only(f)
        case (nil, let t?): self = .only(t)
        case (let f?, let t?): self = f == t ? .only(t) : .nothing
        }
    }

    /// The SQL filter; nil for `.all`. Meaningless for `.nothing` (check `isEmpty` first).
    var domainID: String? {
        if case .only(let d) = self { return d }
        return nil
    }

    var isEmpty: Bool { self == .nothing }
}
