import Foundation
import StratusCore

/// A server as the API shows it at a microversion (nova's views/servers.py): the brief form of
/// `GET /servers` and the full form of show, detail and the update answer.
struct ServerView {
    let base: String
    let ctx: StratusContext
    /// Whether the caller sees `OS-EXT-SRV-ATTR:*` (os-extended-server-attributes).
    let extended: Bool
    /// Whether the caller sees the flavor's extra specs (2.47+).
    let flavorExtraSpecs: Bool

    func brief(_ i: Instance) -> JSON {
        ["id": .string(i.uuid), "name": .string(i.displayName), "links": ComputeHTTP.links(base, "servers/\(i.uuid)")]
    }

    static func status(_ i: Instance) -> String {
        InstanceState.status(vm: i.vmState, task: i.taskState)
    }

    /// nova's `hostId`: sha224 of project and host, empty without a host.
    static func hostID(_ i: Instance) -> String {
        guard let host = i.host, !host.isEmpty else { return "" }
        return Digest.sha224Hex(i.projectId + host)
    }

    func full(_ i: Instance, fault: (code: Int, message: String, details: String, created: String)?) -> JSON {
        let status = Self.status(i)
        var s: [String: JSON] = [
            "id": .string(i.uuid), "name": .string(i.displayName), "status": .string(status),
            "tenant_id": .string(i.projectId), "user_id": .string(i.userId),
            "metadata": .object(Self.object(i.metadata)), "hostId": .string(Self.hostID(i)),
            "created": ComputeTime.api(i.createdAt), "updated": ComputeTime.api(i.updatedAt ?? i.createdAt),
            "addresses": Self.addresses(i), "accessIPv4": .string(i.accessIpV4 ?? ""), "accessIPv6": .string(i.accessIpV6 ?? ""),
            "links": ComputeHTTP.links(base, "servers/\(i.uuid)"), "OS-DCF:diskConfig": "MANUAL",
            "key_name": .optional(i.keyName), "config_drive": "",
            "OS-EXT-AZ:availability_zone": .string(i.availabilityZone ?? ""),
            "OS-EXT-STS:task_state": .optional(i.taskState), "OS-EXT-STS:vm_state": .string(i.vmState),
            "OS-EXT-STS:power_state": .int(i.powerState),
            "OS-SRV-USG:launched_at": ComputeTime.micro(i.launchedAt), "OS-SRV-USG:terminated_at": ComputeTime.micro(i.terminatedAt),
            "os-extended-volumes:volumes_attached": [],
        ]
        if ["ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"].contains(status) { s["progress"] = .int(0) }
        let imageLinks: JSON = [["rel": "bookmark", "href": .string("\(base)/images/\(i.imageRef)")]]
        var image: [String: JSON] = ["id": .string(i.imageRef), "links": imageLinks]
        if ctx.atLeast(98) { image["properties"] = .object([:]) }
        s["image"] = i.imageRef.isEmpty ? "" : .object(image)
        let flavor = Self.object(i.flavor)
        if ctx.atLeast(47) {
            var f: [String: JSON] = [
                "vcpus": flavor["vcpus"] ?? .int(0), "ram": flavor["memory_mb"] ?? .int(0), "disk": flavor["root_gb"] ?? .int(0),
                "ephemeral": flavor["ephemeral_gb"] ?? .int(0), "swap": flavor["swap"] ?? .int(0), "original_name": flavor["name"] ?? "",
            ]
            if flavorExtraSpecs { f["extra_specs"] = flavor["extra_specs"] ?? .object([:]) }
            s["flavor"] = .object(f)
        } else {
            let id = flavor["flavorid"]?.stringValue ?? ""
            s["flavor"] = ["id": .string(id), "links": [["rel": "bookmark", "href": .string("\(base)/flavors/\(id)")]]]
        }
        let groups = (Self.array(i.securityGroups)).compactMap(\.stringValue)
        if !groups.isEmpty { s["security_groups"] = .array(groups.map { ["name": .string($0)] }) }
        if extended {
            s["OS-EXT-SRV-ATTR:host"] = .optional(i.host)
            s["OS-EXT-SRV-ATTR:hypervisor_hostname"] = .optional(i.node)
            s["OS-EXT-SRV-ATTR:instance_name"] = .string(Self.instanceName(i))
        }
        if ctx.atLeast(3), extended {
            s["OS-EXT-SRV-ATTR:reservation_id"] = .string(i.reservationId)
            s["OS-EXT-SRV-ATTR:launch_index"] = .int(i.launchIndex)
            s["OS-EXT-SRV-ATTR:hostname"] = .string(i.hostname)
            s["OS-EXT-SRV-ATTR:kernel_id"] = ""
            s["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
            s["OS-EXT-SRV-ATTR:root_device_name"] = i.host == nil ? .null : "/dev/vda"
            s["OS-EXT-SRV-ATTR:user_data"] = .optional(i.userData)
        }
        if ctx.atLeast(9) { s["locked"] = .bool(i.locked) }
        if ctx.atLeast(16), extended { s["host_status"] = i.host == nil ? "" : "UP" }
        if ctx.atLeast(19) { s["description"] = .optional(i.displayDescription) }
        if ctx.atLeast(26) { s["tags"] = .array(Self.array(i.tags)) }
        if ctx.atLeast(63) { s["trusted_image_certificates"] = .null }
        if ctx.atLeast(73) { s["locked_reason"] = .null }
        if ctx.atLeast(90) { s["OS-EXT-SRV-ATTR:hostname"] = .string(i.hostname) }
        if ctx.atLeast(96) { s["pinned_availability_zone"] = Self.object(i.request)["availability_zone"] ?? .null }
        if ctx.atLeast(100) { s["scheduler_hints"] = .object([:]) }
        if let fault, status == "ERROR" || status == "DELETED" {
            var f: [String: JSON] = ["code": .int(Int64(fault.code)), "message": .string(fault.message), "created": ComputeTime.api(fault.created)]
            if extended || fault.code != 500 { f["details"] = .string(fault.details) }
            s["fault"] = .object(f)
        }
        return .object(s)
    }

    /// One server's show (and, from 2.75, update) answer: the full view and its `server_groups` (2.71).
    func single(_ i: Instance, fault: (code: Int, message: String, details: String, created: String)?) -> JSON {
        guard ctx.atLeast(71), case .object(var s) = full(i, fault: fault) else { return full(i, fault: fault) }
        s["server_groups"] = []
        return .object(s)
    }

    /// The `PUT /servers/{id}` answer before 2.75: the reduced view of nova's update.
    func updated(_ i: Instance, fault: (code: Int, message: String, details: String, created: String)?) -> JSON {
        guard !ctx.atLeast(75), case .object(let all) = single(i, fault: fault) else { return single(i, fault: fault) }
        let kept: Set<String> = [
            "id", "name", "status", "tenant_id", "user_id", "created", "updated", "hostId", "accessIPv4", "accessIPv6", "addresses", "image",
            "flavor", "metadata", "links", "OS-DCF:diskConfig", "progress", "fault", "locked", "description", "tags", "trusted_image_certificates",
            "server_groups", "locked_reason",
        ]
        var s = all.filter { kept.contains($0.key) }
        var reduced: [String: JSON] = [:]
        for (net, ips) in all["addresses"]?.objectValue ?? [:] {
            reduced[net] = .array((ips.arrayValue ?? []).map { ["version": $0["version"] ?? 4, "addr": $0["addr"] ?? ""] })
        }
        s["addresses"] = .object(reduced)
        return .object(s)
    }

    /// `addresses`: each network's fixed addresses with their type and MAC.
    static func addresses(_ i: Instance) -> JSON {
        var out: [String: JSON] = [:]
        for vif in array(i.networkInfo) {
            guard let name = vif["network_name"]?.stringValue else { continue }
            var list = out[name]?.arrayValue ?? []
            for ip in vif["ips"]?.arrayValue ?? [] {
                list.append([
                    "version": ip["version"] ?? .int(4), "addr": ip["address"] ?? "", "OS-EXT-IPS:type": ip["type"] ?? "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": vif["mac"] ?? "",
                ])
            }
            out[name] = .array(list)
        }
        return .object(out)
    }

    /// nova's `instance.name`: `instance_name_template` (`instance-%08x`) of the cell row's id.
    static func instanceName(_ i: Instance) -> String { String(format: "instance-%08x", i.id) }

    static func object(_ text: String) -> [String: JSON] { (try? JSON.parse(Array(text.utf8)))?.objectValue ?? [:] }
    static func array(_ text: String) -> [JSON] { (try? JSON.parse(Array(text.utf8)))?.arrayValue ?? [] }
}
