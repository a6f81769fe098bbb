import Foundation
import StratusAuth
import StratusCore
import StratusStorage

/// nova.conf options Stratus understands (names, groups and defaults as nova 34's), for the API,
/// the conductor, the scheduler and the compute agent alike: nova's daemons share one file.
public enum ComputeOptions {
    public static let all: [ConfigOption] =
        CommonOptions.all + OsloPolicyOptions.all + KeystoneAuthtokenOptions.all + ServiceUserOptions.all
        + DatabaseOptions.options(group: "api_database", defaultConnection: nil, help: "The URL of the nova_api database.")
        + DatabaseOptions.options(defaultConnection: nil, help: "The URL of the cell database (nova); cell0's is derived from it.")
        + PasswordCredentials.options(group: "placement") + PasswordCredentials.options(group: "neutron")
        + [
            .list("DEFAULT", "enabled_apis", default: "osapi_compute,metadata", "APIs to serve (metadata is accepted; it comes later)."),
            .string("DEFAULT", "osapi_compute_listen", default: "0.0.0.0", "Address the compute API listens on."),
            .int("DEFAULT", "osapi_compute_listen_port", default: 8774, min: 0, max: 65535, "Port the compute API listens on."),
            .int("DEFAULT", "osapi_compute_workers", default: 1, min: 0, "Accepted; one process serves the API."),
            .string("DEFAULT", "compute_driver", "The hypervisor driver: fake.FakeDriver (libvirt.LibvirtDriver comes with QEMU)."),
            .ignored("DEFAULT", "use_neutron", "Removed from nova: Networking is always neutron (accepted and ignored)."),
            .ignored("DEFAULT", "firewall_driver", "Removed from nova: security groups are neutron's (accepted and ignored)."),
            .ignored("api", "auth_strategy", "Removed from nova 34: the API always uses keystone (accepted and ignored)."),
            .string("DEFAULT", "cpu_allocation_ratio", "VCPU allocation ratio reported to Placement (unset: initial_cpu_allocation_ratio)."),
            .string("DEFAULT", "ram_allocation_ratio", "MEMORY_MB allocation ratio (unset: initial_ram_allocation_ratio)."),
            .string("DEFAULT", "disk_allocation_ratio", "DISK_GB allocation ratio (unset: initial_disk_allocation_ratio)."),
            .string("DEFAULT", "initial_cpu_allocation_ratio", default: "4.0", "VCPU ratio of a new compute node."),
            .string("DEFAULT", "initial_ram_allocation_ratio", default: "1.0", "MEMORY_MB ratio of a new compute node."),
            .string("DEFAULT", "initial_disk_allocation_ratio", default: "1.0", "DISK_GB ratio of a new compute node."),
            .int("DEFAULT", "reserved_host_memory_mb", default: 512, min: 0, "MEMORY_MB kept for the host."),
            .int("DEFAULT", "reserved_host_disk_mb", default: 0, min: 0, "Disk kept for the host, in MB (reported as whole GB)."),
            .int("DEFAULT", "reserved_host_cpus", default: 0, min: 0, "VCPUs kept for the host."),
            .int("DEFAULT", "service_down_time", default: 60, min: 1, "Seconds without a heartbeat after which a service is down."),
            .int("DEFAULT", "report_interval", default: 10, min: 1, "Seconds between a service's heartbeats."),
            .int("DEFAULT", "sync_power_state_interval", default: 600, min: -1, "Seconds between power-state syncs (0 or less: never)."),
            .int("DEFAULT", "vif_plugging_timeout", default: 300, min: 0, "Seconds to wait for network-vif-plugged."),
            .bool("DEFAULT", "vif_plugging_is_fatal", default: true, "Whether a missing network-vif-plugged fails the build."),
            .string("DEFAULT", "default_availability_zone", default: "nova", "Availability zone of compute hosts."),
            .string("DEFAULT", "default_schedule_zone", "Availability zone of servers created without one."),
            .int("DEFAULT", "max_local_block_devices", default: 3, min: -1, "Accepted."),
            .string("DEFAULT", "instance_name_template", default: "instance-%08x", "Name of guests on the hypervisor."),
            .bool("vnc", "enabled", default: true, "Accepted; the console comes with QEMU."),
            .string("vnc", "server_listen", default: "127.0.0.1", "Accepted; the console comes with QEMU."),
            .string("vnc", "server_proxyclient_address", default: "127.0.0.1", "Accepted; the console comes with QEMU."),
            .string("vnc", "novncproxy_base_url", default: "http://127.0.0.1:6080/vnc_auto.html", "Accepted; the console comes with QEMU."),
            .list("glance", "api_servers", default: "", "Image endpoints (unset: the catalog's image endpoint)."),
            .string("oslo_concurrency", "lock_path", "Accepted; Stratus serializes through the database."),
            .string("placement", "region_name", "Region of the placement endpoint."),
            .string("neutron", "region_name", "Region of the network endpoint."),
            .bool("neutron", "service_metadata_proxy", default: false, "Accepted; the metadata API comes later."),
            .string("neutron", "metadata_proxy_shared_secret", default: "", secret: true, "Accepted; the metadata API comes later."),
            .choice("libvirt", "virt_type", ["kvm", "qemu", "lxc", "parallels"], default: "kvm", "Accepted; read by the QEMU driver."),
            .int("scheduler", "max_attempts", default: 3, min: 1, "Hosts tried for one server before it goes to ERROR."),
            .int("scheduler", "discover_hosts_in_cells_interval", default: -1, min: -1, "Seconds between host discoveries (-1: never)."),
            .int("scheduler", "workers", default: 1, min: 0, "Accepted."),
            .string("filter_scheduler", "ram_weight_multiplier", default: "1.0", "Weight of free RAM (negative stacks)."),
            .string("filter_scheduler", "cpu_weight_multiplier", default: "1.0", "Weight of free VCPUs."),
            .string("filter_scheduler", "disk_weight_multiplier", default: "1.0", "Weight of free disk."),
            .int("filter_scheduler", "host_subset_size", default: 1, min: 1, "Accepted; the best host is taken."),
            .int("quota", "instances", default: 10, min: -1, "Servers per project."),
            .int("quota", "cores", default: 20, min: -1, "VCPUs per project."),
            .int("quota", "ram", default: 51200, min: -1, "MB of RAM per project."),
            .int("quota", "metadata_items", default: 128, min: -1, "Metadata items per server."),
            .int("quota", "key_pairs", default: 100, min: -1, "Key pairs per user."),
            .int("quota", "server_groups", default: 10, min: -1, "Server groups per project."),
            .int("quota", "server_group_members", default: 10, min: -1, "Servers per server group."),
            .int("quota", "injected_files", default: 5, min: -1, "Injected files per server."),
            .int("quota", "injected_file_content_bytes", default: 10240, min: -1, "Bytes per injected file."),
            .int("quota", "injected_file_path_length", default: 255, min: -1, "Length of an injected file's path."),
            .bool("quota", "count_usage_from_placement", default: false, "Count cores and ram from Placement's usages."),
            .bool("quota", "recheck_quota", default: true, "Count again after a boot is recorded, so concurrent boots cannot exceed a quota."),
            .string("stratus", "fake_vcpus", default: "1000", "VCPUs the fake driver reports."),
            .string("stratus", "fake_memory_mb", default: "800000", "MEMORY_MB the fake driver reports."),
            .string("stratus", "fake_local_gb", default: "600000", "DISK_GB the fake driver reports."),
            .string("stratus", "fake_fail_spawn", default: "", "Servers whose name starts with this fail to spawn (tests)."),
            .int("stratus", "task_lease_seconds", default: 30, min: 2, "Seconds a worker holds a task without renewing it."),
            .bool("stratus", "sync_on_startup", default: false, "Migrate the databases when the API starts (all-in-one sets it)."),
            .list("stratus", "run", default: "", "all-in-one: workers to run beside the API (conductor, scheduler, compute)."),
        ]
}

