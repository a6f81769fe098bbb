import Foundation
import Logging
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
        let p = TokenPayload(
            userID: "0123456789abcdef0123456789abcdef",
            methods: ["password", "token"],
            scope: .project("default"),
            expiresAt: 1_900_000_000,
            issuedAt: 1_899_999_000_123_456,
            auditIDs: [TokenPayload.newAuditID(), TokenPayload.newAuditID()],
            applicationCredentialID: "fedcba9876543210fedcba9876543210"
        )
        let decoded = try #require(TokenPayload(decoding: p.encoded()))
        #expect(decoded == p)
        #expect(p.encoded().count < 100)
        let s = TokenPayload(userID: "admin-user", methods: ["password"], scope: .system, expiresAt: 1, issuedAt: 2, auditIDs: [])
        #expect(TokenPayload(decoding: s.encoded()) == s)
        #expect(TokenPayload(decoding: [9, 9, 9]) == nil)
        // A trust-scoped token carries its trust after the application credential field; a token
        // made before trusts existed (no trailing field) decodes without one.
        var t = s
        t.scope = .project("0123456789abcdef0123456789abcdef")
        t.trustID = "00112233445566778899aabbccddeeff"
        #expect(TokenPayload(decoding: t.encoded()) == t)
        #expect(t.encoded().count == s.encoded().count + 17 + 17 + 1)
        #expect(TokenPayload(decoding: t.encoded() + [7]) == nil)
    }
}

@Suite("time and encoding helpers")
struct HelperTests {
    @Test("keystone's time format, and parsing of what clients send")
    func times() {
        #expect(Clock.iso(micros: 1_700_000_000_123_456) == "2023-11-14T22:13:20.123456Z")
        #expect(Clock.iso(micros: 5, zulu: false) == "1970-01-01T00:00:00.000005")
        #expect(Clock.parse("2023-11-14T22:13:20.123456Z") == 1_700_000_000_123_456)
        #expect(Clock.parse("2023-11-14T23:13:20+01:00") == 1_700_000_000_000_000)
        #expect(Clock.parse("99999999999-01-01T00:00:00") == nil)
        #expect(Clock.parse("soon") == nil)
    }

    @Test("base64url round trip, with and without padding; junk is refused")
    func base64() {
        for n in 0..<40 {
            let bytes = Data(randomBytes(n))
            #expect(Data(base64URL: bytes.base64URLEncodedString(padded: false)) == bytes)
            #expect(Data(base64URL: bytes.base64URLEncodedString(padded: true)) == bytes)
            #expect(
                bytes.base64URLEncodedString(padded: true)
                    == bytes.base64EncodedString()
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            )
        }
        #expect(Data(base64URL: "ab$d") == nil)
    }
}

/// Collects log messages (for tests that check what is logged).
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var messages: [String] { lock.withLock { lines } }
    func append(_ line: String) { lock.withLock { lines.append(line) } }

    struct Handler: LogHandler {
        let sink: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { sink.append("\(event.level) \(event.message)") }
    }

    var logger: Logger { Logger(label: "captured") { _ in Handler(sink: self) } }
}

@Suite("key ring reloads")
struct KeyRingReloadTests {
    @Test("a key file that cannot be read after a change keeps the loaded keys and logs an error naming the file, once")
    func unreadableKey() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/stratus-ring-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let repository = FernetKeyRepository(path: dir)
        try repository.setup(owner: nil)
        let log = CapturedLog()
        let ring = try KeyRing(repository: repository, logger: log.logger)
        let before = ring.current()
        #expect(FileManager.default.createFile(atPath: dir + "/7", contents: Data("not a key".utf8)))
        Thread.sleep(forTimeInterval: 1.1)
        let after = ring.current()
        #expect(after.version == before.version && after.keys.count == before.keys.count)
        let errors = log.messages.filter { $0.hasPrefix("error") }
        #expect(errors.count == 1)
        #expect(errors.first?.contains(dir + "/7") == true)
        Thread.sleep(forTimeInterval: 1.1)
        _ = ring.current()
        #expect(log.messages.filter { $0.hasPrefix("error") }.count == 1, "the same reason is not logged every second")
        try FileManager.default.removeItem(atPath: dir + "/7")
        try repository.rotate(maxActiveKeys: 3, owner: nil)
        Thread.sleep(forTimeInterval: 1.1)
        #expect(ring.current().version == before.version + 1, "a readable repository reloads")
    }
}
