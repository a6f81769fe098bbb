import Testing

@testable import Placement

/// The candidate rules on literal provider trees (no database, no HTTP).
@Suite struct CandidateSearchTests {
    typealias P = ProviderWorld.Provider

    static func inv(_ total: Int, reserved: Int = 0, min: Int = 1, max: Int = 1_000_000, step: Int = 1, ratio: Double = 1) -> InventoryRecord {
        InventoryRecord(resourceClass: "", total: total, reserved: reserved, minUnit: min, maxUnit: max, stepSize: step, allocationRatio: ratio)
    }

    /// Builds a world: each entry is (uuid, parent, inventories, used, traits, aggregates).
    static func world(_ rows: [(String, String?, [String: InventoryRecord], [String: Int], [String], [String])]) -> ProviderWorld {
        var w = ProviderWorld()
        let parents = Dictionary(uniqueKeysWithValues: rows.map { ($0.0, $0.1) })
        func root(_ u: String) -> String { parents[u]!.map(root) ?? u }
        for r in rows {
            w.upsert(
                WorldStore.Loaded(
                    uuid: r.0,
                    name: r.0,
                    generation: 0,
                    parentUUID: r.1,
                    rootUUID: root(r.0),
                    inventories: r.2,
                    used: r.3,
                    traits: r.4,
                    aggregates: r.5
                )
            )
        }
        w.reindexRoots()
        return w
    }

    /// The requests as sets of "provider:CLASS=amount" strings.
    static func run(_ w: ProviderWorld, _ q: CandidateQuery) -> Set<Set<String>> {
        Set(
            CandidateSearch(world: w, query: q).run().requests.map { r in
                Set(r.parts.map { "\(w.provider($0.provider).uuid):\(w.classNames[$0.cls])=\($0.amount)" })
            }
        )
    }

    static func group(
        _ resources: [(String, Int)],
        suffix: String = "",
        required: [Set<String>] = [],
        forbidden: Set<String> = [],
        memberOf: [Set<String>] = []
    )
        -> RequestGroup
    {
        RequestGroup(suffix: suffix, resources: resources, required: required, forbidden: forbidden, memberOf: memberOf)
    }

    /// cn (no inventory, trait AVX2) with numa0 (VCPU 4, 2 used) and numa1 (VCPU 4); cn2 flat (VCPU 8, DISK 100);
    /// ss (DISK 1000, sharing) in aggregate A with cn.
    static let tree = world([
        ("cn", nil, [:], [:], ["HW_CPU_X86_AVX2"], ["A"]),
        ("numa0", "cn", ["VCPU": inv(4), "MEMORY_MB": inv(2048)], ["VCPU": 2], ["HW_NUMA_ROOT"], []),
        ("numa1", "cn", ["VCPU": inv(4), "MEMORY_MB": inv(2048)], [:], ["HW_NUMA_ROOT", "CUSTOM_X"], []),
        ("cn2", nil, ["VCPU": inv(8), "MEMORY_MB": inv(4096), "DISK_GB": inv(100)], [:], [], []),
        ("ss", nil, ["DISK_GB": inv(1000)], [:], ["MISC_SHARES_VIA_AGGREGATE"], ["A"]),
    ])

    @Test func aFlatProviderServesEverythingItself() {
        let r = Self.run(Self.tree, CandidateQuery(groups: [Self.group([("VCPU", 1), ("DISK_GB", 10)])]))
        #expect(r.contains(["cn2:VCPU=1", "cn2:DISK_GB=10"]))
        // cn's tree gets its disk from the sharing provider.
        #expect(r.contains(["numa0:VCPU=1", "ss:DISK_GB=10"]) && r.contains(["numa1:VCPU=1", "ss:DISK_GB=10"]))
        #expect(r.count == 3)
    }

    @Test func theUnsuffixedGroupSpreadsClassesOverOneTree() {
        let r = Self.run(Self.tree, CandidateQuery(groups: [Self.group([("VCPU", 1), ("MEMORY_MB", 512)])]))
        #expect(r.contains(["numa0:VCPU=1", "numa1:MEMORY_MB=512"]))
        #expect(r.contains(["numa1:VCPU=1", "numa0:MEMORY_MB=512"]))
        #expect(r.count == 5)  // 4 combinations in cn's tree + cn2
    }

    @Test func usedCapacityAndUnitRulesAreHonoured() {
        #expect(!Self.run(Self.tree, CandidateQuery(groups: [Self.group([("VCPU", 3)])])).contains(["numa0:VCPU=3"]))
        let stepped = Self.world([
            ("a", nil, ["VCPU": Self.inv(8, step: 2)], [:], [], []), ("b", nil, ["VCPU": Self.inv(8, reserved: 7)], [:], [], []),
        ])
        #expect(Self.run(stepped, CandidateQuery(groups: [Self.group([("VCPU", 1)])])) == [["b:VCPU=1"]])
        #expect(Self.run(stepped, CandidateQuery(groups: [Self.group([("VCPU", 2)])])) == [["a:VCPU=2"]])
        let ratio = Self.world([("a", nil, ["VCPU": Self.inv(2, ratio: 4)], ["VCPU": 7], [], [])])
        #expect(Self.run(ratio, CandidateQuery(groups: [Self.group([("VCPU", 1)])])) == [["a:VCPU=1"]])
        #expect(Self.run(ratio, CandidateQuery(groups: [Self.group([("VCPU", 2)])])).isEmpty)
    }

