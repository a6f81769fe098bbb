/// Every resource provider with what allocation candidates need (inventories, usage, traits,
/// aggregates, tree links), held in memory so a candidate search is pure computation.
///
/// Names are interned: resource classes, traits and aggregates are small integers here, and a
/// provider is its index in `providers`. `ProviderView` keeps one per process, patched from the
/// database's change sequence; tests build them from literals.
struct ProviderWorld: Sendable {
    /// One provider.
    struct Provider: Sendable, Equatable {
        var uuid: String
        var name: String
        var generation: Int
        var parentUUID: String?
        var rootUUID: String
        /// Inventory by interned class.
        var inventories: [Int: InventoryRecord] = [:]
        /// Units allocated by interned class.
        var used: [Int: Int] = [:]
        var traits: Set<Int> = []
        var aggregates: Set<Int> = []
        /// Changes whenever the world stores a new version of this provider (for caches of its rendering).
        var revision = 0
    }

    private(set) var providers: [Provider?] = []
    private(set) var index: [String: Int] = [:]
    private var free: [Int] = []
    /// The next revision to hand out; a world built to replace another continues its numbering,
    /// so a revision never names two versions of a provider.
    private(set) var nextRevision = 1

    private(set) var classNames: [String] = []
    private(set) var classIDs: [String: Int] = [:]
    private(set) var traitNames: [String] = []
    private(set) var traitIDs: [String: Int] = [:]
    private(set) var aggregateUUIDs: [String] = []
    private(set) var aggregateIDs: [String: Int] = [:]

    /// Providers with inventory of a class.
    private(set) var byClass: [Int: Set<Int>] = [:]
    /// Providers in an aggregate.
    private(set) var byAggregate: [Int: Set<Int>] = [:]
    /// Providers with a trait.
    private(set) var byTrait: [Int: Set<Int>] = [:]
    /// Children of a provider, by the parent's uuid (a child may be loaded before its parent).
    private(set) var children: [String: Set<Int>] = [:]
    /// Every resource class and trait name that exists (used by a provider or not): a query naming
    /// anything else is refused.
    var knownClasses: Set<String> = []
    var knownTraits: Set<String> = []

    /// Root index of each provider slot (see `reindexRoots`).
    private var roots: [Int] = []
    /// How many providers have a parent (nested trees exist when > 0).
    private(set) var nestedCount = 0

    static let sharingTrait = "MISC_SHARES_VIA_AGGREGATE"

    init(firstRevision: Int = 1) {
        nextRevision = firstRevision
    }

    /// Recomputes every provider's root index; call after a batch of `upsert`/`remove`.
    mutating func reindexRoots() {
        roots = providers.indices.map { i in providers[i].flatMap { index[$0.rootUUID] } ?? i }
    }

    // MARK: interning

    mutating func classID(_ name: String) -> Int { intern(name, &classNames, &classIDs) }
    mutating func traitID(_ name: String) -> Int { intern(name, &traitNames, &traitIDs) }
    mutating func aggregateID(_ uuid: String) -> Int { intern(uuid, &aggregateUUIDs, &aggregateIDs) }

    private func intern(_ name: String, _ names: inout [String], _ ids: inout [String: Int]) -> Int {
        if let id = ids[name] { return id }
        names.append(name)
        ids[name] = names.count - 1
        return names.count - 1
    }

    // MARK: reading

    func provider(_ i: Int) -> Provider { providers[i]! }
    func provider(uuid: String) -> Int? { index[uuid] }
    var allIndexes: [Int] { providers.indices.filter { providers[$0] != nil } }
    var hasTrees: Bool { nestedCount > 0 }
    func root(of i: Int) -> Int { i < roots.count ? roots[i] : (index[providers[i]!.rootUUID] ?? i) }
    func parent(of i: Int) -> Int? { providers[i]!.parentUUID.flatMap { index[$0] } }

    /// Providers carrying MISC_SHARES_VIA_AGGREGATE.
    var sharing: Set<Int> { traitIDs[Self.sharingTrait].flatMap { byTrait[$0] } ?? [] }

    /// Every provider of the tree rooted at `root`, root first.
    func tree(_ root: Int) -> [Int] {
        var result = [root]
        var i = 0
        while i < result.count {
            result += (children[providers[result[i]]!.uuid] ?? []).sorted()
            i += 1
        }
        return result
    }

    /// Whether the provider can take `amount` more of `cls` (capacity, min/max unit, step size).
    func fits(_ i: Int, cls: Int, amount: Int) -> Bool {
        guard let inv = providers[i]?.inventories[cls] else { return false }
        return AllocationRules.check(amount: amount, used: providers[i]?.used[cls] ?? 0, inventory: inv) == nil
    }

    // MARK: changing

    /// Adds or replaces a provider (matched by uuid).
    mutating func upsert(_ p: Provider) {
        var p = p
        p.revision = nextRevision
        nextRevision += 1
        if let i = index[p.uuid] {
            unlink(i)
            providers[i] = p
            link(i)
        } else {
            let i: Int
            if let reused = free.popLast() {
                i = reused
                providers[i] = p
            } else {
                i = providers.count
                providers.append(p)
            }
            index[p.uuid] = i
            link(i)
        }
    }

    /// Removes a provider.
    mutating func remove(uuid: String) {
        guard let i = index[uuid] else { return }
        unlink(i)
        providers[i] = nil
        index[uuid] = nil
        free.append(i)
    }

    private mutating func link(_ i: Int) {
        let p = providers[i]!
        for c in p.inventories.keys { byClass[c, default: []].insert(i) }
        for a in p.aggregates { byAggregate[a, default: []].insert(i) }
        for t in p.traits { byTrait[t, default: []].insert(i) }
        if let parent = p.parentUUID {
            nestedCount += 1
            children[parent, default: []].insert(i)
        }
    }

    private mutating func unlink(_ i: Int) {
        let p = providers[i]!
        for c in p.inventories.keys { byClass[c]?.remove(i) }
        for a in p.aggregates { byAggregate[a]?.remove(i) }
        for t in p.traits { byTrait[t]?.remove(i) }
        if let parent = p.parentUUID {
            nestedCount -= 1
            children[parent]?.remove(i)
        }
    }
}
