import Foundation
import StratusCore

/// A keypair create/import request, checked as nova's schema and controller check it.
struct KeypairRequest: Equatable, Sendable {
    /// Stripped, as `common.normalize_name` does.
    var name: String
    var type: KeypairRules.KeyType
    /// nil: generate a key (only before 2.92; from 2.92 the schema requires it).
    var publicKey: String?
    /// 2.10+: the owner an admin asks for.
    var userID: String?
}

/// nova's keypair rules (schemas/keypairs.py, compute/api.py KeypairAPI, crypto.py) with their exact
/// texts: the name and body checks, OpenSSH public key parsing, and the fingerprint's format.
enum KeypairRules {
    /// `type` (2.2+).
    enum KeyType: String, Sendable {
        case ssh, x509
    }

    /// A 400 with nova's message.
    struct Refusal: Error, Equatable, Sendable {
        var message: String
    }

    /// A public key line nova would accept.
    struct SSHPublicKey: Equatable, Sendable {
        /// The line's key type, e.g. `ssh-ed25519`.
        var keyType: String
        /// What nova's fingerprint is the MD5 of: the base64 decoding of the line's second
        /// space-separated field (for a key written with one space, the key blob).
        var blob: [UInt8]
    }

    /// The 400 for any ssh public key nova cannot load (`InvalidKeypair`).
    static let invalidPublicKey = "Keypair data is invalid: failed to generate fingerprint"
    /// 409 `KeyPairExists`.
    static func exists(_ name: String) -> String { "Key pair '\(name)' already exists." }
    /// 404 `KeypairNotFound`.
    static func notFound(_ name: String, userID: String) -> String { "Keypair \(name) not found for user \(userID)" }
    /// 403 `KeypairLimitExceeded`.
    static let quotaExceeded = "Quota exceeded, too many key pairs."

    /// Checks a create body at microversion 2.`minor` (2.1+).
    static func create(_ body: NovaSchema.Value, minor: Int) -> Result<KeypairRequest, Refusal> {
        if let detail = NovaSchema.check(body, createSchema(minor: minor)) { return .failure(Refusal(message: detail)) }
        guard let k = body["keypair"], let name = k["name"]?.stringValue else {
            return .failure(Refusal(message: "'keypair' is a required property"))
        }
        let type = k["type"]?.stringValue.flatMap(KeyType.init(rawValue:)) ?? .ssh
        return .success(
            KeypairRequest(name: NovaSchema.pyStrip(name), type: type, publicKey: k["public_key"]?.stringValue, userID: k["user_id"]?.stringValue)
        )
    }

    /// The body schema: the name rule tightens at 2.92 (adding `@` and `.`), which also requires `public_key`.
    static func createSchema(minor: Int) -> NovaSchema.Schema {
        let characters = minor >= 92 ? #"^[_\-\@\. a-zA-Z0-9]+$"# : #"^[_\- a-zA-Z0-9]+$"#
        let allowed = minor >= 92 ? "_@. a-zA-Z0-9-" : "_ a-zA-Z0-9-"
        let name = NovaSchema.Schema([
            .allOf([
                NovaSchema.name,
                NovaSchema.Schema([
                    .type(["string"]), .pattern(characters) { NovaSchema.all($0, in: allowed) }, .minLength(1), .maxLength(255),
                ]),
            ])
        ])
        let string = NovaSchema.Schema([.type(["string"])])
        var properties: [(String, NovaSchema.Schema)] = [("name", name)]
        if minor >= 2 { properties.append(("type", NovaSchema.Schema([.type(["string"]), .oneOf([.string("ssh"), .string("x509")])]))) }
        properties.append(("public_key", string))
        if minor >= 10 { properties.append(("user_id", string)) }
        let keypair = NovaSchema.object(properties, required: minor >= 92 ? ["name", "public_key"] : ["name"])
        return NovaSchema.object([("keypair", keypair)], required: ["keypair"])
    }

    /// nova's fingerprint format: lowercase hex pairs joined by colons (MD5 for ssh, SHA-1 for x509).
    static func colonHex(_ digest: [UInt8]) -> String {
        digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }

