/// Allocation candidates, as placement computes them, over a `ProviderWorld`.
///
/// Each request group first yields its own candidates, each anchored at a tree root:
/// - the unsuffixed group may spread its classes over providers of one tree and sharing providers
///   (`MISC_SHARES_VIA_AGGREGATE`) linked to the tree by an aggregate, one provider per class; its
///   traits are judged on the providers the candidate uses together, its `member_of` on each
///   provider or its tree's root;
/// - a suffixed group takes everything from one provider, which carries its traits and aggregates
///   itself (a resourceless group, 1.36, just picks such a provider).
/// Then, per anchor, every combination of one candidate per group is kept when it passes
/// `group_policy=isolate` (distinct providers for the suffixed groups), every `same_subtree`
/// (one of the providers is an ancestor of all the others), and the summed amounts still fit each
/// provider. Identical combinations count once.
struct CandidateSearch {
    typealias Part = CandidateResult.Part
    let world: ProviderWorld
    let query: CandidateQuery

    /// One group's candidate: where it is anchored, what it takes, and which providers it uses.
    struct GroupCandidate: Hashable {
        var anchor: Int
        var parts: [Part]
        var providers: [Int]
    }

    func run() -> CandidateResult {
        var anchorFilter: Set<Int>? = nil
        if !query.rootRequired.isEmpty || !query.rootForbidden.isEmpty {
            let required = query.rootRequired.map { world.traitIDs[$0] ?? -1 }
            let forbidden = Set(query.rootForbidden.compactMap { world.traitIDs[$0] })
            let roots = world.allIndexes.filter { i in
                let p = world.provider(i)
                return p.parentUUID == nil && required.allSatisfy(p.traits.contains) && p.traits.isDisjoint(with: forbidden)
            }
            if roots.isEmpty { return .empty }
            anchorFilter = Set(roots)
        }
        var perGroup: [(suffix: String, sameProvider: Bool, candidates: [GroupCandidate])] = []
        for g in query.groups {
            // Where every tree is one provider and nothing is shared, spreading a group over a tree
            // is taking it from one provider: the simpler search gives the same answer, faster.
            let flat = !world.hasTrees && world.sharing.isEmpty
            let found = g.sameProvider || flat ? singleProvider(g, anchors: anchorFilter) : multipleProviders(g, anchors: anchorFilter)
            if found.isEmpty { return .empty }
            perGroup.append((g.suffix, g.sameProvider, found))
        }
        return merge(perGroup)
    }

    // MARK: one group

    /// Providers in at least one aggregate of every entry of `memberOf`.
    func providers(inAggregates memberOf: [Set<String>]) -> Set<Int> {
        var result: Set<Int>? = nil
        for anyOf in memberOf {
            var these = Set<Int>()
            for uuid in anyOf { if let a = world.aggregateIDs[uuid], let ps = world.byAggregate[a] { these.formUnion(ps) } }
            result = result.map { $0.intersection(these) } ?? these
        }
        return result ?? []
    }

    /// Tree roots a sharing provider can serve: those of every provider sharing an aggregate with it.
    func anchors(ofSharing sp: Int) -> Set<Int> {
        var roots = Set<Int>()
        for a in world.provider(sp).aggregates { for p in world.byAggregate[a] ?? [] { roots.insert(world.root(of: p)) } }
        return roots
    }

    /// Providers with capacity for `amount` of `name`, optionally only in the tree of `treeRoot`
    /// and only among `among` (when a trait or aggregate filter already narrowed the search).
    func withCapacity(_ name: String, _ amount: Int, treeRoot: Int?, among: Set<Int>? = nil) -> Set<Int>? {
        guard let cls = world.classIDs[name], let having = world.byClass[cls] else { return nil }
        let pool = among.map { $0.count < having.count ? $0 : having } ?? having
        let found = pool.filter { world.fits($0, cls: cls, amount: amount) && (treeRoot == nil || world.root(of: $0) == treeRoot) }
        return found.isEmpty ? nil : found
    }

    /// The root of the `in_tree` provider; nil when none is asked; `.some(nil)` when it does not exist.
    func treeRoot(_ g: RequestGroup) -> Int?? {
        guard let uuid = g.inTree else { return .some(nil) }
        guard let i = world.provider(uuid: uuid) else { return nil }
        return .some(world.root(of: i))
    }

    func traitSets(_ required: [Set<String>]) -> [Set<Int>] { required.map { Set($0.compactMap { world.traitIDs[$0] }) } }