    @Test func isolateKeepsSuffixedGroupsOnDistinctProviders() {
        let groups = [Self.group([("VCPU", 1)], suffix: "1"), Self.group([("VCPU", 1)], suffix: "2")]
        let isolated = Self.run(Self.tree, CandidateQuery(groups: groups, groupPolicy: "isolate"))
        #expect(isolated == [["numa0:VCPU=1", "numa1:VCPU=1"]])
        let none = Self.run(Self.tree, CandidateQuery(groups: groups, groupPolicy: "none"))
        #expect(none.contains(["numa1:VCPU=2"]) && none.contains(["cn2:VCPU=2"]) && none.contains(["numa0:VCPU=2"]))
    }

    @Test func summedAmountsMustStillFit() {
        // numa0 has 2 free VCPU: two groups of 2 cannot both land there.
        let groups = [Self.group([("VCPU", 2)], suffix: "1"), Self.group([("VCPU", 2)], suffix: "2")]
        let r = Self.run(Self.tree, CandidateQuery(groups: groups, groupPolicy: "none"))
        #expect(!r.contains(["numa0:VCPU=4"]))
        #expect(r.contains(["numa1:VCPU=4"]))
    }

    @Test func traitsAreJudgedOnTheProvidersUsed() {
        // The root's trait does not count when the root supplies nothing (placement's rule; 1.35 root_required covers it).
        #expect(Self.run(Self.tree, CandidateQuery(groups: [Self.group([("VCPU", 1)], required: [["HW_CPU_X86_AVX2"]])])).isEmpty)
        #expect(Self.run(Self.tree, CandidateQuery(groups: [Self.group([("VCPU", 1)], required: [["CUSTOM_X"]])])) == [["numa1:VCPU=1"]])
        #expect(Self.run(Self.tree, CandidateQuery(groups: [Self.group([("VCPU", 1)], forbidden: ["HW_NUMA_ROOT"])])) == [["cn2:VCPU=1"]])
        let anyOf = Self.run(Self.tree, CandidateQuery(groups: [Self.group([("VCPU", 1)], required: [["CUSTOM_X", "HW_NUMA_ROOT"]])]))
        #expect(anyOf == [["numa0:VCPU=1"], ["numa1:VCPU=1"]])
        var rooted = CandidateQuery(groups: [Self.group([("VCPU", 1)])])
        rooted.rootRequired = ["HW_CPU_X86_AVX2"]
        #expect(Self.run(Self.tree, rooted) == [["numa0:VCPU=1"], ["numa1:VCPU=1"]])
    }

    @Test func memberOfMatchesTheProviderOrItsRoot() {
        let r = Self.run(Self.tree, CandidateQuery(groups: [Self.group([("VCPU", 1)], memberOf: [["A"]])]))
        #expect(r == [["numa0:VCPU=1"], ["numa1:VCPU=1"]])
        #expect(Self.run(Self.tree, CandidateQuery(groups: [Self.group([("VCPU", 1)], memberOf: [["B"]])])).isEmpty)
    }

    @Test func sameSubtreeWithAResourcelessGroup() {
        let groups = [Self.group([("VCPU", 1)], suffix: "_CPU"), Self.group([], suffix: "_NUMA", required: [["CUSTOM_X"]])]
        var q = CandidateQuery(groups: groups, groupPolicy: "none")
        q.sameSubtrees = [["_CPU", "_NUMA"]]
        let result = CandidateSearch(world: Self.tree, query: q).run()
        #expect(result.requests.count == 1)
        #expect(result.requests.first.map { $0.mappings["_NUMA"]!.map { Self.tree.provider($0).uuid } } == ["numa1"])
    }

    @Test func beforeNestedSupportTreesAreLeftOutAndLimitTrims() {
        var q = CandidateQuery(groups: [Self.group([("VCPU", 1), ("MEMORY_MB", 512)])])
        q.nestedAware = false
        let old = CandidateSearch(world: Self.tree, query: q).run()
        // Split requests (two providers of one tree) go; single-provider ones stay.
        #expect(old.requests.allSatisfy { Set($0.parts.map(\.provider)).count == 1 })
        var limited = CandidateQuery(groups: [Self.group([("VCPU", 1)])])
        limited.limit = 1
        let one = CandidateSearch(world: Self.tree, query: limited).run()
        #expect(one.requests.count == 1)
        let root = Self.tree.root(of: one.requests[0].parts[0].provider)
        #expect(one.summaries.allSatisfy { Self.tree.root(of: $0) == root })
    }

    @Test func productCountsEveryCombination() {
        var p = Product([2, 3])
        var n = 0
        while p.next() != nil { n += 1 }
        #expect(n == 6)
        var empty = Product([2, 0])
        #expect(empty.next() == nil)
    }

    @Test func allocationRulesReportTheViolation() {
        let i = Self.inv(10, reserved: 2, min: 2, max: 6, step: 2, ratio: 1.5)
        #expect(i.capacity == 12)
        // The schema allows ratios to 3.4e38: capacity saturates instead of trapping.
        #expect(Self.inv(1000, ratio: 1e30).capacity == Int.max)
        #expect(AllocationRules.check(amount: 5, used: 0, inventory: Self.inv(1000, ratio: 1e30)) == nil)
        #expect(AllocationRules.check(amount: 4, used: 8, inventory: i) == nil)
        #expect(AllocationRules.check(amount: 6, used: 8, inventory: i) == .capacity)
        #expect(AllocationRules.check(amount: 3, used: 0, inventory: i) == .constraints)
        #expect(AllocationRules.check(amount: 8, used: 0, inventory: i) == .constraints)
        #expect(AllocationRules.check(amount: 2, used: 0, inventory: nil) == .noInventory)
        #expect(AllocationRules.check(amounts: [4, 4], used: 2, inventory: i) == nil)
        #expect(AllocationRules.check(amounts: [4, 4], used: 6, inventory: i) == .capacity)
    }
}
