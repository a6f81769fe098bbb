import ArgumentParser
import Compute
import Hummingbird
import Logging
import StratusAuth
import StratusCore
import StratusStorage

/// The Compute service: nova-api, with the conductor, the scheduler and (in all-in-one) one
/// compute host run beside it as `[stratus] run` says.
enum ComputeModule: ServiceModule {
    static let project = "nova"
    static let daemon = "nova-api"
    static let serviceType = "compute"
    static let serviceName = "nova"
    static let defaultPort = 8774
    static let endpointPath = "/v2.1"
    static var options: [ConfigOption] { ComputeOptions.all }
    static let databases = [DatabaseSlot(group: "api_database", name: "nova_api"), DatabaseSlot(group: "database", name: "nova")]
    static let listenOptions: ListenOptions? = ListenOptions(group: "DEFAULT", host: "osapi_compute_listen", port: "osapi_compute_listen_port")
    static var tools: [any ParsableCommand.Type] {
        [
            NovaManage.self, NovaStatus.self, NovaWorkerDaemon<ConductorRole>.self, NovaWorkerDaemon<SchedulerRole>.self,
            NovaWorkerDaemon<ComputeRole>.self,
        ]
    }
    static let stateDirectories = ["/var/lib/nova/instances"]
    static let serviceCredentialGroups = ["keystone_authtoken", "placement", "neutron", "service_user"]

    static func allInOneSettings(dataDir: String) -> [(String, String, String)] {
        [
            ("stratus", "sync_on_startup", "true"),
            ("stratus", "run", "conductor,scheduler,compute"),
            ("DEFAULT", "compute_driver", "fake.FakeDriver"),
            ("scheduler", "discover_hosts_in_cells_interval", "2"),
            ("service_user", "send_service_user_token", "true"),
            ("oslo_policy", "policy_file", dataDir + "/nova-policy.yaml"),
        ]
    }

    static func open(config: Config, validator: any TokenValidator, logger: Logger) async throws -> any RunningService {
        let sync = config.bool("stratus", "sync_on_startup")
        if sync { try await ComputeCells.bootstrap(config: config, logger: logger) }
        let roles = config.list("stratus", "run")
        if roles.contains("compute") { try ComputeSettings.checkDriver(config) }
        let service = try await ComputeService.open(config: config, validator: validator, migrate: sync, logger: logger)
        service.startWorkers(roles, config: config)
        return service
    }
}

extension ComputeService: RunningService {
    func ready() async { await computeHostReady() }
}
