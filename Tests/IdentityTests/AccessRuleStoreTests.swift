import Foundation
import SQLKit
import StratusCore
import StratusStorage
import Testing

@testable import Identity

@Suite("Access rule store")
struct AccessRuleStoreTests {
    let rules = AccessRuleStore()

    @Test("rules are found by id and by content, linked to credentials, and deleted only with their user")
    func lifecycle() async throws {
        let db = try await TestDatabase.open()
        try await IdentityMigrations.migrator.migrate(db)
        let rule = AccessRule(id: "r1", service: "image", path: "/v2/images", method: "GET")
        try await db.write { sql in
            _ = try await DomainStore().create(DomainRecord(id: "d", name: "d", description: nil, enabled: true, extra: [:]), in: sql)
            try await sql.insert(into: "identity_user").columns("id", "name", "domain_id", "enabled", "created_at")
                .values(SQLBind("alice"), SQLBind("alice"), SQLBind("d"), SQLBind(true), SQLBind(0)).run()
            try await ApplicationCredentialStore().create(
                ApplicationCredentialRecord(
                    id: "ac",
                    name: "ac",
                    secretHash: "x",
                    userID: "alice",
                    projectID: nil,
                    expiresAt: nil,
                    unrestricted: false,
                    createdAt: 0
                ),
                in: sql
            )
            try await rules.create(rule, userID: "alice", in: sql)
            try await rules.link(credentialID: "ac", ruleID: "r1", in: sql)
        }
        let owner = try await db.read { sql in try await rules.find(id: "r1", in: sql)?.userID }
        #expect(owner == "alice")
        let byContent = try await db.read { sql in
            try await rules.find(userID: "alice", service: "image", path: "/v2/images", method: "GET", in: sql)
        }
        #expect(byContent == rule)
        let othersRule = try await db.read { sql in
            try await rules.find(userID: "bob", service: "image", path: "/v2/images", method: "GET", in: sql)
        }
        #expect(othersRule == nil)
        #expect(try await db.read { sql in try await rules.rules(ofCredential: "ac", in: sql) } == [rule])
        #expect(try await db.read { sql in try await rules.list(userID: "alice", service: "image", path: nil, method: nil, in: sql) } == [rule])
        #expect(try await db.read { sql in try await rules.list(userID: "alice", service: "compute", path: nil, method: nil, in: sql) }.isEmpty)
        #expect(try await db.read { sql in try await rules.inUse("r1", in: sql) })
        await #expect(throws: IdentityError.duplicate) {
            try await db.write { sql in
                try await rules.create(AccessRule(id: "r2", service: "image", path: "/v2/images", method: "GET"), userID: "alice", in: sql)
            }
        }
        try await db.write { sql in try await ApplicationCredentialStore().delete("ac", in: sql) }
        #expect(try await db.read { sql in try await rules.inUse("r1", in: sql) } == false)
        try await db.write { sql in try await rules.deleteAll(ofUser: "alice", in: sql) }
        #expect(try await db.read { sql in try await rules.find(id: "r1", in: sql) } == nil)
        await db.close()
    }
}
