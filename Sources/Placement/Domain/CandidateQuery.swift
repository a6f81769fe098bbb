/// One request group of `GET /allocation_candidates`: the unsuffixed group (`resources`,
/// `required`, `member_of`, `in_tree`) or a suffixed one (`resources1`, `required_NET`, …).
struct RequestGroup: Sendable {
    /// "" for the unsuffixed group.
    var suffix: String
    /// Class name and amount, in the order given.
    var resources: [(String, Int)] = []
    /// Each entry is satisfied by any one of its traits (`in:` lists from 1.39; single names before).
    var required: [Set<String>] = []
    var forbidden: Set<String> = []
    /// Each entry is satisfied by membership in any one of its aggregates.
    var memberOf: [Set<String>] = []
    var forbiddenAggregates: Set<String> = []
    var inTree: String?

    /// Suffixed groups take all their resources from one provider.
    var sameProvider: Bool { !suffix.isEmpty }
}

/// A whole allocation candidates query: its groups and the request-wide parameters.
struct CandidateQuery: Sendable {
    var groups: [RequestGroup]
    /// `none` or `isolate`; required with more than one suffixed group.
    var groupPolicy: String?
    /// `root_required`: traits the tree's root must have / must not have.
    var rootRequired: Set<String> = []
    var rootForbidden: Set<String> = []
    /// `same_subtree`: each entry lists group suffixes whose providers must share a subtree.
    var sameSubtrees: [Set<String>] = []
    var limit: Int?
    /// 1.29+: candidates may combine providers of one tree; before, nested providers are left out.
    var nestedAware = true
    /// `[placement] max_allocation_candidates` (nil: unlimited) and its strategy.
    var maxCandidates: Int?
    var breadthFirst = false
    var randomize = false
}

/// What a candidate search returns: allocation requests and the providers to summarize.
struct CandidateResult: Sendable, Equatable {
    /// One allocation request: amounts per (provider, class) and which providers served each group.
    struct Request: Sendable, Hashable {
        /// (provider index, interned class, amount), sorted.
        var parts: [Part]
        /// Group suffix → provider indexes, sorted.
        var mappings: [String: [Int]]
    }

    /// One resource of one provider in a request.
    struct Part: Sendable, Hashable, Comparable {
        var provider: Int
        var cls: Int
        var amount: Int

        static func < (a: Part, b: Part) -> Bool { (a.provider, a.cls, a.amount) < (b.provider, b.cls, b.amount) }
    }

    var requests: [Request]
    /// Provider indexes whose summaries are shown.
    var summaries: [Int]

    static let empty = CandidateResult(requests: [], summaries: [])
}