    func singleProvider(_ g: RequestGroup, anchors: Set<Int>?) -> [GroupCandidate] {
        guard case .some(let root) = treeRoot(g) else { return [] }
        var filtered: Set<Int>? = nil
        for anyOf in traitSets(g.required) {
            var these = Set<Int>()
            for t in anyOf { these.formUnion(world.byTrait[t] ?? []) }
            filtered = filtered.map { $0.intersection(these) } ?? these
            if filtered!.isEmpty { return [] }
        }
        if !g.memberOf.isEmpty {
            let inAggs = providers(inAggregates: g.memberOf)
            filtered = filtered.map { $0.intersection(inAggs) } ?? inAggs
            if filtered!.isEmpty { return [] }
        }
        var excluded = g.forbiddenAggregates.isEmpty ? Set<Int>() : providers(inAggregates: [g.forbiddenAggregates])
        for t in g.forbidden { if let id = world.traitIDs[t] { excluded.formUnion(world.byTrait[id] ?? []) } }
        var result: Set<Int>
        if g.resources.isEmpty {
            result = (filtered ?? Set(world.allIndexes)).subtracting(excluded)
        } else {
            result = filtered?.subtracting(excluded) ?? []
            for (n, (name, amount)) in g.resources.enumerated() {
                guard let capable = withCapacity(name, amount, treeRoot: root, among: n == 0 ? filtered : result) else { return [] }
                result = n == 0 && filtered == nil ? capable.subtracting(excluded) : result.intersection(capable)
                if result.isEmpty { return [] }
            }
        }
        let classes = g.resources.map { (world.classIDs[$0.0]!, $0.1) }
        let sharing = world.sharing
        var out: [GroupCandidate] = []
        out.reserveCapacity(result.count)
        for rp in result.sorted() {
            let parts = classes.map { Part(provider: rp, cls: $0.0, amount: $0.1) }.sorted()
            let own = world.root(of: rp)
            if anchors?.contains(own) ?? true { out.append(GroupCandidate(anchor: own, parts: parts, providers: [rp])) }
            if sharing.contains(rp) {
                for anchor in self.anchors(ofSharing: rp).sorted() where anchor != own && (anchors?.contains(anchor) ?? true) {
                    out.append(GroupCandidate(anchor: anchor, parts: parts, providers: [rp]))
                }
            }
        }
        return out
    }

