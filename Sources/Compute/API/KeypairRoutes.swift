import Crypto
import Foundation
import Hummingbird
import StratusCore
import _CryptoExtras

/// `/os-keypairs`: per user; import (ssh-rsa, ssh-ed25519, ecdsa; x509 from 2.2) at every
/// version, server-side generation of an RSA key only below 2.92, as nova.
struct KeypairRoutes {
    let service: ComputeService

    func add(to routes: inout RouteTable) {
        routes.get("/v2.1/os-keypairs") { request, ctx in try await list(request, ctx) }
        routes.post("/v2.1/os-keypairs") { request, ctx in try await create(request, ctx) }
        routes.get("/v2.1/os-keypairs/:name") { request, ctx in try await show(request, ctx) }
        routes.delete("/v2.1/os-keypairs/:name") { request, ctx in try await delete(request, ctx) }
    }

    /// The user the request is about: the caller, or (2.10+, admin) `user_id`.
    func user(_ request: Request, _ ctx: StratusContext, body: String? = nil) throws -> String {
        let caller = try ctx.requireCaller()
        if ctx.atLeast(10), let other = body ?? request.query("user_id") { return other }
        return caller.userID
    }

    func view(_ k: KeypairStore.Keypair, _ ctx: StratusContext, full: Bool) -> JSON {
        var v: [String: JSON] = ["name": .string(k.name), "public_key": .string(k.publicKey), "fingerprint": .string(k.fingerprint)]
        if ctx.atLeast(2) { v["type"] = .string(k.type) }
        if full {
            v["user_id"] = .string(k.userId)
            v["created_at"] = .string(k.createdAt)
            v["deleted"] = false
            v["deleted_at"] = .null
            v["updated_at"] = .null
            v["id"] = .int(k.id)
        }
        return .object(v)
    }

    func list(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let user = try user(request, ctx)
        try service.authorize(ctx, "os_compute_api:os-keypairs:index", ["user_id": .string(user)])
        var keys = try await service.api.read { sql in try await KeypairStore().list(user: user, in: sql) }
        let page = try ComputeHTTP.page(request)
        if ctx.atLeast(35), let marker = page.marker {
            guard let at = keys.firstIndex(where: { $0.name == marker }) else {
                throw ComputeError.badRequest("Marker \(marker) could not be found.")
            }
            keys = Array(keys[(at + 1)...])
        }
        if ctx.atLeast(35), let limit = page.limit { keys = Array(keys.prefix(limit)) }
        return .json(["keypairs": .array(keys.map { ["keypair": view($0, ctx, full: false)] })])
    }

    func show(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let name = try ctx.parameters.require("name")
        let user = try user(request, ctx)
        try service.authorize(ctx, "os_compute_api:os-keypairs:show", ["user_id": .string(user)])
        guard let k = try await service.api.read({ sql in try await KeypairStore().find(user: user, name: name, in: sql) }) else {
            throw ComputeError.notFound(KeypairRules.notFound(name, userID: user))
        }
        return .json(["keypair": view(k, ctx, full: true)])
    }

    func delete(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let name = try ctx.parameters.require("name")
        let user = try user(request, ctx)
        try service.authorize(ctx, "os_compute_api:os-keypairs:delete", ["user_id": .string(user)])
        guard try await service.api.read({ sql in try await KeypairStore().find(user: user, name: name, in: sql) }) != nil else {
            throw ComputeError.notFound(KeypairRules.notFound(name, userID: user))
        }
        try await service.api.write { sql in try await KeypairStore().delete(user: user, name: name, in: sql) }
        return .empty(ctx.atLeast(2) ? .noContent : .accepted)
    }

    func create(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let asked: KeypairRequest
        switch KeypairRules.create(try await request.jsonBody(limit: ctx.bodyLimit), minor: ctx.computeVersion.minor) {
        case .success(let k): asked = k
        case .failure(let r): throw ComputeError.badRequest(r.message)
        }
        let user = try user(request, ctx, body: asked.userID)
        try service.authorize(ctx, "os_compute_api:os-keypairs:create", ["user_id": .string(user)])
        let name = asked.name
        let type = asked.type.rawValue
        var publicKey = asked.publicKey
        var privateKey: String? = nil
        if publicKey == nil {
            let generated = try KeyGeneration.rsa(comment: "Generated-by-Nova")
            publicKey = generated.publicKey
            privateKey = generated.privateKey
        }
        let fingerprint: String
        if type == "x509" {
            let der: [UInt8]
            switch KeypairRules.certificateDER(publicKey!) {
            case .success(let d): der = d
            case .failure(let r): throw ComputeError.badRequest(r.message)
            }
            fingerprint = KeypairRules.colonHex(Array(Insecure.SHA1.hash(data: der)))
        } else {
            switch KeypairRules.parsePublicKey(publicKey!) {
            case .success(let key): fingerprint = KeypairRules.colonHex(Array(Insecure.MD5.hash(data: key.blob)))
            case .failure(let r): throw ComputeError.badRequest(r.message)
            }
        }
        let count = try await service.api.read { sql in try await KeypairStore().list(user: user, in: sql).count }
        if let limit = service.settings.quotas["key_pairs"], limit >= 0, count >= limit {
            throw OpenStackError(.forbidden, KeypairRules.quotaExceeded)
        }
        let now = ComputeTime.now()
        let key = publicKey!
        guard
            let stored = try await service.api.write({ sql in
                try await KeypairStore().create(name: name, user: user, fingerprint: fingerprint, publicKey: key, type: type, now: now, in: sql)
            })
        else { throw ComputeError.conflict(KeypairRules.exists(name)) }
        var v = view(stored, ctx, full: false).objectValue ?? [:]
        v["user_id"] = .string(user)
        if let privateKey { v["private_key"] = .string(privateKey) }
        return .json(["keypair": .object(v)], status: ctx.atLeast(2) ? .created : .ok)
    }
}

/// Server-side key generation (below 2.92): an RSA 2048 key, the private half in PEM, the
/// public half as an OpenSSH line.
enum KeyGeneration {
    static func rsa(comment: String) throws -> (privateKey: String, publicKey: String) {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let der = [UInt8](key.publicKey.pkcs1DERRepresentation)
        guard let (n, e) = pkcs1(der) else { throw OpenStackError(.internalServerError, "Key generation failed.") }
        var blob: [UInt8] = []
        func put(_ bytes: [UInt8]) {
            let count = UInt32(bytes.count)
            blob += [UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)] + bytes
        }
        put(Array("ssh-rsa".utf8))
        put(e)
        put(n)
        return (key.pemRepresentation, "ssh-rsa \(Data(blob).base64EncodedString()) \(comment)")
    }

    /// (modulus, exponent) of a PKCS#1 RSAPublicKey, each as an SSH mpint's bytes.
    static func pkcs1(_ der: [UInt8]) -> ([UInt8], [UInt8])? {
        var i = 0
        func length() -> Int? {
            guard i < der.count else { return nil }
            let first = Int(der[i])
            i += 1
            if first < 0x80 { return first }
            let n = first & 0x7f
            guard i + n <= der.count else { return nil }
            var len = 0
            for _ in 0..<n {
                len = len << 8 | Int(der[i])
                i += 1
            }
            return len
        }
        func integer() -> [UInt8]? {
            guard i < der.count, der[i] == 0x02 else { return nil }
            i += 1
            guard let len = length(), i + len <= der.count else { return nil }
            defer { i += len }
            return Array(der[i..<i + len])
        }
        guard der.first == 0x30 else { return nil }
        i = 1
        guard length() != nil, let n = integer(), let e = integer() else { return nil }
        return (n, e)
    }
}
