import Foundation
import HTTPTypes
import StratusCore
import Testing

@testable import Placement

/// `/resource_providers/{uuid}/aggregates`.
@Suite struct AggregateAPITests {
    @Test func aggregatesCarryGenerationsFrom119() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("p")
            let agg = UUID().uuidString.lowercased()
            let old = try await c.call(.put, "/resource_providers/\(p)/aggregates", "1.18", body: [.string(agg)])
            #expect(old.code == 200 && old.json?["resource_provider_generation"] == nil)
            #expect(try await c.get("/resource_providers/\(p)", "1.18").json?["generation"]?.intValue == 0)
            let shown = try await c.get("/resource_providers/\(p)/aggregates", "1.19").json!
            #expect(shown["aggregates"] == [.string(agg)] && shown["resource_provider_generation"]?.intValue == 0)
            let stale = try await c.call(
                .put,
                "/resource_providers/\(p)/aggregates",
                "1.19",
                body: ["aggregates": [], "resource_provider_generation": 5]
            )
            #expect(stale.code == 409 && stale.errorCode == nil)  // codes appear from 1.23
            let cleared = try await c.call(
                .put,
                "/resource_providers/\(p)/aggregates",
                "1.19",
                body: ["aggregates": [], "resource_provider_generation": 0]
            )
            #expect(cleared.code == 200 && cleared.json?["resource_provider_generation"]?.intValue == 1)
            let members = try await c.get("/resource_providers?member_of=\(agg)", "1.3").json!["resource_providers"]!.arrayValue!
            #expect(members.isEmpty)
        }
    }
}