    func multipleProviders(_ g: RequestGroup, anchors: Set<Int>?) -> [GroupCandidate] {
        guard case .some(let root) = treeRoot(g) else { return [] }
        let required = traitSets(g.required)
        let forbidden = Set(g.forbidden.compactMap { world.traitIDs[$0] })
        if !required.isEmpty, !required.flatMap({ $0 }).contains(where: { !(world.byTrait[$0]?.isEmpty ?? true) }) { return [] }
        var inAggs: Set<Int>? = nil
        if !g.memberOf.isEmpty {
            inAggs = providers(inAggregates: g.memberOf)
            if inAggs!.isEmpty { return [] }
        }
        let badAggs = g.forbiddenAggregates.isEmpty ? Set<Int>() : providers(inAggregates: [g.forbiddenAggregates])
        let sharing = world.sharing
        /// A provider able to serve a class, and the tree root it would serve.
        struct Pair: Hashable {
            var rp: Int
            var anchor: Int
        }
        var byClass: [(cls: Int, amount: Int, pairs: Set<Pair>)] = []
        var trees: Set<Int>? = nil
        for (name, amount) in g.resources {
            guard let capable = withCapacity(name, amount, treeRoot: root) else { return [] }
            var pairs = Set(capable.map { Pair(rp: $0, anchor: world.root(of: $0)) })
            var shared = sharing.intersection(capable)
            if let inAggs { shared.formIntersection(inAggs) }
            if root == nil { for sp in shared { for a in self.anchors(ofSharing: sp) { pairs.insert(Pair(rp: sp, anchor: a)) } } }
            if let anchors { pairs = pairs.filter { anchors.contains($0.anchor) } }
            if let inAggs { pairs = pairs.filter { inAggs.contains($0.rp) || inAggs.contains($0.anchor) } }
            if !badAggs.isEmpty { pairs = pairs.filter { !badAggs.contains($0.rp) && !badAggs.contains($0.anchor) } }
            let these = Set(pairs.map { $0.anchor })
            trees = trees.map { $0.intersection(these) } ?? these
            if trees!.isEmpty { return [] }
            byClass.append((world.classIDs[name]!, amount, pairs))
        }
        guard var keep = trees else { return [] }
        if (!required.isEmpty || !forbidden.isEmpty) && sharing.isEmpty {
            // Trees where the providers without forbidden traits together carry the required ones.
            let rps = Set(byClass.flatMap { $0.pairs.map { $0.rp } }).filter { world.provider($0).traits.isDisjoint(with: forbidden) }
            var traitsByRoot: [Int: Set<Int>] = [:]
            for rp in rps { traitsByRoot[world.root(of: rp), default: []].formUnion(world.provider(rp).traits) }
            keep = keep.filter { r in traitsByRoot[r].map { t in required.allSatisfy { !$0.isDisjoint(with: t) } } ?? false }
        }
        // As in placement, a candidate is its resources and mappings: the same one reached from two
        // anchors (only sharing providers in it) counts once, kept at a provider's own tree.
        var out: [GroupCandidate] = []
        var position: [[Part]: Int] = [:]
        // Per anchor, per requested class: the parts that could serve it.
        var byAnchor: [Int: [[Part]]] = [:]
        for (n, c) in byClass.enumerated() {
            for pair in c.pairs where keep.contains(pair.anchor) {
                if byAnchor[pair.anchor] == nil { byAnchor[pair.anchor] = Array(repeating: [], count: byClass.count) }
                byAnchor[pair.anchor]![n].append(Part(provider: pair.rp, cls: c.cls, amount: c.amount))
            }
        }
        for anchor in byAnchor.keys.sorted() {
            let lists = byAnchor[anchor]!.map { $0.sorted() }
            if lists.contains(where: { $0.isEmpty }) { continue }
            var product = Product(lists.map { $0.count })
            while let choice = product.next() {
                let parts = zip(lists, choice).map { $0[$1] }
                let rps = Set(parts.map { $0.provider })
                var union = Set<Int>()
                var clean = true
                for rp in rps {
                    let t = world.provider(rp).traits
                    if !t.isDisjoint(with: forbidden) { clean = false }
                    union.formUnion(t)
                }
                guard clean, required.allSatisfy({ !$0.isDisjoint(with: union) }) else { continue }
                let c = GroupCandidate(anchor: anchor, parts: parts.sorted(), providers: rps.sorted())
                if let i = position[c.parts] {
                    let ownRoot = { (x: GroupCandidate) in x.providers.contains { world.root(of: $0) == x.anchor } }
                    if !ownRoot(out[i]) && ownRoot(c) { out[i] = c }
                } else {
                    position[c.parts] = out.count
                    out.append(c)
                }
            }
        }
        return out
    }

    // MARK: all groups

    func merge(_ perGroup: [(suffix: String, sameProvider: Bool, candidates: [GroupCandidate])]) -> CandidateResult {
        if perGroup.count == 1, query.sameSubtrees.isEmpty, !query.breadthFirst {
            return single(perGroup[0])
        }
        var byAnchor: [Int: [[GroupCandidate]]] = [:]
        for (n, g) in perGroup.enumerated() {
            for c in g.candidates {
                if byAnchor[c.anchor] == nil { byAnchor[c.anchor] = Array(repeating: [], count: perGroup.count) }
                byAnchor[c.anchor]![n].append(c)
            }
        }
        let anchors = byAnchor.keys.sorted().filter { a in byAnchor[a]!.allSatisfy { !$0.isEmpty } }
        let granular = perGroup.filter { $0.sameProvider }.count
        var products = anchors.map { Product(byAnchor[$0]!.map { $0.count }) }
        let earlyLimit = query.randomize || (!query.nestedAware && world.hasTrees) ? nil : query.limit
        let cap = [query.maxCandidates, earlyLimit].compactMap { $0 }.min()
        var found: [CandidateResult.Request] = []
        var seen = Set<CandidateResult.Request>()
        var active = Array(anchors.indices)
        while !active.isEmpty {
            var still: [Int] = []
            for a in active {
                // Depth-first drains one anchor before the next; breadth-first takes one combination from each in turn.
                while let choice = products[a].next() {
                    let picked = zip(byAnchor[anchors[a]]!, choice).map { $0[$1] }
                    if let r = combine(picked, perGroup: perGroup, granular: granular), seen.insert(r).inserted {
                        found.append(r)
                        if let cap, found.count >= cap { return finish(found) }
                    }
                    if query.breadthFirst {
                        still.append(a)
                        break
                    }
                }
            }
            active = still
        }
        return finish(found)
    }

