import Foundation

/// What a Stratus Fernet token carries: who, how, for what scope, until when. Everything
/// else (roles, names, catalog) is looked up at validation, as keystone does, so a role
/// removed or a project disabled takes effect on existing tokens.
///
/// Binary layout (version 1): version, method bits, user id, scope kind [+ id], expires_at
/// (s), issued_at (µs), audit ids (16 raw bytes each), application credential id, then (when the
/// token is trust-scoped) the trust id; a token without the last field has no trust. Ids that are
/// 32 hex digits (keystone's uuid4 hex) are packed into 16 bytes to keep tokens short.
public struct TokenPayload: Sendable, Equatable {
    /// What the token is scoped to.
    public enum Scope: Sendable, Equatable {
        case unscoped
        case project(String)
        case domain(String)
        case system
    }

    public static let methodNames = ["password", "token", "application_credential", "totp", "external", "mapped", "ec2credential"]

    public var userID: String
    public var methods: [String]
    public var scope: Scope
    public var expiresAt: Int64
    public var issuedAt: Int64
    public var auditIDs: [String]
    public var applicationCredentialID: String?
    /// Set when the token is trust-scoped (`scope` is then the trust's project).
    public var trustID: String?

    public init(
        userID: String,
        methods: [String],
        scope: Scope,
        expiresAt: Int64,
        issuedAt: Int64,
        auditIDs: [String],
        applicationCredentialID: String? = nil,
        trustID: String? = nil
    ) {
        self.userID = userID
        self.methods = methods
        self.scope = scope
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.auditIDs = auditIDs
        self.applicationCredentialID = applicationCredentialID
        self.trustID = trustID
    }

    /// A new audit id: 16 random bytes, URL-safe base64 without padding (keystone's format).
    public static func newAuditID() -> String {
        Data(randomBytes(16)).base64URLEncodedString(padded: false)
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = [1]
        var bits: UInt8 = 0
        for m in methods { if let i = TokenPayload.methodNames.firstIndex(of: m) { bits |= 1 << UInt8(i) } }
        out.append(bits)
        TokenPayload.writeID(userID, to: &out)
        switch scope {
        case .unscoped: out.append(0)
        case .project(let id):
            out.append(1)
            TokenPayload.writeID(id, to: &out)
        case .domain(let id):
            out.append(2)
            TokenPayload.writeID(id, to: &out)
        case .system: out.append(3)
        }
        TokenPayload.writeInt(expiresAt, to: &out)
        TokenPayload.writeInt(issuedAt, to: &out)
        let audits = auditIDs.prefix(2).compactMap { Data(base64URL: $0) }.filter { $0.count == 16 }
        out.append(UInt8(audits.count))
        for a in audits { out += a }
        if let app = applicationCredentialID {
            out.append(1)
            TokenPayload.writeID(app, to: &out)
        } else {
            out.append(0)
        }
        if let trust = trustID {
            out.append(1)
            TokenPayload.writeID(trust, to: &out)
        }
        return out
    }

    public init?(decoding bytes: [UInt8]) {
        var r = Reader(bytes: bytes)
        guard r.byte() == 1, let bits = r.byte(), let user = r.id(), let kind = r.byte() else { return nil }
        methods = TokenPayload.methodNames.enumerated().filter { bits & (1 << UInt8($0.offset)) != 0 }.map(\.element)
        userID = user
        switch kind {
        case 0: scope = .unscoped
        case 1:
            guard let id = r.id() else { return nil }
            scope = .project(id)
        case 2:
            guard let id = r.id() else { return nil }
            scope = .domain(id)
        case 3: scope = .system
        default: return nil
        }
        guard let exp = r.int(), let iss = r.int(), let n = r.byte() else { return nil }
        expiresAt = exp
        issuedAt = iss
        auditIDs = []
        for _ in 0..<n {
            guard let raw = r.take(16) else { return nil }
            auditIDs.append(Data(raw).base64URLEncodedString(padded: false))
        }
        guard let hasApp = r.byte() else { return nil }
        applicationCredentialID = hasApp == 1 ? r.id() : nil
        if hasApp == 1 && applicationCredentialID == nil { return nil }
        switch r.byte() {
        case nil: trustID = nil
        case 1:
            guard let id = r.id() else { return nil }
            trustID = id
        default: return nil
        }
        guard r.pos == bytes.count else { return nil }
    }

    static func writeInt(_ v: Int64, to out: inout [UInt8]) {
        let u = UInt64(bitPattern: v)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: u >> UInt64(shift))) }
    }

    static func writeID(_ id: String, to out: inout [UInt8]) {
        let utf8 = Array(id.utf8)
        if utf8.count == 32, let packed = hexBytes(utf8) {
            out.append(0xFF)
            out += packed
        } else {
            out.append(UInt8(min(utf8.count, 254)))
            out += utf8.prefix(254)
        }
    }

    static func hexBytes(_ s: [UInt8]) -> [UInt8]? {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(16)
        var i = 0
        while i < s.count {
            guard let hi = nibble(s[i]), let lo = nibble(s[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// A cursor over the payload bytes; every read fails (nil) past the end.
    struct Reader {
        let bytes: [UInt8]
        var pos = 0
        mutating func byte() -> UInt8? {
            guard pos < bytes.count else { return nil }
            defer { pos += 1 }
            return bytes[pos]
        }
        mutating func take(_ n: Int) -> ArraySlice<UInt8>? {
            guard pos + n <= bytes.count else { return nil }
            defer { pos += n }
            return bytes[pos..<(pos + n)]
        }
        mutating func int() -> Int64? {
            guard let raw = take(8) else { return nil }
            return Int64(bitPattern: raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
        mutating func id() -> String? {
            guard let tag = byte() else { return nil }
            if tag == 0xFF {
                guard let raw = take(16) else { return nil }
                return raw.map { String(format: "%02x", $0) }.joined()
            }
            guard let raw = take(Int(tag)) else { return nil }
            return String(decoding: raw, as: UTF8.self)
        }
    }
}
