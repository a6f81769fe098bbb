import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

@testable import StratusCore

/// The shared request path: request ids and `/healthcheck`.
@Suite struct RequestPathTests {
    @Test func requestIDsAreDistinctUUID4s() {
        let ids = (0..<1000).map { _ in RequestID.next() }
        #expect(Set(ids).count == 1000)
        for id in ids.prefix(20) {
            #expect(id.hasPrefix("req-"))
            let uuid = UUID(uuidString: String(id.dropFirst(4)))
            #expect(uuid != nil && uuid?.uuidString.lowercased() == String(id.dropFirst(4)))
            let chars = Array(id.dropFirst(4))
            #expect(chars[14] == "4" && "89ab".contains(chars[19]))
        }
    }

    /// 503 while the probe fails, 200 once it succeeds; a success is reused for a second.
    @Test func healthcheckFollowsItsProbe() async throws {
        let healthy = Mutex(false)
        let probes = Mutex(0)
        let router = Router(context: StratusContext.self)
        router.add(middleware: OpenStackMiddleware(format: .identity, bodyLimit: 1000, logger: Logger(label: "test")))
        var routes = RouteTable(router: router)
        routes.healthcheck {
            probes.withLock { $0 += 1 }
            guard healthy.withLock({ $0 }) else { throw CancellationError() }
        }
        routes.finish()
        try await Application(router: router).test(.router) { client in
            func check() async throws -> (Int, String) {
                try await client.execute(uri: "/healthcheck", method: .get) { r in (Int(r.status.code), String(buffer: r.body)) }
            }
            let down = try await check()
            #expect(down.0 == 503 && down.1 == "FAILED")
            healthy.withLock { $0 = true }
            let up = try await check()
            #expect(up.0 == 200 && up.1 == "OK")
            let before = probes.withLock { $0 }
            for _ in 0..<5 { #expect(try await check().0 == 200) }
            #expect(probes.withLock { $0 } == before, "a success is reused within its second")
        }
    }
}
