import Foundation
import Testing

@testable import Compute

/// nova's keypair body rules and public key loading, on literal keys made with ssh-keygen.
@Suite struct KeypairRulesTests {
    static let ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIPZE3Zitc9CPa7gMpupV3CI0VloTWoeKMvmjXjzAoqa alice@stratus"
    static let rsaBlob = """
        AAAAB3NzaC1yc2EAAAADAQABAAABAQCi1MRF1Ga58CqMDwrMx7iIx3pmkbRdf+D1b3ePuEg/OVhrkL85D5uAbD6VrEFW1zE78dULDkmERyqs/L\
        G7hZJ7OcwpvDM7/AIHwUUFiScL39XC6NDafN2ssUQEKVR9LMluhK5IdCLH/SMQ5Nm08LNn5QNJ29uqXHJR2zzbHTgxayztDMWM7Akch7065S17\
        +Si1DPbhNXEhLrhLaTFsh6o2/VXG0QABTaIcMFMxTg2VR25OXyv94M9YXsZAYsjKYvSuL557ZupUN3A/tRwhK44TM/TsMOdP+IqjMpMwUCrxIG\
        2yL6maLmOj9v3ew0AP3ZfoDdYj+qQq1pHEzfAkOQpP
        """
    static let ecdsa = """
        ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJX/tKUOmX7HrIqe7qP89hTFwKJwTsF8u7pUSDz0+hNB0pGsQveuomCnjyzV\
        lStjnl0UCYAUNI+EQDfYXpozX0A= alice@stratus
        """

    func message<T>(_ result: Result<T, KeypairRules.Refusal>) -> String? {
        if case .failure(let r) = result { return r.message }
        return nil
    }

    func refusal(_ body: NovaSchema.Value, minor: Int) -> String? { message(KeypairRules.create(body, minor: minor)) }

    func body(_ keypair: [String: NovaSchema.Value]) -> NovaSchema.Value { .object(["keypair": .object(keypair)]) }

    func key(_ line: String) -> KeypairRules.SSHPublicKey? { try? KeypairRules.parsePublicKey(line).get() }

