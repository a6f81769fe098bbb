import Foundation
import HTTPTypes
import StratusCore
import Testing

@testable import Placement

/// `/resource_providers` at each microversion where its behaviour switches.
@Suite struct ResourceProviderAPITests {
    @Test func createAnswers201EmptyBefore120And200WithTheProviderFrom120() async throws {
        try await PlacementFixture.test { c in
            let old = try await c.call(.post, "/resource_providers", "1.19", body: ["name": "a"])
            #expect(old.code == 201 && old.json == nil)
            #expect(old.headers[.location]?.contains("/resource_providers/") == true)
            let new = try await c.call(.post, "/resource_providers", "1.20", body: ["name": "b"])
            #expect(new.code == 200 && new.json?["name"]?.stringValue == "b" && new.json?["generation"]?.intValue == 0)
        }
    }

    @Test func nestedFieldsAndLinksAppearAtTheirVersions() async throws {
        try await PlacementFixture.test { c in
            let root = try await c.provider("root")
            let child = try await c.provider("child", parent: root)
            let at113 = try await c.get("/resource_providers/\(child)", "1.13").json!
            #expect(at113["parent_provider_uuid"] == nil)
            let at114 = try await c.get("/resource_providers/\(child)", "1.14").json!
            #expect(at114["parent_provider_uuid"]?.stringValue == root && at114["root_provider_uuid"]?.stringValue == root)
            func rels(_ v: String) async throws -> [String] {
                try await c.get("/resource_providers/\(root)", v).json!["links"]!.arrayValue!.compactMap { $0["rel"]?.stringValue }
            }
            #expect(try await rels("1.0") == ["self", "inventories", "usages"])
            #expect(try await rels("1.1").contains("aggregates"))
            let at16 = try await rels("1.6")
            let at110 = try await rels("1.10")
            #expect(at16.contains("traits") && !at110.contains("allocations"))
            #expect(try await rels("1.11").contains("allocations"))
        }
    }

    @Test func duplicateNamesCarryTheirCodeFrom123() async throws {
        try await PlacementFixture.test { c in
            try await c.provider("dup")
            let r = try await c.call(.post, "/resource_providers", "1.23", body: ["name": "dup"])
            #expect(r.code == 409 && r.errorCode == "placement.duplicate_name")
            #expect(r.detail.contains("Conflicting resource provider name: dup already exists."))
            let old = try await c.call(.post, "/resource_providers", "1.22", body: ["name": "dup"])
            #expect(old.code == 409 && old.errorCode == nil)
        }
    }

    @Test func reparentingIsRefusedBefore137AndLoopsAlways() async throws {
        try await PlacementFixture.test { c in
            let a = try await c.provider("a")
            let b = try await c.provider("b")
            let child = try await c.provider("child", parent: a)
            let early = try await c.call(.put, "/resource_providers/\(child)", "1.36", body: ["name": "child", "parent_provider_uuid": .string(b)])
            #expect(early.code == 400 && early.detail.contains("re-parenting a provider is not currently allowed."))
            let moved = try await c.call(.put, "/resource_providers/\(child)", "1.37", body: ["name": "child", "parent_provider_uuid": .string(b)])
            #expect(moved.code == 200 && moved.json?["root_provider_uuid"]?.stringValue == b)
            let loop = try await c.call(.put, "/resource_providers/\(b)", "1.37", body: ["name": "b", "parent_provider_uuid": .string(child)])
            #expect(loop.code == 400 && loop.detail.contains("creating loop in the provider tree is not allowed."))
            // Setting a parent on a root was always allowed (1.14).
            let adopt = try await c.call(.put, "/resource_providers/\(a)", "1.14", body: ["name": "a", "parent_provider_uuid": .string(b)])
            #expect(adopt.code == 200)
        }
    }

