import Foundation
import HTTPTypes
import StratusCore
import Testing

@testable import Placement

/// `/traits`, `/resource_providers/{uuid}/traits`, `/resource_classes` and aggregates.
@Suite struct TraitAndClassAPITests {
    @Test func traitsExistFrom16AndOnlyCustomOnesChange() async throws {
        try await PlacementFixture.test { c in
            #expect(try await c.get("/traits", "1.5").code == 404)
            #expect(try await c.call(.put, "/traits/CUSTOM_GOLD", "1.6").code == 201)
            #expect(try await c.call(.put, "/traits/CUSTOM_GOLD", "1.6").code == 204)
            #expect(try await c.call(.put, "/traits/GOLD", "1.6").code == 400)
            #expect(try await c.call(.delete, "/traits/HW_CPU_X86_AVX2").code == 400)
            let custom = try await c.get("/traits?name=startswith:CUSTOM_").json!["traits"]!.arrayValue!
            #expect(custom == ["CUSTOM_GOLD"])
            #expect(try await c.get("/traits").json!["traits"]!.arrayValue!.count == StandardNames.traits.count + 1)
            let p = try await c.provider("p")
            let set = try await c.call(.put, "/resource_providers/\(p)/traits", body: ["traits": ["CUSTOM_GOLD", "HW_CPU_X86_AVX2"], "resource_provider_generation": 0])
            #expect(set.code == 200 && set.json?["resource_provider_generation"]?.intValue == 1)
            let stale = try await c.call(.put, "/resource_providers/\(p)/traits", body: ["traits": [], "resource_provider_generation": 0])
            #expect(stale.code == 409 && stale.errorCode == "placement.concurrent_update")
            let unknown = try await c.call(.put, "/resource_providers/\(p)/traits", body: ["traits": ["CUSTOM_NOPE"], "resource_provider_generation": 1])
            #expect(unknown.code == 400)
            #expect(try await c.call(.delete, "/traits/CUSTOM_GOLD").code == 409)
            #expect(try await c.get("/traits?associated=true").json!["traits"]!.arrayValue!.count == 2)
            #expect(try await c.call(.delete, "/resource_providers/\(p)/traits").code == 204)
            #expect(try await c.call(.delete, "/traits/CUSTOM_GOLD").code == 204)
            #expect(try await c.get("/traits/CUSTOM_GOLD").code == 404)
        }
    }

    @Test func resourceClassesFrom12AndCreateOrCheckFrom17() async throws {
        try await PlacementFixture.test { c in
            #expect(try await c.get("/resource_classes", "1.1").code == 404)
            let all = try await c.get("/resource_classes", "1.2").json!["resource_classes"]!.arrayValue!
            #expect(all.first?["name"]?.stringValue == "VCPU" && all.count == StandardNames.resourceClasses.count)
            #expect(try await c.call(.post, "/resource_classes", "1.2", body: ["name": "CUSTOM_FPGA"]).code == 201)
            #expect(try await c.call(.post, "/resource_classes", "1.2", body: ["name": "CUSTOM_FPGA"]).code == 409)
            #expect(try await c.call(.post, "/resource_classes", "1.2", body: ["name": "FPGA"]).code == 400)
            // Before 1.7 PUT renames.
            let renamed = try await c.call(.put, "/resource_classes/CUSTOM_FPGA", "1.6", body: ["name": "CUSTOM_GPU"])
            #expect(renamed.code == 200 && renamed.json?["name"]?.stringValue == "CUSTOM_GPU")
            #expect(try await c.call(.put, "/resource_classes/CUSTOM_TPU", "1.7").code == 201)
            #expect(try await c.call(.put, "/resource_classes/CUSTOM_TPU", "1.7").code == 204)
            #expect(try await c.call(.delete, "/resource_classes/VCPU").code == 400)
            let p = try await c.provider("p")
            try await c.inventory(p, ["CUSTOM_TPU": 1])
            #expect(try await c.call(.delete, "/resource_classes/CUSTOM_TPU").code == 409)
            #expect(try await c.call(.delete, "/resource_classes/CUSTOM_GPU").code == 204)
            #expect(try await c.get("/resource_classes/CUSTOM_GPU").code == 404)
        }
    }

    @Test func aggregatesCarryGenerationsFrom119() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            let agg = UUID().uuidString.lowercased()
            let old = try await c.call(.put, "/resource_providers/\(p)/aggregates", "1.18", body: [.string(agg)])
            #expect(old.code == 200 && old.json?["resource_provider_generation"] == nil)
            #expect(try await c.get("/resource_providers/\(p)", "1.18").json?["generation"]?.intValue == 0)
            let shown = try await c.get("/resource_providers/\(p)/aggregates", "1.19").json!
            #expect(shown["aggregates"] == [.string(agg)] && shown["resource_provider_generation"]?.intValue == 0)
            let stale = try await c.call(.put, "/resource_providers/\(p)/aggregates", "1.19", body: ["aggregates": [], "resource_provider_generation": 5])
            #expect(stale.code == 409 && stale.errorCode == nil)  // codes appear from 1.23
            let cleared = try await c.call(.put, "/resource_providers/\(p)/aggregates", "1.19", body: ["aggregates": [], "resource_provider_generation": 0])
            #expect(cleared.code == 200 && cleared.json?["resource_provider_generation"]?.intValue == 1)
            let members = try await c.get("/resource_providers?member_of=\(agg)", "1.3").json!["resource_providers"]!.arrayValue!
            #expect(members.isEmpty)
        }
    }
}