/// What nova.conf says, read once at start.
public struct ComputeSettings: Sendable {
    public var host = "localhost"
    public var myIP = "127.0.0.1"
    public var driver = "fake.FakeDriver"
    public var authURI = "http://localhost:5000"
    /// `[keystone_authtoken] service_type`, this service's type by default (access rules name it).
    public var serviceType = "compute"
    public var cpuRatio = 4.0
    public var ramRatio = 1.0
    public var diskRatio = 1.0
    public var reservedMemoryMB = 512
    public var reservedDiskGB = 0
    public var reservedCPUs = 0
    public var serviceDownTime = 60
    public var reportInterval = 10
    public var syncPowerStateInterval = 600
    public var vifPluggingTimeout = 300
    public var vifPluggingIsFatal = true
    public var availabilityZone = "nova"
    public var defaultScheduleZone: String? = nil
    public var maxAttempts = 3
    public var discoverInterval = -1
    public var ramWeight = 1.0
    public var cpuWeight = 1.0
    public var diskWeight = 1.0
    public var quotas: [String: Int] = ComputeSettings.quotaDefaults
    public var countFromPlacement = false
    public var recheckQuota = true
    public var fakeVCPUs = 1000
    public var fakeMemoryMB = 800_000
    public var fakeLocalGB = 600_000
    public var fakeFailSpawn = ""
    public var leaseSeconds = 30.0
    public var sendServiceToken = false

