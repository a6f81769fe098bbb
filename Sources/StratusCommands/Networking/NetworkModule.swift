import ArgumentParser
import Hummingbird
import Logging
import Networking
import StratusAuth
import StratusCore
import StratusStorage

/// The Networking service (neutron-server with ML2 and the router plugin).
enum NetworkModule: ServiceModule {
    static let project = "neutron"
    static let daemon = "neutron-server"
    static let serviceType = "network"
    static let serviceName = "neutron"
    static let defaultPort = 9696
    static var options: [ConfigOption] { NetworkOptions.all }
    static let databases = [DatabaseSlot(group: "database", name: "neutron")]
    static let listenOptions: ListenOptions? = ListenOptions(group: "DEFAULT", host: "bind_host", port: "bind_port")
    static var tools: [any ParsableCommand.Type] { [NeutronDBManage.self] }
    static let stateDirectories = ["/var/lib/neutron/tmp", "/etc/neutron/plugins/ml2"]

    /// all-in-one's ML2 defaults: the guide's types and ranges, with the `noop` mechanism driver
    /// until the data plane exists.
    static func allInOneSettings(dataDir: String) -> [(String, String, String)] {
        [
            ("stratus", "sync_on_startup", "true"),
            ("DEFAULT", "core_plugin", "ml2"),
            ("DEFAULT", "service_plugins", "router"),
            ("DEFAULT", "allow_overlapping_ips", "true"),
            ("ml2", "type_drivers", "flat,vlan,vxlan"),
            ("ml2", "tenant_network_types", "vxlan"),
            ("ml2", "mechanism_drivers", "noop"),
            ("ml2", "extension_drivers", "port_security"),
            ("ml2_type_flat", "flat_networks", "provider"),
            ("ml2_type_vxlan", "vni_ranges", "1:1000"),
            ("oslo_policy", "policy_file", dataDir + "/neutron-policy.yaml"),
        ]
    }

    static func open(config: Config, validator: any TokenValidator, logger: Logger) async throws -> any RunningService {
        try await NetworkService.open(config: config, validator: validator, migrate: config.bool("stratus", "sync_on_startup"), logger: logger)
    }
}

extension NetworkService: RunningService {}
