import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import StratusAuth
import StratusCore
import StratusStorage
import Testing

@testable import Image

/// An Image service without Identity (`[paste_deploy] flavor` empty) on a fresh SQLite database
/// and store directory, driven in process. Callers act as a project with `X-Project-Id` and
/// `X-Roles`; the default caller is an admin of project `admin`.
struct ImageFixture {
    struct NoKeystone: TokenValidator {
        func caller(for token: String) async throws -> Caller { throw OpenStackError.unauthorized() }
    }

    let dir: String
    let service: ImageService

    static func make(_ extra: [(String, String, String)] = []) async throws -> ImageFixture {
        let dir = FileManager.default.temporaryDirectory.path + "/stratus-image-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let config = try Config.defaults(
            project: "glance",
            options: ImageOptions.all,
            values: [
                ("database", "connection", "sqlite:///\(dir)/glance.db"), ("paste_deploy", "flavor", ""),
                ("oslo_policy", "policy_file", dir + "/policy.yaml"), ("glance_store", "filesystem_store_datadir", dir + "/images"),
                ("DEFAULT", "node_staging_uri", "file://\(dir)/staging"),
            ] + extra
        )
        let service = try await ImageService.open(config: config, validator: NoKeystone(), migrate: true, logger: Logger(label: "test"))
        return ImageFixture(dir: dir, service: service)
    }

    static func test(
        _ extra: [(String, String, String)] = [],
        _ body: @escaping @Sendable (ImageClient, ImageFixture) async throws -> Void
    ) async throws {
        let f = try await make(extra)
        let app = Application(router: f.service.router())
        do {
            try await app.test(.router) { client in try await body(ImageClient(client: client), f) }
        } catch {
            await f.close()
            throw error
        }
        await f.close()
    }

    /// Files in the store directory (temporary ones included).
    var storeFiles: [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir + "/images")) ?? [] }

    func close() async {
        await service.close()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

struct Reply {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer

    var code: Int { Int(status.code) }
    var json: JSON? { body.readableBytes > 0 ? try? JSON.parse(body.readableBytesView) : nil }
    /// glance's message without webob's wrapping (`<br /><br />`, the detail, newlines).
    var message: String {
        let full = json?["message"]?.stringValue ?? ""
        return full.components(separatedBy: "<br /><br />").first ?? full
    }
    var bytes: [UInt8] { Array(body.readableBytesView) }
}

/// A caller: a project and its roles.
struct As: Sendable {
    var project: String
    var roles: String
    static let admin = As(project: "admin", roles: "admin,member,reader")
    static func member(_ project: String) -> As { As(project: project, roles: "member,reader") }
    static func reader(_ project: String) -> As { As(project: project, roles: "reader") }
}

struct ImageClient {
    let client: any TestClientProtocol

    func call(
        _ method: HTTPRequest.Method,
        _ path: String,
        as who: As = .admin,
        json: JSON? = nil,
        data: [UInt8]? = nil,
        headers: HTTPFields = [:]
    )
        async throws -> Reply
    {
        var h = headers
        h[HTTPField.Name("X-Project-Id")!] = who.project
        h[HTTPField.Name("X-User-Id")!] = "user-" + who.project
        h[HTTPField.Name("X-Roles")!] = who.roles
        var buffer: ByteBuffer?
        if let json {
            if h[.contentType] == nil { h[.contentType] = "application/json" }
            buffer = ByteBuffer(string: json.serialized())
        }
        if let data {
            if h[.contentType] == nil { h[.contentType] = "application/octet-stream" }
            buffer = ByteBuffer(bytes: data)
        }
        return try await client.execute(uri: path, method: method, headers: h, body: buffer) { response in
            Reply(status: response.status, headers: response.headers, body: response.body)
        }
    }

    func patch(_ id: String, _ ops: JSON, as who: As = .admin) async throws -> Reply {
        try await call(.patch, "/v2/images/\(id)", as: who, json: ops, headers: [.contentType: "application/openstack-images-v2.1-json-patch"])
    }

    /// Creates an image and returns its id.
    func image(_ body: JSON = ["disk_format": "raw", "container_format": "bare"], as who: As = .admin) async throws -> String {
        let r = try await call(.post, "/v2/images", as: who, json: body)
        #expect(r.code == 201, "create: \(r.json?.serialized() ?? "")")
        return r.json?["id"]?.stringValue ?? ""
    }
}
