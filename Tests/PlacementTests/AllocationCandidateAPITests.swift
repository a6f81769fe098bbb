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

    @Test func theViewFollowsWrites() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("cn")
            try await c.inventory(p, ["VCPU": 2])
            #expect(try await c.get("/allocation_candidates?resources=VCPU:2").json!["allocation_requests"]!.arrayValue!.count == 1)
            #expect(try await c.allocate(UUID().uuidString.lowercased(), [p: ["VCPU": 1]]).code == 204)
            #expect(try await c.get("/allocation_candidates?resources=VCPU:2").json!["allocation_requests"]!.arrayValue!.isEmpty)
            #expect(try await c.call(.delete, "/resource_providers/\(try await c.provider("gone"))").code == 204)
            #expect(try await c.get("/allocation_candidates?resources=VCPU:1").json!["provider_summaries"]!.objectValue!.count == 1)
        }
    }

    @Test func reshaperMovesAllocationsToChildren() async throws {
        try await PlacementFixture.test { c in
            let root = try await c.provider("cn")
            try await c.inventory(root, ["VCPU": 4])
            let child = try await c.provider("numa", parent: root)
            let consumer = UUID().uuidString.lowercased()
            #expect(try await c.allocate(consumer, [root: ["VCPU": 2]]).code == 204)
            let body: JSON = [
                "inventories": .object([
                    root: ["inventories": [:], "resource_provider_generation": 2],
                    child: ["inventories": ["VCPU": ["total": 4]], "resource_provider_generation": 0],
                ]),
                "allocations": .object([
                    consumer: [
                        "allocations": .object([child: ["resources": ["VCPU": 2]]]), "project_id": "p", "user_id": "u", "consumer_generation": 1,
                        "consumer_type": "INSTANCE",
                    ]
                ]),
            ]
            #expect(try await c.call(.post, "/reshaper", "1.29", body: body).code == 404)
            #expect(try await c.call(.post, "/reshaper", body: body).code == 403)  // role:service only
            let service: HTTPFields = [HTTPField.Name("X-Roles")!: "service"]
            let done = try await c.call(.post, "/reshaper", body: body, headers: service)
            #expect(done.code == 204, "\(done.json?.serialized() ?? "")")
            #expect(try await c.get("/allocations/\(consumer)").json!["allocations"]?[child]?["resources"]?["VCPU"]?.intValue == 2)
            #expect(try await c.get("/resource_providers/\(root)/inventories").json!["inventories"] == [:])
        }
    }
}
