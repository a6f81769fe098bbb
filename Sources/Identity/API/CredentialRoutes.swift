import Foundation
import Hummingbird
import StratusCore

/// `/v3/credentials`: blobs (EC2 keys, TOTP secrets, …) encrypted at rest with the primary key
/// of `[credential] key_repository`; users see only their own unless an admin or system reader.
struct CredentialRoutes: Sendable {
    let service: IdentityService
    let credentials = CredentialStore()
    let users = UserStore()
    let projects = ProjectStore()

    func add(to r: inout RouteTable) {
        r.get("/v3/credentials", list)
        r.post("/v3/credentials", create)
        r.get("/v3/credentials/{credential_id}", get)
        r.patch("/v3/credentials/{credential_id}", update)
        r.delete("/v3/credentials/{credential_id}", delete)
    }

    /// GET the credentials the caller may see (keystone filters item by item through the policy),
    /// filtered by `user_id` and `type`: 200. 401 without a valid token.
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let caller = try await service.authenticate(req)
        // keystone 30 drops every credential from a delegated token's list (see requirePrimaryAuth).
        if caller.isDelegated { return .json(["credentials": [], "links": collectionLinks(req)]) }
        let (user, type) = (req.query("user_id"), req.query("type"))
        let found = try await service.read { sql in try await credentials.list(userID: user, type: type, in: sql) }
        let visible = found.filter {
            service.enforcer.allows(
                IdentityPolicy.listCredentials,
                target: ["target": ["credential": ["user_id": .string($0.userID)]]],
                credentials: caller.policyCredentials
            )
        }
        return .json(["credentials": .array(try visible.map { try json($0, req) }), "links": collectionLinks(req)])
    }

    /// POST a credential: 201. 400 invalid body, an unknown `project_id`, or an ec2 credential without
    /// one; 404 unknown user; 403 by policy or from a delegated token; 500 without a credential key repository.
    @Sendable func create(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "credential")
        let userID = try b.string("user_id", required: true, maxLength: 64)!
        let type = try b.string("type", required: true, maxLength: 255, minLength: 1)!
        let blob = try b.string("blob", required: true, maxLength: 65535)!
        let projectID = try b.string("project_id", nullable: true, maxLength: 64)
        let caller = try await service.authorize(
            req,
            IdentityPolicy.createCredential,
            target: ["target": ["credential": ["user_id": .string(userID)]]]
        )
        try Self.requirePrimaryAuth(caller)
        _ = try await service.read { sql in try await users.get(userID, in: sql) }
        if type == "ec2" && projectID == nil { throw invalid("project_id", "'project_id' is a required property") }
        if let projectID {
            do { _ = try await service.read { sql in try await projects.get(projectID, in: sql) } } catch IdentityError.notFound {
                throw invalid("project_id", "project \(projectID) does not exist")
            }
        }
        // An EC2 key's id is its access key's SHA-256, as keystone derives it, so OS-EC2 and the
        // token calls find keys made here.
        var id = newID()
        if type == "ec2" {
            guard let access = (try? JSON.parse(Array(blob.utf8)))?["access"]?.stringValue, !access.isEmpty else {
                throw invalid("blob", "an ec2 credential's blob must be a JSON object with an 'access' key")
            }
            id = EC2Signature.credentialID(access: access)
        }
        let (encrypted, keyHash) = try encrypt(blob)
        let credential = CredentialRecord(id: id, userID: userID, projectID: projectID, type: type, encryptedBlob: encrypted, keyHash: keyHash)
        let created = try await service.write { sql in
            try await credentials.create(credential, in: sql)
            return try await credentials.get(credential.id, in: sql)
        }
        return .json(["credential": try json(created, req)], status: .created)
    }

    /// GET one credential: 200. 404 unknown; 403 someone else's (by policy).
    @Sendable func get(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let credential = try await authorized(req, ctx, IdentityPolicy.getCredential)
        return .json(["credential": try json(credential, req)])
    }

    /// PATCH a credential's blob, the one field keystone 30 lets change (its type, owner and
    /// project are fixed at creation; sent unchanged they are accepted): 200. 400 any other field or no blob; 404 unknown; 403 by
    /// policy or from a delegated token.
    @Sendable func update(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let credential = try await authorized(req, ctx, IdentityPolicy.updateCredential)
        let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "credential")
        // The CLI's `credential set` sends user_id and type (and project_id) with the blob: the
        // stored values are accepted, any change refused.
        let unchanged: [String: JSON] = [
            "user_id": .string(credential.userID), "type": .string(credential.type), "project_id": .optional(credential.projectID),
        ]
        if let unexpected = b.extra(excluding: ["blob"]).filter({ unchanged[$0.key] != $0.value }).keys.sorted().first {
            throw invalid("credential", "Additional properties are not allowed ('\(unexpected)' was unexpected)")
        }
        let blob = try b.string("blob", required: true, maxLength: 65535)!
        let sealed = try encrypt(blob)
        let updated = try await service.write { sql in try await credentials.reseal(credential.id, sealed, in: sql) }
        return .json(["credential": try json(updated, req)])
    }

    /// DELETE a credential: 204. 404 unknown; 403 by policy.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let credential = try await authorized(req, ctx, IdentityPolicy.deleteCredential)
        try await service.write { sql in try await credentials.delete(credential.id, in: sql) }
        return .empty()
    }

    /// Authenticates (401), loads `{credential_id}` (404) and enforces `action` on its owner: someone
    /// else's credential is refused (403) without its content, as keystone does.
    func authorized(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> CredentialRecord {
        let id = try ctx.parameters.require("credential_id")
        let caller = try await service.authenticate(req)
        let credential = try await service.read { sql in try await credentials.get(id, in: sql) }
        guard
            service.enforcer.allows(
                action,
                target: ["target": ["credential": ["user_id": .string(credential.userID)]]],
                credentials: caller.policyCredentials
            )
        else {
            throw OpenStackError.forbidden("You are not authorized to perform the requested action: \(action).")
        }
        try Self.requirePrimaryAuth(caller)
        return credential
    }

    /// keystone 30: a token from an application credential (a delegated method) or a trust may not read, create, change or delete credentials at all, so an EC2 key
    /// minted from a restricted credential cannot outlive or widen it (CVE-2020-12689/12691).
    static func requirePrimaryAuth(_ caller: Caller) throws {
        if caller.isDelegated {
            throw OpenStackError.forbidden(
                "You are not authorized to perform the requested action: Delegated tokens cannot access credentials directly."
            )
        }
    }

    func encrypt(_ blob: String) throws -> (encryptedBlob: String, keyHash: String) { try service.sealCredential(blob) }

    /// keystone's credential representation, the blob decrypted; 500 when no key opens it.
    func json(_ credential: CredentialRecord, _ req: Request) throws -> JSON {
        [
            "id": .string(credential.id), "user_id": .string(credential.userID), "project_id": .optional(credential.projectID),
            "type": .string(credential.type), "blob": .string(try service.openCredential(credential)),
            "links": ["self": .string(req.baseURL + "/v3/credentials/" + credential.id)],
        ]
    }
}

extension IdentityService {
    /// The blob sealed with the primary credential key, and that key's SHA-256 (hex).
    func sealCredential(_ blob: String) throws -> (encryptedBlob: String, keyHash: String) {
        guard let keys = credentialKeys else {
            throw OpenStackError(.internalServerError, "The credential key repository is not set up; run keystone-manage credential_setup.")
        }
        let key = keys.primary
        return (try Fernet.encrypt(Array(blob.utf8), key: key), CredentialKeyMaintenance.hash(key))
    }

    /// The credential's blob in clear; 500 when no key in the credential key repository opens it.
    func openCredential(_ credential: CredentialRecord) throws -> String {
        guard let keys = credentialKeys, let (plain, _) = try? Fernet.decrypt(credential.encryptedBlob, keys: keys.keys) else {
            throw OpenStackError(.internalServerError, "A credential could not be decrypted with the keys in the credential key repository.")
        }
        return String(decoding: plain, as: UTF8.self)
    }
}