    /// One group alone: each of its candidates is a request already (its amounts were checked
    /// per class, and one group never names a class twice); the same parts reached from two anchors count once.
    func single(_ group: (suffix: String, sameProvider: Bool, candidates: [GroupCandidate])) -> CandidateResult {
        var seen = Set<[Part]>()
        var found: [CandidateResult.Request] = []
        let limit = query.randomize || (!query.nestedAware && world.hasTrees) ? nil : query.limit
        let cap = [query.maxCandidates, limit].compactMap { $0 }.min()
        for c in group.candidates where seen.insert(c.parts).inserted {
            found.append(CandidateResult.Request(parts: c.parts, mappings: [group.suffix: c.providers]))
            if let cap, found.count >= cap { break }
        }
        return finish(found)
    }

    /// One candidate per group → a request, or nil when the combination breaks a rule.
    func combine(
        _ picked: [GroupCandidate],
        perGroup: [(suffix: String, sameProvider: Bool, candidates: [GroupCandidate])],
        granular: Int
    )
        -> CandidateResult.Request?
    {
        if query.groupPolicy == "isolate" {
            let distinct = Set(zip(picked, perGroup).filter { $0.1.sameProvider }.flatMap { $0.0.providers })
            if distinct.count != granular { return nil }
        }
        var mappings: [String: [Int]] = [:]
        for (c, g) in zip(picked, perGroup) { mappings[g.suffix] = Array(Set((mappings[g.suffix] ?? []) + c.providers)).sorted() }
        for subtree in query.sameSubtrees {
            let rps = Set(subtree.flatMap { mappings[$0] ?? [] })
            if !sharesSubtree(rps) { return nil }
        }
        var amounts: [Part: Int] = [:]
        for c in picked { for p in c.parts { amounts[Part(provider: p.provider, cls: p.cls, amount: 0), default: 0] += p.amount } }
        var parts: [Part] = []
        for (key, amount) in amounts {
            let p = world.provider(key.provider)
            guard let inv = p.inventories[key.cls], (p.used[key.cls] ?? 0) + amount <= inv.capacity, amount <= inv.maxUnit else { return nil }
            parts.append(Part(provider: key.provider, cls: key.cls, amount: amount))
        }
        return CandidateResult.Request(parts: parts.sorted(), mappings: mappings)
    }

    /// Whether one of `rps` is an ancestor (or itself) of all the others.
    func sharesSubtree(_ rps: Set<Int>) -> Bool {
        guard rps.count > 1 else { return true }
        var common: Set<Int>? = nil
        for rp in rps {
            var line: Set<Int> = [rp]
            var cur = rp
            while let parent = world.parent(of: cur) {
                line.insert(parent)
                cur = parent
            }
            common = common.map { $0.intersection(line) } ?? line
        }
        return !(common ?? []).isDisjoint(with: rps)
    }

    /// Excludes nested combinations before 1.29, applies `limit` / randomization and picks the summaries.
    func finish(_ found: [CandidateResult.Request]) -> CandidateResult {
        var requests = found
        var summaries: [Int]
        if !query.nestedAware && world.hasTrees {
            requests = requests.filter { r in
                let rps = Set(r.parts.map { $0.provider })
                return Set(rps.map { world.root(of: $0) }).count == rps.count
            }
            summaries = Array(Set(requests.flatMap { $0.parts.map { $0.provider } })).sorted()
        } else {
            let roots = Set(requests.flatMap { $0.parts.map { world.root(of: $0.provider) } })
            summaries = roots.sorted().flatMap { world.tree($0) }
        }
        if let limit = query.limit, limit < requests.count {
            requests = query.randomize ? Array(requests.shuffled().prefix(limit)) : Array(requests.prefix(limit))
            let roots = Set(requests.flatMap { $0.parts.map { world.root(of: $0.provider) } })
            summaries = summaries.filter { roots.contains(world.root(of: $0)) }
        } else if query.randomize {
            requests.shuffle()
        }
        return CandidateResult(requests: requests, summaries: summaries)
    }
}

/// Every combination of one index per list (mixed-radix counting), lazily.
struct Product {
    let counts: [Int]
    var current: [Int]?

    init(_ counts: [Int]) {
        self.counts = counts
        current = counts.contains(0) ? nil : Array(repeating: 0, count: counts.count)
    }

    mutating func next() -> [Int]? {
        guard let value = current else { return nil }
        var nextValue = value
        var i = counts.count - 1
        while i >= 0 {
            nextValue[i] += 1
            if nextValue[i] < counts[i] { break }
            nextValue[i] = 0
            i -= 1
        }
        current = i < 0 ? nil : nextValue
        return value
    }
}
