import Crypto
import Foundation

/// The signatures EC2 and S3 gateways ask Identity to check (`POST /v3/ec2tokens`, `/v3/s3tokens`):
/// what the client should have computed with the credential's secret, as keystoneclient's signer
/// computes it (AWS signature versions 0, 1, 2 and 4, and S3's v1 and v4 string-to-sign).
enum EC2Signature {
    /// A request as an EC2 gateway describes it.
    struct Request: Sendable, Equatable {
        var host: String
        var verb: String
        var path: String
        var params: [String: String]
        var headers: [String: String] = [:]
        var bodyHash: String = ""
    }

    enum Failure: Error, Equatable {
        /// No version the signer knows (keystone answers 500; Stratus 401).
        case unknownVersion(String)
        /// The v4 request date does not start with the credential scope's date.
        case dateMismatch
        /// A v4 field the signature needs is absent.
        case missing(String)
    }

    /// The signature `request` should carry.
    static func expected(secret: String, request: Request) throws -> String {
        switch request.params["SignatureVersion"] {
        case "0": return base64(hmac(Insecure.SHA1.self, secret, (request.params["Action"] ?? "") + (request.params["Timestamp"] ?? "")))
        case "1":
            let text = request.params.sorted { $0.key.lowercased() < $1.key.lowercased() }.map { $0.key + $0.value }.joined()
            return base64(hmac(Insecure.SHA1.self, secret, text))
        case "2":
            var params = request.params
            params["SignatureMethod"] = "HmacSHA256"
            let text = [request.verb, request.host, request.path, canonicalQuery(params)].joined(separator: "\n")
            return base64(hmac(SHA256.self, secret, text))
        case let other?:
            if isV4(request) { return try v4(secret: secret, request: request) }
            throw Failure.unknownVersion(other)
        case nil:
            if isV4(request) { return try v4(secret: secret, request: request) }
            throw Failure.unknownVersion("")
        }
    }

    /// Whether `signature` matches, trying once more with the host's port removed (clients differ
    /// on whether they sign it), in constant time.
    static func matches(_ signature: String, secret: String, request: Request) throws -> Bool {
        if constantTimeEqual(try expected(secret: secret, request: request), signature) { return true }
        guard request.host.contains(":") else { return false }
        var bare = request
        bare.host = hostname(request.host)
        return constantTimeEqual(try expected(secret: secret, request: bare), signature)
    }

    /// `host[:port]` or `[v6]:port` → the lower-cased host name without port or brackets.
    static func hostname(_ host: String) -> String {
        var h = Substring(host)
        if h.hasPrefix("["), let close = h.firstIndex(of: "]") {
            h = h[h.index(after: h.startIndex)..<close]
        } else if let colon = h.lastIndex(of: ":") {
            h = h[..<colon]
        }
        return h.lowercased()
    }

    /// AWS's canonical query string: keys sorted by code point, key and value percent-encoded
    /// (upper-case hex) except `A-Z a-z 0-9 - _ . ~`, joined with `&`.
    static func canonicalQuery(_ params: [String: String]) -> String {
        params.sorted { Array($0.key.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.key.unicodeScalars.map(\.value)) }
            .map { percentEncode($0.key) + "=" + percentEncode($0.value) }.joined(separator: "&")
    }

