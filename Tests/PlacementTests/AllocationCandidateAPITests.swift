import Foundation
import HTTPTypes
import StratusCore
import Testing

@testable import Placement

/// `GET /allocation_candidates` shapes and query rules per microversion, and the reshaper.
@Suite struct AllocationCandidateAPITests {
    static let query = "/allocation_candidates?resources=VCPU:1,MEMORY_MB:64"

    @Test func shapesOverTheVersions() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("cn")
            try await c.inventory(p, ["VCPU": 4, "MEMORY_MB": 512, "DISK_GB": 10])
            #expect(try await c.get(Self.query, "1.9").code == 404)
            let v10 = try await c.get(Self.query, "1.10").json!
            #expect(v10["allocation_requests"]?.arrayValue?.first?["allocations"]?.arrayValue?.first?["resource_provider"]?["uuid"]?.stringValue == p)
            #expect(v10["provider_summaries"]?[p]?["resources"]?["DISK_GB"] == nil)  // only requested classes before 1.27
            let v12 = try await c.get(Self.query, "1.12").json!
            #expect(v12["allocation_requests"]?.arrayValue?.first?["allocations"]?[p]?["resources"]?["VCPU"]?.intValue == 1)
            #expect(v12["provider_summaries"]?[p]?["traits"] == nil)
            #expect(try await c.get(Self.query, "1.17").json!["provider_summaries"]?[p]?["traits"] != nil)
            #expect(try await c.get(Self.query, "1.27").json!["provider_summaries"]?[p]?["resources"]?["DISK_GB"]?["capacity"]?.intValue == 10)
            let v29 = try await c.get(Self.query, "1.29").json!
            #expect(v29["provider_summaries"]?[p]?["root_provider_uuid"]?.stringValue == p)
            #expect(v29["allocation_requests"]?.arrayValue?.first?["mappings"] == nil)
            #expect(try await c.get(Self.query, "1.34").json!["allocation_requests"]?.arrayValue?.first?["mappings"]?[""] == [.string(p)])
        }
    }

    @Test func queryRulesAndTheirErrorCodes() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("cn")
            try await c.inventory(p, ["VCPU": 4, "MEMORY_MB": 512])
            #expect(try await c.get(Self.query + "&limit=1", "1.15").code == 400)
            #expect(try await c.get(Self.query + "&limit=1", "1.16").json!["allocation_requests"]!.arrayValue!.count == 1)
            #expect(try await c.get(Self.query + "&required=CUSTOM_NOPE", "1.17").code == 400)
            let noPolicy = try await c.get("/allocation_candidates?resources1=VCPU:1&resources2=MEMORY_MB:64", "1.25")
            #expect(noPolicy.code == 400 && noPolicy.detail.contains("group_policy"))
            #expect(try await c.get("/allocation_candidates?resources1=VCPU:1&resources2=MEMORY_MB:64&group_policy=none", "1.25").code == 200)
            #expect(try await c.get("/allocation_candidates?resources_A=VCPU:1", "1.32").code == 400)
            #expect(try await c.get("/allocation_candidates?resources_A=VCPU:1", "1.33").code == 200)
            let dupRoot = try await c.get(Self.query + "&root_required=HW_CPU_X86_AVX2&root_required=!HW_CPU_X86_SSE", "1.35")
            #expect(dupRoot.code == 400 && dupRoot.errorCode == "placement.query.duplicate_key")
            let resourceless = try await c.get("/allocation_candidates?resources=VCPU:1&required_X=HW_CPU_X86_AVX2", "1.36")
            #expect(resourceless.code == 400 && resourceless.errorCode == "placement.query.bad_value")
            let none = try await c.get("/allocation_candidates?required=HW_CPU_X86_AVX2", "1.36")
            #expect(none.code == 400 && none.errorCode == "placement.query.missing_value")
            #expect(try await c.get(Self.query + "&required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE", "1.38").code == 400)
            #expect(try await c.get(Self.query + "&required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE", "1.39").code == 200)
            #expect(try await c.get(Self.query + "&bogus=1").code == 400)
            let bad = try await c.get("/allocation_candidates?resources=VCPU:0")
            #expect(bad.code == 400 && bad.detail.contains("requires amount >= 1"))
        }
    }

    @Test func maxAllocationCandidatesCapsTheSearch() async throws {
        for strategy in ["depth-first", "breadth-first"] {
            try await PlacementFixture.test([
                ("placement", "max_allocation_candidates", "2"), ("placement", "allocation_candidates_generation_strategy", strategy),
            ]) { c in
                for n in 0..<4 {
                    let root = try await c.provider("cn\(n)")
                    for m in 0..<2 { try await c.inventory(try await c.provider("numa\(n)\(m)", parent: root), ["VCPU": 4]) }
                }
                let r = try await c.get("/allocation_candidates?resources=VCPU:1").json!
                #expect(r["allocation_requests"]!.arrayValue!.count == 2)
                // Depth-first fills from the first tree; breadth-first takes one from each tree in turn.
                let roots = Set(r["provider_summaries"]!.objectValue!.values.compactMap { $0["root_provider_uuid"]?.stringValue })
                #expect(roots.count == (strategy == "depth-first" ? 1 : 2))
            }
        }
        try await PlacementFixture.test([("placement", "randomize_allocation_candidates", "true")]) { c in
            for n in 0..<5 { try await c.inventory(try await c.provider("p\(n)"), ["VCPU": 1]) }
            #expect(try await c.get("/allocation_candidates?resources=VCPU:1&limit=3").json!["allocation_requests"]!.arrayValue!.count == 3)
        }
    }

    @Test func theViewFollowsWrites() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("cn")
            try await c.inventory(p, ["VCPU": 2])
            #expect(try await c.get("/allocation_candidates?resources=VCPU:2").json!["allocation_requests"]!.arrayValue!.count == 1)
            #expect(try await c.allocate(UUID().uuidString.lowercased(), [p: ["VCPU": 1]]).code == 204)
            #expect(try await c.get("/allocation_candidates?resources=VCPU:2").json!["allocation_requests"]!.arrayValue!.isEmpty)
            #expect(try await c.call(.delete, "/resource_providers/\(try await c.provider("gone"))").code == 204)
            #expect(try await c.get("/allocation_candidates?resources=VCPU:1").json!["provider_summaries"]!.objectValue!.count == 1)
            // Names created after the view was loaded are known at once.
            #expect(try await c.get("/allocation_candidates?resources=VCPU:1&required=CUSTOM_LATE").code == 400)
            #expect(try await c.call(.put, "/traits/CUSTOM_LATE").code == 201)
            #expect(try await c.get("/allocation_candidates?resources=VCPU:1&required=CUSTOM_LATE").code == 200)
            #expect(try await c.get("/allocation_candidates?resources=CUSTOM_LATE_CLASS:1").code == 400)
            #expect(try await c.call(.put, "/resource_classes/CUSTOM_LATE_CLASS").code == 201)
            #expect(try await c.get("/allocation_candidates?resources=CUSTOM_LATE_CLASS:1").code == 200)
        }
    }

}
