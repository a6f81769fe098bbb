import Foundation
import HTTPTypes
import StratusCore
import Testing

@testable import Placement

/// `/allocations`, `/resource_providers/{uuid}/allocations` and usages.
@Suite struct AllocationAPITests {
    static func id() -> String { UUID().uuidString.lowercased() }

    @Test func everyBodyShapeOverTheVersions() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            try await c.inventory(p, ["VCPU": 8])
            let list: JSON = ["allocations": [["resource_provider": ["uuid": .string(p)], "resources": ["VCPU": 1]]]]
            #expect(try await c.call(.put, "/allocations/\(Self.id())", "1.7", body: list).code == 204)
            #expect(try await c.call(.put, "/allocations/\(Self.id())", "1.8", body: list).code == 400)  // project_id/user_id required
            var withOwner = list.objectValue!
            withOwner["project_id"] = "p"
            withOwner["user_id"] = "u"
            #expect(try await c.call(.put, "/allocations/\(Self.id())", "1.8", body: .object(withOwner)).code == 204)
            let dict: JSON = ["allocations": .object([p: ["resources": ["VCPU": 1]]]), "project_id": "p", "user_id": "u"]
            #expect(try await c.call(.put, "/allocations/\(Self.id())", "1.11", body: dict).code == 400)
            let consumer = Self.id()
            #expect(try await c.call(.put, "/allocations/\(consumer)", "1.12", body: dict).code == 204)
            let shown = try await c.get("/allocations/\(consumer)", "1.12").json!
            #expect(shown["project_id"]?.stringValue == "p" && shown["allocations"]?[p]?["resources"]?["VCPU"]?.intValue == 1)
            #expect(try await c.get("/allocations/\(consumer)", "1.11").json!["project_id"] == nil)
            #expect(try await c.call(.put, "/allocations/\(Self.id())", "1.28", body: dict).code == 400)  // consumer_generation required
            let at128 = try await c.get("/allocations/\(consumer)", "1.28").json!
            #expect(at128["consumer_generation"]?.intValue == 1 && at128["consumer_type"] == nil)
            #expect(try await c.get("/allocations/\(consumer)", "1.38").json!["consumer_type"]?.stringValue == "unknown")
        }
    }

    @Test func aCandidateCanBeClaimedAsItCame() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            try await c.inventory(p, ["VCPU": 8])
            // nova sends the candidate's allocation request back, `mappings` included (1.34+).
            let candidate = try await c.get("/allocation_candidates?resources=VCPU:1").json!["allocation_requests"]!.arrayValue![0].objectValue!
            var body = candidate
            body["project_id"] = "p"
            body["user_id"] = "u"
            body["consumer_generation"] = .null
            body["consumer_type"] = "INSTANCE"
            #expect(try await c.call(.put, "/allocations/\(Self.id())", body: .object(body)).code == 204)
            #expect(try await c.call(.put, "/allocations/\(Self.id())", "1.33", body: .object(body)).code == 400)
            // POST /allocations could always empty a consumer.
            let empty: JSON = .object([Self.id(): ["allocations": [:], "project_id": "p", "user_id": "u"]])
            #expect(try await c.call(.post, "/allocations", "1.13", body: empty).code == 204)
        }
    }

    @Test func consumerGenerationsGuardConcurrentWriters() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            try await c.inventory(p, ["VCPU": 8])
            let consumer = Self.id()
            #expect(try await c.allocate(consumer, [p: ["VCPU": 1]]).code == 204)
            // A second "new consumer" write loses: the consumer exists at generation 1.
            let again = try await c.allocate(consumer, [p: ["VCPU": 2]])
            #expect(again.code == 409 && again.errorCode == "placement.concurrent_update")
            #expect(again.detail.contains("consumer generation conflict - expected 1 but got None"))
            let body: JSON = [
                "allocations": .object([p: ["resources": ["VCPU": 2]]]), "project_id": "p", "user_id": "u", "consumer_generation": 1,
                "consumer_type": "INSTANCE",
            ]
            #expect(try await c.call(.put, "/allocations/\(consumer)", body: body).code == 204)
            #expect(try await c.get("/allocations/\(consumer)").json!["consumer_generation"]?.intValue == 2)
            // Empty allocations (1.28+) remove them and the consumer.
            let empty: JSON = ["allocations": [:], "project_id": "p", "user_id": "u", "consumer_generation": 2, "consumer_type": "INSTANCE"]
            #expect(try await c.call(.put, "/allocations/\(consumer)", body: empty).code == 204)
            #expect(try await c.get("/allocations/\(consumer)").json!["allocations"] == [:])
        }
    }

    @Test func capacityAndUnitsAreChecked() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            try await c.inventory(p, ["VCPU": 2])
            let over = try await c.allocate(Self.id(), [p: ["VCPU": 3]])
            #expect(over.code == 409 && over.detail.contains("The requested amount would exceed the capacity."))
            let nowhere = try await c.allocate(Self.id(), [Self.id(): ["VCPU": 1]])
            #expect(nowhere.code == 400 && nowhere.detail.contains("that does not exist"))
            let noClass = try await c.allocate(Self.id(), [p: ["DISK_GB": 1]])
            #expect(noClass.code == 409 && noClass.detail.contains("Inventory for 'DISK_GB' on resource provider"))
            let unknown = try await c.allocate(Self.id(), [p: ["CUSTOM_NOPE": 1]])
            #expect(unknown.code == 400)
            #expect(try await c.call(.put, "/allocations/not-a-uuid", body: ["allocations": [:]]).code == 400)
        }
    }

    @Test func postAllocationsFrom113MovesBetweenConsumers() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            try await c.inventory(p, ["VCPU": 4])
            let instance = Self.id()
            let migration = Self.id()
            #expect(try await c.allocate(instance, [p: ["VCPU": 4]]).code == 204)
            #expect(try await c.call(.post, "/allocations", "1.12", body: [:]).code == 405)
            let swap: JSON = .object([
                instance: ["allocations": [:], "project_id": "p", "user_id": "u", "consumer_generation": 1, "consumer_type": "INSTANCE"],
                migration: [
                    "allocations": .object([p: ["resources": ["VCPU": 4]]]), "project_id": "p", "user_id": "u", "consumer_generation": .null,
                    "consumer_type": "MIGRATION",
                ],
            ])
            #expect(try await c.call(.post, "/allocations", body: swap).code == 204)
            let onProvider = try await c.get("/resource_providers/\(p)/allocations").json!
            #expect(onProvider["allocations"]?.objectValue?.keys.sorted() == [migration])
            #expect(try await c.call(.delete, "/allocations/\(migration)").code == 204)
            #expect(try await c.call(.delete, "/allocations/\(migration)").code == 404)
        }
    }

}
