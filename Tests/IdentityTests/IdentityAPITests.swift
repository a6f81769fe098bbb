import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import StratusCore
import StratusStorage
import Testing

@testable import Identity

/// An Identity service on a copy of a migrated, bootstrapped template database, driven in
/// process through `app.test(.router)`: no sockets, one fresh database file per test.
struct IdentityFixture {
    static let template: String = {
        let dir = FileManager.default.temporaryDirectory.path + "/stratus-api-template-\(UUID().uuidString)"
        return dir
    }()

    /// Builds the template once per test process: migrated schema, bootstrap (admin/"pw"), keys.
    static func makeTemplate() async throws -> String {
        let dir = template
        try FernetKeyRepository(path: dir + "/fernet").setup(owner: nil)
        let db = try await Database.open(.sqliteFile(path: dir + "/keystone.db"))
        let hasher = PasswordHasher(cost: 4, threads: 1)
        var boot = IdentityBootstrap(password: "pw")
        boot.regionID = "RegionOne"
        boot.publicURL = "http://localhost:5000/v3"
        do {
            _ = try await IdentityService.migrate(db)
            try await boot.run(db: db, hasher: hasher)
        } catch {
            await hasher.shutdown()
            await db.close()
            throw error
        }
        await hasher.shutdown()
        await db.close()  // the last connection to close checkpoints the WAL into keystone.db
        return dir
    }

    /// The one build of the template, awaited by every test (a static let runs once).
    static let templateBuild = Task { try await makeTemplate() }

    let dir: String
    let service: IdentityService
    /// The keystone.conf the service was opened with (a second "process" opens another on it).
    let config: Config

    /// A service on its own copy of the template (`extra` adds keystone.conf options).
    static func make(_ extra: [(String, String, String)] = []) async throws -> IdentityFixture {
        let template = try await templateBuild.value
        let dir = FileManager.default.temporaryDirectory.path + "/stratus-api-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: template + "/keystone.db", toPath: dir + "/keystone.db")
        let config = try Config.defaults(
            project: "keystone",
            options: IdentityOptions.all,
            values: [
                ("database", "connection", "sqlite:///\(dir)/keystone.db"), ("fernet_tokens", "key_repository", template + "/fernet"),
                ("credential", "key_repository", dir + "/none"), ("identity", "password_hash_rounds", "4"),
                ("oslo_policy", "policy_file", dir + "/policy.yaml"),
            ] + extra
        )
        return IdentityFixture(dir: dir, service: try await IdentityService.open(config: config, logger: Logger(label: "test")), config: config)
    }

    func close() async {
        await service.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs `body` against the service's router.
    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: service.router(logger: Logger(label: "test")))
        try await app.test(.router, body)
        await close()
    }
}

extension TestClientProtocol {
    /// A password token; the body of the scope (`{"project": …}`, `{"domain": …}`) is given as JSON text.
    func token(user: String = "admin", password: String = "pw", scope: String?) async throws -> String {
        let scopePart = scope.map { ", \"scope\": \($0)" } ?? ""
        let body = """
            {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "\(user)", "domain": {"id": "default"},
            "password": "\(password)"}}}\(scopePart)}}
            """
        return try await execute(uri: "/v3/auth/tokens", method: .post, body: ByteBuffer(string: body)) { r in
            #expect(r.status == .created, "\(String(buffer: r.body))")
            return try #require(r.headers[HTTPField.Name("X-Subject-Token")!])
        }
    }

    /// The id of the first entity `GET /v3/<collection>?name=<name>` lists.
    func firstID(_ collection: String, named name: String, token: String) async throws -> String {
        let r = try await call(.get, "/v3/\(collection)?name=\(name)", token: token)
        return try #require(try JSON.parse(Array(r.body.readableBytesView))[collection]?.arrayValue?.first?["id"]?.stringValue)
    }

    func call(_ method: HTTPRequest.Method, _ uri: String, token: String?, body: String? = nil) async throws -> TestResponse {
        var headers = HTTPFields()
        if let token { headers[HTTPField.Name("X-Auth-Token")!] = token }
        if body != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }
}

let adminProject = #"{"project": {"name": "admin", "domain": {"id": "default"}}}"#

@Suite("Identity API in process")
struct IdentityAPITests {
    func json(_ r: TestResponse) throws -> JSON { try JSON.parse(Array(r.body.readableBytesView)) }

