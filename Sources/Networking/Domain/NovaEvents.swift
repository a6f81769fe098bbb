import StratusCore

/// What neutron tells Compute about a port (`os-server-external-events`): plugged when a
/// compute port becomes ACTIVE, unplugged when it goes back DOWN, changed when its fixed or
/// floating addresses change, deleted when it goes. Only ports of servers (`compute:*` owner
/// with a device id) are reported. Pure: before and after views in, events out.
public enum NovaEvents {
    public static func events(before: [String: JSON]?, after: [String: JSON]?, addressesChanged: Bool = false) -> [JSON] {
        let port = after ?? before
        guard let port, let owner = port["device_owner"]?.stringValue, owner.hasPrefix("compute:"),
            let server = port["device_id"]?.stringValue, !server.isEmpty, let id = port["id"]?.stringValue
        else { return [] }
        func event(_ name: String, status: String = "completed") -> JSON {
            ["name": .string(name), "server_uuid": .string(server), "tag": .string(id), "status": .string(status)]
        }
        guard let after else { return [event("network-vif-deleted")] }
        var out: [JSON] = []
        let was = before?["status"]?.stringValue
        let now = after["status"]?.stringValue
        if now == "ACTIVE" && was != "ACTIVE" { out.append(event("network-vif-plugged")) }
        if now == "DOWN" && was == "ACTIVE" { out.append(event("network-vif-unplugged")) }
        if addressesChanged { out.append(event("network-changed")) }
        return out
    }
}
