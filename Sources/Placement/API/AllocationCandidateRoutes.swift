import Hummingbird
import StratusCore

/// `GET /allocation_candidates` (1.10+): the query parsed per microversion, searched over the
/// provider view (`CandidateSearch`), rendered in the shape of the request's version.
struct AllocationCandidateRoutes: Sendable {
    let service: PlacementService

    func add(to r: inout RouteTable) {
        r.get("/allocation_candidates", list)
    }

    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        guard ctx.atLeast(10) else { throw PlacementError.notFound("The resource could not be found.") }
        try service.authorize(ctx, PlacementPolicy.listCandidates)
        var query = try Self.parse(req, ctx)
        query.maxCandidates = service.settings.maxCandidates
        query.breadthFirst = service.settings.generationStrategy == .breadthFirst
        query.randomize = service.settings.randomizeCandidates
        let classes = query.groups.flatMap { $0.resources.map(\.0) }
        let traits = query.groups.flatMap { g in g.required.flatMap { $0 } + g.forbidden } + query.rootRequired + query.rootForbidden
        try await service.checkNames(classes: classes, traits: traits, traitMessage: { "No such trait(s): \($0)." })
        let world = try await service.view.current(service.db)
        let result = CandidateSearch(world: world, query: query).run()
        return PlacementHTTP.json(text: Self.render(result, query: query, world: world, ctx), ctx)
    }

    static let groupPattern = "^(resources|required|member_of|in_tree)([1-9][0-9]*)$"
    static let groupPattern133 = "^(resources|required|member_of|in_tree)([a-zA-Z0-9_-]{1,64})$"

    /// The query as placement reads it at the request's microversion.
    static func parse(_ req: Request, _ ctx: StratusContext) throws -> CandidateQuery {
        var allowed = ["resources"]
        var patterns: [String] = []
        if ctx.atLeast(16) { allowed.append("limit") }
        if ctx.atLeast(17) { allowed.append("required") }
        if ctx.atLeast(21) { allowed.append("member_of") }
        if ctx.atLeast(25) {
            allowed += ["group_policy"]
            patterns.append(ctx.atLeast(33) ? groupPattern133 : "^(resources|required|member_of)([1-9][0-9]*)$")
            if ctx.atLeast(31) {
                allowed.append("in_tree")
                if !ctx.atLeast(33) { patterns.append("^in_tree([1-9][0-9]*)$") }
            }
        }
        if ctx.atLeast(35) { allowed.append("root_required") }
        if ctx.atLeast(36) { allowed.append("same_subtree") }
        try PlacementHTTP.checkQuery(req, allowed: allowed, patterns: patterns)
        if !ctx.atLeast(25), req.query("resources") == nil {
            throw PlacementError.badRequest("Invalid query string parameters: 'resources' is a required property")
        }
        var query = CandidateQuery(groups: [])
        if let limit = req.query("limit") {
            guard let n = Int(limit), n >= 1, limit.first != "0" else {
                throw PlacementError.badRequest("Invalid query string parameters: '\(limit)' does not match '^[1-9][0-9]*$'")
            }
            query.limit = n
        }
        if let policy = req.query("group_policy") {
            guard ["none", "isolate"].contains(policy) else {
                throw PlacementError.badRequest("Invalid query string parameters: '\(policy)' is not one of ['none', 'isolate']")
            }
            query.groupPolicy = policy
        }
        let roots = PlacementHTTP.all(req, "root_required")
        if roots.count > 1 { throw PlacementError.duplicateQueryKey("Query parameter 'root_required' may be specified only once.") }
        if let root = roots.first {
            let (required, forbidden) = try QueryParsing.traits([root], ctx, anyOf: false)
            let names = Set(required.flatMap { $0 })
            let conflicts = names.intersection(forbidden)
            if !conflicts.isEmpty {
                throw PlacementError.badQueryValue(
                    "Conflicting required and forbidden traits found in root_required: \(conflicts.sorted().joined(separator: ", "))"
                )
            }
            query.rootRequired = names
            query.rootForbidden = forbidden
        }
        for value in PlacementHTTP.all(req, "same_subtree") {
            let suffixes = Set(value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) })
            if suffixes.contains("") {
                throw PlacementError.badQueryValue("Empty string (unsuffixed group) can not be specified in `same_subtree` ")
            }
            query.sameSubtrees.append(suffixes)
        }
        query.groups = try groups(req, ctx, sameSubtrees: query.sameSubtrees)
        if query.groupPolicy == nil, query.groups.filter(\.sameProvider).count > 1 {
            throw PlacementError.badRequest("The \"group_policy\" parameter is required when specifying more than one \"resources{N}\" parameter.")
        }
        query.nestedAware = ctx.atLeast(29)
        return query
    }

    /// The request groups by suffix, in the order their parameters first appear.
    static func groups(_ req: Request, _ ctx: StratusContext, sameSubtrees: [Set<String>]) throws -> [RequestGroup] {
        let pattern =
            ctx.atLeast(33)
            ? "^(resources|required|member_of|in_tree)([a-zA-Z0-9_-]{1,64})?$" : "^(resources|required|member_of|in_tree)([1-9][0-9]*)?$"
        var order: [String] = []
        var bySuffix: [String: RequestGroup] = [:]
        for (key, _) in req.queryItems {
            guard key.range(of: pattern, options: .regularExpression) != nil else { continue }
            let prefix = ["resources", "required", "member_of", "in_tree"].first { key.hasPrefix($0) }!
            let suffix = String(key.dropFirst(prefix.count))
            if bySuffix[suffix] == nil {
                bySuffix[suffix] = RequestGroup(suffix: suffix)
                order.append(suffix)
            }
            var g = bySuffix[suffix]!
            switch prefix {
            case "resources": g.resources = try QueryParsing.resources(PlacementHTTP.all(req, key).last!)
            case "required": (g.required, g.forbidden) = try QueryParsing.traits(PlacementHTTP.all(req, key), ctx)
            case "member_of": (g.memberOf, g.forbiddenAggregates) = try QueryParsing.memberOf(PlacementHTTP.all(req, key), suffix: suffix, ctx)
            default: g.inTree = try QueryParsing.inTree(PlacementHTTP.all(req, key).last!)
            }
            bySuffix[suffix] = g
        }
        let groups = order.map { bySuffix[$0]! }
        if ctx.atLeast(36) {
            let resourceless = groups.filter { $0.resources.isEmpty }.map(\.suffix)
            if resourceless.count == groups.count {
                throw PlacementError.missingQueryValue("There must be at least one resources or resources[$S] parameter.")
            }
            let inSubtrees = Set(sameSubtrees.flatMap { $0 })
            let bad = resourceless.filter { !inSubtrees.contains($0) }
            if !bad.isEmpty {
                throw PlacementError.badQueryValue(
                    "Resourceless suffixed group request should be specified in `same_subtree` query param: bad group(s) - [\(bad.map { "'\($0)'" }.joined(separator: ", "))]."
                )
            }
            let unknown = inSubtrees.filter { bySuffix[$0] == nil }.sorted()
            if !unknown.isEmpty {
                throw PlacementError.badQueryValue(
                    "Real suffixes should be specified in `same_subtree`: [\(unknown.map { "'\($0)'" }.joined(separator: ", "))] not found in [\(order.map { "'\($0)'" }.joined(separator: ", "))]."
                )
            }
        } else {
            let orphanTraits = groups.filter { !$0.required.isEmpty && $0.resources.isEmpty }.map { "required\($0.suffix)" }
            if !orphanTraits.isEmpty {
                throw PlacementError.badRequest(
                    "All traits parameters must be associated with resources.  Found the following orphaned traits keys: \(orphanTraits.joined(separator: ", "))"
                )
            }
            let orphanAggs = groups.filter { $0.resources.isEmpty && (!$0.memberOf.isEmpty || !$0.forbiddenAggregates.isEmpty) }.map {
                "member_of\($0.suffix)"
            }
            if !orphanAggs.isEmpty {
                throw PlacementError.badRequest(
                    "All member_of parameters must be associated with resources. Found the following orphaned member_of keys: \(orphanAggs.joined(separator: ", "))"
                )
            }
            if !groups.allSatisfy({ !$0.resources.isEmpty }) { throw PlacementError.badRequest("All request groups must specify resources.") }
            if groups.isEmpty { throw PlacementError.badRequest("At least one request group (`resources` or `resources{$S}`) is required.") }
        }
        if ctx.atLeast(22) {
            var conflicts: [String] = []
            for g in groups {
                for anyOf in g.required where anyOf.isSubset(of: g.forbidden) {
                    conflicts.append("required\(g.suffix): (\(anyOf.sorted().joined(separator: ", ")))")
                }
            }
            if !conflicts.isEmpty {
                throw PlacementError.badRequest(
                    "Conflicting required and forbidden traits found in the following traits keys: \(conflicts.sorted().joined(separator: ", "))"
                )
            }
        }
        return groups
    }

    /// The response body at the request's microversion, written straight to text: answers run to
    /// megabytes, and building a `JSON` tree first doubled the time (docs/benchmarks.md).
    static func render(_ result: CandidateResult, query: CandidateQuery, world: ProviderWorld, _ ctx: StratusContext) -> String {
        var out = ""
        out.reserveCapacity(256 + result.requests.count * 200 + result.summaries.count * 300)
        func key(_ k: String) {
            JSON.writeString(k, to: &out)
            out += ": "
        }
        out += "{\"allocation_requests\": ["
        for (n, r) in result.requests.enumerated() {
            if n > 0 { out += ", " }
            // Parts are sorted by provider, so each provider's classes are adjacent.
            var groups: [(String, [CandidateResult.Part])] = []
            for p in r.parts {
                let uuid = world.provider(p.provider).uuid
                if groups.last?.0 == uuid { groups[groups.count - 1].1.append(p) } else { groups.append((uuid, [p])) }
            }
            func resources(_ parts: [CandidateResult.Part]) {
                out += "{"
                for (m, p) in parts.enumerated() {
                    if m > 0 { out += ", " }
                    key(world.classNames[p.cls])
                    out += String(p.amount)
                }
                out += "}"
            }
            if ctx.atLeast(12) {
                out += "{\"allocations\": {"
                for (m, g) in groups.enumerated() {
                    if m > 0 { out += ", " }
                    key(g.0)
                    out += "{\"resources\": "
                    resources(g.1)
                    out += "}"
                }
                out += "}"
                if ctx.atLeast(34) {
                    out += ", \"mappings\": {"
                    for (m, suffix) in r.mappings.keys.sorted().enumerated() {
                        if m > 0 { out += ", " }
                        key(suffix)
                        out += "["
                        for (k, i) in r.mappings[suffix]!.enumerated() {
                            if k > 0 { out += ", " }
                            JSON.writeString(world.provider(i).uuid, to: &out)
                        }
                        out += "]"
                    }
                    out += "}"
                }
                out += "}"
            } else {
                out += "{\"allocations\": ["
                for (m, g) in groups.enumerated() {
                    if m > 0 { out += ", " }
                    out += "{\"resource_provider\": {\"uuid\": "
                    JSON.writeString(g.0, to: &out)
                    out += "}, \"resources\": "
                    resources(g.1)
                    out += "}"
                }
                out += "]}"
            }
        }
        out += "], \"provider_summaries\": {"
        let requested = Set(query.groups.flatMap { $0.resources.compactMap { world.classIDs[$0.0] } })
        for (n, i) in result.summaries.enumerated() {
            if n > 0 { out += ", " }
            let p = world.provider(i)
            key(p.uuid)
            out += "{\"resources\": {"
            var first = true
            for (cls, inv) in p.inventories.sorted(by: { $0.key < $1.key }) where ctx.atLeast(27) || requested.contains(cls) {
                if !first { out += ", " }
                first = false
                key(world.classNames[cls])
                out += "{\"capacity\": \(inv.capacity), \"used\": \(p.used[cls] ?? 0)}"
            }
            out += "}"
            if ctx.atLeast(17) {
                out += ", \"traits\": ["
                for (k, t) in p.traits.map({ world.traitNames[$0] }).sorted().enumerated() {
                    if k > 0 { out += ", " }
                    JSON.writeString(t, to: &out)
                }
                out += "]"
            }
            if ctx.atLeast(29) {
                out += ", \"parent_provider_uuid\": "
                if let parent = p.parentUUID { JSON.writeString(parent, to: &out) } else { out += "null" }
                out += ", \"root_provider_uuid\": "
                JSON.writeString(p.rootUUID, to: &out)
            }
            out += "}"
        }
        out += "}}"
        return out
    }
}
