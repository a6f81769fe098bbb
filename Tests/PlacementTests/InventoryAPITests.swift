import Foundation
import HTTPTypes
import StratusCore
import Testing

@testable import Placement

/// `/resource_providers/{uuid}/inventories`.
@Suite struct InventoryAPITests {
    @Test func aStaleGenerationIsAConcurrentUpdate() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            let gen = try await c.inventory(p, ["VCPU": 8])
            #expect(gen == 1)
            let stale = try await c.call(
                .put,
                "/resource_providers/\(p)/inventories",
                body: ["inventories": ["VCPU": ["total": 4]], "resource_provider_generation": 0]
            )
            #expect(stale.code == 409 && stale.errorCode == "placement.concurrent_update")
            let list = try await c.get("/resource_providers/\(p)/inventories").json!
            #expect(list["inventories"]?["VCPU"]?["total"]?.intValue == 8 && list["resource_provider_generation"]?.intValue == 1)
        }
    }

    @Test func reservedMayEqualTotalFrom126() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            let body: JSON = ["inventories": ["VCPU": ["total": 4, "reserved": 4]], "resource_provider_generation": 0]
            #expect(try await c.call(.put, "/resource_providers/\(p)/inventories", "1.25", body: body).code == 400)
            #expect(try await c.call(.put, "/resource_providers/\(p)/inventories", "1.26", body: body).code == 200)
        }
    }

    @Test func removingAClassInUseIsRefused() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            let gen = try await c.inventory(p, ["VCPU": 8, "MEMORY_MB": 1024])
            #expect(try await c.allocate(UUID().uuidString.lowercased(), [p: ["VCPU": 2]]).code == 204)
            let r = try await c.call(
                .put,
                "/resource_providers/\(p)/inventories",
                body: ["inventories": ["MEMORY_MB": ["total": 1024]], "resource_provider_generation": .int(Int64(gen + 1))]
            )
            #expect(r.code == 409 && r.errorCode == "placement.inventory.inuse")
            #expect(try await c.call(.delete, "/resource_providers/\(p)/inventories").code == 409)
        }
    }

    @Test func deleteAllExistsFrom15() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            try await c.inventory(p, ["VCPU": 8])
            #expect(try await c.call(.delete, "/resource_providers/\(p)/inventories", "1.4").code == 405)
            #expect(try await c.call(.delete, "/resource_providers/\(p)/inventories", "1.5").code == 204)
            #expect(try await c.get("/resource_providers/\(p)/inventories").json!["inventories"] == [:])
        }
    }

    @Test func oneClassCreateShowUpdateDelete() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            let created = try await c.call(
                .post,
                "/resource_providers/\(p)/inventories",
                body: ["resource_class": "DISK_GB", "total": 100, "max_unit": 50, "resource_provider_generation": 0]
            )
            #expect(created.code == 201 && created.json?["max_unit"]?.intValue == 50 && created.json?["resource_provider_generation"]?.intValue == 1)
            let again = try await c.call(
                .post,
                "/resource_providers/\(p)/inventories",
                body: ["resource_class": "DISK_GB", "total": 100, "resource_provider_generation": 1]
            )
            #expect(again.code == 409)
            let updated = try await c.call(
                .put,
                "/resource_providers/\(p)/inventories/DISK_GB",
                body: ["total": 200, "resource_provider_generation": 1]
            )
            #expect(updated.code == 200 && updated.json?["total"]?.intValue == 200)
            #expect(try await c.get("/resource_providers/\(p)/inventories/DISK_GB").json?["total"]?.intValue == 200)
            #expect(try await c.call(.delete, "/resource_providers/\(p)/inventories/DISK_GB").code == 204)
            #expect(try await c.get("/resource_providers/\(p)/inventories/DISK_GB").code == 404)
            let unknown = try await c.call(
                .put,
                "/resource_providers/\(p)/inventories",
                body: ["inventories": ["CUSTOM_NOPE": ["total": 1]], "resource_provider_generation": 2]
            )
            #expect(unknown.code == 400)
            let bad = try await c.call(
                .put,
                "/resource_providers/\(p)/inventories",
                body: ["inventories": ["VCPU": ["total": 0]], "resource_provider_generation": 2]
            )
            #expect(bad.code == 400 && bad.detail.contains("JSON does not validate: 0 is less than the minimum of 1"))
            // The generation is optional on POST (openstacksdk leaves it out).
            let noGeneration = try await c.call(.post, "/resource_providers/\(p)/inventories", body: ["resource_class": "VCPU", "total": 4])
            #expect(noGeneration.code == 201 && noGeneration.json?["resource_provider_generation"]?.intValue == 4)
        }
    }
}
