import Foundation
import HTTPTypes
import StratusCore
import Testing

@testable import Placement

/// `/resource_providers/{uuid}/usages` and `/usages`.
@Suite struct UsageAPITests {
    @Test func usagesPerProviderAndPerProjectByConsumerType() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            try await c.inventory(p, ["VCPU": 8, "MEMORY_MB": 1024])
            #expect(try await c.allocate(UUID().uuidString.lowercased(), [p: ["VCPU": 2]], project: "proj").code == 204)
            #expect(try await c.allocate(UUID().uuidString.lowercased(), [p: ["VCPU": 1, "MEMORY_MB": 128]], project: "proj").code == 204)
            let usages = try await c.get("/resource_providers/\(p)/usages").json!["usages"]!
            #expect(usages["VCPU"]?.intValue == 3 && usages["MEMORY_MB"]?.intValue == 128)
            #expect(try await c.get("/usages?project_id=proj", "1.8").code == 404)
            let flat = try await c.get("/usages?project_id=proj", "1.9").json!["usages"]!
            #expect(flat["VCPU"]?.intValue == 3)
            let typed = try await c.get("/usages?project_id=proj", "1.38").json!["usages"]!
            #expect(typed["INSTANCE"]?["consumer_count"]?.intValue == 2 && typed["INSTANCE"]?["VCPU"]?.intValue == 3)
            #expect(try await c.get("/usages", "1.9").code == 400)
            // Usage of another project is the project's readers' business, not a stranger's.
            #expect(try await c.get("/usages?project_id=proj", token: "mallory:other").code == 403)
            let reader = try await c.call(.get, "/usages?project_id=proj", token: "bob:proj", headers: [HTTPField.Name("X-Roles")!: "reader"])
            #expect(reader.code == 200)
        }
    }
}
