import Foundation
import SQLKit
import StratusStorage
import Testing

@testable import Identity

/// A migrated, empty identity database (SQLite, or PostgreSQL: see TestDatabase).
private func openDatabase() async throws -> Database {
    let db = try await TestDatabase.open()
    try await IdentityMigrations.migrator.migrate(db)
    return db
}

@Suite("Catalog store")
struct CatalogStoreTests {
    let catalog = CatalogStore()

    func service(_ id: String, type: String, name: String? = nil, enabled: Bool = true) -> ServiceRecord {
        ServiceRecord(id: id, type: type, enabled: enabled, extra: name.map { ["name": .string($0)] } ?? [:])
    }

    func endpoint(
        _ id: String,
        service: String,
        _ interface: String = "public",
        region: String? = nil,
        url: String = "http://x/",
        enabled: Bool = true
    ) -> EndpointRecord {
        EndpointRecord(id: id, serviceID: service, interface: interface, regionID: region, url: url, enabled: enabled)
    }

    @Test("unknown regions, services and endpoints are 404s naming their kind")
    func unknown() async throws {
        let db = try await openDatabase()
        await #expect(throws: IdentityError.notFound(kind: "region", id: "r")) {
            try await db.read { sql in try await catalog.region("r", in: sql) }
        }
        await #expect(throws: IdentityError.notFound(kind: "service", id: "s")) {
            try await db.read { sql in try await catalog.service("s", in: sql) }
        }
        await #expect(throws: IdentityError.notFound(kind: "endpoint", id: "e")) {
            try await db.read { sql in try await catalog.endpoint("e", in: sql) }
        }
        await #expect(throws: IdentityError.notFound(kind: "region", id: "nope")) {
            try await db.write { sql in try await catalog.create(RegionRecord(id: "r", description: "", parentRegionID: "nope"), in: sql) }
        }
        await db.close()
    }

    @Test("a region id can be used once: the second is a 409 duplicate")
    func duplicateRegion() async throws {
        let db = try await openDatabase()
        try await db.write { sql in try await catalog.create(RegionRecord(id: "RegionOne", description: "", parentRegionID: nil), in: sql) }
        do {
            try await db.write { sql in try await catalog.create(RegionRecord(id: "RegionOne", description: "again", parentRegionID: nil), in: sql) }
            Issue.record("the duplicate was stored")
        } catch {
            #expect(IdentityError.translating(error) as? IdentityError == .duplicate)
        }
        await db.close()
    }

    @Test("a region with child regions or endpoints cannot be deleted (403); an unused one can")
    func deleteRegion() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            for (id, parent) in [("top", nil), ("child", "top"), ("used", nil), ("free", nil)] as [(String, String?)] {
                try await catalog.create(RegionRecord(id: id, description: "", parentRegionID: parent), in: sql)
            }
            try await catalog.create(service("s", type: "compute"), in: sql)
            try await catalog.create(endpoint("e", service: "s", region: "used"), in: sql)
        }
        for id in ["top", "used"] {
            let message = "Unable to delete region \(id) because it or its child regions have associated endpoints."
            await #expect(throws: IdentityError.forbidden(message)) {
                try await db.write { sql in try await catalog.deleteRegion(id, in: sql) }
            }
        }
        try await db.write { sql in try await catalog.deleteRegion("free", in: sql) }
        #expect(try await db.read { sql in try await catalog.regions(in: sql) }.map(\.id) == ["child", "top", "used"])
        #expect(try await db.read { sql in try await catalog.regions(parentRegionID: "top", in: sql) }.map(\.id) == ["child"])
        await db.close()
    }

    @Test("a region update can move it to the root and clear its description")
    func updateRegion() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await catalog.create(RegionRecord(id: "top", description: "", parentRegionID: nil), in: sql)
            try await catalog.create(RegionRecord(id: "r", description: "old", parentRegionID: "top"), in: sql)
        }
        let moved = try await db.write { sql in try await catalog.updateRegion("r", description: "", parentRegionID: .some(nil), in: sql) }
        #expect(moved == RegionRecord(id: "r", description: "", parentRegionID: nil))
        await #expect(throws: IdentityError.notFound(kind: "region", id: "zz")) {
            try await db.write { sql in try await catalog.updateRegion("r", parentRegionID: "zz", in: sql) }
        }
        await db.close()
    }

    @Test("services filter by type and by the name kept in extra, in SQL")
    func serviceFilters() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await catalog.create(service("n", type: "network", name: "neutron"), in: sql)
            try await catalog.create(service("c", type: "compute", name: "nova"), in: sql)
            try await catalog.create(service("c2", type: "compute", name: "nova-legacy"), in: sql)
            try await catalog.create(service("x", type: "compute"), in: sql)
        }
        #expect(try await db.read { sql in try await catalog.services(in: sql) }.map(\.type) == ["compute", "compute", "compute", "network"])
        #expect(try await db.read { sql in try await catalog.services(name: "nova", in: sql) }.map(\.id) == ["c"])
        #expect(try await db.read { sql in try await catalog.services(type: "network", name: "nova", in: sql) }.isEmpty)
        #expect(Set(try await db.read { sql in try await catalog.services(type: "compute", in: sql) }.map(\.id)) == ["c", "c2", "x"])
        await db.close()
    }

    @Test("a service update merges extra attributes; deleting a service removes its endpoints")
    func serviceUpdateAndDelete() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await catalog.create(service("s", type: "compute", name: "nova"), in: sql)
            try await catalog.create(service("t", type: "image"), in: sql)
            try await catalog.create(endpoint("e1", service: "s"), in: sql)
            try await catalog.create(endpoint("e2", service: "t"), in: sql)
        }
        let updated = try await db.write { sql in
            try await catalog.updateService("s", enabled: false, extra: ["description": "Compute"], in: sql)
        }
        #expect(updated.extra == ["name": "nova", "description": "Compute"] && !updated.enabled && updated.type == "compute")
        try await db.write { sql in try await catalog.deleteService("s", in: sql) }
        #expect(try await db.read { sql in try await catalog.endpoints(in: sql) }.map(\.id) == ["e2"])
        await db.close()
    }

    @Test("endpoints filter by interface, service and region")
    func endpointFilters() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await catalog.create(RegionRecord(id: "R1", description: "", parentRegionID: nil), in: sql)
            try await catalog.create(service("s", type: "compute"), in: sql)
            try await catalog.create(service("t", type: "image"), in: sql)
            try await catalog.create(endpoint("e1", service: "s", "public", region: "R1"), in: sql)
            try await catalog.create(endpoint("e2", service: "s", "internal"), in: sql)
            try await catalog.create(endpoint("e3", service: "t", "public"), in: sql)
        }
        #expect(try await db.read { sql in try await catalog.endpoints(interface: "public", in: sql) }.map(\.id) == ["e1", "e3"])
        #expect(try await db.read { sql in try await catalog.endpoints(serviceID: "s", in: sql) }.map(\.id) == ["e2", "e1"])
        #expect(try await db.read { sql in try await catalog.endpoints(regionID: "R1", in: sql) }.map(\.id) == ["e1"])
        let moved = try await db.write { sql in try await catalog.updateEndpoint("e1", url: "https://y/", regionID: .some(nil), in: sql) }
        #expect(moved.url == "https://y/" && moved.regionID == nil && moved.interface == "public")
        try await db.write { sql in try await catalog.deleteEndpoint("e1", in: sql) }
        await #expect(throws: IdentityError.notFound(kind: "endpoint", id: "e1")) {
            try await db.read { sql in try await catalog.endpoint("e1", in: sql) }
        }
        await db.close()
    }

    @Test("the token catalog lists enabled services with their enabled endpoints, by type, with the project substituted")
    func tokenCatalog() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await catalog.create(service("n", type: "network", name: "neutron"), in: sql)
            try await catalog.create(service("c", type: "compute", name: "nova"), in: sql)
            try await catalog.create(service("off", type: "image", enabled: false), in: sql)
            try await catalog.create(service("bare", type: "volume"), in: sql)
            try await catalog.create(endpoint("n1", service: "n", url: "http://net:9696/"), in: sql)
            try await catalog.create(endpoint("c1", service: "c", "public", url: "http://nova:8774/v2.1/$(project_id)s"), in: sql)
            try await catalog.create(endpoint("c2", service: "c", "internal", url: "http://nova/%(tenant_id)s"), in: sql)
            try await catalog.create(endpoint("c3", service: "c", "admin", enabled: false), in: sql)
            try await catalog.create(endpoint("o1", service: "off"), in: sql)
            try await catalog.create(endpoint("b1", service: "bare", enabled: false), in: sql)
        }
        let scoped = try await db.read { sql in try await catalog.catalog(projectID: "p9", in: sql) }
        #expect(scoped.map(\.id) == ["c", "n"])
        #expect(scoped[0].name == "nova" && scoped[0].type == "compute")
        #expect(scoped[0].endpoints.map(\.interface) == ["internal", "public"])
        #expect(scoped[0].endpoints.map(\.url) == ["http://nova/p9", "http://nova:8774/v2.1/p9"])
        let unscoped = try await db.read { sql in try await catalog.catalog(projectID: nil, in: sql) }
        #expect(unscoped[0].endpoints[1].url == "http://nova:8774/v2.1/$(project_id)s")
        await db.close()
    }
}
