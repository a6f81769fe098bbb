import Foundation
import SQLKit
import StratusStorage
import Testing

@testable import Identity

@Suite("keystone-manage bootstrap")
struct BootstrapTests {
    @Test("creates keystone 30's roles with admin ⇒ manager ⇒ member ⇒ reader, and is idempotent")
    func bootstrap() async throws {
        let path = FileManager.default.temporaryDirectory.path + "/stratus-boot-\(UUID().uuidString).db"
        let db = try await Database.open(.sqliteFile(path: path))
        _ = try await IdentityService.migrate(db)
        let hasher = PasswordHasher(cost: 4, threads: 1)
        var b = IdentityBootstrap(password: "pw")
        b.regionID = "RegionOne"
        b.publicURL = "http://controller:5000/v3/"
        let first = try await b.run(db: db, hasher: hasher)
        #expect(first.contains("Created implied role admin => manager"))
        let second = try await b.run(db: db, hasher: hasher)
        #expect(!second.contains { $0.hasPrefix("Created") }, "nothing is created twice")
        let roles = try await db.read { sql in
            try await sql.raw("SELECT name FROM role ORDER BY name").all().map { try $0.decode(column: "name", as: String.self) }
        }
        #expect(roles == ["admin", "manager", "member", "reader", "service"])
        let chain = try await db.read { sql in
            try await sql.raw(
                "SELECT p.name AS p, i.name AS i FROM implied_role x JOIN role p ON p.id = x.prior_role_id JOIN role i ON i.id = x.implied_role_id ORDER BY p.name"
            ).all()
                .map { "\(try $0.decode(column: "p", as: String.self))=>\(try $0.decode(column: "i", as: String.self))" }
        }
        #expect(Set(chain) == ["admin=>manager", "manager=>member", "member=>reader"])
        let endpoints = try await db.read { sql in try await sql.raw("SELECT url, region_id FROM endpoint").all() }
        #expect(endpoints.count == 1)
        await hasher.shutdown()
        await db.close()
    }
}