    /// Loads an OpenSSH public key line as nova does (pyca `load_ssh_public_key`, then the base64 of the
    /// second space-separated field): `<type> <base64 blob>[ comment]`, the blob's first string equal to
    /// the type, the key's fields complete and valid (RSA: e and n; EC: a point on the named curve), and
    /// nothing after them. Types: ssh-rsa, ssh-dss, ssh-ed25519, ecdsa-sha2-nistp256/384/521,
    /// sk-ssh-ed25519@openssh.com and sk-ecdsa-sha2-nistp256@openssh.com. Certificates
    /// (`*-cert-v01@openssh.com`), which nova also loads, are refused.
    static func parsePublicKey(_ line: String) -> Result<SSHPublicKey, Refusal> {
        let refused = Result<SSHPublicKey, Refusal>.failure(Refusal(message: invalidPublicKey))
        let bytes = Array(line.utf8)
        let isSpace: (UInt8) -> Bool = { [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains($0) }
        let typeEnd = bytes.firstIndex(where: isSpace) ?? bytes.count
        var i = typeEnd
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
        let bodyEnd = bytes[i...].firstIndex(where: isSpace) ?? bytes.count
        guard typeEnd > 0, i > typeEnd, bodyEnd > i, let blob = SSHWire.base64(bytes[i..<bodyEnd]) else { return refused }
        let keyType = Array(bytes[..<typeEnd])
        var reader = SSHWire(blob)
        guard reader.string() == keyType, SSHWire.loadKey(type: keyType, from: &reader), reader.atEnd else { return refused }
        // NOTE: nova hashes `public_key.split(' ')[1]` decoded, not what pyca parsed; they differ only
        // when the fields are separated by something other than one space.
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count > 1, fields[1].utf8.allSatisfy({ $0 < 0x80 }), let hashed = SSHWire.base64(Array(fields[1].utf8)[...]) else {
            return refused
        }
        return .success(SSHPublicKey(keyType: String(decoding: keyType, as: UTF8.self), blob: hashed))
    }

    /// The DER certificate inside an x509 keypair's PEM text, whose SHA-1 is the fingerprint. Only the
    /// PEM framing is checked; the error texts are pyca's for a missing frame and a wrong label.
    static func certificateDER(_ pem: String) -> Result<[UInt8], Refusal> {
        func refused(_ why: String) -> Result<[UInt8], Refusal> {
            .failure(Refusal(message: "Keypair data is invalid: failed to generate X509 fingerprint. Error message: \(why)"))
        }
        let framing = "Unable to load PEM file. See https://cryptography.io/en/latest/faq/#why-can-t-i-import-my-pem-file for more details. "
        guard let begin = pem.range(of: "-----BEGIN "), let labelEnd = pem.range(of: "-----", range: begin.upperBound..<pem.endIndex)
        else { return refused(framing + "MalformedFraming") }
        let label = pem[begin.upperBound..<labelEnd.lowerBound]
        guard let end = pem.range(of: "-----END \(label)-----", range: labelEnd.upperBound..<pem.endIndex) else {
            return refused(framing + "MalformedFraming")
        }
        guard label == "CERTIFICATE" || label == "X509 CERTIFICATE" else {
            return refused("Valid PEM but no BEGIN CERTIFICATE/END CERTIFICATE delimiters. Are you sure this is a certificate?")
        }
        let body = pem[labelEnd.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        guard let der = Data(base64Encoded: String(body)), der.first == 0x30 else { return refused(framing + "InvalidData") }
        return .success(Array(der))
    }
}

// MARK: - The SSH wire format and what pyca checks while loading a public key

/// A reader over a key blob (RFC 4253 §6.6: u32-length-prefixed strings and mpints).
private struct SSHWire {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { offset == bytes.count }

    mutating func string() -> [UInt8]? {
        guard bytes.count - offset >= 4 else { return nil }
        let n = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        guard bytes.count - offset - 4 >= n else { return nil }
        defer { offset += 4 + n }
        return Array(bytes[offset + 4..<offset + 4 + n])
    }

    /// A non-negative mpint (pyca refuses a set top bit).
    mutating func mpint() -> KeyNumber? {
        guard let s = string(), (s.first ?? 0) <= 0x7F else { return nil }
        return KeyNumber(s)
    }

    /// Reads and checks the fields of a `type` key (`_KEY_FORMATS[type].load_public`).
    static func loadKey(type: [UInt8], from r: inout SSHWire) -> Bool {
        switch String(decoding: type, as: UTF8.self) {
        case "ssh-rsa":
            // RSAPublicNumbers.public_key(): n >= 3, 3 <= e < n, e odd.
            guard let e = r.mpint(), let n = r.mpint() else { return false }
            return KeyNumber(3) <= n && KeyNumber(3) <= e && e < n && e.isOdd
        case "ssh-dss":
            // SSH allows only 1024-bit p; DSAParameterNumbers: a 160/224/256-bit q and 1 < g < p.
            guard let p = r.mpint(), let q = r.mpint(), let g = r.mpint(), r.mpint() != nil else { return false }
            return p.bitLength == 1024 && [160, 224, 256].contains(q.bitLength) && KeyNumber(1) < g && g < p
        case "ssh-ed25519":
            return r.string()?.count == 32
        case "sk-ssh-ed25519@openssh.com":
            return r.string()?.count == 32 && r.application()
        case "ecdsa-sha2-nistp256":
            return r.point(on: .p256)
        case "sk-ecdsa-sha2-nistp256@openssh.com":
            return r.point(on: .p256) && r.application()
        case "ecdsa-sha2-nistp384":
            return r.point(on: .p384)
        case "ecdsa-sha2-nistp521":
            return r.point(on: .p521)
        default:
            return false
        }
    }

    /// A FIDO key's application string, which must start with `ssh:`.
    private mutating func application() -> Bool { string()?.starts(with: Array("ssh:".utf8)) == true }

    /// The curve name, then an uncompressed point (0x04 ‖ x ‖ y) with coordinates below p that
    /// satisfies y² = x³ − 3x + b (mod p), as OpenSSL's `EC_POINT_oct2point` demands.
    private mutating func point(on curve: NISTCurve) -> Bool {
        guard string() == Array(curve.name.utf8), let point = string(), point.first == 4, point.count == 1 + 2 * curve.size else {
            return false
        }
        let x = KeyNumber(point[1...curve.size])
        let y = KeyNumber(point[(1 + curve.size)...])
        let p = curve.p
        guard x < p, y < p else { return false }
        let lhs = (y * y).mod(p)
        let rhs = ((x * x).mod(p) * x + KeyNumber(3) * (p - x) + curve.b).mod(p)
        return lhs == rhs
    }

    /// CPython's `binascii.a2b_base64` (3.11/3.12, non-strict): characters outside the alphabet are
    /// skipped, a pad that completes a quad ends the data, and an unfinished quad is an error.
    static func base64(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var quad = 0
        var left: UInt8 = 0
        var pads = 0
        for c in text {
            if c == UInt8(ascii: "=") {
                if quad >= 2 {
                    pads += 1
                    if quad + pads >= 4 { return out }
                }
                continue
            }
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            default: continue
            }
            pads = 0
            switch quad {
            case 0: left = v
            case 1:
                out.append(left << 2 | v >> 4)
                left = v & 0x0F
            case 2:
                out.append(left << 4 | v >> 2)
                left = v & 0x03
            default: out.append(left << 6 | v)
            }
            quad = (quad + 1) % 4
        }
        return quad == 0 ? out : nil
    }
}

/// The NIST curves OpenSSH uses (SEC 2): field prime, coefficient b (a is −3) and coordinate size.
private struct NISTCurve {
    var name: String
    var size: Int
    var p: KeyNumber
    var b: KeyNumber

