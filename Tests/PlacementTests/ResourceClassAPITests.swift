import Foundation
import HTTPTypes
import StratusCore
import Testing

@testable import Placement

/// `/resource_classes`.
@Suite struct ResourceClassAPITests {
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
}
