import Foundation
import HTTPTypes
import Hummingbird
import StratusCore

/// EC2 credentials (`/v3/users/{user_id}/credentials/OS-EC2`: an access key and secret for a
/// project, stored as an `ec2` credential whose id is the access key's SHA-256) and the two calls
/// EC2 and S3 gateways make with them: `POST /v3/ec2tokens` and `/v3/s3tokens` check a request's
/// signature with the secret and answer with a token for the credential's user and project.
struct EC2Routes: Sendable {
    let service: IdentityService
    let credentials = CredentialStore()
    let users = UserStore()
    let projects = ProjectStore()

    static let base = "/v3/users/{user_id}/credentials/OS-EC2"

    func add(to r: inout RouteTable) {
        r.get(Self.base, list)
        r.post(Self.base, create)
        r.get(Self.base + "/{credential_id}", get)
        r.delete(Self.base + "/{credential_id}", delete)
        r.post("/v3/ec2tokens", ec2tokens)
        r.post("/v3/s3tokens", s3tokens)
    }

    // MARK: Credentials

    /// GET a user's EC2 credentials: 200. 403 by policy or from a delegated token; 404 unknown user.
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let userID = try ctx.parameters.require("user_id")
        let caller = try await service.authorize(req, IdentityPolicy.ec2ListCredentials, target: ["user_id": .string(userID)])
        try CredentialRoutes.requirePrimaryAuth(caller)
        let found = try await service.read { sql in
            _ = try await users.get(userID, in: sql)
            return try await credentials.list(userID: userID, type: "ec2", in: sql)
        }
        return .json(["credentials": .array(try found.map { try json($0, req) }), "links": collectionLinks(req)])
    }

    /// POST a new access key and secret for `tenant_id`: 201. 403 by policy or from a delegated
    /// token; 404 unknown user or project (a missing `tenant_id` too, as keystone).
    @Sendable func create(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let userID = try ctx.parameters.require("user_id")
        let body = try await req.jsonBody(limit: ctx.bodyLimit)
        let caller = try await service.authorize(
            req,
            IdentityPolicy.ec2CreateCredential,
            target: ["target": ["credential": ["user_id": .string(userID)]]]
        )
        let projectID = body["tenant_id"]?.stringValue
        try await service.read { sql in
            _ = try await users.get(userID, in: sql)
            guard let projectID else { throw IdentityError.notFound(kind: "project", id: "None") }
            _ = try await projects.get(projectID, in: sql)
        }
        try CredentialRoutes.requirePrimaryAuth(caller)
        let access = newID()
        let blob: JSON = ["access": .string(access), "secret": .string(newID()), "trust_id": nil]
        let sealed = try service.sealCredential(blob.serialized())
        let credential = CredentialRecord(
            id: EC2Signature.credentialID(access: access),
            userID: userID,
            projectID: projectID,
            type: "ec2",
            encryptedBlob: sealed.encryptedBlob,
            keyHash: sealed.keyHash
        )
        try await service.write { sql in try await credentials.create(credential, in: sql) }
        return .json(["credential": try json(credential, req)], status: .created)
    }

    /// GET one EC2 credential by access key: 200. 404 unknown key or user; 403 someone else's or from a delegated token.
    @Sendable func get(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let credential = try await authorized(req, ctx, IdentityPolicy.ec2GetCredential)
        return .json(["credential": try json(credential, req)])
    }

    /// DELETE an EC2 credential by access key: 204. 404 and 403 as GET.
    @Sendable func delete(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let credential = try await authorized(req, ctx, IdentityPolicy.ec2DeleteCredential)
        try await service.write { sql in try await credentials.delete(credential.id, in: sql) }
        return .empty()
    }

    /// Loads the credential of `{credential_id}` (an access key; 404 naming its hash, before any
    /// policy, as keystone) and enforces `action` on its owner.
    func authorized(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> CredentialRecord {
        let (userID, access) = (try ctx.parameters.require("user_id"), try ctx.parameters.require("credential_id"))
        let credential = try await service.read { sql in try await credentials.get(EC2Signature.credentialID(access: access), in: sql) }
        let caller = try await service.authorize(
            req,
            action,
            target: ["target": ["credential": ["user_id": .string(credential.userID), "type": .string(credential.type)]]]
        )
        _ = try await service.read { sql in try await users.get(userID, in: sql) }
        guard credential.type == "ec2" else { throw OpenStackError.unauthorized() }
        try CredentialRoutes.requirePrimaryAuth(caller)
        return credential
    }

    /// An EC2 credential's keys, from its decrypted blob.
    struct Keys {
        var access: String
        var secret: String
        var trustID: String?
    }

    func keys(_ credential: CredentialRecord) throws -> Keys {
        let blob = try JSON.parse(Array(try service.openCredential(credential).utf8))
        return Keys(access: blob["access"]?.stringValue ?? "", secret: blob["secret"]?.stringValue ?? "", trustID: blob["trust_id"]?.stringValue)
    }

    /// keystone's EC2 representation: `tenant_id` for the project, a self link by access key.
    func json(_ credential: CredentialRecord, _ req: Request) throws -> JSON {
        let k = try keys(credential)
        return [
            "user_id": .string(credential.userID), "tenant_id": .optional(credential.projectID), "access": .string(k.access),
            "secret": .string(k.secret), "trust_id": .optional(k.trustID),
            "links": ["self": .string(req.baseURL + "/v3/users/\(credential.userID)/credentials/OS-EC2/\(k.access)")],
        ]
    }

    // MARK: Tokens for EC2 and S3 gateways

    /// POST an EC2 request's description (`credentials`: access, signature, host, verb, path,
    /// params, headers, body_hash): 200 with a token for the credential's user and project and
    /// `X-Subject-Token`. 400 no body or no `params`; 401 no or a wrong signature, a timestamp
    /// older than `[credential] auth_ttl`, a disabled user or project, no role there; 403 by policy
    /// (admins and services); 404 unknown access key.
    @Sendable func ec2tokens(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (credential, fields) = try await signedCredential(req, ctx, IdentityPolicy.ec2tokensValidate)
        guard let params = fields["params"]?.objectValue else { throw invalid("params", "'params' is a required property") }
        let request = EC2Signature.Request(
            host: fields["host"]?.stringValue ?? "",
            verb: fields["verb"]?.stringValue ?? "",
            path: fields["path"]?.stringValue ?? "",
            params: params.compactMapValues(Self.text),
            headers: (fields["headers"]?.objectValue ?? [:]).compactMapValues(Self.text),
            bodyHash: fields["body_hash"]?.stringValue ?? ""
        )
        guard let signature = fields["signature"]?.stringValue, !signature.isEmpty else { throw OpenStackError.unauthorized() }
        let secret = try keys(credential).secret
        guard (try? EC2Signature.matches(signature, secret: secret, request: request)) == true else { throw OpenStackError.unauthorized() }
        let stamp = request.params["Timestamp"] ?? request.headers["X-Amz-Date"] ?? request.params["X-Amz-Date"]
        let (token, document) = try await tokenFor(credential, timestamp: stamp)
        return .json(document, headers: AuthRoutes.subjectHeader(token))
    }

    /// POST an S3 request's string-to-sign (`credentials`: access, signature, token = the
    /// string-to-sign, base64): 200 with the token document (no `X-Subject-Token`, as keystone).
    /// 400 no body, token or signature; otherwise as ec2tokens.
    @Sendable func s3tokens(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let (credential, fields) = try await signedCredential(req, ctx, IdentityPolicy.s3tokensValidate)
        guard let stringToSign = fields["token"]?.stringValue else { throw invalid("token", "'token' is a required property") }
        guard let signature = fields["signature"]?.stringValue else { throw invalid("signature", "'signature' is a required property") }
        let secret = try keys(credential).secret
        guard let expected = EC2Signature.s3Expected(secret: secret, token: stringToSign),
            EC2Signature.constantTimeEqual(expected, signature)
        else { throw OpenStackError.unauthorized() }
        return .json(try await tokenFor(credential, timestamp: nil).document)
    }

    /// What ec2tokens and s3tokens share: policy (403), a body (400), the access key (401 when
    /// absent) and its credential (404 "EC2 access key not found.").
    func signedCredential(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> (CredentialRecord, [String: JSON]) {
        _ = try await service.authorize(req, action)
        let body = try await req.jsonBody(limit: ctx.bodyLimit)
        guard let top = body.objectValue, !top.isEmpty else { throw OpenStackError.badRequest("request must include a request body") }
        let fields = ["credentials", "credential", "ec2Credentials"].lazy.compactMap { top[$0]?.objectValue }.first { !$0.isEmpty } ?? [:]
        guard let access = fields["access"]?.stringValue else { throw OpenStackError.unauthorized() }
        let credential = try await service.read { sql in
            try await AuthRoutes.absentAsNil { try await credentials.get(EC2Signature.credentialID(access: access), in: sql) }
        }
        guard let credential, credential.type == "ec2" else { throw OpenStackError.notFound("EC2 access key not found.") }
        return (credential, fields)
    }

    /// A token (method `ec2credential`) for the credential's user on its project, after the
    /// request's timestamp (when it has one) is found recent enough: 401 otherwise, or when the user
    /// or project is disabled or the user holds no role there; 404 when either is gone.
    func tokenFor(_ credential: CredentialRecord, timestamp: String?) async throws -> (token: String, document: JSON) {
        guard let projectID = credential.projectID else { throw IdentityError.notFound(kind: "project", id: "None") }
        try await service.read { sql in
            _ = try await projects.get(projectID, in: sql)
            _ = try await users.get(credential.userID, in: sql)
        }
        let now = Clock.micros()
        if let timestamp {
            guard let t = EC2Signature.timestamp(timestamp), now <= t + service.settings.ec2AuthTTLMinutes * 60_000_000 else {
                throw OpenStackError.unauthorized()
            }
        }
        let payload = TokenPayload(
            userID: credential.userID,
            methods: ["ec2credential"],
            scope: .project(projectID),
            expiresAt: now / 1_000_000 + service.settings.tokenExpiration,
            issuedAt: now,
            auditIDs: [TokenPayload.newAuditID()]
        )
        let minted: (token: String, validated: ValidatedToken)
        do { minted = try await service.mint(payload) } catch IdentityError.invalidToken { throw OpenStackError.unauthorized() }
        guard !minted.validated.caller.roleIDs.isEmpty else { throw OpenStackError.unauthorized() }
        return (minted.token, try await service.tokenDocument(minted.validated, withCatalog: true))
    }

    /// A parameter or header value as the signer reads it (numbers and booleans as Python prints them).
    static func text(_ value: JSON) -> String? {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        default: return nil
        }
    }
}
