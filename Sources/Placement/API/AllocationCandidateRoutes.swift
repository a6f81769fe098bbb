import Hummingbird
import StratusCore
import Synchronization

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
        let world = try await service.view.current(service.db)
        try world.checkNames(classes: classes, traits: traits, traitMessage: { "No such trait(s): \($0)." })
        let result = CandidateSearch(world: world, query: query).run()
        let body = Self.render(result, query: query, world: world, summaries: service.summaries, ctx)
        return PlacementHTTP.json(bytes: body, ctx)
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

    /// The response body at the request's microversion, written straight to bytes: answers run to
    /// megabytes, and building a `JSON` tree first doubled the time (docs/benchmarks.md).
    static func render(
        _ result: CandidateResult,
        query: CandidateQuery,
        world: ProviderWorld,
        summaries cache: SummaryCache,
        _ ctx: StratusContext
    )
        -> [UInt8]
    {
        var out = JSONBytes(capacity: 256 + result.requests.count * 200 + result.summaries.count * 300)
        out.literal("{\"allocation_requests\": [")
        for (n, r) in result.requests.enumerated() {
            if n > 0 { out.literal(", ") }
            // Parts are sorted by provider, so each provider's classes are adjacent.
            var groups: [(Int, ArraySlice<CandidateResult.Part>)] = []
            var start = 0
            for k in r.parts.indices where k == r.parts.count - 1 || r.parts[k + 1].provider != r.parts[k].provider {
                groups.append((r.parts[k].provider, r.parts[start...k]))
                start = k + 1
            }
            func resources(_ parts: ArraySlice<CandidateResult.Part>) {
                out.literal("{")
                for (m, p) in parts.enumerated() {
                    if m > 0 { out.literal(", ") }
                    out.string(world.classNames[p.cls])
                    out.literal(": ")
                    out.int(p.amount)
                }
                out.literal("}")
            }
            if ctx.atLeast(12) {
                out.literal("{\"allocations\": {")
                for (m, g) in groups.enumerated() {
                    if m > 0 { out.literal(", ") }
                    out.string(world.provider(g.0).uuid)
                    out.literal(": {\"resources\": ")
                    resources(g.1)
                    out.literal("}")
                }
                out.literal("}")
                if ctx.atLeast(34) {
                    out.literal(", \"mappings\": {")
                    for (m, suffix) in r.mappings.keys.sorted().enumerated() {
                        if m > 0 { out.literal(", ") }
                        out.string(suffix)
                        out.literal(": [")
                        for (k, i) in r.mappings[suffix]!.enumerated() {
                            if k > 0 { out.literal(", ") }
                            out.string(world.provider(i).uuid)
                        }
                        out.literal("]")
                    }
                    out.literal("}")
                }
                out.literal("}")
            } else {
                out.literal("{\"allocations\": [")
                for (m, g) in groups.enumerated() {
                    if m > 0 { out.literal(", ") }
                    out.literal("{\"resource_provider\": {\"uuid\": ")
                    out.string(world.provider(g.0).uuid)
                    out.literal("}, \"resources\": ")
                    resources(g.1)
                    out.literal("}")
                }
                out.literal("]}")
            }
        }
        out.literal("], \"provider_summaries\": {")
        let requested = Set(query.groups.flatMap { $0.resources.compactMap { world.classIDs[$0.0] } })
        let cached = ctx.atLeast(29) ? cache.fragments(result.summaries, world: world) : nil
        for (n, i) in result.summaries.enumerated() {
            if n > 0 { out.literal(", ") }
            let p = world.provider(i)
            out.string(p.uuid)
            out.literal(": ")
            if let cached {
                out.fragment(cached[n])
            } else {
                summary(p, world: world, classes: ctx.atLeast(27) ? nil : requested, traits: ctx.atLeast(17), nested: false, into: &out)
            }
        }
        out.literal("}}")
        return out.bytes
    }

    /// One provider's summary: its resources (all, or only `classes`), traits, and from 1.29 its tree.
    static func summary(_ p: ProviderWorld.Provider, world: ProviderWorld, classes: Set<Int>?, traits: Bool, nested: Bool, into out: inout JSONBytes)
    {
        out.literal("{\"resources\": {")
        var first = true
        for (cls, inv) in p.inventories.sorted(by: { $0.key < $1.key }) where classes?.contains(cls) ?? true {
            if !first { out.literal(", ") }
            first = false
            out.string(world.classNames[cls])
            out.literal(": {\"capacity\": ")
            out.int(inv.capacity)
            out.literal(", \"used\": ")
            out.int(p.used[cls] ?? 0)
            out.literal("}")
        }
        out.literal("}")
        if traits {
            out.literal(", \"traits\": [")
            for (k, t) in p.traits.map({ world.traitNames[$0] }).sorted().enumerated() {
                if k > 0 { out.literal(", ") }
                out.string(t)
            }
            out.literal("]")
        }
        if nested {
            out.literal(", \"parent_provider_uuid\": ")
            if let parent = p.parentUUID { out.string(parent) } else { out.literal("null") }
            out.literal(", \"root_provider_uuid\": ")
            out.string(p.rootUUID)
        }
        out.literal("}")
    }
}

/// Providers' summaries as rendered from 1.29 (all classes, traits, tree), kept per provider
/// revision: a provider's summary is rendered once per change, not once per request.
final class SummaryCache: Sendable {
    private let entries = Mutex<[String: (revision: Int, bytes: [UInt8])]>([:])

    /// The fragments of `providers`, in order.
    func fragments(_ providers: [Int], world: ProviderWorld) -> [[UInt8]] {
        var missing: [(Int, Int)] = []
        var out = entries.withLock { cache in
            providers.enumerated().map { n, i -> [UInt8] in
                let p = world.provider(i)
                if let hit = cache[p.uuid], hit.revision == p.revision { return hit.bytes }
                missing.append((n, i))
                return []
            }
        }
        guard !missing.isEmpty else { return out }
        var fresh: [(String, Int, [UInt8])] = []
        for (n, i) in missing {
            let p = world.provider(i)
            var w = JSONBytes(capacity: 256)
            AllocationCandidateRoutes.summary(p, world: world, classes: nil, traits: true, nested: true, into: &w)
            out[n] = w.bytes
            fresh.append((p.uuid, p.revision, w.bytes))
        }
        entries.withLock { cache in
            if cache.count > 500_000 { cache.removeAll() }
            for (uuid, revision, bytes) in fresh { cache[uuid] = (revision, bytes) }
        }
        return out
    }
}
