import ArgumentParser
import Foundation
import Hummingbird
import Identity
import Logging
import NIOCore
import ServiceLifecycle
import StratusAuth
import StratusCore
import StratusStorage

/// `stratus all-in-one`: the whole cloud in one process, state in one directory.
///
/// First start: creates DIR, migrates every service's database, sets up Fernet and credential
/// keys, bootstraps the admin (password from `--admin-password`, else `OS_PASSWORD`, else
/// generated and kept in DIR/admin-password), registers every other service in the catalog
/// with its own service user, and writes DIR/admin-openrc and DIR/clouds.yaml. Later starts
/// reuse all of it. Prints `stratus: ready` and one `<service-type> <url>` line per service
/// once they all listen.
struct AllInOne: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "all-in-one", abstract: "Run every Stratus service in one process.")

    @Option(name: .customLong("data-dir"), help: "Where all state lives (default $XDG_DATA_HOME/stratus or ~/.local/share/stratus).")
    var dataDir: String?
    @Option(name: .customLong("bind"), help: "Address to listen on and to advertise (default 127.0.0.1).") var bind = "127.0.0.1"
    @Option(name: .customLong("port-offset"), help: "Added to every port (5000 → 5000+N).") var portOffset = 0
    @Option(
        name: .customLong("admin-password"),
        help: "Admin password (else OS_PASSWORD, else generated on first start). Visible to every local user in ps: prefer --admin-password-file."
    )
    var adminPassword: String?
    @Option(name: .customLong("admin-password-file"), help: "Read the admin password from the first line of FILE (wins over --admin-password).")
    var adminPasswordFile: String?
    @Option(
        name: .customLong("config-file"),
        help: """
            Extra options: FILE applies to every service (e.g. [DEFAULT] debug, [database] connection for keystone's database, \
            from which the others' are derived); SERVICE:FILE only to that one (e.g. glance:glance.conf or image:glance.conf).
            """
    )
    var configFiles: [String] = []
    @Option(
        name: .customLong("without"),
        help: """
            Services or roles not to run, comma-separated: a service (e.g. compute, nova, neutron) is left out with its \
            endpoints; nova-conductor, nova-scheduler, nova-compute leave that Compute role to a daemon run beside it.
            """
    )
    var without: [String] = []

    static func defaultDataDir() -> String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/stratus" }
        return FileManager.default.homeDirectoryForCurrentUser.path + "/.local/share/stratus"
    }

    func run() async throws {
        let dir = URL(fileURLWithPath: dataDir ?? AllInOne.defaultDataDir()).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let advertised = (bind == "0.0.0.0" || bind == "::") ? "127.0.0.1" : bind
        let files = try AllInOneConfigFiles(configFiles)
        let identityRoot = "http://\(advertised):\(IdentityModule.defaultPort + portOffset)"
        let left = try Without(without.flatMap { $0.split(separator: ",").map { String($0) } })
        let modules = ServiceModules.all.filter { m in !left.modules.contains { $0 == m.project } }
        let configs = try modules.map { try config(for: $0, dataDir: dir, files: files, identityRoot: identityRoot, roles: left.roles) }
        let identityConf = configs[0]
        Logs.setUp(debug: identityConf.bool("DEFAULT", "debug"))
        let logger = Logger(label: "stratus.all-in-one")
        let offset = portOffset
        let url: @Sendable (any ServiceModule.Type) -> String = { "http://\(advertised):\($0.defaultPort + offset)\($0.endpointPath)" }

        let password = try resolvePassword(dir: dir)
        try FernetKeyRepository(path: dir + "/fernet-keys").setup(owner: nil)
        try FernetKeyRepository(path: dir + "/credential-keys").setup(owner: nil)
        let identity = try await IdentityService.open(config: identityConf, logger: Logger(label: "stratus.identity"))
        let identityURL = url(IdentityModule.self)
        var bootstrap = IdentityBootstrap(password: password.value)
        bootstrap.regionID = "RegionOne"
        bootstrap.publicURL = identityURL
        bootstrap.internalURL = identityURL
        bootstrap.adminURL = identityURL
        bootstrap.resetPassword = password.isNew
        try await identity.bootstrap(bootstrap)
        try writeClientFiles(dir: dir, authURL: identityURL, password: password.value)

        var running: [(module: any ServiceModule.Type, service: any RunningService)] = [(IdentityModule.self, identity)]
        for (module, conf) in zip(modules, configs).dropFirst() {
            for slot in module.databases { try await Database.createIfMissing(DatabaseOptions.url(conf, group: slot.group)) }
            running.append((module, try await module.open(config: conf, validator: identity, logger: Logger(label: "stratus.\(module.serviceType)"))))
        }

        let others = running.dropFirst().map(\.module)
        let lines = ["stratus: ready"] + running.map { "\($0.module.serviceType) \(url($0.module))" }
        let ready = ReadyLatch(expected: running.count + (others.isEmpty ? 0 : 1)) {
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        var services: [any Service] = running.map { entry in
            Application(
                router: entry.service.router(),
                configuration: .init(address: .hostname(bind, port: entry.module.defaultPort + portOffset), serverName: nil),
                onServerRunning: { _ in await ready.arrive() },
                logger: logger
            )
        }
        let registrar = ServiceRegistrar(
            admin: PasswordCredentials(authURL: identityURL, username: "admin", password: password.value, projectName: "admin"),
            dataDir: dir,
            region: "RegionOne"
        )
        let opened = running.map(\.service)
        if !others.isEmpty {
            // Registration talks to Identity over HTTP, as an operator following the guide would:
            // it runs once Identity listens, and the cloud is ready only after it.
            services.append(
                OneShot {
                    try await registrar.register(others, url: url)
                    for service in opened { await service.ready() }
                    await ready.arrive()
                }
            )
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        for entry in running.reversed() { await entry.service.close() }
        LogBuffer.shared.flush()
    }

    /// One module's configuration: the shared files, then its own, then what the data
    /// directory decides (unless its own files say otherwise), then the derived databases.
    func config(
        for module: any ServiceModule.Type,
        dataDir: String,
        files: AllInOneConfigFiles,
        identityRoot: String,
        roles: Set<String> = []
    ) throws -> Config {
        let own = files.files(for: module)
        let ownOnly = try ConfigArguments.load(
            project: module.project,
            files: own,
            dirs: [],
            options: module.options,
            overrides: [],
            searchDefaultFiles: false
        )
        let shared = try ConfigArguments.load(
            project: module.project,
            files: files.shared,
            dirs: [],
            options: IdentityModule.options,
            overrides: [],
            searchDefaultFiles: false
        )
        let base = shared.isSet("database", "connection") ? shared.string("database", "connection")! : "sqlite:///" + dataDir + "/keystone.db"
        var overrides = module.allInOneSettings(dataDir: dataDir).filter { !ownOnly.isSet($0.0, $0.1) }
        // `--without nova-compute` (…): the worker roles of `[stratus] run` less the ones left out.
        if !roles.isEmpty, let i = overrides.firstIndex(where: { $0.0 == "stratus" && $0.1 == "run" }) {
            let kept = overrides[i].2.split(separator: ",").map { String($0) }.filter { !roles.contains($0) }
            overrides[i].2 = kept.joined(separator: ",")
        }
        // The Identity endpoint a 401 points clients to (keystonemiddleware's `WWW-Authenticate`).
        if module.serviceType != IdentityModule.serviceType, !ownOnly.isSet("keystone_authtoken", "www_authenticate_uri") {
            overrides.append(("keystone_authtoken", "www_authenticate_uri", identityRoot))
        }
        if !module.serviceCredentialGroups.isEmpty {
            let password = try StoredSecret.readOrCreate("\(dataDir)/\(module.serviceName)-password")
            for group in module.serviceCredentialGroups where !ownOnly.isSet(group, "username") {
                overrides += [
                    (group, "auth_url", identityRoot), (group, "username", module.serviceName), (group, "password", password),
                    (group, "project_name", "service"), (group, "user_domain_name", "Default"), (group, "project_domain_name", "Default"),
                ]
            }
        }
        for slot in module.databases where !ownOnly.isSet(slot.group, "connection") {
            overrides.append((slot.group, "connection", try DatabaseURL.derived(from: base, name: slot.name, primary: "keystone")))
        }
        return try ConfigArguments.load(
            project: module.project,
            files: files.shared + own,
            dirs: [],
            options: module.options,
            overrides: overrides,
            searchDefaultFiles: false
        )
    }

    /// The admin password: the stored one wins; otherwise the given one or a generated one, stored.
    func resolvePassword(dir: String) throws -> (value: String, isNew: Bool) {
        var fromFile: String?
        if let adminPasswordFile {
            guard let data = FileManager.default.contents(atPath: adminPasswordFile),
                let line = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first,
                !line.isEmpty
            else {
                throw Terminal.fail("all-in-one: cannot read an admin password from \(adminPasswordFile)")
            }
            fromFile = String(line.hasSuffix("\r") ? line.dropLast() : line)
        }
        let given = fromFile ?? adminPassword ?? ProcessInfo.processInfo.environment["OS_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        let path = dir + "/admin-password"
        if let stored = StoredSecret.read(path) {
            if let given, given != stored {
                Terminal.warn("keeping the admin password stored in \(path); the one given now is ignored")
            }
            return (stored, false)
        }
        let value = given ?? StoredSecret.generate()
        try StoredSecret.write(value, to: path)
        return (value, true)
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
            guard FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw Terminal.fail("cannot write \(dir)/\(name)")
            }
        }
    }

    func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

/// all-in-one's `--config-file` values: `FILE` for every service, `SERVICE:FILE` for one
/// (SERVICE is a project, daemon or service type name; anything else is a path with a colon).
struct AllInOneConfigFiles {
    var shared: [String] = []
    var perModule: [(project: String, file: String)] = []

    init(_ values: [String]) throws {
        for value in values {
            if let colon = value.firstIndex(of: ":"), let module = ServiceModules.named(String(value[..<colon])) {
                perModule.append((module.project, String(value[value.index(after: colon)...])))
            } else {
                shared.append(value)
            }
        }
    }

    func files(for module: any ServiceModule.Type) -> [String] { perModule.filter { $0.project == module.project }.map(\.file) }
}

/// A secret kept in the data directory, readable by its owner only (0600).
enum StoredSecret {
    static func read(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }

    static func write(_ value: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data((value + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Terminal.fail("cannot write \(path)")
        }
    }

    /// 20 characters from an alphabet without look-alikes.
    static func generate() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet.randomElement(using: &rng)! })
    }

    /// The stored secret, or a new one stored now.
    static func readOrCreate(_ path: String) throws -> String {
        if let existing = read(path) { return existing }
        let value = generate()
        try write(value, to: path)
        return value
    }
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

/// all-in-one's `--without`: whole services (by project, daemon or service type; never Identity)
/// and Compute's worker roles (`nova-conductor`, `nova-scheduler`, `nova-compute`).
struct Without {
    var modules: [String] = []
    var roles: Set<String> = []

    init(_ names: [String]) throws {
        for name in names where !name.isEmpty {
            if name.hasPrefix("nova-"), ["conductor", "scheduler", "compute"].contains(String(name.dropFirst(5))) {
                roles.insert(String(name.dropFirst(5)))
            } else if let module = ServiceModules.named(name), module.project != IdentityModule.project {
                modules.append(module.project)
            } else {
                throw Terminal.fail("--without \(name): not a service (or Compute role) all-in-one can leave out")
            }
        }
    }
}
