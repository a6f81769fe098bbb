import ArgumentParser
import Hummingbird
import Logging
import StratusAuth
import StratusCore
import StratusStorage

/// One OpenStack service as Stratus registers it: everything all-in-one, the command table,
/// argv[0] dispatch, `config-sample`, `make install` (through `stratus modules`) and the e2e
/// framework need to know about it. Adding a service is a new conformance plus one line in
/// `ServiceModules.all`; none of those places change.
protocol ServiceModule: Sendable {
    /// oslo's project: `/etc/<project>/<project>.conf`, the system user, `/var/lib/<project>`.
    static var project: String { get }
    /// The daemon's program name (`keystone`, `glance-api`): its subcommand, its argv[0] name and
    /// the second config file oslo searches for (`/etc/glance/glance-api.conf`).
    static var daemon: String { get }
    /// The catalog's service type (`identity`, `image`, `placement`, `compute`, `network`).
    static var serviceType: String { get }
    /// The catalog's service name and the all-in-one service user (`glance`, `placement`, …).
    static var serviceName: String { get }
    /// The guide's port.
    static var defaultPort: Int { get }
    /// Appended to `http://host:port` in the catalog (`/v3` for identity, `/v2.1` for compute).
    static var endpointPath: String { get }
    /// Every option the service reads (drives validation, warnings and `config-sample`).
    static var options: [ConfigOption] { get }
    /// The service's databases: config group and the all-in-one database name of each.
    static var databases: [DatabaseSlot] { get }
    /// The options that set the daemon's listen address (`bind_host`/`bind_port`); `--bind` wins.
    static var listenOptions: ListenOptions? { get }
    /// The manage and status tools (`keystone-manage`, `glance-manage`, …); each is also an argv[0] name.
    static var tools: [any ParsableCommand.Type] { get }
    /// Directories `make install` creates for the service, owned by its user (the guide's
    /// `/var/lib/glance/images`), beside `/etc/<project>` and `/var/lib/<project>`.
    static var stateDirectories: [String] { get }
    /// Config groups all-in-one fills with the service user's credentials (keystoneauth's
    /// `auth_url`, `username`, `password`, … in `[placement]`, `[neutron]`, …).
    static var serviceCredentialGroups: [String] { get }
    /// all-in-one settings that depend on its data directory (key repositories, stores, policy file).
    static func allInOneSettings(dataDir: String) -> [(String, String, String)]
    /// Opens the service (migrated database, policy, stores). `validator` checks callers' tokens.
    static func open(config: Config, validator: any TokenValidator, logger: Logger) async throws -> any RunningService
}

/// A service opened by its module: it answers HTTP and is closed at shutdown.
protocol RunningService: Sendable {
    /// The whole API on one router, error format and middleware included.
    func router() -> Router<StratusContext>
    /// Returns once what the service runs beside its API can take work (all-in-one prints
    /// `stratus: ready` after it): Compute's in-process compute host registered, mapped and
    /// reported to Placement.
    func ready() async
    func close() async
}

extension RunningService {
    func ready() async {}
}

/// One database of a service: the group of its `connection` and the name all-in-one gives it.
struct DatabaseSlot: Sendable {
    var group: String
    var name: String
}

/// A daemon's listen options, e.g. glance's `[DEFAULT] bind_host` / `bind_port`.
struct ListenOptions: Sendable {
    var group: String
    var host: String
    var port: String
}

extension ServiceModule {
    static var endpointPath: String { "" }
    static var listenOptions: ListenOptions? { nil }
    static var stateDirectories: [String] { [] }
    static var serviceCredentialGroups: [String] { [] }
    static func allInOneSettings(dataDir: String) -> [(String, String, String)] { [] }

    /// The service's argv[0] names: the daemon and every tool.
    static var programNames: [String] { [daemon] + tools.map { $0._commandName } }

    /// Loads this service's configuration as the daemon or a tool does (oslo's default search for
    /// `<project>.conf` and `<prog>.conf` when no file is given).
    static func loadConfig(_ arguments: ConfigArguments, prog: String? = nil) throws -> Config {
        try ConfigArguments.load(
            project: project,
            prog: prog ?? daemon,
            files: arguments.configFiles,
            dirs: arguments.configDirs,
            options: options,
            overrides: []
        )
    }
}

/// Every service Stratus has, in start order (Identity first: the others validate tokens with it).
enum ServiceModules {
    static let all: [any ServiceModule.Type] = [IdentityModule.self, ImageModule.self, PlacementModule.self, NetworkModule.self, ComputeModule.self]

    /// The module answering to a project, daemon, tool or service-type name.
    static func named(_ name: String) -> (any ServiceModule.Type)? {
        all.first { $0.project == name || $0.serviceType == name || $0.programNames.contains(name) }
    }
}
