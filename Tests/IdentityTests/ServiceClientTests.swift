import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import StratusAuth
import StratusCore
import Testing

@testable import Identity

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("service-to-service client against a live Identity service")
struct ServiceClientTests {
    @Test("finds the endpoint in the catalog, forwards the request id, adds X-Service-Token, and re-authenticates once after a 401")
    func client() async throws {
        // A migrated, bootstrapped (admin / "pw") Identity on its own copy of the template database.
        let fixture = try await IdentityFixture.make()
        let identity = fixture.service
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        var iterator = ports.makeAsyncIterator()
        let identityApp = Application(
            router: identity.router(logger: Logger(label: "test")),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portSink.yield($0.localAddress?.port ?? 0) }
        )
        let identityServer = Task { try await identityApp.runService(gracefulShutdownSignals: []) }
        let identityPort = try #require(await iterator.next())
        let authURL = "http://127.0.0.1:\(identityPort)"

        // A service that reports what it was sent: the caller, the service token's user, the request id.
        // No validation cache here, so a revoked token is refused at once.
        let validator = KeystoneTokenValidator(
            settings: .init(authURL: authURL, username: "admin", password: "pw", projectName: "admin", cacheSeconds: 0)
        )
        let echo = Router(context: StratusContext.self)
        echo.add(middleware: OpenStackMiddleware(format: .compute, bodyLimit: 1024, logger: Logger(label: "test")))
        echo.add(middleware: AuthMiddleware(validator: validator))
        echo.get("/echo") { request, context -> String in
            let caller = try context.requireCaller()
            let serviceToken = request.headers[HTTPField.Name("X-Service-Token")!]
            var serviceUser = "-"
            if let serviceToken { serviceUser = try await validator.caller(for: serviceToken).userName }
            let requestID = request.headers[HTTPField.Name("X-OpenStack-Request-ID")!] ?? "-"
            let version = request.headers[HTTPField.Name("OpenStack-API-Version")!] ?? "-"
            return "\(caller.userName)|\(serviceUser)|\(requestID)|\(version)"
        }
        let echoApp = Application(
            router: echo,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portSink.yield($0.localAddress?.port ?? 0) }
        )
        let echoServer = Task { try await echoApp.runService(gracefulShutdownSignals: []) }
        let echoPort = try #require(await iterator.next())

        // Register the echo service in the catalog through Identity's API, with the client itself.
        let admin = KeystoneSession(credentials: PasswordCredentials(authURL: authURL, username: "admin", password: "pw", projectName: "admin"))
        let identityClient = ServiceClient(settings: .init(serviceType: "identity", endpointOverride: authURL + "/v3"), session: admin)
        let service = try await identityClient.send(.post, "/services", json: ["service": ["name": "echo", "type": "echo"]])
        #expect(service.status == 201)
        let serviceID = try #require(service.json?["service"]?["id"]?.stringValue)
        let endpoint = try await identityClient.send(
            .post,
            "/endpoints",
            json: ["endpoint": ["service_id": .string(serviceID), "interface": "internal", "url": .string("http://127.0.0.1:\(echoPort)/")]]
        )
        #expect(endpoint.status == 201)

        // A new session sees the endpoint in its catalog.
        let session = KeystoneSession(credentials: admin.credentials)
        let serviceUser = KeystoneSession(credentials: admin.credentials)
        let client = ServiceClient(settings: .init(serviceType: "echo"), session: session, serviceUser: serviceUser)
        #expect(try await client.endpoint() == "http://127.0.0.1:\(echoPort)")
        let own = try await client.send(.get, "/echo", microversion: ("echo", "1.5"), requestID: "req-abc")
        #expect(own.status == 200)
        #expect(String(decoding: own.body, as: UTF8.self) == "admin|-|req-abc|echo 1.5", "its own token: no X-Service-Token")
        let userToken = try await admin.token()
        let onBehalf = try await client.send(.get, "/echo", onBehalfOf: userToken)
        #expect(String(decoding: onBehalf.body, as: UTF8.self) == "admin|admin|-|-", "a user's call carries the service user's token")

        // Revoke the client's own token: the next call gets 401 once, re-authenticates and succeeds.
        let stale = try await session.token()
        var request = URLRequest(url: URL(string: authURL + "/v3/auth/tokens")!)
        request.httpMethod = "DELETE"
        request.setValue(try await admin.token(), forHTTPHeaderField: "X-Auth-Token")
        request.setValue(stale, forHTTPHeaderField: "X-Subject-Token")
        let (_, deleted) = try await URLSession.shared.data(for: request)
        #expect((deleted as? HTTPURLResponse)?.statusCode == 204)
        let retried = try await client.send(.get, "/echo")
        #expect(retried.status == 200)
        #expect(try await session.token() != stale, "a new token was fetched")

        echoServer.cancel()
        identityServer.cancel()
        _ = try? await echoServer.value
        _ = try? await identityServer.value
        await fixture.close()
    }
}
