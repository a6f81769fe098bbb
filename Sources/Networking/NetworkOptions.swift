import StratusAuth
import StratusCore
import StratusStorage

/// neutron.conf and ml2_conf.ini options Stratus understands (names, groups and defaults as
/// neutron 29's). The daemon reads both files through oslo's repeatable `--config-file`.
public enum NetworkOptions {
    public static let all: [ConfigOption] =
        CommonOptions.all + OsloPolicyOptions.all + KeystoneAuthtokenOptions.all
        + DatabaseOptions.options(defaultConnection: nil, help: "The SQLAlchemy-style URL of the neutron database (sqlite:///… or postgresql://…).")
        + PasswordCredentials.options(group: "nova")
        + [
            .choice("DEFAULT", "core_plugin", ["ml2", "neutron.plugins.ml2.plugin.Ml2Plugin"], default: "ml2", "The core plugin (ML2 only)."),
            .list("DEFAULT", "service_plugins", default: "", "Service plugins: router is served; others are refused."),
            .bool("DEFAULT", "allow_overlapping_ips", default: false, "Whether projects' subnets may overlap (across routers)."),
            .bool("DEFAULT", "notify_nova_on_port_status_changes", default: true, "Tell Compute when a port's status changes."),
            .bool("DEFAULT", "notify_nova_on_port_data_changes", default: true, "Tell Compute when a port's fixed or floating IPs change."),
            .string("DEFAULT", "bind_host", default: "0.0.0.0", "Address the API listens on."),
            .int("DEFAULT", "bind_port", default: 9696, min: 0, max: 65535, "Port the API listens on."),
            .string("DEFAULT", "base_mac", default: "fa:16:3e:00:00:00", "MAC prefix of generated port addresses (the zero bytes are random)."),
            .int("DEFAULT", "global_physnet_mtu", default: 1500, min: 68, "MTU of the physical networks; overlay networks subtract their header."),
            .int("DEFAULT", "agent_down_time", default: 75, min: 1, "Seconds without a heartbeat after which an agent is down."),
            .int("DEFAULT", "max_dns_nameservers", default: 5, min: 0, "Most DNS servers per subnet."),
            .int("DEFAULT", "max_subnet_host_routes", default: 20, min: 0, "Most host routes per subnet."),
            .int("DEFAULT", "max_allowed_address_pair", default: 10, min: 0, "Most allowed address pairs per port."),
            .int("DEFAULT", "pagination_max_limit", default: -1, min: -1, "Largest page (-1: no limit)."),
            .list("DEFAULT", "default_availability_zones", default: "", "Availability zones of resources created without hints."),
            .int("DEFAULT", "api_workers", default: 1, min: 0, "Accepted; one process serves the API."),
            .ignored("DEFAULT", "rpc_workers", "Accepted; Stratus has no RPC workers."),
            .string("DEFAULT", "dns_domain", default: "openstacklocal", "Domain of the hostnames given to ports."),
            .int("nova", "event_retry_seconds", default: 600, min: 0, "How long events to Compute are retried while it fails (Stratus)."),
            .string("nova", "endpoint_type", default: "public", "Catalog interface of the Compute endpoint."),
            .list("ml2", "type_drivers", default: "local,flat,vlan,gre,vxlan,geneve", "Network types that may be created."),
            .list("ml2", "tenant_network_types", default: "local", "Types of project networks, in order of preference."),
            .list("ml2", "mechanism_drivers", default: "", "Mechanism drivers: noop binds anything; linuxbridge needs a live agent."),
            .list("ml2", "extension_drivers", default: "", "Extension drivers (port_security is served)."),
            .int("ml2", "path_mtu", default: 0, min: 0, "MTU of the underlying path (0: global_physnet_mtu)."),
            .list("ml2_type_flat", "flat_networks", default: "*", "Physical networks flat networks may use (* for any)."),
            .list("ml2_type_vlan", "network_vlan_ranges", default: "", "physnet[:min:max] entries for VLAN networks."),
            .list("ml2_type_vxlan", "vni_ranges", default: "", "min:max ranges of VXLAN ids for project networks."),
            .string("ml2_type_vxlan", "vxlan_group", "Accepted (multicast group of the agents)."),
            .list("ml2_type_geneve", "vni_ranges", default: "", "Accepted."),
            .bool("securitygroup", "enable_ipset", default: true, "Accepted (an agent setting)."),
            .bool("securitygroup", "enable_security_group", default: true, "Whether the security group API is served."),
            .string("securitygroup", "firewall_driver", "Accepted (an agent setting)."),
            .string("oslo_concurrency", "lock_path", "Accepted; Stratus serializes through the database."),
            .int("quotas", "quota_network", default: 100, min: -1, "Networks per project."),
            .int("quotas", "quota_subnet", default: 100, min: -1, "Subnets per project."),
            .int("quotas", "quota_port", default: 500, min: -1, "Ports per project."),
            .int("quotas", "quota_router", default: 10, min: -1, "Routers per project."),
            .int("quotas", "quota_floatingip", default: 50, min: -1, "Floating IPs per project."),
            .int("quotas", "quota_security_group", default: 10, min: -1, "Security groups per project."),
            .int("quotas", "quota_security_group_rule", default: 100, min: -1, "Security group rules per project."),
            .int("quotas", "quota_rbac_policy", default: 10, min: -1, "RBAC policies per project."),
            .string("quotas", "quota_driver", "Accepted; quotas are kept in the database."),
            .bool("stratus", "sync_on_startup", default: false, "Migrate the database when the API starts (all-in-one sets it)."),
        ]
}

