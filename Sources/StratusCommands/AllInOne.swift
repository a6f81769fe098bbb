import ArgumentParser
import Foundation
import Hummingbird
import Identity
import Logging
import NIOCore
import ServiceLifecycle
import StratusCore
import StratusStorage

/// `stratus all-in-one`: the whole cloud in one process, state in one directory.
///
/// First start: creates DIR, migrates, sets up Fernet and credential keys, bootstraps the admin
/// (password from `--admin-password`, else `OS_PASSWORD`, else generated and kept in
/// DIR/admin-password), writes DIR/admin-openrc and DIR/clouds.yaml. Later starts reuse all of it.
/// Prints `stratus: ready` and one `<service-type> <url>` line per service once they listen.
struct AllInOne: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "all-in-one", abstract: "Run every Stratus service in one process.")

    @Option(name: .customLong("data-dir"), help: "Where all state lives (default $XDG_DATA_HOME/stratus or ~/.local/share/stratus).")
    var dataDir: String?
    @Option(name: .customLong("bind"), help: "Address to listen on and to advertise (default 127.0.0.1).") var bind = "127.0.0.1"
    @Option(name: .customLong("port-offset"), help: "Added to every port (5000 → 5000+N).") var portOffset = 0
    @Option(name: .customLong("admin-password"), help: "Admin password (else OS_PASSWORD, else generated on first start).")
    var adminPassword: String?
    @Option(name: .customLong("config-file"), help: "Extra keystone.conf-style options (e.g. [identity] password_hash_rounds, [database] connection).")
    var configFiles: [String] = []

    static func defaultDataDir() -> String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/stratus" }
        return FileManager.default.homeDirectoryForCurrentUser.path + "/.local/share/stratus"
    }

    func run() async throws {
        let dir = URL(fileURLWithPath: dataDir ?? AllInOne.defaultDataDir()).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let advertised = (bind == "0.0.0.0" || bind == "::") ? "127.0.0.1" : bind
        let identityPort = 5000 + portOffset
        let identityURL = "http://\(advertised):\(identityPort)/v3"
        var conf = try ConfigArguments.load(project: "keystone", files: configFiles, dirs: [], options: IdentityOptions.all, overrides: [
            ("fernet_tokens", "key_repository", dir + "/fernet-keys"),
            ("credential", "key_repository", dir + "/credential-keys"),
            ("oslo_policy", "policy_file", dir + "/policy.yaml"),
        ], searchDefaultFiles: false)
        // SQLite in DIR unless --config-file names a database (e.g. PostgreSQL).
        if !conf.isSet("database", "connection") { conf.set("database", "connection", "sqlite:///" + dir + "/keystone.db") }
        Logs.setUp(debug: conf.bool("DEFAULT", "debug"))
        let logger = Logger(label: "stratus.all-in-one")

        let password = try resolvePassword(dir: dir)
        try FernetKeyRepository(path: dir + "/fernet-keys").setup(owner: nil)
        try FernetKeyRepository(path: dir + "/credential-keys").setup(owner: nil)
        let identity = try await IdentityService.open(config: conf, logger: Logger(label: "stratus.identity"))
        var bootstrap = IdentityBootstrap(password: password.value)
        bootstrap.regionID = "RegionOne"
        bootstrap.publicURL = identityURL
        bootstrap.internalURL = identityURL
        bootstrap.adminURL = identityURL
        bootstrap.resetPassword = password.isNew
        try await identity.bootstrap(bootstrap)
        try writeClientFiles(dir: dir, authURL: identityURL, password: password.value)

        let services: [(type: String, url: String)] = [("identity", identityURL)]
        let ready = ReadyLatch(expected: services.count) {
            let lines = ["stratus: ready"] + services.map { "\($0.type) \($0.url)" }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        let app = Application(router: identity.router(logger: Logger(label: "stratus.identity.api")),
                              configuration: .init(address: .hostname(bind, port: identityPort), serverName: nil),
                              onServerRunning: { _ in await ready.arrive() }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await identity.close()
    }

    /// The admin password: the stored one wins; otherwise the given one or a generated one, stored.
    func resolvePassword(dir: String) throws -> (value: String, isNew: Bool) {
        let path = dir + "/admin-password"
        let given = adminPassword ?? ProcessInfo.processInfo.environment["OS_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        if let stored = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !stored.isEmpty {
            if let given, given != stored {
                Terminal.warn("keeping the admin password stored in \(path); the one given now is ignored")
            }
            return (stored, false)
        }
        let value = given ?? Self.generatePassword()
        guard FileManager.default.createFile(atPath: path, contents: Data((value + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Terminal.fail("cannot write \(path)")
        }
        return (value, true)
    }

    static func generatePassword() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet.randomElement(using: &rng)! })
    }

    func writeClientFiles(dir: String, authURL: String, password: String) throws {
        let openrc = """
            export OS_PROJECT_DOMAIN_NAME=Default
            export OS_USER_DOMAIN_NAME=Default
            export OS_PROJECT_NAME=admin
            export OS_USERNAME=admin
            export OS_PASSWORD=\(shellQuote(password))
            export OS_AUTH_URL=\(authURL)
            export OS_IDENTITY_API_VERSION=3
            export OS_IMAGE_API_VERSION=2
            export OS_REGION_NAME=RegionOne

            """
        let clouds = """
            clouds:
              stratus:
                auth:
                  auth_url: \(authURL)
                  username: admin
                  password: "\(password)"
                  project_name: admin
                  user_domain_name: Default
                  project_domain_name: Default
                region_name: RegionOne
                identity_api_version: 3
                interface: public
              stratus-system:
                auth:
                  auth_url: \(authURL)
                  username: admin
                  password: "\(password)"
                  user_domain_name: Default
                  system_scope: all
                region_name: RegionOne
                identity_api_version: 3
                interface: public

            """
        for (name, text) in [("admin-openrc", openrc), ("clouds.yaml", clouds)] {
            guard FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw Terminal.fail("cannot write \(dir)/\(name)")
            }
        }
    }

    func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

/// Calls `action` once `expected` servers have reported that they listen.
actor ReadyLatch {
    var remaining: Int
    let action: @Sendable () -> Void
    init(expected: Int, action: @escaping @Sendable () -> Void) {
        remaining = expected
        self.action = action
    }
    func arrive() {
        remaining -= 1
        if remaining == 0 { action() }
    }
}
