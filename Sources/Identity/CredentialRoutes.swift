import Crypto
import Foundation
import Hummingbird
import SQLKit
import StratusCore

/// `/v3/credentials`: blobs (EC2 keys, TOTP secrets, …) encrypted at rest with the primary key
/// of `[credential] key_repository`; users see only their own unless an admin or system reader.
extension IdentityService {
    func addCredentialRoutes(_ r: inout RouteTable) {
        r.get("/v3/credentials") { req, _ in
            let caller = try await self.authenticate(req)
            var q: SQLQueryString = "SELECT * FROM credential WHERE 1 = 1"
            if let u = req.query("user_id") { q += " AND user_id = \(bind: u)" }
            if let t = req.query("type") { q += " AND type = \(bind: t)" }
            let rows = try await self.rows(q + " ORDER BY id")
            // keystone filters the list through get-policy, item by item.
            let visible = rows.filter {
                self.enforcer.allows("identity:list_credentials", target: ["target": ["credential": ["user_id": .string($0.str("user_id"))]]],
                                     credentials: caller.policyCredentials)
            }
            return .json(["credentials": .array(try visible.map { try self.credentialJSON($0, req) }), "links": collectionLinks(req)])
        }
        r.post("/v3/credentials") { req, ctx in
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "credential")
            let userID = try b.string("user_id", required: true, maxLength: 64)!
            let type = try b.string("type", required: true, maxLength: 255, minLength: 1)!
            let blob = try b.string("blob", required: true, maxLength: 65535)!
            let projectID = try b.string("project_id", nullable: true, maxLength: 64)
            _ = try await self.authorize(req, "identity:create_credential", target: ["target": ["credential": ["user_id": .string(userID)]]])
            _ = try await self.fetch("identity_user", userID, noun: "user")
            if type == "ec2" && projectID == nil { throw invalid("project_id", "an ec2 credential needs a project_id") }
            let (encrypted, keyHash) = try self.encryptBlob(blob)
            let id = newID()
            let row = try await self.write { db in
                try await db.raw("INSERT INTO credential (id, user_id, project_id, type, encrypted_blob, key_hash) VALUES (\(bind: id), \(bind: userID), \(bind: projectID), \(bind: type), \(bind: encrypted), \(bind: keyHash))").run()
                return try await db.raw("SELECT * FROM credential WHERE id = \(bind: id)").first()!
            }
            return .json(["credential": try self.credentialJSON(row, req)], status: .created)
        }
        r.get("/v3/credentials/{credential_id}") { req, ctx in
            let row = try await self.credentialForAction(req, ctx, "identity:get_credential")
            return .json(["credential": try self.credentialJSON(row, req)])
        }
        r.patch("/v3/credentials/{credential_id}") { req, ctx in
            let row = try await self.credentialForAction(req, ctx, "identity:update_credential")
            let id = row.str("id")
            let b = try EntityBody(try await req.jsonBody(limit: ctx.bodyLimit), entity: "credential")
            let blob = try b.string("blob", maxLength: 65535)
            let type = try b.string("type", maxLength: 255, minLength: 1)
            let projectID = try b.string("project_id", nullable: true, maxLength: 64)
            if let u = try b.string("user_id"), u != row.str("user_id") {
                throw invalid("user_id", "a credential cannot be given to another user")
            }
            let sealed = try blob.map { try self.encryptBlob($0) }
            let updated = try await self.write { db in
                if let sealed { try await db.raw("UPDATE credential SET encrypted_blob = \(bind: sealed.0), key_hash = \(bind: sealed.1) WHERE id = \(bind: id)").run() }
                if let type { try await db.raw("UPDATE credential SET type = \(bind: type) WHERE id = \(bind: id)").run() }
                if b.has("project_id") { try await db.raw("UPDATE credential SET project_id = \(bind: projectID) WHERE id = \(bind: id)").run() }
                return try await db.raw("SELECT * FROM credential WHERE id = \(bind: id)").first()!
            }
            return .json(["credential": try self.credentialJSON(updated, req)])
        }
        r.delete("/v3/credentials/{credential_id}") { req, ctx in
            let row = try await self.credentialForAction(req, ctx, "identity:delete_credential")
            let id = row.str("id")
            try await self.write { db in try await db.raw("DELETE FROM credential WHERE id = \(bind: id)").run() }
            return .empty()
        }
    }

    func credentialForAction(_ req: Request, _ ctx: StratusContext, _ action: String) async throws -> any SQLRow {
        let id = ctx.parameters.get("credential_id")!
        let caller = try await authenticate(req)
        let row = try await db.read { db in try await db.raw("SELECT * FROM credential WHERE id = \(bind: id)").first() }
        // Someone else's credential is refused (403) without its content, as keystone does.
        guard let row, enforcer.allows(action, target: ["target": ["credential": ["user_id": .string(row.str("user_id"))]]],
                                       credentials: caller.policyCredentials)
        else {
            if row == nil { throw OpenStackError.notFound("Could not find credential: \(id).") }
            throw OpenStackError.forbidden("You are not authorized to perform the requested action: \(action).")
        }
        return row
    }

    func encryptBlob(_ blob: String) throws -> (String, String) {
        guard let keys = credentialKeys else {
            throw OpenStackError(.internalServerError, "The credential key repository is not set up; run keystone-manage credential_setup.")
        }
        let key = keys.primary
        let hash = SHA256.hash(data: Data(key.base64.utf8)).map { String(format: "%02x", $0) }.joined()
        return (try Fernet.encrypt(Array(blob.utf8), key: key), hash)
    }

    func credentialJSON(_ row: any SQLRow, _ req: Request) throws -> JSON {
        guard let keys = credentialKeys, let (plain, _) = try? Fernet.decrypt(row.str("encrypted_blob"), keys: keys.keys) else {
            throw OpenStackError(.internalServerError, "A credential could not be decrypted with the keys in the credential key repository.")
        }
        return ["id": .string(row.str("id")), "user_id": .string(row.str("user_id")), "project_id": .optional(row.optStr("project_id")),
                "type": .string(row.str("type")), "blob": .string(String(decoding: plain, as: UTF8.self)),
                "links": ["self": .string(req.baseURL + "/v3/credentials/" + row.str("id"))]]
    }
}
