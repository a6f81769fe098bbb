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

    /// swift-log's stream format: `<level> <label>: <sorted metadata> [<source>] <message>`,
    /// with the request id kept apart from the other metadata but printed in its sorted place.
    @Test func logLinesKeepTheStreamFormat() {
        var handler = BufferedLogHandler(label: "stratus.identity", level: .info)
        func event(_ metadata: Logger.Metadata? = nil) -> LogEvent {
            LogEvent(level: .info, message: "GET /v3 200 1.2ms", metadata: metadata, source: "StratusCore", file: "f", function: "g", line: 1)
        }
        #expect(handler.line(for: event()) == "info stratus.identity: [StratusCore] GET /v3 200 1.2ms\n")
        handler[metadataKey: "request_id"] = "req-1"
        #expect(handler.line(for: event()) == "info stratus.identity: request_id=req-1 [StratusCore] GET /v3 200 1.2ms\n")
        handler[metadataKey: "service"] = "keystone"
        handler[metadataKey: "a"] = "1"
        #expect(
            handler.line(for: event(["z": "9"]))
                == "info stratus.identity: a=1 request_id=req-1 service=keystone z=9 [StratusCore] GET /v3 200 1.2ms\n"
        )
        #expect(handler.metadata == ["a": "1", "request_id": "req-1", "service": "keystone"])
        handler[metadataKey: "hb.request.id"] = "7"
        #expect(
            handler.line(for: event())
                == "info stratus.identity: a=1 hb.request.id=7 request_id=req-1 service=keystone [StratusCore] GET /v3 200 1.2ms\n"
        )
        #expect(handler.metadata["hb.request.id"] == "7")
        handler.metadata = ["request_id": "req-2"]
        #expect(handler[metadataKey: "request_id"] == "req-2" && handler[metadataKey: "a"] == nil)
        #expect(handler.line(for: event()) == "info stratus.identity: request_id=req-2 [StratusCore] GET /v3 200 1.2ms\n")
        handler[metadataKey: "hb.request.id"] = "8"
        #expect(handler.line(for: event()) == "info stratus.identity: hb.request.id=8 request_id=req-2 [StratusCore] GET /v3 200 1.2ms\n")
    }
}
