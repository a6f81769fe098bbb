/// `limit`, `marker` and sort keys/directions of a list request, parsed once for every
/// service. Each service renders its own `links` / `next` from the page it returns.
///
/// Sorting accepts both forms OpenStack uses: repeated `sort_key` / `sort_dir` pairs (nova,
/// neutron, glance) and glance's `sort=key:dir,key2`. A key outside `sortable` and a direction
/// other than `asc`/`desc` are 400s naming the parameter.
public struct PageRequest: Sendable, Equatable {
    /// A sort direction as the APIs spell it.
    public enum Direction: String, Sendable {
        case ascending = "asc"
        case descending = "desc"
    }

    /// One sort criterion.
    public struct SortKey: Sendable, Equatable {
        public var key: String
        public var direction: Direction
    }

    /// At most this many items (already clamped to the service's maximum); nil = the service's default page.
    public var limit: Int?
    /// The id of the last item of the previous page.
    public var marker: String?
    public var sort: [SortKey]

    /// A query parameter that does not parse; services map it to their own 400 wording.
    public struct Invalid: OpenStackErrorConvertible, Equatable {
        public var parameter: String
        public var value: String
        public var reason: String

        public var openStackError: OpenStackError {
            .badRequest("Invalid value '\(value)' for query parameter \(parameter): \(reason).")
        }
    }

    /// Parses from the query items. `maxLimit` clamps `limit` (oslo's `max_limit`).
    public init(
        query: [(String, String)],
        sortable: Set<String>,
        defaultDirection: Direction = .ascending,
        maxLimit: Int? = nil
    ) throws(Invalid) {
        var limit: Int?
        var marker: String?
        var keys: [String] = []
        var directions: [String] = []
        var sortParam: String?
        for (name, value) in query {
            switch name {
            case "limit":
                guard let n = Int(value), n >= 0 else {
                    throw Invalid(parameter: "limit", value: value, reason: "must be a non-negative integer")
                }
                limit = maxLimit.map { min(n, $0) } ?? n
            case "marker": marker = value
            case "sort_key": keys.append(value)
            case "sort_dir": directions.append(value)
            case "sort": sortParam = value
            default: continue
            }
        }
        var sort: [SortKey] = []
        if let sortParam {
            for item in sortParam.split(separator: ",") {
                let parts = item.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                let dir = parts.count == 2 ? parts[1] : defaultDirection.rawValue
                sort.append(try PageRequest.key(parts[0], dir, sortable: sortable, parameter: "sort"))
            }
        }
        guard directions.count <= max(keys.count, 1) else {
            throw Invalid(parameter: "sort_dir", value: directions.joined(separator: ","), reason: "more sort directions than sort keys")
        }
        for (i, key) in keys.enumerated() {
            let dir = i < directions.count ? directions[i] : (directions.last ?? defaultDirection.rawValue)
            sort.append(try PageRequest.key(key, dir, sortable: sortable, parameter: "sort_key"))
        }
        if keys.isEmpty, sortParam == nil, let dir = directions.first, Direction(rawValue: dir) == nil {
            throw Invalid(parameter: "sort_dir", value: dir, reason: "must be asc or desc")
        }
        self.limit = limit
        self.marker = marker
        self.sort = sort
    }

    static func key(_ key: String, _ dir: String, sortable: Set<String>, parameter: String) throws(Invalid) -> SortKey {
        guard sortable.contains(key) else {
            throw Invalid(parameter: parameter, value: key, reason: "sorting is possible by \(sortable.sorted().joined(separator: ", "))")
        }
        guard let direction = Direction(rawValue: dir.lowercased()) else {
            throw Invalid(parameter: "sort_dir", value: dir, reason: "must be asc or desc")
        }
        return SortKey(key: key, direction: direction)
    }
}
