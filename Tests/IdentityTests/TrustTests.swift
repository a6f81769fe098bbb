import Foundation
import SQLKit
import StratusStorage
import Testing

@testable import Identity

@Suite("Trust rules")
struct TrustRulesTests {
    let implications = [RoleImplication(prior: "admin", implied: "member"), RoleImplication(prior: "member", implied: "reader")]

    @Test("a trust token carries the trust's roles and what they imply, only while the trustor holds all of them")
    func delegatedRoles() {
        #expect(
            TrustRules.delegatedRoles(trustRoles: ["member"], implications: implications, trustorRoles: ["member", "reader", "other"])
                == ["member", "reader"]
        )
        // The trustor lost `reader` (implied by the delegated `member`): the trust carries nothing.
        #expect(TrustRules.delegatedRoles(trustRoles: ["member"], implications: implications, trustorRoles: ["member"]) == nil)
        #expect(TrustRules.delegatedRoles(trustRoles: ["admin"], implications: [], trustorRoles: ["member"]) == nil)
    }

    let parent = TrustRules.Offer(
        id: "t1",
        projectID: "p1",
        roleIDs: ["member", "reader"],
        impersonation: false,
        expiresAt: 1_000,
        redelegationCount: 2
    )

    @Test("a redelegated trust may not ask for more than its source gives")
    func redelegation() {
        let fine = TrustRules.Request(projectID: "p1", roleIDs: ["reader"], impersonation: false, expiresAt: 900, remainingUses: nil)
        #expect(TrustRules.redelegationRefusal(from: parent, request: fine, maxCount: 3) == nil)
        var elsewhere = fine
        elsewhere.projectID = "p2"
        #expect(
            TrustRules.redelegationRefusal(from: parent, request: elsewhere, maxCount: 3)
                == "A redelegated trust must be on the project of the trust it comes from"
        )
        var wider = fine
        wider.roleIDs = ["admin"]
        #expect(TrustRules.redelegationRefusal(from: parent, request: wider, maxCount: 3) == "Some of requested roles are not in redelegated trust")
        var later = fine
        later.expiresAt = 1_001
        #expect(
            TrustRules.redelegationRefusal(from: parent, request: later, maxCount: 3)
                == "Requested expiration time is more than redelegated trust can provide"
        )
        var impersonating = fine
        impersonating.impersonation = true
        #expect(TrustRules.redelegationRefusal(from: parent, request: impersonating, maxCount: 3)?.hasPrefix("Impersonation is not allowed") == true)
        var counted = fine
        counted.remainingUses = 1
        #expect(
            TrustRules.redelegationRefusal(from: parent, request: counted, maxCount: 3)?.hasPrefix("Field \"remaining_uses\" is set to 1") == true
        )
        var exhausted = parent
        exhausted.redelegationCount = 0
        #expect(
            TrustRules.redelegationRefusal(from: exhausted, request: fine, maxCount: 3)
                == "Remaining redelegation depth of 0 out of allowed range of [0..3]"
        )
    }

    @Test("the redelegation count: 0 unless allowed, the maximum by default, one less than the source's down a chain")
    func redelegationCount() {
        #expect(TrustRules.redelegationCount(allow: false, requested: 2, remainingUses: 1, parent: nil, maxCount: 3) == .success(0))
        #expect(TrustRules.redelegationCount(allow: true, requested: nil, remainingUses: nil, parent: nil, maxCount: 3) == .success(3))
        #expect(TrustRules.redelegationCount(allow: true, requested: 0, remainingUses: 5, parent: nil, maxCount: 3) == .success(0))
        #expect(
            TrustRules.redelegationCount(allow: true, requested: 4, remainingUses: nil, parent: nil, maxCount: 3)
                == .failure(.forbidden("Requested redelegation depth of 4 is greater than allowed 3"))
        )
        #expect(
            TrustRules.redelegationCount(allow: true, requested: nil, remainingUses: 2, parent: nil, maxCount: 3)
                == .failure(.badRequest("remaining_uses must not be set if redelegation is allowed"))
        )
        #expect(TrustRules.redelegationCount(allow: true, requested: nil, remainingUses: nil, parent: parent, maxCount: 3) == .success(1))
        #expect(
            TrustRules.redelegationCount(allow: true, requested: 2, remainingUses: nil, parent: parent, maxCount: 3)
                == .failure(.forbidden("Modifying \"redelegation_count\" upon redelegation is forbidden. Omitting this parameter is advised."))
        )
    }
}

@Suite("Trust store")
struct TrustStoreTests {
    let trusts = TrustStore()

    func trust(_ id: String, uses: Int? = nil, parent: String? = nil) -> TrustRecord {
        TrustRecord(
            id: id,
            trustorUserID: "alice",
            trusteeUserID: "bob",
            projectID: "p1",
            impersonation: false,
            expiresAt: nil,
            remainingUses: uses,
            redelegatedTrustID: parent,
            redelegationCount: 0,
            roleIDs: ["r2", "r1"]
        )
    }

    @Test("the last use of a limited trust goes to one of two racing requests; an unlimited trust never runs out")
    func consumeUse() async throws {
        let db = try await TestDatabase.open()
        try await IdentityMigrations.migrator.migrate(db)
        try await db.write { sql in
            try await trusts.create(trust("limited", uses: 1), in: sql)
            try await trusts.create(trust("open"), in: sql)
        }
        async let first = db.write { sql in try await trusts.consumeUse("limited", in: sql) }
        async let second = db.write { sql in try await trusts.consumeUse("limited", in: sql) }
        let results = try await [first, second]
        // NOTE: SQLite serialises writers, so this race is real only in the PostgreSQL store run.
        #expect(results.filter { $0 }.count == 1)
        let stored = try await db.read { sql in try await trusts.find("limited", in: sql) }
        #expect(stored?.remainingUses == 0)
        #expect(stored?.roleIDs == ["r1", "r2"])
        #expect(stored?.usable(at: 0) == false)
        for _ in 0..<3 { #expect(try await db.write { sql in try await trusts.consumeUse("open", in: sql) }) }
        await db.close()
    }

    @Test("deleting a trust deletes the trusts redelegated from it, not its source; deleted trusts are neither usable nor listed")
    func softDeleteChain() async throws {
        let db = try await TestDatabase.open()
        try await IdentityMigrations.migrator.migrate(db)
        try await db.write { sql in
            try await trusts.create(trust("root"), in: sql)
            try await trusts.create(trust("child", parent: "root"), in: sql)
            try await trusts.create(trust("grandchild", parent: "child"), in: sql)
        }
        let deleted = try await db.write { sql in try await trusts.softDelete("child", at: 5, in: sql) }
        #expect(Set(deleted) == ["child", "grandchild"])
        let listed = try await db.read { sql in try await trusts.list(trustorUserID: "alice", in: sql) }
        #expect(listed.map(\.id) == ["root"])
        await #expect(throws: IdentityError.self) { try await db.read { sql in try await trusts.usable("grandchild", at: 0, in: sql) } }
        #expect(try await db.read { sql in try await trusts.find("child", in: sql) }?.deletedAt == 5)
        #expect(try await db.write { sql in try await trusts.consumeUse("child", in: sql) } == false)
        await db.close()
    }
}
