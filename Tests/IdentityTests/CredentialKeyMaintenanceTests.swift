import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StratusCore
import Testing

@testable import Identity

@Suite("credential key rotation and migration")
struct CredentialKeyMaintenanceTests {
    @Test("a rotation would orphan a credential on a secondary key until credential_migrate re-encrypts it")
    func rotateMigrateRotate() async throws {
        let keysDir = FileManager.default.temporaryDirectory.path + "/stratus-credkeys-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: keysDir) }
        let repository = FernetKeyRepository(path: keysDir)
        try repository.setup(owner: nil)
        let fixture = try await IdentityFixture.make([("credential", "key_repository", keysDir)])
        let db = fixture.service.db
        try await fixture.test { client in
            let admin = try await client.token(scope: adminProject)
            let adminID = try await client.firstID("users", named: "admin", token: admin)
            let made = try await client.call(
                .post,
                "/v3/credentials",
                token: admin,
                body: #"{"credential": {"user_id": "\#(adminID)", "type": "totp", "blob": "secret-1"}}"#
            )
            #expect(made.status == .created)
            #expect(try await CredentialKeyMaintenance.notOnPrimary(db: db, repository: repository) == 0)
            try repository.rotate(maxActiveKeys: 3, owner: nil)
            #expect(
                try await CredentialKeyMaintenance.notOnPrimary(db: db, repository: repository) == 1,
                "credential_rotate is refused now: the next rotation deletes the key that opens it"
            )
            #expect(try await CredentialKeyMaintenance.migrate(db: db, repository: repository) == 1)
            #expect(try await CredentialKeyMaintenance.notOnPrimary(db: db, repository: repository) == 0)
            #expect(try await CredentialKeyMaintenance.migrate(db: db, repository: repository) == 0, "nothing left to migrate")
            try repository.rotate(maxActiveKeys: 3, owner: nil)  // drops the key the credential was first sealed with
            try await Task.sleep(for: .milliseconds(1100))  // the running service's key ring reloads at most once a second
            let listed = try await client.call(.get, "/v3/credentials", token: admin)
            #expect(listed.status == .ok)
            let blobs = try JSON.parse(Array(listed.body.readableBytesView))["credentials"]?.arrayValue?.compactMap { $0["blob"]?.stringValue }
            #expect(blobs == ["secret-1"])
        }
    }
}
