/// keystone's list bounds (`[DEFAULT] list_limit`, overridden per driver by `[identity]`,
/// `[resource]`, `[role]` `list_limit`): a store reads one row more than the limit, and a list
/// that had more rows answers the first `limit` with `"truncated": true`.
/// `/v3/role_assignments` is bounded by Stratus's `[assignment] list_limit` (default 10,000;
/// keystone has no bound there): docs/decisions.md, "Bounded lists".
struct ListLimit: Sendable, Equatable {
    /// nil: unbounded.
    var limit: Int?

    /// What the store should read: one row past the limit, so truncation is visible.
    var fetch: Int? { limit.map { $0 + 1 } }

    /// The rows to answer and whether some were cut.
    func apply<T>(_ rows: [T]) -> (rows: [T], truncated: Bool) {
        guard let limit, rows.count > limit else { return (rows, false) }
        return (Array(rows.prefix(limit)), true)
    }

    /// The per-driver option, else `[DEFAULT] list_limit`.
    static func resolve(driver: Int?, fallback: Int?) -> ListLimit { ListLimit(limit: driver ?? fallback) }
}

/// The limits a service applies, one per keystone driver.
struct ListLimits: Sendable, Equatable {
    var identity = ListLimit()
    var resource = ListLimit()
    var role = ListLimit()
    var assignment = ListLimit(limit: ListLimits.defaultAssignmentLimit)

    static let defaultAssignmentLimit = 10_000
}
