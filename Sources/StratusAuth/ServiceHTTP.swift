import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP under every service-to-service call (`ServiceClient`, `KeystoneSession`, the remote
/// token validator): one process-wide AsyncHTTPClient on the NIO event loops the API servers
/// already run, keeping connections alive per host. It replaced URLSession, whose libcurl and
/// dispatch threads cost about a sixth of the CPU of a server boot in all-in-one
/// (docs/benchmarks.md, "Compute").
enum ServiceHTTP {
    /// A service's answer, its body read whole.
    struct Answer: Sendable {
        var status: Int
        /// Lower-cased names; a repeated header keeps its last value.
        var headers: [String: String]
        var body: Data
    }

    /// The largest body a service answer may have (JSON documents; image data never goes through here).
    static let maxBody = 64 << 20

    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        )
        configuration.httpVersion = .http1Only
        // A request's own timeout ends when the answer's head arrives; a peer that stalls in
        // the body is cut off by the read timeout (no byte for 60 s), as URLSession's was.
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        // Lives as long as the process: never shut down, so never deinitialised.
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    static func send(
        _ method: String,
        _ url: String,
        headers: [(String, String)],
        body: [UInt8]? = nil,
        timeout: TimeInterval
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
        let data = try await response.body.collect(upTo: maxBody)
        var fields: [String: String] = [:]
        for (name, value) in response.headers { fields[name.lowercased()] = value }
        return Answer(status: Int(response.status.code), headers: fields, body: Data(buffer: data))
    }
}
