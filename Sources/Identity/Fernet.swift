import Crypto
import Foundation
import _CryptoExtras

/// A Fernet key: 128-bit HMAC-SHA256 signing key + 128-bit AES-CBC encryption key, stored as
/// URL-safe base64 of the 32 bytes (the cryptography library's format, keystone's key files).
public struct FernetKey: Sendable, Equatable {
    let raw: Data
    public var signing: SymmetricKey { SymmetricKey(data: raw.prefix(16)) }
    public var encryption: SymmetricKey { SymmetricKey(data: raw.suffix(16)) }

    public init?(base64: String) {
        guard let data = Data(base64URL: base64.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else { return nil }
        raw = data
    }

    /// A new random key.
    public static func generate() -> FernetKey {
        FernetKey(base64: Data(randomBytes(32)).base64URLEncodedString(padded: true))!
    }

    public var base64: String { raw.base64URLEncodedString(padded: true) }

    public static func == (a: FernetKey, b: FernetKey) -> Bool { a.raw == b.raw }
}

/// The Fernet token format (spec: version 0x80, 64-bit timestamp, IV, AES-128-CBC
/// ciphertext with PKCS#7 padding, HMAC-SHA256 over all of it), base64url without padding,
/// as keystone emits it.
public enum Fernet {
    /// A token that is not valid Fernet, or not signed by any of the keys.
    public struct InvalidToken: Error, Sendable {}

    public static func encrypt(_ plaintext: [UInt8], key: FernetKey, at time: Date = Date()) throws -> String {
        let iv = randomBytes(16)
        let ciphertext = try AES._CBC.encrypt(plaintext, using: key.encryption, iv: AES._CBC.IV(ivBytes: iv))
        var token: [UInt8] = [0x80]
        token.reserveCapacity(57 + ciphertext.count)
        let ts = UInt64(max(0, time.timeIntervalSince1970))
        for shift in stride(from: 56, through: 0, by: -8) { token.append(UInt8(truncatingIfNeeded: ts >> UInt64(shift))) }
        token += iv
        token += ciphertext
        let mac = HMAC<SHA256>.authenticationCode(for: token, using: key.signing)
        token += Array(mac)
        return Data(token).base64URLEncodedString(padded: false)
    }

    /// Decrypts with whichever key signed the token. Returns the plaintext and the token's timestamp.
    public static func decrypt(_ token: String, keys: [FernetKey]) throws(InvalidToken) -> (plaintext: [UInt8], timestamp: UInt64) {
        guard let data = Data(base64URL: token), data.count >= 1 + 8 + 16 + 16 + 32, data.first == 0x80 else { throw InvalidToken() }
        let bytes = [UInt8](data)
        let signed = bytes[0..<(bytes.count - 32)]
        let mac = bytes[(bytes.count - 32)...]
        for key in keys where HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signed, using: key.signing) {
            var ts: UInt64 = 0
            for b in bytes[1..<9] { ts = ts << 8 | UInt64(b) }
            let iv = Array(bytes[9..<25])
            let ciphertext = Array(bytes[25..<(bytes.count - 32)])
            guard let ivValue = try? AES._CBC.IV(ivBytes: iv),
                let plain = try? AES._CBC.decrypt(ciphertext, using: key.encryption, iv: ivValue)
            else { throw InvalidToken() }
            return (Array(plain), ts)
        }
        throw InvalidToken()
    }
}

extension Data {
    /// Decodes URL-safe base64, with or without `=` padding; nil on any other character.
    init?(base64URL s: String) {
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in s.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"), UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "_"), UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        if bits >= 6 { return nil }  // a lone trailing character is not base64
        self.init(out)
    }

    func base64URLEncodedString(padded: Bool) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out = [UInt8]()
        out.reserveCapacity((count + 2) / 3 * 4)
        var it = makeIterator()
        while let a = it.next() {
            let b = it.next()
            let c = it.next()
            out.append(alphabet[Int(a >> 2)])
            out.append(alphabet[Int((a & 0x03) << 4 | (b ?? 0) >> 4)])
            if let b { out.append(alphabet[Int((b & 0x0F) << 2 | (c ?? 0) >> 6)]) } else if padded { out.append(UInt8(ascii: "=")) }
            if let c { out.append(alphabet[Int(c & 0x3F)]) } else if padded { out.append(UInt8(ascii: "=")) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// `n` random bytes from the system CSPRNG, eight at a time (one `getrandom` per 8 bytes, not per byte).
func randomBytes(_ n: Int) -> [UInt8] {
    var rng = SystemRandomNumberGenerator()
    var out = [UInt8]()
    out.reserveCapacity(n + 8)
    while out.count < n {
        let v = rng.next()
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }
    return Array(out.prefix(n))
}