    @Test func deleteRefusesParentsAndProvidersInUse() async throws {
        try await PlacementFixture.test { c in
            let parent = try await c.provider("parent")
            try await c.provider("kid", parent: parent)
            let p = try await c.call(.delete, "/resource_providers/\(parent)")
            #expect(p.code == 409 && p.errorCode == "placement.resource_provider.cannot_delete_parent")
            let used = try await c.provider("used")
            try await c.inventory(used, ["VCPU": 4])
            #expect(try await c.allocate(UUID().uuidString.lowercased(), [used: ["VCPU": 1]]).code == 204)
            let u = try await c.call(.delete, "/resource_providers/\(used)")
            #expect(u.code == 409 && u.errorCode == "placement.resource_provider.inuse")
            let missing = try await c.call(.delete, "/resource_providers/\(UUID().uuidString.lowercased())")
            #expect(missing.code == 404)
        }
    }

    @Test func listFiltersExistFromTheirVersions() async throws {
        try await PlacementFixture.test { c in
            let big = try await c.provider("big")
            try await c.inventory(big, ["VCPU": 16])
            let small = try await c.provider("small")
            try await c.inventory(small, ["VCPU": 2])
            #expect(try await c.get("/resource_providers?resources=VCPU:4", "1.3").code == 400)
            let fit = try await c.get("/resource_providers?resources=VCPU:4", "1.4").json!["resource_providers"]!.arrayValue!
            #expect(fit.map { $0["name"]?.stringValue } == ["big"])
            #expect(try await c.get("/resource_providers?in_tree=\(big)", "1.13").code == 400)
            #expect(try await c.get("/resource_providers?in_tree=\(big)", "1.14").json!["resource_providers"]!.arrayValue!.count == 1)
            #expect(try await c.get("/resource_providers?required=CUSTOM_NOPE", "1.18").code == 400)
            let unknownClass = try await c.get("/resource_providers?resources=CUSTOM_NOPE:1", "1.4")
            #expect(unknownClass.code == 400 && unknownClass.detail.contains("Invalid resource class in resources parameter"))
            #expect(try await c.get("/resource_providers?name=small").json!["resource_providers"]!.arrayValue!.count == 1)
        }
    }

    @Test func lastModifiedFrom115() async throws {
        try await PlacementFixture.test { c in
            let p = try await c.provider("lm")
            #expect(try await c.get("/resource_providers/\(p)", "1.14").headers[.lastModified] == nil)
            let r = try await c.get("/resource_providers/\(p)", "1.15")
            #expect(r.headers[.lastModified] != nil && r.headers[.cacheControl] == "no-cache")
        }
    }

    @Test func microversionNegotiation() async throws {
        try await PlacementFixture.test { c in
            let latest = try await c.get("/", "latest")
            #expect(latest.headers[HTTPField.Name("OpenStack-API-Version")!] == "placement 1.39")
            #expect(latest.json?["versions"]?.arrayValue?.first?["max_version"]?.stringValue == "1.39")
            #expect(try await c.get("/resource_providers", "1.40").code == 406)
            #expect(try await c.get("/resource_providers", "abc").code == 400)
            #expect(try await c.get("/resource_providers", nil).headers[HTTPField.Name("OpenStack-API-Version")!] == "placement 1.0")
        }
    }

    @Test func noauth2RolesAndProjects() async throws {
        try await PlacementFixture.test { c in
            #expect(try await c.get("/resource_providers", token: "admin").code == 200)
            #expect(try await c.get("/resource_providers", token: "alice:p1").code == 403)
            let asAdmin = try await c.call(.get, "/resource_providers", token: "alice:p1", headers: [HTTPField.Name("X-Roles")!: "admin"])
            #expect(asAdmin.code == 200)
            let system = try await c.call(.get, "/resource_providers", token: "admin", headers: [HTTPField.Name("OpenStack-System-Scope")!: "all"])
            #expect(system.code == 403)
            #expect(try await c.call(.get, "/resource_providers", token: "").code == 401)
            #expect(try await c.get("/", token: "").code == 200)
        }
    }
}