    /// nova's `[quota]` defaults, by API name.
    public static let quotaDefaults: [String: Int] = [
        "instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128, "key_pairs": 100, "server_groups": 10,
        "server_group_members": 10, "injected_files": 5, "injected_file_content_bytes": 10240, "injected_file_path_length": 255,
    ]

    public init() {}

    public init(config: Config) throws {
        host = config.string("DEFAULT", "host") ?? ProcessInfo.processInfo.hostName
        myIP = config.string("DEFAULT", "my_ip") ?? myIP
        if let d = config.string("DEFAULT", "compute_driver") { driver = d }
        authURI = config.string("keystone_authtoken", "www_authenticate_uri") ?? config.string("keystone_authtoken", "auth_url") ?? authURI
        serviceType = config.string("keystone_authtoken", "service_type") ?? serviceType
        func ratio(_ name: String) throws -> Double {
            let text = config.string("DEFAULT", name) ?? config.string("DEFAULT", "initial_" + name) ?? "1.0"
            guard let v = Double(text), v > 0 else { throw ConfigError(message: "[DEFAULT] \(name): \(text) is not a positive number") }
            return v
        }
        cpuRatio = try ratio("cpu_allocation_ratio")
        ramRatio = try ratio("ram_allocation_ratio")
        diskRatio = try ratio("disk_allocation_ratio")
        reservedMemoryMB = config.int("DEFAULT", "reserved_host_memory_mb") ?? 512
        reservedDiskGB = ((config.int("DEFAULT", "reserved_host_disk_mb") ?? 0) + 1023) / 1024
        reservedCPUs = config.int("DEFAULT", "reserved_host_cpus") ?? 0
        serviceDownTime = config.int("DEFAULT", "service_down_time") ?? 60
        reportInterval = config.int("DEFAULT", "report_interval") ?? 10
        syncPowerStateInterval = config.int("DEFAULT", "sync_power_state_interval") ?? 600
        vifPluggingTimeout = config.int("DEFAULT", "vif_plugging_timeout") ?? 300
        vifPluggingIsFatal = config.bool("DEFAULT", "vif_plugging_is_fatal")
        availabilityZone = config.string("DEFAULT", "default_availability_zone") ?? "nova"
        defaultScheduleZone = config.string("DEFAULT", "default_schedule_zone")
        maxAttempts = config.int("scheduler", "max_attempts") ?? 3
        discoverInterval = config.int("scheduler", "discover_hosts_in_cells_interval") ?? -1
        func weight(_ name: String) throws -> Double {
            let text = config.string("filter_scheduler", name) ?? "1.0"
            guard let v = Double(text) else { throw ConfigError(message: "[filter_scheduler] \(name): \(text) is not a number") }
            return v
        }
        ramWeight = try weight("ram_weight_multiplier")
        cpuWeight = try weight("cpu_weight_multiplier")
        diskWeight = try weight("disk_weight_multiplier")
        for name in Self.quotaDefaults.keys { quotas[name] = config.int("quota", name) ?? Self.quotaDefaults[name]! }
        countFromPlacement = config.bool("quota", "count_usage_from_placement")
        recheckQuota = config.bool("quota", "recheck_quota")
        func count(_ name: String, _ fallback: Int) throws -> Int {
            let text = config.string("stratus", name) ?? String(fallback)
            guard let v = Int(text), v >= 0 else { throw ConfigError(message: "[stratus] \(name): \(text) is not a count") }
            return v
        }
        fakeVCPUs = try count("fake_vcpus", 1000)
        fakeMemoryMB = try count("fake_memory_mb", 800_000)
        fakeLocalGB = try count("fake_local_gb", 600_000)
        fakeFailSpawn = config.string("stratus", "fake_fail_spawn") ?? ""
        leaseSeconds = Double(config.int("stratus", "task_lease_seconds") ?? 30)
        sendServiceToken = config.bool("service_user", "send_service_user_token")
    }

    /// The compute driver the config names, checked: the fake driver runs; libvirt waits for QEMU.
    public static func checkDriver(_ config: Config) throws {
        guard let driver = config.string("DEFAULT", "compute_driver") else {
            throw ConfigError(message: "[DEFAULT] compute_driver is not set; the drivers available are: fake.FakeDriver")
        }
        switch driver {
        case "fake.FakeDriver", "fake.SmallFakeDriver", "fake.MediumFakeDriver": return
        case "libvirt.LibvirtDriver":
            throw ConfigError(
                message: "[DEFAULT] compute_driver = libvirt.LibvirtDriver: the QEMU driver is not built yet; use fake.FakeDriver"
            )
        default:
            throw ConfigError(message: "[DEFAULT] compute_driver = \(driver) is not available; the drivers available are: fake.FakeDriver")
        }
    }
}
