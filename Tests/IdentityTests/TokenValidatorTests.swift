import Foundation
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

@Suite("keystonemiddleware-style validation against a live Identity service")
struct TokenValidatorTests {
    @Test("a service behind AuthMiddleware validates callers' tokens over HTTP, answers 401 in its own format, and caches results")
    func remoteValidation() async throws {
        // A migrated, bootstrapped (admin / "pw") Identity on its own copy of the template database.
        let fixture = try await IdentityFixture.make()
        let identity = fixture.service

        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: identity.router(logger: Logger(label: "test")),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) }
        )
        var iterator = ports.makeAsyncIterator()
        let identityServer = Task { try await app.runService(gracefulShutdownSignals: []) }
        let port = try #require(await iterator.next())

        let validator = KeystoneTokenValidator(
            settings: .init(authURL: "http://127.0.0.1:\(port)", username: "admin", password: "pw", projectName: "admin")
        )

        // Another service behind AuthMiddleware, answering in its own (nova's) error format.
        let serviceRouter = Router(context: StratusContext.self)
        serviceRouter.add(middleware: OpenStackMiddleware(format: .compute, bodyLimit: 1024, logger: Logger(label: "test")))
        serviceRouter.add(middleware: AuthMiddleware(validator: validator))
        serviceRouter.get("/whoami") { _, context -> String in
            let caller = try context.requireCaller()
            return "\(caller.userName)@\(caller.projectID ?? "-")"
        }
        let service = Application(
            router: serviceRouter,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) }
        )
        let serviceServer = Task { try await service.runService(gracefulShutdownSignals: []) }
        let servicePort = try #require(await iterator.next())
        let serviceToken = try await validator.currentServiceToken()
        let caller = try await validator.caller(for: serviceToken)
        #expect(caller.userName == "admin")
        #expect(Set(caller.roles).isSuperset(of: ["admin", "manager", "member", "reader"]))
        #expect(caller.projectID != nil && caller.auditIDs.count == 1)

        await #expect(throws: OpenStackError.self) { try await validator.caller(for: "gAAAAAB-not-a-token") }

        func whoami(_ token: String?) async throws -> (Int, String) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(servicePort)/whoami")!)
            if let token { request.setValue(token, forHTTPHeaderField: "X-Auth-Token") }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }
        let (ok, name) = try await whoami(serviceToken)
        #expect(ok == 200 && name == "admin@\(caller.projectID!)")
        let (missing, missingBody) = try await whoami(nil)
        #expect(missing == 401 && missingBody.contains(#""unauthorized""#))
        #expect(try await whoami("gAAAAAB-not-a-token").0 == 401)

        // A service user that may not validate tokens is this service's configuration error:
        // 503 and an error naming the user, not 401 for every caller.
        func askIdentity(_ method: String, _ path: String, _ body: String? = nil) async throws -> JSON {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            request.setValue(serviceToken, forHTTPHeaderField: "X-Auth-Token")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body.map { Data($0.utf8) }
            let (data, _) = try await URLSession.shared.data(for: request)
            return data.isEmpty ? .null : try JSON.parse(Array(data))
        }
        let nobody = try #require(
            try await askIdentity("POST", "/v3/users", #"{"user": {"name": "nobody", "password": "pw"}}"#)["user"]?["id"]?.stringValue
        )
        let member = try #require(try await askIdentity("GET", "/v3/roles?name=member")["roles"]?.arrayValue?.first?["id"]?.stringValue)
        _ = try await askIdentity("PUT", "/v3/projects/\(caller.projectID!)/users/\(nobody)/roles/\(member)")
        let log = CapturedLog()
        let misconfigured = KeystoneTokenValidator(
            settings: .init(authURL: "http://127.0.0.1:\(port)", username: "nobody", password: "pw", projectName: "admin"),
            logger: log.logger
        )
        do {
            _ = try await misconfigured.caller(for: serviceToken)
            Issue.record("a validation by a service user without the service role succeeded")
        } catch let e as OpenStackError {
            #expect(e.status == .serviceUnavailable)
        }
        #expect(log.messages.contains { $0.hasPrefix("error") && $0.contains("'nobody'") })
        // every request meets the same misconfiguration: it is logged once a minute, not per request
        for _ in 0..<3 { _ = try? await misconfigured.caller(for: serviceToken) }
        #expect(log.messages.filter { $0.contains("'nobody'") }.count == 1)

        identityServer.cancel()
        _ = try? await identityServer.value
        await #expect(throws: (any Error).self, "Identity is really down") {
            _ = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/v3")!)
        }
        // Identity is gone; the cached validation still answers, and so does the cached refusal.
        #expect(try await validator.caller(for: serviceToken).userName == "admin")
        do {
            _ = try await validator.caller(for: "gAAAAAB-not-a-token")
            Issue.record("a refused token validated")
        } catch let e as OpenStackError {
            #expect(e.status == .unauthorized, "answered from the cache of refused tokens, not by asking the stopped Identity")
        }
        #expect(try await whoami(serviceToken).0 == 200)
        serviceServer.cancel()
        _ = try? await serviceServer.value
        await fixture.close()
    }

    @Test("over HTTP, a service enforces an application credential's access rules for its own service type")
    func remoteAccessRules() async throws {
        let fixture = try await IdentityFixture.make()
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let identity = Application(
            router: fixture.service.router(logger: Logger(label: "test")),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) }
        )
        var iterator = ports.makeAsyncIterator()
        let identityServer = Task { try await identity.runService(gracefulShutdownSignals: []) }
        let port = try #require(await iterator.next())
        let validator = KeystoneTokenValidator(
            settings: .init(authURL: "http://127.0.0.1:\(port)", username: "admin", password: "pw", projectName: "admin")
        )
        let adminToken = try await validator.currentServiceToken()
        func ask(_ method: String, _ path: String, _ body: String? = nil, token: String = adminToken) async throws -> (Int, JSON) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            request.setValue(token, forHTTPHeaderField: "X-Auth-Token")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body.map { Data($0.utf8) }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data.isEmpty ? .null : try JSON.parse(Array(data)))
        }
        // "compute" in the catalog, and a credential that may only GET /servers there.
        let service = try #require(try await ask("POST", "/v3/services", #"{"service": {"type": "compute"}}"#).1["service"]?["id"]?.stringValue)
        _ = try await ask("POST", "/v3/endpoints", #"{"endpoint": {"service_id": "\#(service)", "interface": "public", "url": "http://c"}}"#)
        let admin = try #require(try await ask("GET", "/v3/users?name=admin").1["users"]?.arrayValue?.first?["id"]?.stringValue)
        let created = try await ask(
            "POST",
            "/v3/users/\(admin)/application_credentials",
            #"{"application_credential": {"name": "ruled", "access_rules": [{"service": "compute", "method": "GET", "path": "/servers"}]}}"#
        )
        let id = try #require(created.1["application_credential"]?["id"]?.stringValue)
        let secret = try #require(created.1["application_credential"]?["secret"]?.stringValue)
        var login = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v3/auth/tokens")!)
        login.httpMethod = "POST"
        login.httpBody = Data(
            #"{"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": "\#(id)", "secret": "\#(secret)"}}}}"#
                .utf8
        )
        let (_, loginResponse) = try await URLSession.shared.data(for: login)
        let ruled = try #require((loginResponse as? HTTPURLResponse)?.value(forHTTPHeaderField: "X-Subject-Token"))

        func serve(_ type: String?) async throws -> (port: Int, task: Task<Void, any Error>) {
            let router = Router(context: StratusContext.self)
            router.add(middleware: OpenStackMiddleware(format: .compute, bodyLimit: 1024, logger: Logger(label: "test")))
            router.add(middleware: AuthMiddleware(validator: validator, serviceType: type))
            router.get("/servers") { _, _ in "servers" }
            router.get("/flavors") { _, _ in "flavors" }
            let app = Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) }
            )
            let task = Task { try await app.runService(gracefulShutdownSignals: []) }
            return (try #require(await iterator.next()), task)
        }
        func status(_ port: Int, _ path: String, _ token: String) async throws -> Int {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.setValue(token, forHTTPHeaderField: "X-Auth-Token")
            let (_, response) = try await URLSession.shared.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        }
        let compute = try await serve("compute")
        #expect(try await status(compute.port, "/servers", ruled) == 200)
        #expect(try await status(compute.port, "/flavors", ruled) == 401)
        #expect(try await status(compute.port, "/flavors", adminToken) == 200, "tokens without rules are not restricted")
        let image = try await serve("image")
        #expect(try await status(image.port, "/servers", ruled) == 401, "a rule for compute does not open another service")
        let unknown = try await serve(nil)
        #expect(try await status(unknown.port, "/servers", ruled) == 401, "a service that does not know its type refuses")
        for server in [compute.task, image.task, unknown.task, identityServer] {
            server.cancel()
            _ = try? await server.value
        }
        await fixture.close()
    }
}
