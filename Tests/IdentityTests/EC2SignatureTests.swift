import Foundation
import Testing

@testable import Identity

/// Vectors computed by keystoneclient's Ec2Signer (keystone 30's) and keystone's own S3 tests.
@Suite("EC2 and S3 signatures")
struct EC2SignatureTests {
    let secret = "b121dd41cdcc42fe9f70e572e84295aa"

    @Test("signature versions 0, 1 and 2 (always HMAC-SHA256, with the canonical query's encoding)")
    func versions012() throws {
        let plain = ["Action": "Test", "Timestamp": "2024-01-01T00:00:00Z"]
        var v0 = EC2Signature.Request(host: "localhost", verb: "GET", path: "/", params: plain)
        v0.params["SignatureVersion"] = "0"
        #expect(try EC2Signature.expected(secret: secret, request: v0) == "v0HqeaRACvTUbvLJ2OBUPeXHtoE=")
        var v1 = v0
        v1.params["SignatureVersion"] = "1"
        #expect(try EC2Signature.expected(secret: secret, request: v1) == "s3CDNXpuo0pafUCtl4G9Glin9U8=")
        var v2 = EC2Signature.Request(host: "localhost:8773", verb: "GET", path: "/", params: plain)
        v2.params["SignatureVersion"] = "2"
        v2.params["Key With/Space"] = "a b/c~"
        let expected = "6aud20KbkXEcL5Jc2P1v3ZdwjsHPdommocjXSiyeQzc="
        #expect(try EC2Signature.expected(secret: secret, request: v2) == expected)
        // the method the client names does not matter: the signer always uses HmacSHA256
        v2.params["SignatureMethod"] = "HmacSHA1"
        #expect(try EC2Signature.matches(expected, secret: secret, request: v2))
        #expect(try EC2Signature.matches(expected, secret: "another secret", request: v2) == false)
        v2.params["Action"] = "Tampered"
        #expect(try EC2Signature.matches(expected, secret: secret, request: v2) == false)
    }

    @Test("a client that signed without the port still matches")
    func portRetry() throws {
        var signed = EC2Signature.Request(host: "localhost", verb: "GET", path: "/", params: ["SignatureVersion": "2", "Action": "A"])
        let signature = try EC2Signature.expected(secret: secret, request: signed)
        signed.host = "LocalHost:8773"
        #expect(try EC2Signature.matches(signature, secret: secret, request: signed))
        #expect(EC2Signature.hostname("[::1]:8773") == "::1")
    }

    @Test("signature version 4 from the Authorization header, GET and POST")
    func version4() throws {
        var request = EC2Signature.Request(
            host: "localhost:8773",
            verb: "get",
            path: "/",
            params: ["Action": "DescribeInstances", "Version": "2016-11-15"],
            headers: [
                "Authorization":
                    "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=x",
                "Host": "localhost:8773", "X-Amz-Date": "20240101T000000Z",
            ],
            bodyHash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        #expect(try EC2Signature.expected(secret: secret, request: request) == "ea97642401b88a96bdca95aad1b1db027f8adc3617bb07d0e898dbd324c4c91a")
        request.verb = "POST"
        #expect(try EC2Signature.expected(secret: secret, request: request) == "e22945575e98c2f247491164099860c2dacaf90e262d8e2af155d748573993fa")
        request.headers["X-Amz-Date"] = "20240102T000000Z"
        #expect(throws: EC2Signature.Failure.dateMismatch) { try EC2Signature.expected(secret: secret, request: request) }
        #expect(throws: EC2Signature.Failure.unknownVersion("")) {
            try EC2Signature.expected(secret: secret, request: .init(host: "h", verb: "GET", path: "/", params: [:]))
        }
    }

    @Test("S3 string-to-sign, v1 and v4")
    func s3() {
        let v1 =
            "UFVUCjFCMk0yWThBc2dUcGdBbVk3UGhDZmc9PQphcHBsaWNhdGlvbi9vY3RldC1zdHJlYW0KVHVlLCAxMSBEZWMgMjAxMiAyMTo0MTo0MSBHTVQKL2NvbnRfczMvdXBsb2FkZWRfZnJvbV9zMy50eHQ="
        #expect(EC2Signature.s3Expected(secret: secret, token: v1) == "IL4QLcLVaYgylF9iHj6Wb8BGZsw=")
        let v4 =
            "QVdTNC1ITUFDLVNIQTI1NgoyMDE1MDgyNFQxMTIwNDFaCjIwMTUwODI0L1JlZ2lvbk9uZS9zMy9hd3M0X3JlcXVlc3QKZjIyMTU1ODBlZWI5YTE2NzM1MWJkOTNlODZjM2I2ZjA0YTkyOGY1YzU1MjBhMzkzNWE0NTM1NDBhMDk1NjRiNQ=="
        #expect(
            EC2Signature.s3Expected(secret: "e7a7a2240136494986991a6598d9fb9f", token: v4)
                == "730ba8f58df6ffeadd78f402e990b2910d60bc5c2aec63619734f096a4dd77be"
        )
        // a v4 scope naming another service is refused
        let ec2Scope = Data("AWS4-HMAC-SHA256\n20150824T112041Z\n20150824/RegionOne/ec2/aws4_request\nabc".utf8).base64EncodedString()
        #expect(EC2Signature.s3Expected(secret: secret, token: ec2Scope) == nil)
        #expect(EC2Signature.s3Expected(secret: secret, token: "not base64 !") == nil)
    }

    @Test("timestamps in AWS's basic and extended forms; the credential id is the access key's SHA-256")
    func timestampsAndIDs() {
        #expect(EC2Signature.timestamp("20240101T000000Z") == EC2Signature.timestamp("2024-01-01T00:00:00Z"))
        #expect(EC2Signature.timestamp("2024-01-01T00:00:00Z") == 1_704_067_200_000_000)
        #expect(EC2Signature.timestamp("yesterday") == nil)
        #expect(EC2Signature.credentialID(access: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