    static func percentEncode(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// v4 when the `Authorization` header says so, or (without that header) `X-Amz-Algorithm`.
    static func isV4(_ request: Request) -> Bool {
        if let auth = request.headers["Authorization"] { return auth.hasPrefix("AWS4-HMAC-SHA256") }
        return request.params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    }

    /// A v4 authorization parameter: from the `Authorization` header (the text after `name=` up to
    /// the next comma, untrimmed), else the `X-Amz-<name>` query parameter.
    static func authParameter(_ name: String, _ request: Request) -> String? {
        if let auth = request.headers["Authorization"] {
            guard let start = auth.range(of: name + "=") else { return nil }
            let rest = auth[start.upperBound...]
            return String(rest.prefix { $0 != "," })
        }
        return request.params["X-Amz-" + name]
    }

    static func v4(secret: String, request: Request) throws -> String {
        guard let date = request.headers["X-Amz-Date"] ?? request.params["X-Amz-Date"] else { throw Failure.missing("X-Amz-Date") }
        guard let signedHeaders = authParameter("SignedHeaders", request) else { throw Failure.missing("SignedHeaders") }
        guard let credential = authParameter("Credential", request) else { throw Failure.missing("Credential") }
        var lower: [String: String] = [:]
        for (k, v) in request.headers { lower[k.lowercased().trimmingCharacters(in: .whitespaces)] = v.trimmingCharacters(in: .whitespaces) }
        let oldBoto = lower["user-agent"].map { $0.range(of: #"^Boto/2\.[0-9]\.[0-2]"#, options: .regularExpression) != nil } ?? false
        var canonicalHeaders = ""
        for name in signedHeaders.split(separator: ";", omittingEmptySubsequences: false).map(String.init) {
            guard var value = lower[name] else { continue }
            if name == "host" && oldBoto { value = String(value.split(separator: ":", maxSplits: 1).first ?? "") }
            canonicalHeaders += name + ":" + value + "\n"
        }
        let query = request.verb.uppercased() == "POST" ? "" : canonicalQuery(request.params)
        let canonical = [request.verb.uppercased(), request.path, query, canonicalHeaders, signedHeaders, request.bodyHash].joined(
            separator: "\n"
        )
        let scopeParts = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scopeParts.count >= 4 else { throw Failure.missing("Credential") }
        let scope = scopeParts.dropFirst().joined(separator: "/")
        guard date.hasPrefix(scopeParts[1]) else { throw Failure.dateMismatch }
        let toSign = "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + hex(SHA256.hash(data: Data(canonical.utf8)))
        return hex(signingKey(secret: secret, date: scopeParts[1], region: scopeParts[2], service: scopeParts[3], toSign: toSign))
    }

    /// HMAC-SHA256 of `toSign` with AWS's derived key (date, region, service, "aws4_request").
    static func signingKey(secret: String, date: String, region: String, service: String, toSign: String) -> Data {
        var key = Data(("AWS4" + secret).utf8)
        for part in [date, region, service, "aws4_request", toSign] {
            key = Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: SymmetricKey(data: key)))
        }
        return key
    }

    /// The signature an S3 gateway's string-to-sign (`token`, base64 — either alphabet) should
    /// carry: HMAC-SHA1 base64 for v1, hex HMAC-SHA256 with the derived key for v4 (whose scope
    /// must be `<date>/<region>/s3|iam|sts/aws4_request`). Nil when the token is not readable.
    static func s3Expected(secret: String, token: String) -> String? {
        var b64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let raw = Data(base64Encoded: b64) else { return nil }
        let text = String(decoding: raw, as: UTF8.self)
        guard raw.starts(with: Data("AWS4".utf8)) else {
            return Data(HMAC<Insecure.SHA1>.authenticationCode(for: raw, using: SymmetricKey(data: Data(secret.utf8)))).base64EncodedString()
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count == 4, lines[0] == "AWS4-HMAC-SHA256" else { return nil }
        let scope = lines[2].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 4, scope[3] == "aws4_request", ["s3", "iam", "sts"].contains(scope[2]) else { return nil }
        return hex(signingKey(secret: secret, date: scope[0], region: scope[1], service: scope[2], toSign: text))
    }

    static func hmac<H: HashFunction>(_: H.Type, _ secret: String, _ text: String) -> Data {
        Data(HMAC<H>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(secret.utf8))))
    }

    static func base64(_ data: Data) -> String { data.base64EncodedString() }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 { bytes.map { String(format: "%02x", $0) }.joined() }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    /// A request timestamp (microseconds): ISO 8601 in AWS's basic form (`20240101T000000Z`) or
    /// the extended one; without a zone it is UTC. Nil when it is neither.
    static func timestamp(_ text: String) -> Int64? {
        let basic = Array(text.utf8)
        if basic.count >= 15, basic[8] == UInt8(ascii: "T"), !text.contains("-"), !text.contains(":") {
            let digits = text.filter(\.isNumber)
            guard digits.count == 14 else { return nil }
            let d = Array(digits)
            let extended =
                "\(String(d[0..<4]))-\(String(d[4..<6]))-\(String(d[6..<8]))T\(String(d[8..<10])):\(String(d[10..<12])):\(String(d[12..<14]))Z"
            return Clock.parse(extended)
        }
        return Clock.parse(text)
    }

    /// A credential's id as keystone derives it from the access key: SHA-256, lower-case hex.
    static func credentialID(access: String) -> String { hex(SHA256.hash(data: Data(access.utf8))) }
}