/// What neutron.conf and ml2_conf.ini say, read once at start.
public struct NetworkSettings: Sendable {
    public var typeDrivers: [String] = ["flat", "vlan", "vxlan"]
    public var tenantNetworkTypes: [String] = ["vxlan"]
    public var mechanismDrivers: [String] = ["noop"]
    public var flatNetworks: [String] = ["*"]
    public var vlanRanges: [VLANRange] = []
    public var vniRanges: [ClosedRange<Int64>] = []
    public var baseMAC = "fa:16:3e:00:00:00"
    public var physnetMTU: Int64 = 1500
    public var agentDownTime = 75
    public var allowOverlappingIPs = false
    public var routerEnabled = true
    public var maxDNSNameservers = 5
    public var maxHostRoutes = 20
    public var maxAddressPairs = 10
    public var maxPage: Int? = nil
    public var quotas: [String: Int64] = Quota.defaults
    public var authURI = "http://localhost:5000"
    /// `[keystone_authtoken] service_type`, this service's type by default (access rules name it).
    public var serviceType = "network"
    public var notifyNova = true
    public var eventRetrySeconds = 600
    public var dnsDomain = "openstacklocal"
    public var defaultAvailabilityZones: [String] = []

    public init() {}

    public init(config: Config) throws {
        let types = config.list("ml2", "type_drivers")
        typeDrivers = types
        for t in types where !["local", "flat", "vlan", "vxlan", "gre", "geneve"].contains(t) {
            throw ConfigError(message: "[ml2] type_drivers: unknown network type \(t)")
        }
        tenantNetworkTypes = config.list("ml2", "tenant_network_types").filter { $0 != "local" }
        for t in tenantNetworkTypes where !typeDrivers.contains(t) {
            throw ConfigError(message: "[ml2] tenant_network_types: \(t) is not in type_drivers")
        }
        mechanismDrivers = config.list("ml2", "mechanism_drivers")
        for m in mechanismDrivers where !["noop", "linuxbridge", "l2population", "openvswitch", "fake_agent"].contains(m) {
            throw ConfigError(message: "[ml2] mechanism_drivers: \(m) is not served by Stratus (noop, linuxbridge, l2population)")
        }
        flatNetworks = config.list("ml2_type_flat", "flat_networks")
        vlanRanges = try config.list("ml2_type_vlan", "network_vlan_ranges").map { try VLANRange.parse($0) }
        vniRanges = try config.list("ml2_type_vxlan", "vni_ranges").map {
            try Segments.parseRange($0, option: "[ml2_type_vxlan] vni_ranges", max: 16_777_215)
        }
        baseMAC = config.string("DEFAULT", "base_mac") ?? baseMAC
        guard MACAddress.prefix(baseMAC) != nil else { throw ConfigError(message: "[DEFAULT] base_mac: \(baseMAC) is not a MAC address") }
        let path = Int64(config.int("ml2", "path_mtu") ?? 0)
        physnetMTU = path > 0 ? path : Int64(config.int("DEFAULT", "global_physnet_mtu") ?? 1500)
        agentDownTime = config.int("DEFAULT", "agent_down_time") ?? 75
        allowOverlappingIPs = config.bool("DEFAULT", "allow_overlapping_ips")
        let plugins = config.list("DEFAULT", "service_plugins")
        for p in plugins where !["router", "neutron.services.l3_router.l3_router_plugin.L3RouterPlugin"].contains(p) {
            throw ConfigError(message: "[DEFAULT] service_plugins: \(p) is not served by Stratus (router is)")
        }
        routerEnabled = !plugins.isEmpty
        maxDNSNameservers = config.int("DEFAULT", "max_dns_nameservers") ?? 5
        maxHostRoutes = config.int("DEFAULT", "max_subnet_host_routes") ?? 20
        maxAddressPairs = config.int("DEFAULT", "max_allowed_address_pair") ?? 10
        let page = config.int("DEFAULT", "pagination_max_limit") ?? -1
        maxPage = page > 0 ? page : nil
        for resource in Quota.defaults.keys {
            quotas[resource] = Int64(config.int("quotas", "quota_\(resource)") ?? Int(Quota.defaults[resource]!))
        }
        authURI = config.string("keystone_authtoken", "www_authenticate_uri") ?? config.string("keystone_authtoken", "auth_url") ?? authURI
        serviceType = config.string("keystone_authtoken", "service_type") ?? serviceType
        notifyNova = config.bool("DEFAULT", "notify_nova_on_port_status_changes") || config.bool("DEFAULT", "notify_nova_on_port_data_changes")
        eventRetrySeconds = config.int("nova", "event_retry_seconds") ?? 600
        dnsDomain = config.string("DEFAULT", "dns_domain") ?? dnsDomain
        defaultAvailabilityZones = config.list("DEFAULT", "default_availability_zones")
    }

    /// A network type's MTU: the physical MTU less the overlay header (vxlan 50, geneve 58, gre 42).
    public func mtu(for type: String?) -> Int64 {
        switch type {
        case "vxlan": physnetMTU - 50
        case "geneve": physnetMTU - 50
        case "gre": physnetMTU - 42
        default: physnetMTU
        }
    }
}
