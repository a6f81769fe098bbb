import ArgumentParser
import Foundation
import Hummingbird
import Identity
import Logging
import NIOCore
import ServiceLifecycle
import StratusAuth
import StratusCore
import Testing

@testable import StratusCommands

/// A module that exists only here, to exercise what all-in-one does for every service but Identity.
enum EchoModule: ServiceModule {
    static let project = "echo"
    static let daemon = "echo-api"
    static let serviceType = "echo"
    static let serviceName = "echo"
    static let defaultPort = 7777
    static let options: [ConfigOption] = []
    static let databases: [DatabaseSlot] = []
    static let tools: [any ParsableCommand.Type] = []
    static func open(config: Config, validator: any TokenValidator, logger: Logger) async throws -> any RunningService {
        fatalError("not opened in these tests")
    }
}

@Suite("all-in-one's registration of a service through Identity's API")
struct ServiceRegistrarTests {
    @Test("creates the service project, a service user with admin and a stored 0600 password, the service and 3 endpoints; again only updates URLs")
    func registers() async throws {
        let dir = FileManager.default.temporaryDirectory.path + "/stratus-registrar-\(UUID().uuidString)"
        try FernetKeyRepository(path: dir + "/fernet").setup(owner: nil)
        let config = try Config.defaults(
            project: "keystone",
            options: IdentityOptions.all,
            values: [
                ("database", "connection", "sqlite:///\(dir)/k.db"), ("fernet_tokens", "key_repository", dir + "/fernet"),
                ("credential", "key_repository", dir + "/none"), ("identity", "password_hash_rounds", "4"),
            ]
        )
        let identity = try await IdentityService.open(config: config, logger: Logger(label: "test"))
        try await identity.bootstrap(IdentityBootstrap(password: "pw"))
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        var iterator = ports.makeAsyncIterator()
        let app = Application(
            router: identity.router(logger: Logger(label: "test")),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portSink.yield($0.localAddress?.port ?? 0) }
        )
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        let port = try #require(await iterator.next())
        let authURL = "http://127.0.0.1:\(port)/v3"
        let admin = PasswordCredentials(authURL: authURL, username: "admin", password: "pw", projectName: "admin")
        let registrar = ServiceRegistrar(admin: admin, dataDir: dir, region: "RegionOne")

        try await registrar.register([EchoModule.self]) { _ in "http://127.0.0.1:7777" }
        let password = try #require(StoredSecret.read(dir + "/echo-password"))
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/echo-password")[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // The service user logs in to the service project and finds the echo endpoints in its catalog.
        let serviceUser = KeystoneSession(credentials: PasswordCredentials(authURL: authURL, username: "echo", password: password))
        let echo = try await serviceUser.catalog().filter { $0.serviceType == "echo" }
        #expect(Set(echo.map(\.interface)) == ["public", "internal", "admin"])
        #expect(echo.allSatisfy { $0.url == "http://127.0.0.1:7777" && $0.region == "RegionOne" })

        // A second start on another port: the same user and password, the endpoints moved, none added.
        try await registrar.register([EchoModule.self]) { _ in "http://127.0.0.1:8888" }
        #expect(StoredSecret.read(dir + "/echo-password") == password)
        let again = try await KeystoneSession(credentials: serviceUser.credentials).catalog().filter { $0.serviceType == "echo" }
        #expect(again.count == 3)
        #expect(again.allSatisfy { $0.url == "http://127.0.0.1:8888" })

        server.cancel()
        _ = try? await server.value
        await identity.close()
    }
}

/// `placement-status upgrade check`'s table: oslo.upgradecheck's layout and details wrapping.
@Suite("upgrade check table")
struct UpgradeCheckTableTests {
    @Test("the reference's table, line for line (placement 16 with one warning)")
    func layout() {
        let long =
            "There are 1 incomplete consumers table records for existing allocations. Run the \"placement-manage db online_data_migrations\" command."
        let table = UpgradeCheck.table([
            .init(name: "Missing Root Provider IDs", code: .success, details: nil),
            .init(name: "Incomplete Consumers", code: .warning, details: long),
            .init(name: "Policy File JSON to YAML Migration", code: .success, details: nil),
        ])
        let rule = "+" + String(repeating: "-", count: 70) + "+"
        func row(_ s: String) -> String { "| " + s + String(repeating: " ", count: 69 - s.count) + "|" }
        let expected = [
            rule, row("Upgrade Check Results"), rule,
            row("Check: Missing Root Provider IDs"), row("Result: Success"), row("Details: None"), rule,
            row("Check: Incomplete Consumers"), row("Result: Warning"),
            row("Details: There are 1 incomplete consumers table records for existing"),
            row("  allocations. Run the \"placement-manage db"), row("  online_data_migrations\" command."), rule,
            row("Check: Policy File JSON to YAML Migration"), row("Result: Success"), row("Details: None"), rule,
        ]
        #expect(table.split(separator: "\n").map(String.init) == expected)
    }
}
