import Foundation
import HTTPTypes
import StratusCore
import Testing

@testable import Placement

/// `POST /reshaper`.
@Suite struct ReshaperAPITests {
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
