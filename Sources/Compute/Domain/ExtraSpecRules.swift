import Foundation
import StratusCore

/// nova's flavor extra-spec registry (`nova/api/validation/extra_specs`), applied from
/// microversion 2.86 to `POST /flavors/{id}/os-extra_specs` and `PUT …/os-extra_specs/{key}`.
///
/// A key a validator names has its value checked; a key without `:` is free; a key in a
/// registered namespace (`hw`, `resources`, `trait`, `quota`, …) that no validator names is
/// refused; a key in any other namespace is free. The messages are nova's word for word.
enum ExtraSpecRules {
    /// What a value must be.
    enum Check: Sendable {
        case any
        case choice([String])
        case pattern(String)
        case integer(min: Int? = nil, max: Int? = nil)
        case boolean
    }

    /// A key pattern (a regular expression matched whole, as `re.fullmatch`) and its check.
    struct Validator: Sendable {
        var key: String
        var check: Check
    }

    /// The group suffix of `resources{group}:` and `trait{group}:`.
    static let group = "([a-zA-Z0-9_-]{1,64})?"

    /// Keys named exactly (the literal validators), for the common lookup.
    static let exact: [String: Check] = {
        var out: [String: Check] = [
            "hide_hypervisor_id": .boolean, "group_policy": .choice(["isolate", "none"]),
            "hw:cpu_realtime": .boolean, "hw:cpu_realtime_mask": .pattern(#"(\^)?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"#),
            "hw:hide_hypervisor_id": .boolean, "hw:cpu_policy": .choice(["dedicated", "shared", "mixed"]),
            "hw:cpu_thread_policy": .choice(["prefer", "isolate", "require"]), "hw:emulator_threads_policy": .choice(["isolate", "share"]),
            "hw:cpu_dedicated_mask": .pattern(#"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"#),
            "hw:mem_page_size": .pattern(#"(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)"#), "hw:locked_memory": .boolean,
            "hw:numa_nodes": .integer(min: 1), "hw:pci_numa_affinity_policy": .choice(["required", "preferred", "legacy", "socket"]),
            "hw:cpu_sockets": .integer(min: 1), "hw:cpu_cores": .integer(min: 1), "hw:cpu_threads": .integer(min: 1),
            "hw:cpu_max_sockets": .integer(min: 1), "hw:cpu_max_cores": .integer(min: 1), "hw:cpu_max_threads": .integer(min: 1),
            "hw:boot_menu": .boolean, "hw:vif_multiqueue_enabled": .boolean, "hw:mem_encryption": .boolean,
            "hw:mem_encryption_model": .choice(["amd-sev", "amd-sev-es", "amd-sev-snp"]), "hw:pmem": .pattern("([a-zA-Z0-9_]+(,)?)+"),
            "hw:pmu": .boolean, "hw:serial_port_count": .integer(min: 0), "hw:tpm_model": .choice(["tpm-tis", "tpm-crb"]),
            "hw:tpm_version": .choice(["1.2", "2.0"]), "hw:tpm_secret_security": .choice(["user", "host", "deployment"]),
            "hw:watchdog_action": .choice(["none", "pause", "poweroff", "reset", "disabled"]),
            "hw:viommu_model": .choice(["intel", "smmuv3", "virtio", "auto"]), "hw:virtio_packed_ring": .boolean,
            "hw:sound_model": .choice(["sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb", "virtio"]),
            "hw:usb_model": .choice(["none", "nec-xhci", "qemu-xhci"]), "hw:redirected_usb_ports": .integer(min: 0, max: 15),
            "hw:ephemeral_encryption": .boolean, "hw:ephemeral_encryption_format": .choice(["plain", "luks", "luksv2"]),
            "hw_rng:allowed": .boolean, "hw_rng:rate_bytes": .integer(min: 0), "hw_rng:rate_period": .integer(min: 0),
            "hw_video:ram_max_mb": .integer(min: 0), "os:secure_boot": .choice(["disabled", "required"]),
            "accel:device_profile": .any, "vmware:hw_version": .any, "vmware:storage_policy": .any,
            "pci_passthrough:alias": .pattern(#"[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*"#),
            "quota:cpu_shares": .integer(min: 0), "quota:cpu_period": .integer(min: 0), "quota:cpu_quota": .integer(),
        ]
        for key in ["cpu", "memory", "disk_io", "vif"] {
            out["quota:\(key)_limit"] = .integer(min: 0)
            out["quota:\(key)_reservation"] = .integer()
            out["quota:\(key)_shares_level"] = .choice(["custom", "high", "normal", "low"])
            out["quota:\(key)_shares_share"] = .integer(min: 0)
        }
        for op in ["read", "write", "total"] {
            for unit in ["bytes", "iops"] { out["quota:disk_\(op)_\(unit)_sec"] = .integer(min: 0) }
        }
        for way in ["inbound", "outbound"] {
            for what in ["average", "peak", "burst"] { out["quota:vif_\(way)_\(what)"] = .integer(min: 0) }
        }
        for capability in [
            "id", "uuid", "service_id", "host", "vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used",
            "hypervisor_type", "hypervisor_version", "hypervisor_hostname", "free_ram_mb", "free_disk_gb", "current_workload",
            "running_vms", "disk_available_least", "host_ip", "mapped", "cpu_allocation_ratio", "ram_allocation_ratio",
            "disk_allocation_ratio", "total_usable_ram_mb", "total_usable_disk_gb", "disk_mb_used", "free_disk_mb", "vcpus_total",
            "num_instances", "num_io_ops", "failed_builds", "aggregates", "cell_uuid", "updated",
        ] {
            out["capabilities:\(capability)"] = .any
        }
        return out
    }()

    /// Keys with parameters, tried in order after the exact ones.
    static let patterns: [Validator] = [
        Validator(key: #"hw:numa_cpus.(\d+)"#, check: .pattern(#"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"#)),
        Validator(key: #"hw:numa_mem.(\d+)"#, check: .integer(min: 1)),
        Validator(key: "aggregate_instance_extra_specs:(.+)", check: .any),
        Validator(
            key:
                #"capabilities:(cpu_info|metrics|stats|numa_topology|supported_hv_specs|pci_device_pools|nodename|pci_stats|supported_instances|limits|instances)((:\w+)*)"#,
            check: .any
        ),
        Validator(key: "resources\(group):CUSTOM_([A-Z0-9_]+)", check: .integer()),
        Validator(key: "trait\(group):CUSTOM_([A-Z0-9_]+)", check: .choice(["required", "forbidden"])),
    ]

    /// The namespaces validators register (the part of their key before `:`).
    static let namespaces = [
        "accel", "aggregate_instance_extra_specs", "capabilities", "hw", "hw_rng", "hw_video", "os", "pci_passthrough", "quota", "vmware",
        "resources\(group)", "trait\(group)",
    ]

    /// nova's 400 text for `name` = `value`, or nil when nova accepts it.
    static func refusal(_ name: String, _ value: String) -> String? {
        if let check = exact[name] { return refusal(value, check) }
        if let (resourceGroup, rest) = split(name, prefix: "resources"), whole(group, resourceGroup),
            StandardNames.resourceClasses.contains(rest)
        {
            return refusal(value, .integer())
        }
        if let (traitGroup, rest) = split(name, prefix: "trait"), whole(group, traitGroup), StandardNames.traits.contains(rest) {
            return refusal(value, .choice(["required", "forbidden"]))
        }
        for v in patterns where whole(v.key, name) { return refusal(value, v.check) }
        guard let colon = name.firstIndex(of: ":") else { return nil }
        let namespace = String(name[..<colon])
        guard namespaces.contains(where: { whole($0, namespace) }) else { return nil }
        return "Validation failed; extra spec '\(name)' does not appear to be a valid extra spec."
    }

    /// nova's value checks (`base.ExtraSpecValidator`).
    static func refusal(_ value: String, _ check: Check) -> String? {
        switch check {
        case .any:
            return nil
        case .choice(let allowed):
            return allowed.contains(value) ? nil : "Validation failed; '\(value)' is not one of: \(allowed.joined(separator: ", "))."
        case .pattern(let p):
            return whole(p, value) ? nil : "Validation failed; '\(value)' is not of the format '\(p)'."
        case .integer(let min, let max):
            guard let n = pythonInt(value) else { return "Validation failed; '\(value)' is not a valid integer value." }
            if let max, n > max { return "Validation failed; '\(n)' is greater than the max value of '\(max)'." }
            if let min, n < min { return "Validation failed; '\(n)' is less than the min value of '\(min)'." }
            return nil
        case .boolean:
            let v = value.trimmingCharacters(in: .whitespaces).lowercased()
            return ["1", "t", "true", "on", "y", "yes", "0", "f", "false", "off", "n", "no"].contains(v)
                ? nil : "Validation failed; '\(value)' is not a valid boolean-like value."
        }
    }

    /// Python's `int(str)`: optional surrounding whitespace and sign, decimal digits.
    static func pythonInt(_ s: String) -> Int? {
        var t = Substring(s.trimmingCharacters(in: .whitespacesAndNewlines))
        var negative = false
        if let first = t.first, first == "+" || first == "-" {
            negative = first == "-"
            t = t.dropFirst()
        }
        guard !t.isEmpty, t.allSatisfy(\.isASCII), t.allSatisfy(\.isNumber), let n = Int(t) else { return nil }
        return negative ? -n : n
    }

    /// `name` as `<prefix><group>:<rest>`.
    static func split(_ name: String, prefix: String) -> (String, String)? {
        guard name.hasPrefix(prefix), let colon = name.firstIndex(of: ":") else { return nil }
        return (String(name[name.index(name.startIndex, offsetBy: prefix.count)..<colon]), String(name[name.index(after: colon)...]))
    }

    /// `re.fullmatch(pattern, s)`.
    static func whole(_ pattern: String, _ s: String) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        return (try? regex.wholeMatch(in: s)) != nil
    }
}