    static let p256 = NISTCurve(
        name: "nistp256",
        size: 32,
        p: KeyNumber(hex: "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"),
        b: KeyNumber(hex: "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b")
    )
    static let p384 = NISTCurve(
        name: "nistp384",
        size: 48,
        p: KeyNumber(hex: "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff"),
        b: KeyNumber(hex: "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef")
    )
    static let p521 = NISTCurve(
        name: "nistp521",
        size: 66,
        p: KeyNumber(hex: "1" + String(repeating: "f", count: 130)),
        b: KeyNumber(
            hex: "51953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00"
        )
    )
}

/// Just enough unsigned big-integer arithmetic for the key checks: little-endian 32-bit limbs.
private struct KeyNumber: Comparable {
    private var limbs: [UInt32]

    private init(limbs: [UInt32]) {
        var l = limbs
        while l.last == 0 { l.removeLast() }
        self.limbs = l
    }

    init(_ value: UInt32) { self.init(limbs: [value]) }

    /// From big-endian bytes.
    init(_ bytes: some Collection<UInt8>) {
        var limbs: [UInt32] = []
        var limb: UInt32 = 0
        var shift: UInt32 = 0
        for byte in bytes.reversed() {
            limb |= UInt32(byte) << shift
            shift += 8
            if shift == 32 {
                limbs.append(limb)
                (limb, shift) = (0, 0)
            }
        }
        limbs.append(limb)
        self.init(limbs: limbs)
    }