    @Test("errors use keystone's body, carry a request id, and 401 says WWW-Authenticate")
    func errorBodies() async throws {
        try await IdentityFixture.make().test { client in
            let r = try await client.call(.get, "/v3/users", token: nil)
            #expect(r.status == .unauthorized)
            #expect(r.headers[.wwwAuthenticate]?.hasPrefix("Keystone uri=") == true)
            #expect(r.headers[HTTPField.Name("x-openstack-request-id")!]?.hasPrefix("req-") == true)
            let body = try json(r)
            #expect(body["error"]?["code"] == .int(401))
            #expect(body["error"]?["title"] == "Unauthorized")
            let admin = try await client.token(scope: adminProject)
            let missing = try await client.call(.get, "/v3/projects/nope", token: admin)
            #expect(missing.status == .notFound)
            #expect(try json(missing)["error"]?["message"] == "Could not find project: nope.")
            let bad = try await client.call(.post, "/v3/projects", token: admin, body: #"{"project": {"name": 5}}"#)
            #expect(bad.status == .badRequest)
            #expect(try json(bad)["error"]?["message"]?.stringValue?.contains("'name'") == true)
        }
    }

    @Test("an unknown id is 404 even for a caller the policy would refuse (404 before 403)")
    func notFoundBeforeForbidden() async throws {
        try await IdentityFixture.make().test { client in
            let admin = try await client.token(scope: adminProject)
            let made = try await client.call(
                .post,
                "/v3/users",
                token: admin,
                body: #"{"user": {"name": "alice", "password": "pw2", "default_project_id": null}}"#
            )
            #expect(made.status == .created)
            let alice = try #require(try json(made)["user"]?["id"]?.stringValue)
            let adminProjectID = try await client.firstID("projects", named: "admin", token: admin)
            let member = try await client.firstID("roles", named: "member", token: admin)
            let grant = try await client.call(.put, "/v3/projects/\(adminProjectID)/users/\(alice)/roles/\(member)", token: admin)
            #expect(grant.status == .noContent)
            let token = try await client.token(user: "alice", password: "pw2", scope: adminProject)
            #expect(try await client.call(.delete, "/v3/users/no-such-user", token: token).status == .notFound)
            #expect(try await client.call(.delete, "/v3/users/\(alice)", token: token).status == .forbidden)
            #expect(try await client.call(.get, "/v3/users/\(alice)", token: admin).status == .ok, "the refused delete changed nothing")
        }
    }

    @Test("a known path with another method is 405; HEAD mirrors GET without a body; a body over the limit is 413")
    func methodsAndLimits() async throws {
        try await IdentityFixture.make([("oslo_middleware", "max_request_body_size", "2048")]).test { client in
            let health = try await client.call(.get, "/healthcheck", token: nil)
            #expect(health.status == .ok)
            #expect(String(buffer: health.body) == "OK")
            let admin = try await client.token(scope: adminProject)
            let put = try await client.call(.put, "/v3/users", token: admin)
            #expect(put.status == .methodNotAllowed)
            #expect(try json(put)["error"]?["code"] == .int(405))
            let head = try await client.call(.head, "/v3/users", token: admin)
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0)
            let big = #"{"project": {"name": "p", "description": ""# + String(repeating: "x", count: 4096) + #""}}"#
            let tooLarge = try await client.call(.post, "/v3/projects", token: admin, body: big)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(try await client.call(.get, "/v3/projects?name=p", token: admin).status == .ok)
            #expect(try json(try await client.call(.get, "/v3/projects?name=p", token: admin))["projects"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("a domain-scoped admin is refused (403) by rules whose scope types exclude domain, as keystone 30 refuses it")
    func domainScopedAdmin() async throws {
        try await IdentityFixture.make().test { client in
            let admin = try await client.token(scope: adminProject)
            let adminID = try await client.firstID("users", named: "admin", token: admin)
            let adminRole = try await client.firstID("roles", named: "admin", token: admin)
            #expect(try await client.call(.put, "/v3/domains/default/users/\(adminID)/roles/\(adminRole)", token: admin).status == .noContent)
            let domainAdmin = try await client.token(scope: #"{"domain": {"id": "default"}}"#)
            let create = try await client.call(.post, "/v3/domains", token: domainAdmin, body: #"{"domain": {"name": "d2"}}"#)
            #expect(create.status == .forbidden)
            #expect(try await client.call(.post, "/v3/domains", token: admin, body: #"{"domain": {"name": "d2"}}"#).status == .created)
        }
    }
}
