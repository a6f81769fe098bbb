import Foundation
import HTTPTypes
import StratusCore
import Testing

@testable import Placement

/// `[oslo_policy] enforce_new_defaults`, `policy_file` and `[cors]`, as placement honours them.
@Suite struct PolicyAPITests {
    static let reshape: JSON = ["inventories": [:], "allocations": [:]]

    @Test func theReshaperIsForTheServiceRoleUnlessOldDefaultsAreOn() async throws {
        try await PlacementFixture.test { c in
            let refused = try await c.call(.post, "/reshaper", body: Self.reshape)
            #expect(refused.code == 403)
        }
        try await PlacementFixture.test([("oslo_policy", "enforce_new_defaults", "false")]) { c in
            // The deprecated check string (`role:admin`) is ORed in.
            let reshaped = try await c.call(.post, "/reshaper", body: Self.reshape)
            #expect(reshaped.code == 204)
            let member = try await c.get("/resource_providers", token: "alice:p1")
            #expect(member.code == 403)
        }
    }

    @Test func aPolicyFileOverridesADefault() async throws {
        let dir = FileManager.default.temporaryDirectory.path + "/stratus-policy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "\"placement:resource_providers:list\": \"role:reader\"\n".write(toFile: dir + "/policy.yaml", atomically: true, encoding: .utf8)
        try await PlacementFixture.test([("oslo_policy", "policy_file", dir + "/policy.yaml")]) { c in
            let reader = try await c.call(.get, "/resource_providers", token: "alice:p1", headers: [HTTPField.Name("X-Roles")!: "reader"])
            #expect(reader.code == 200)
            #expect(
                try await c.call(
                    .post,
                    "/resource_providers",
                    body: ["name": "x"],
                    token: "alice:p1",
                    headers: [HTTPField.Name("X-Roles")!: "reader"]
                ).code == 403
            )
        }
    }

    @Test func corsAnswersAllowedOriginsOnly() async throws {
        try await PlacementFixture.test([
            ("cors", "allowed_origin", "https://dash.example"), ("cors", "allow_headers", "X-Auth-Token,OpenStack-API-Version"),
        ]) { c in
            var preflight: HTTPFields = [.origin: "https://dash.example"]
            preflight[HTTPField.Name("Access-Control-Request-Method")!] = "GET"
            preflight[HTTPField.Name("Access-Control-Request-Headers")!] = "X-Auth-Token"
            let ok = try await c.call(.options, "/resource_providers", token: "", headers: preflight)
            #expect(ok.code == 200 && ok.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "https://dash.example")
            let get = try await c.call(.get, "/resource_providers", headers: [.origin: "https://dash.example"])
            #expect(get.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "https://dash.example")
            let other = try await c.call(.get, "/resource_providers", headers: [.origin: "https://evil.example"])
            #expect(other.code == 200 && other.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == nil)
        }
    }
}