    init(hex: String) {
        let digits = Array(hex.utf8).map { UInt8(String(UnicodeScalar($0)), radix: 16)! }
        let padded = (digits.count % 2 == 1 ? [0] : []) + digits
        self.init(stride(from: 0, to: padded.count, by: 2).map { padded[$0] << 4 | padded[$0 + 1] })
    }

    var isOdd: Bool { (limbs.first ?? 0) & 1 == 1 }
    var bitLength: Int { limbs.last.map { limbs.count * 32 - $0.leadingZeroBitCount } ?? 0 }

    static func < (a: KeyNumber, b: KeyNumber) -> Bool {
        if a.limbs.count != b.limbs.count { return a.limbs.count < b.limbs.count }
        for i in stride(from: a.limbs.count - 1, through: 0, by: -1) where a.limbs[i] != b.limbs[i] { return a.limbs[i] < b.limbs[i] }
        return false
    }

    static func + (a: KeyNumber, b: KeyNumber) -> KeyNumber {
        var out: [UInt32] = []
        var carry: UInt64 = 0
        for i in 0..<max(a.limbs.count, b.limbs.count) {
            let s = UInt64(i < a.limbs.count ? a.limbs[i] : 0) + UInt64(i < b.limbs.count ? b.limbs[i] : 0) + carry
            out.append(UInt32(truncatingIfNeeded: s))
            carry = s >> 32
        }
        return KeyNumber(limbs: out + [UInt32(carry)])
    }

    /// `a - b` for `a >= b`.
    static func - (a: KeyNumber, b: KeyNumber) -> KeyNumber {
        var out: [UInt32] = []
        var borrow: Int64 = 0
        for i in 0..<a.limbs.count {
            var d = Int64(a.limbs[i]) - Int64(i < b.limbs.count ? b.limbs[i] : 0) - borrow
            borrow = d < 0 ? 1 : 0
            if d < 0 { d += 1 << 32 }
            out.append(UInt32(d))
        }
        return KeyNumber(limbs: out)
    }

    static func * (a: KeyNumber, b: KeyNumber) -> KeyNumber {
        var out = [UInt32](repeating: 0, count: a.limbs.count + b.limbs.count + 1)
        for (i, x) in a.limbs.enumerated() {
            var carry: UInt64 = 0
            for (j, y) in b.limbs.enumerated() {
                let t = UInt64(x) * UInt64(y) + UInt64(out[i + j]) + carry
                out[i + j] = UInt32(truncatingIfNeeded: t)
                carry = t >> 32
            }
            out[i + b.limbs.count] = UInt32(carry)
        }
        return KeyNumber(limbs: out)
    }

    /// The remainder by `m`, one bit at a time (operands here are at most a few thousand bits).
    func mod(_ m: KeyNumber) -> KeyNumber {
        var r = KeyNumber(limbs: [])
        for bit in stride(from: bitLength - 1, through: 0, by: -1) {
            r = r + r
            if limbs[bit / 32] >> UInt32(bit % 32) & 1 == 1 { r = r + KeyNumber(1) }
            if !(r < m) { r = r - m }
        }
        return r
    }
}
