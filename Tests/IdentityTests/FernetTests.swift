import Foundation
import Testing
@testable import Identity

@Suite("Fernet tokens and key repositories")
struct FernetTests {
    func tempDir() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("stratus-keys-\(UUID().uuidString)").path
    }

    @Test("a token decrypts with its key, and not after tampering or with another key")
    func roundTrip() throws {
        let key = FernetKey.generate()
        let token = try Fernet.encrypt(Array("hello".utf8), key: key, at: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(!token.contains("=") && !token.contains("+") && !token.contains("/"))
        let (plain, ts) = try Fernet.decrypt(token, keys: [FernetKey.generate(), key])
        #expect(String(decoding: plain, as: UTF8.self) == "hello")
        #expect(ts == 1_700_000_000)
        #expect(throws: Fernet.InvalidToken.self) { try Fernet.decrypt(token, keys: [FernetKey.generate()]) }
        var bytes = Array(token.utf8)
        bytes[40] = bytes[40] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: Fernet.InvalidToken.self) { try Fernet.decrypt(String(decoding: bytes, as: UTF8.self), keys: [key]) }
    }

    @Test("reads a key written by the cryptography library (keystone's key file format)")
    func pythonKeyFormat() throws {
        // Fernet.generate_key() output: URL-safe base64 of 32 bytes, padded.
        let key = try #require(FernetKey(base64: "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=\n"))
        #expect(key.base64 == "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=")
        #expect(FernetKey(base64: "too-short") == nil)
    }

    @Test("fernet_setup makes staged 0 and primary 1; rotation promotes the staged key and drops the oldest")
    func rotation() throws {
        let repo = FernetKeyRepository(path: tempDir())
        try repo.setup(owner: nil)
        #expect(try repo.indexedKeys().map(\.0) == [1, 0])
        let staged = try repo.indexedKeys().first { $0.0 == 0 }!.1
        let token = try Fernet.encrypt(Array("x".utf8), key: try repo.keys()[0])
        try repo.rotate(maxActiveKeys: 3, owner: nil)
        #expect(try repo.indexedKeys().map(\.0) == [2, 1, 0])
        #expect(try repo.keys()[0] == staged, "the staged key became primary")
        #expect((try? Fernet.decrypt(token, keys: try repo.keys())) != nil)
        try repo.rotate(maxActiveKeys: 3, owner: nil)
        #expect(try repo.indexedKeys().map(\.0) == [3, 2, 0])
        #expect((try? Fernet.decrypt(token, keys: try repo.keys())) == nil, "its key was rotated out")
        let attrs = try FileManager.default.attributesOfItem(atPath: repo.path + "/3")
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        try repo.setup(owner: nil)
        #expect(try repo.indexedKeys().map(\.0) == [3, 2, 0], "setup keeps existing keys")
    }

    @Test("payloads round-trip, packing uuid hex ids and keeping other ids verbatim")
    func payload() throws {
        let p = TokenPayload(userID: "0123456789abcdef0123456789abcdef", methods: ["password", "token"], scope: .project("default"),
                             expiresAt: 1_900_000_000, issuedAt: 1_899_999_000_123_456, auditIDs: [TokenPayload.newAuditID(), TokenPayload.newAuditID()],
                             applicationCredentialID: "fedcba9876543210fedcba9876543210")
        let decoded = try #require(TokenPayload(decoding: p.encoded()))
        #expect(decoded == p)
        #expect(p.encoded().count < 100)
        let s = TokenPayload(userID: "admin-user", methods: ["password"], scope: .system, expiresAt: 1, issuedAt: 2, auditIDs: [])
        #expect(TokenPayload(decoding: s.encoded()) == s)
        #expect(TokenPayload(decoding: [9, 9, 9]) == nil)
    }
}
