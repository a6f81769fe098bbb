import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import StratusAuth
import StratusCore
import Testing
@testable import Identity

@Suite("keystonemiddleware-style validation against a live Identity service")
struct TokenValidatorTests {
    @Test("a service validates callers' tokens over HTTP, rejects bad ones with 401, and caches results")
    func remoteValidation() async throws {
        let dir = FileManager.default.temporaryDirectory.path + "/stratus-validator-\(UUID().uuidString)"
        try FernetKeyRepository(path: dir + "/fernet").setup(owner: nil)
        let config = try Config.defaults(project: "keystone", options: IdentityOptions.all, values: [
            ("database", "connection", "sqlite:///\(dir)/k.db"), ("fernet_tokens", "key_repository", dir + "/fernet"),
            ("credential", "key_repository", dir + "/none"), ("identity", "password_hash_rounds", "4"),
        ])
        let identity = try await IdentityService.open(config: config, logger: Logger(label: "test"))
        try await IdentityBootstrap(password: "pw").run(db: identity.db, hasher: identity.hasher)

        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: identity.router(logger: Logger(label: "test")),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) })
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "test")))
        let server = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())

        let validator = KeystoneTokenValidator(settings: .init(authURL: "http://127.0.0.1:\(port)", username: "admin", password: "pw", projectName: "admin"))
        let serviceToken = try await validator.currentServiceToken()
        let caller = try await validator.caller(for: serviceToken)
        #expect(caller.userName == "admin")
        #expect(Set(caller.roles).isSuperset(of: ["admin", "manager", "member", "reader"]))
        #expect(caller.projectID != nil && caller.auditIDs.count == 1)

        await #expect(throws: OpenStackError.self) { try await validator.caller(for: "gAAAAAB-not-a-token") }

        await group.triggerGracefulShutdown()
        _ = try? await server.value
        // Identity is gone; the cached validation still answers.
        #expect(try await validator.caller(for: serviceToken).userName == "admin")
        await identity.close()
    }
}
