import StratusCore

/// What nova's scheduler reads from a server's image: the ImagePropertiesFilter's architecture,
/// hypervisor type, VM mode and hypervisor version constraint, and the `trait:<NAME>=required`
/// properties that become required traits in Placement's allocation candidates (`forbidden`
/// and other values are ignored for images, as nova ignores them).
struct ImageRequirements: Equatable, Sendable {
    var architecture: String?
    var hypervisorType: String?
    var vmMode: String?
    /// `img_hv_requested_version`, e.g. `>=6.0, <7.0`.
    var hypervisorVersion: String?
    var requiredTraits: [String] = []

    /// From a Glance v2 image document (its properties are top-level keys; the legacy names
    /// `architecture`, `hypervisor_type`, `vm_mode` and `hypervisor_version_requires` count too).
    init(image: JSON) {
        func property(_ names: String...) -> String? {
            for n in names { if let v = image[n]?.stringValue, !v.isEmpty { return v } }
            return nil
        }
        architecture = property("hw_architecture", "architecture").map(Self.canonicalArchitecture)
        hypervisorType = property("img_hv_type", "hypervisor_type").map(Self.canonicalHypervisorType)
        vmMode = property("hw_vm_mode", "vm_mode").map(Self.canonicalVMMode)
        hypervisorVersion = property("img_hv_requested_version", "hypervisor_version_requires")
        requiredTraits = (image.objectValue ?? [:]).compactMap { key, value in
            key.hasPrefix("trait:") && value.stringValue == "required" ? String(key.dropFirst(6)) : nil
        }.sorted()
    }

    init(architecture: String? = nil, hypervisorType: String? = nil, vmMode: String? = nil, hypervisorVersion: String? = nil) {
        self.architecture = architecture
        self.hypervisorType = hypervisorType
        self.vmMode = vmMode
        self.hypervisorVersion = hypervisorVersion
    }

    /// As kept in the boot request.
    var json: JSON {
        [
            "hw_architecture": .optional(architecture), "img_hv_type": .optional(hypervisorType), "hw_vm_mode": .optional(vmMode),
            "img_hv_requested_version": .optional(hypervisorVersion), "traits_required": .array(requiredTraits.map { .string($0) }),
        ]
    }

    init(json: JSON?) {
        architecture = json?["hw_architecture"]?.stringValue
        hypervisorType = json?["img_hv_type"]?.stringValue
        vmMode = json?["hw_vm_mode"]?.stringValue
        hypervisorVersion = json?["img_hv_requested_version"]?.stringValue
        requiredTraits = (json?["traits_required"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// The ImagePropertiesFilter: with none of architecture, hypervisor type and VM mode asked
    /// for, every host passes; otherwise a host passes when one of its supported instances
    /// (`[arch, hv_type, vm_mode]`) contains each asked value and its hypervisor version meets
    /// the image's constraint. A host that reports no supported instances fails.
    func admits(supportedInstances: [[String]], hypervisorVersion version: Int64) -> Bool {
        let wanted = [architecture, hypervisorType, vmMode].compactMap { $0 }
        guard !wanted.isEmpty else { return true }
        for entry in supportedInstances where wanted.allSatisfy({ entry.contains($0) }) {
            guard let constraint = hypervisorVersion, version != 0 else { return true }
            if Self.satisfies(constraint, Self.versionString(version)) { return true }
        }
        return false
    }

    /// nova's `convert_version_to_str`: 8000000 → `8.0.0`, 1000 → `1.0`.
    static func versionString(_ version: Int64) -> String {
        var parts: [String] = []
        var v = version
        while v != 0 {
            parts.insert(String(v % 1000), at: 0)
            v /= 1000
        }
        return parts.joined(separator: ".")
    }

    /// A version predicate (`>=6.0, <7.0`: comparisons joined by commas; a bare version means ==).
    static func satisfies(_ predicate: String, _ version: String) -> Bool {
        for clause in predicate.split(separator: ",") {
            let c = clause.trimmingCharacters(in: .whitespaces)
            let op = ["<=", ">=", "==", "!=", "<", ">"].first { c.hasPrefix($0) } ?? "=="
            let wanted = c.hasPrefix(op) ? String(c.dropFirst(op.count)).trimmingCharacters(in: .whitespaces) : c
            let order = compare(version, wanted)
            let ok: Bool
            switch op {
            case "<=": ok = order <= 0
            case ">=": ok = order >= 0
            case "!=": ok = order != 0
            case "<": ok = order < 0
            case ">": ok = order > 0
            default: ok = order == 0
            }
            if !ok { return false }
        }
        return true
    }

    /// Dotted numeric versions compared part by part (missing parts are 0).
    static func compare(_ a: String, _ b: String) -> Int {
        let x = a.split(separator: ".").map { Int($0) ?? 0 }
        let y = b.split(separator: ".").map { Int($0) ?? 0 }
        for i in 0..<max(x.count, y.count) {
            let (p, q) = (i < x.count ? x[i] : 0, i < y.count ? y[i] : 0)
            if p != q { return p < q ? -1 : 1 }
        }
        return 0
    }

    /// nova's `Architecture.canonicalize`.
    static func canonicalArchitecture(_ s: String) -> String {
        let v = s.lowercased()
        if ["i386", "i486", "i586", "x86_32", "x86_32p"].contains(v) { return "i686" }
        return v == "amd64" ? "x86_64" : v
    }

    /// nova's `HVType.canonicalize`.
    static func canonicalHypervisorType(_ s: String) -> String {
        let v = s.lowercased()
        return v == "xapi" ? "xen" : v
    }

    /// nova's `VMMode.canonicalize`.
    static func canonicalVMMode(_ s: String) -> String {
        let v = s.lowercased()
        if v == "pv" { return "xen" }
        return v == "hv" || v == "baremetal" ? "hvm" : v
    }
}
