import Foundation
import HTTPTypes
import StratusCore
import Testing

@testable import Placement

/// `/traits` and `/resource_providers/{uuid}/traits`.
@Suite struct TraitAPITests {
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
            let set = try await c.call(
                .put,
                "/resource_providers/\(p)/traits",
                body: ["traits": ["CUSTOM_GOLD", "HW_CPU_X86_AVX2"], "resource_provider_generation": 0]
            )
            #expect(set.code == 200 && set.json?["resource_provider_generation"]?.intValue == 1)
            let stale = try await c.call(.put, "/resource_providers/\(p)/traits", body: ["traits": [], "resource_provider_generation": 0])
            #expect(stale.code == 409 && stale.errorCode == "placement.concurrent_update")
            let unknown = try await c.call(
                .put,
                "/resource_providers/\(p)/traits",
                body: ["traits": ["CUSTOM_NOPE"], "resource_provider_generation": 1]
            )
            #expect(unknown.code == 400)
            #expect(try await c.call(.delete, "/traits/CUSTOM_GOLD").code == 409)
            #expect(try await c.get("/traits?associated=true").json!["traits"]!.arrayValue!.count == 2)
            #expect(try await c.call(.delete, "/resource_providers/\(p)/traits").code == 204)
            #expect(try await c.call(.delete, "/traits/CUSTOM_GOLD").code == 204)
            #expect(try await c.get("/traits/CUSTOM_GOLD").code == 404)
        }
    }
}
