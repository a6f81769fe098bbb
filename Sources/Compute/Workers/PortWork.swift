import Foundation
import Logging
import StratusAuth
import StratusCore

/// A server's ports, as nova-compute handles them: created in the server's project with the
/// caller's token (so they count against its quotas), bound to the host with `[neutron]`'s
/// credentials, waited on until ACTIVE (`vif_plugging_timeout`), and on delete removed (the
/// ones it created) or unbound (the ones the user gave).
struct PortWork: Sendable {
    let network: ServiceClient
    let logger: Logger

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Ports of a server, created, or found again when the build is a retry (`retried`: redelivered
    /// or rescheduled, so an earlier try may have left ports); the network_info.
    func prepare(
        _ record: JSON,
        token: String?,
        host: String,
        timeout: Int,
        fatal: Bool,
        retried: Bool
    ) async throws -> (info: [JSON], groups: [String]?) {
        guard let uuid = record["uuid"]?.stringValue, let project = record["project_id"]?.stringValue else { return ([], nil) }
        let request = record["request"] ?? [:]
        let wanted = request["networks"]?.arrayValue ?? []
        guard !wanted.isEmpty else { return ([], nil) }
        let zone = record["availability_zone"]?.stringValue ?? "nova"
        let owner = "compute:\(zone)"
        let leftovers = retried ? try await get("/v2.0/ports?device_id=\(uuid)")?["ports"]?.arrayValue ?? [] : []
        var reusable = leftovers.filter { ($0["device_owner"]?.stringValue ?? "").hasPrefix("compute:") }
        var groups: [(id: String, name: String)]? = nil
        var info: [JSON] = []
        for want in wanted {
            var portID: String
            var created = false
            if let given = want["port"]?.stringValue {
                portID = given
            } else {
                guard let net = want["network"]?.stringValue else { continue }
                created = true
                if let i = reusable.firstIndex(where: { $0["network_id"]?.stringValue == net }) {
                    portID = reusable.remove(at: i)["id"]?.stringValue ?? ""
                } else {
                    if groups == nil {
                        groups = try await securityGroups(request["security_groups"]?.arrayValue ?? [], project: project, token: token)
                    }
                    var port: [String: JSON] = [
                        "network_id": .string(net), "device_id": .string(uuid), "device_owner": .string(owner), "tenant_id": .string(project),
                        "security_groups": .array((groups ?? []).map { .string($0.id) }),
                    ]
                    if let ip = want["fixed_ip"]?.stringValue { port["fixed_ips"] = [["ip_address": .string(ip)]] }
                    let r = try await network.send(.post, "/v2.0/ports", json: ["port": .object(port)], onBehalfOf: token)
                    guard r.status == 201, let id = r.json?["port"]?["id"]?.stringValue else {
                        throw Failure(
                            description: r.json?["NeutronError"]?["message"]?.stringValue ?? "The network service refused the port (\(r.status))."
                        )
                    }
                    portID = id
                }
            }
            let bind: JSON = ["port": ["binding:host_id": .string(host), "device_id": .string(uuid), "device_owner": .string(owner)]]
            let r = try await network.send(.put, "/v2.0/ports/\(portID)", json: bind)
            guard r.status == 200, var port = r.json?["port"] else { throw Failure(description: "Binding port \(portID) failed (\(r.status)).") }
            let deadline = Date().addingTimeInterval(Double(timeout))
            while port["status"]?.stringValue != "ACTIVE", Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
                port = try await get("/v2.0/ports/\(portID)")?["port"] ?? port
            }
            if port["status"]?.stringValue != "ACTIVE", fatal, timeout > 0 {
                throw Failure(description: "Virtual Interface creation failed")
            }
            let netID = port["network_id"]?.stringValue ?? ""
            var name = want["network_name"]?.stringValue
            if name == nil || want["network"]?.stringValue != netID {
                name = try await get("/v2.0/networks/\(netID)")?["network"]?["name"]?.stringValue
            }
            let ips: [JSON] = (port["fixed_ips"]?.arrayValue ?? []).map { ip in
                let address = ip["ip_address"]?.stringValue ?? ""
                return ["address": .string(address), "version": address.contains(":") ? 6 : 4, "type": "fixed"]
            }
            info.append([
                "port_id": .string(portID), "network_id": .string(netID), "network_name": .string(name ?? netID), "mac": port["mac_address"] ?? "",
                "ips": .array(ips), "created": .bool(created),
            ])
        }
        return (info, groups?.map(\.name))
    }

    /// Security group names (or ids) of the boot → ids and names in the server's project.
    func securityGroups(_ names: [JSON], project: String, token: String?) async throws -> [(id: String, name: String)] {
        var ids: [(id: String, name: String)] = []
        for name in names.compactMap(\.stringValue) {
            // nova matches a name or an id (the CLI resolves names to ids before it asks).
            if UUID(uuidString: name) != nil {
                let byID = try await network.send(.get, "/v2.0/security-groups/\(name)", onBehalfOf: token)
                if byID.status == 200 {
                    ids.append((name, byID.json?["security_group"]?["name"]?.stringValue ?? name))
                    continue
                }
            }
            let r = try await network.send(.get, "/v2.0/security-groups?name=\(name)&project_id=\(project)", onBehalfOf: token)
            let found = r.json?["security_groups"]?.arrayValue ?? []
            if let id = found.first?["id"]?.stringValue {
                ids.append((id, name))
            } else if name == "default" {
                // Neutron creates a project's default group on first use: ask for the project's groups.
                let all = try await network.send(.get, "/v2.0/security-groups?project_id=\(project)", onBehalfOf: token)
                if let id = all.json?["security_groups"]?.arrayValue?.first(where: { $0["name"]?.stringValue == "default" })?["id"]?.stringValue {
                    ids.append((id, name))
                }
            } else {
                throw Failure(description: "Security group \(name) not found for project \(project).")
            }
        }
        return ids
    }

    /// The ports a boot request names: the user's, unbound (never deleted) when the server goes.
    static func given(_ request: JSON?) -> Set<String> {
        Set((request?["networks"]?.arrayValue ?? []).compactMap { $0["port"]?.stringValue })
    }

    /// Removes the ports a server's build created (and any a crashed build left), unbinds the
    /// ones the user gave (`given`).
    func release(_ uuid: String, networkInfo: [JSON], given: Set<String> = []) async {
        var done: Set<String> = []
        for vif in networkInfo {
            guard let id = vif["port_id"]?.stringValue else { continue }
            done.insert(id)
            if vif["created"]?.boolValue == true, !given.contains(id) {
                _ = try? await network.send(.delete, "/v2.0/ports/\(id)")
            } else {
                let unbind: JSON = ["port": ["binding:host_id": "", "device_id": "", "device_owner": ""]]
                _ = try? await network.send(.put, "/v2.0/ports/\(id)", json: unbind)
            }
        }
        let leftovers = (try? await get("/v2.0/ports?device_id=\(uuid)"))??["ports"]?.arrayValue ?? []
        for p in leftovers {
            guard let id = p["id"]?.stringValue, !done.contains(id), (p["device_owner"]?.stringValue ?? "").hasPrefix("compute:") else { continue }
            if given.contains(id) {
                let unbind: JSON = ["port": ["binding:host_id": "", "device_id": "", "device_owner": ""]]
                _ = try? await network.send(.put, "/v2.0/ports/\(id)", json: unbind)
            } else {
                _ = try? await network.send(.delete, "/v2.0/ports/\(id)")
            }
        }
    }

    func get(_ path: String) async throws -> JSON? {
        let r = try await network.send(.get, path)
        return r.status == 200 ? r.json : nil
    }
}
