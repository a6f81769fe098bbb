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

@Suite("Revocation store")
struct RevocationStoreTests {
    let revocations = RevocationStore()

    func revoked(_ db: Database, user: String = "u1", project: String? = "p1", audit: String? = "a1", issuedAt: Int64 = 100) async throws -> Bool {
        try await db.read { sql in try await revocations.isRevoked(userID: user, projectID: project, auditID: audit, issuedAt: issuedAt, in: sql) }
    }

    @Test("a user event revokes the user's tokens issued before it, not later ones nor other users'")
    func userEvent() async throws {
        let db = try await openDatabase()
        try await db.write { sql in try await revocations.record(.init(userID: "u1"), at: 200, pruningBefore: 0, in: sql) }
        #expect(try await revoked(db))
        #expect(try await revoked(db, project: nil))
        #expect(try await revoked(db, issuedAt: 300) == false)
        #expect(try await revoked(db, user: "u2") == false)
        await db.close()
    }

    @Test("a project event revokes tokens scoped to it; an audit event one token")
    func projectAndAuditEvents() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await revocations.record(.init(projectID: "p1"), at: 200, pruningBefore: 0, in: sql)
            try await revocations.record(.init(auditID: "a9"), at: 200, pruningBefore: 0, in: sql)
        }
        #expect(try await revoked(db, user: "u2"))
        #expect(try await revoked(db, project: "p2") == false)
        #expect(try await revoked(db, project: nil, audit: "a9"))
        #expect(try await revoked(db, project: nil, audit: nil) == false)
        await db.close()
    }

    @Test("recording prunes events no living token can predate")
    func pruning() async throws {
        let db = try await openDatabase()
        try await db.write { sql in
            try await revocations.record(.init(userID: "old"), at: 10, pruningBefore: 0, in: sql)
            try await revocations.record(.init(userID: "new"), at: 500, pruningBefore: 100, in: sql)
        }
        #expect(try await revoked(db, user: "old", project: nil, audit: nil, issuedAt: 1) == false)
        #expect(try await revoked(db, user: "new", project: nil, audit: nil, issuedAt: 1))
        await db.close()
    }
}