    @Test func namesFollowTheMicroversionsCharacterRule() throws {
        #expect(refusal(body(["name": "my key_1-a"]), minor: 1) == nil)
        #expect(
            refusal(body(["name": "a@b.c"]), minor: 91)
                == #"Invalid input for field/attribute name. Value: a@b.c. 'a@b.c' does not match '^[_\\- a-zA-Z0-9]+$'"#
        )
        #expect(refusal(body(["name": "a@b.c", "public_key": .string(Self.ed25519)]), minor: 92) == nil)
        #expect(
            refusal(body(["name": "a/b", "public_key": "k"]), minor: 92)
                == #"Invalid input for field/attribute name. Value: a/b. 'a/b' does not match '^[_\\-\\@\\. a-zA-Z0-9]+$'"#
        )
        #expect(refusal(body(["name": ""]), minor: 1) == "Invalid input for field/attribute name. Value: . '' should be non-empty")
        #expect(refusal(body(["name": .string(String(repeating: "k", count: 256))]), minor: 1)?.hasSuffix("' is too long") == true)
        #expect(refusal(body(["name": " lead"]), minor: 1) == NovaSchema.invalidName)
        #expect(
            NovaSchema.invalidName
                == "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."
        )
        // Python's `$` tolerates one final newline, and nova strips the name afterwards.
        #expect(try KeypairRules.create(body(["name": "key\n"]), minor: 1).get().name == "key")
    }

    @Test func bodyShapeFollowsTheMicroversion() throws {
        let request = try KeypairRules.create(body(["name": "k", "type": "x509", "public_key": "pem"]), minor: 2).get()
        #expect(request == KeypairRequest(name: "k", type: .x509, publicKey: "pem", userID: nil))
        #expect(try KeypairRules.create(body(["name": "k"]), minor: 2).get().type == .ssh)
        #expect(
            refusal(body(["name": "k", "type": "rsa"]), minor: 2)
                == "Invalid input for field/attribute type. Value: rsa. 'rsa' is not one of ['ssh', 'x509']"
        )
        #expect(
            refusal(body(["name": "k", "type": "ssh"]), minor: 1)
                == "Invalid input for field/attribute keypair. Value: {'name': 'k', 'type': 'ssh'}. "
                + "Additional properties are not allowed ('type' was unexpected)"
        )
        #expect(try KeypairRules.create(body(["name": "k", "user_id": "u1"]), minor: 10).get().userID == "u1")
        #expect(
            refusal(body(["name": "k"]), minor: 92)
                == "Invalid input for field/attribute keypair. Value: {'name': 'k'}. 'public_key' is a required property"
        )
        #expect(refusal(.object([:]), minor: 1) == "'keypair' is a required property")
    }

    @Test func realKeysLoadAndTheirBlobIsWhatNovaHashes() throws {
        let ed = try #require(key(Self.ed25519))
        #expect(ed.keyType == "ssh-ed25519")
        #expect(ed.blob == Array(Data(base64Encoded: "AAAAC3NzaC1lZDI1NTE5AAAAIIPZE3Zitc9CPa7gMpupV3CI0VloTWoeKMvmjXjzAoqa")!))
        let rsa = try #require(key("ssh-rsa " + Self.rsaBlob + " alice@stratus"))
        #expect(rsa.keyType == "ssh-rsa" && rsa.blob.count == 279)
        #expect(key("ssh-rsa " + Self.rsaBlob)?.blob == rsa.blob)
        #expect(key(Self.ecdsa)?.blob.count == 104)
    }

    @Test func brokenKeysGetNovasMessage() {
        let message = "Keypair data is invalid: failed to generate fingerprint"
        let mangledPoint = Self.ecdsa.replacingOccurrences(of: "hNB0pGsQveu", with: "hNB0pGsQvfu")
        let truncated = "ssh-rsa " + Self.rsaBlob.dropLast(8)
        let wrongType = "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIIPZE3Zitc9CPa7gMpupV3CI0VloTWoeKMvmjXjzAoqa"
        for line in [mangledPoint, truncated, wrongType, "not a key", "", "ssh-ed25519", "ssh-ed25519 AAAA"] {
            #expect(self.message(KeypairRules.parsePublicKey(line)) == message)
        }
    }

    @Test func novasFingerprintFieldIsTheSecondSpaceSeparatedOne() {
        // nova hashes `split(' ')[1]`: with two spaces that is "", so every such key shares one fingerprint.
        #expect(key(Self.ed25519.replacingOccurrences(of: "ssh-ed25519 ", with: "ssh-ed25519  "))?.blob == [])
    }

    @Test func fingerprintsAreColonSeparatedLowercaseHex() {
        let md5: [UInt8] = [0x3a, 0xf7, 0x9c, 0x68, 0x08, 0xf1, 0x61, 0x91, 0xf0, 0x38, 0x51, 0xab, 0x30, 0x05, 0x5f, 0x14]
        // `ssh-keygen -l -E md5` of the ed25519 key above.
        #expect(KeypairRules.colonHex(md5) == "3a:f7:9c:68:08:f1:61:91:f0:38:51:ab:30:05:5f:14")
        #expect(KeypairRules.colonHex([0, 15, 255]) == "00:0f:ff")
    }

    @Test func x509NeedsACertificatePEM() {
        let prefix = "Keypair data is invalid: failed to generate X509 fingerprint. Error message: "
        let noFrame = "Unable to load PEM file. See https://cryptography.io/en/latest/faq/#why-can-t-i-import-my-pem-file for more details. "
        #expect(message(KeypairRules.certificateDER(Self.ed25519)) == prefix + noFrame + "MalformedFraming")
        #expect(
            message(KeypairRules.certificateDER("-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n"))
                == prefix + "Valid PEM but no BEGIN CERTIFICATE/END CERTIFICATE delimiters. Are you sure this is a certificate?"
        )
        #expect((try? KeypairRules.certificateDER("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n").get()) == [0x30, 0])
    }
}
