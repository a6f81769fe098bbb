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

@testable import Placement

/// A Placement service in `noauth2` mode on a fresh SQLite database, driven in process through
/// `app.test(.router)`. The token `admin` is an admin of project `admin`.
struct PlacementFixture {
    /// Refuses every keystone token: these tests run placement in noauth2 mode.
    struct NoKeystone: TokenValidator {
        func caller(for token: String) async throws -> Caller { throw OpenStackError.unauthorized() }
    }

    let dir: String
    let service: PlacementService

    static func make(_ extra: [(String, String, String)] = []) async throws -> PlacementFixture {
        let dir = FileManager.default.temporaryDirectory.path + "/stratus-placement-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let config = try Config.defaults(
            project: "placement",
            options: PlacementOptions.all,
            values: [
                ("placement_database", "connection", "sqlite:///\(dir)/placement.db"), ("api", "auth_strategy", "noauth2"),
                ("oslo_policy", "policy_file", dir + "/policy.yaml"),
            ] + extra
        )
        let service = try await PlacementService.open(config: config, validator: NoKeystone(), migrate: true, logger: Logger(label: "test"))
        return PlacementFixture(dir: dir, service: service)
    }

    /// Runs `body` against a fresh service's router.
    static func test(_ extra: [(String, String, String)] = [], _ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        let f = try await make(extra)
        let app = Application(router: f.service.router())
        do {
            try await app.test(.router) { client in try await body(Client(client: client)) }
        } catch {
            await f.close()
            throw error
        }
        await f.close()
    }

    func close() async {
        await service.close()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// A response: status, headers and the parsed JSON body (nil when empty).
struct Reply {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var json: JSON?

    var code: Int { Int(status.code) }
    /// The first error's `code`, or nil.
    var errorCode: String? { json?["errors"]?.arrayValue?.first?["code"]?.stringValue }
    /// The first error's detail.
    var detail: String { json?["errors"]?.arrayValue?.first?["detail"]?.stringValue ?? "" }
}

/// Requests at a microversion with a noauth2 token.
struct Client {
    let client: any TestClientProtocol

    func call(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ version: String? = "1.39",
        body: JSON? = nil,
        token: String = "admin",
        headers: HTTPFields = [:]
    )
        async throws -> Reply
    {
        var h = headers
        h[HTTPField.Name("X-Auth-Token")!] = token
        if let version { h[HTTPField.Name("OpenStack-API-Version")!] = "placement \(version)" }
        if body != nil { h[.contentType] = "application/json" }
        let buffer = body.map { ByteBuffer(string: $0.serialized()) }
        return try await client.execute(uri: path, method: method, headers: h, body: buffer) { response in
            let json = response.body.readableBytes > 0 ? try? JSON.parse(response.body.readableBytesView) : nil
            return Reply(status: response.status, headers: response.headers, json: json)
        }
    }

    func get(_ path: String, _ version: String? = "1.39", token: String = "admin") async throws -> Reply {
        try await call(.get, path, version, token: token)
    }

    /// Creates a provider (optionally under `parent`) and returns its uuid.
    @discardableResult
    func provider(_ name: String, uuid: String = UUID().uuidString.lowercased(), parent: String? = nil) async throws -> String {
        var body: [String: JSON] = ["name": .string(name), "uuid": .string(uuid)]
        if let parent { body["parent_provider_uuid"] = .string(parent) }
        let r = try await call(.post, "/resource_providers", body: .object(body))
        #expect(r.code == 200, "create \(name): \(r.json?.serialized() ?? "")")
        return uuid
    }

    /// Sets the provider's whole inventory (class → total, other fields defaulted) and returns the new generation.
    @discardableResult
    func inventory(_ uuid: String, _ totals: [String: Int], ratio: Double = 1.0) async throws -> Int {
        let g = try await get("/resource_providers/\(uuid)").json!["generation"]!.intValue!
        let inv = JSON.object(totals.mapValues { ["total": .int(Int64($0)), "allocation_ratio": .double(ratio)] })
        let r = try await call(.put, "/resource_providers/\(uuid)/inventories", body: ["inventories": inv, "resource_provider_generation": .int(g)])
        #expect(r.code == 200, "inventory: \(r.json?.serialized() ?? "")")
        return Int(r.json?["resource_provider_generation"]?.intValue ?? -1)
    }

    /// Allocates for a new consumer at 1.39; returns the reply.
    func allocate(_ consumer: String, _ allocations: [String: [String: Int]], project: String = "p", user: String = "u") async throws -> Reply {
        let a = JSON.object(allocations.mapValues { ["resources": .object($0.mapValues { .int(Int64($0)) })] })
        return try await call(
            .put,
            "/allocations/\(consumer)",
            body: [
                "allocations": a, "project_id": .string(project), "user_id": .string(user), "consumer_generation": .null, "consumer_type": "INSTANCE",
            ]
        )
    }
}
