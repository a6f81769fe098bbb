import Hummingbird
import StratusCore

/// `/` (versions), `/v2.0` (resources) and `/v2.0/extensions`: exactly the extensions Stratus
/// implements, so clients that probe for one get a true answer.
struct ExtensionRoutes {
    let service: NetworkService

    /// (alias, name, description) of each implemented extension.
    static let extensions: [(String, String, String)] = [
        ("agent", "agent", "The agent management extension."),
        ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
        ("availability_zone", "Availability Zone", "The availability zone extension."),
        ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
        ("external-net", "Neutron external network", "Adds external network attribute to network resource."),
        (
            "ext-gw-mode", "Neutron L3 Configurable external gateway mode",
            "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway"
        ),
        (
            "extra_dhcp_opt", "Neutron Extra DHCP options",
            "Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)"
        ),
        ("fip-port-details", "Floating IP Port Details Extension", "Add port_details attribute to Floating IP resource"),
        ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
        ("net-mtu-writable", "Network MTU (writable)", "Provides a writable MTU attribute for a network resource."),
        ("network_availability_zone", "Network Availability Zone", "Availability zone support for network."),
        ("pagination", "Pagination support", "Extension that indicates that pagination is enabled."),
        ("port-security", "Port Security", "Provides port security"),
        ("project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."),
        ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks"),
        ("quotas", "Quota management support", "Expose functions for quotas management per project"),
        ("quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project"),
        (
            "revision-if-match", "If-Match constraints based on revision_number",
            "Extension indicating that If-Match based on revision_number is supported."
        ),
        (
            "router", "Neutron L3 Router",
            "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway."
        ),
        ("router_availability_zone", "Router Availability Zone", "Availability zone support for router."),
        ("security-group", "security-group", "The security groups extension."),
        ("sorting", "Sorting support", "Extension that indicates that sorting is enabled."),
        ("standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes"),
        ("standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number of neutron resources."),
        (
            "standard-attr-tag",
            "Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip",
            "Enables to set tag on resources with standard attribute."
        ),
        (
            "standard-attr-timestamp", "Resource timestamps",
            "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes."
        ),
        ("stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not"),
    ]

    static func view(_ e: (String, String, String)) -> JSON {
        ["alias": .string(e.0), "name": .string(e.1), "description": .string(e.2), "updated": "2013-01-01T00:00:00-00:00", "links": []]
    }

    var served: [(String, String, String)] {
        Self.extensions.filter {
            service.settings.routerEnabled || !["router", "ext-gw-mode", "router_availability_zone", "fip-port-details"].contains($0.0)
        }
    }

    func add(to routes: inout RouteTable) {
        routes.get("/") { request, _ in
            let host = request.head.authority ?? "localhost"
            return .json(["versions": [["id": "v2.0", "status": "CURRENT", "links": [["href": .string("http://\(host)/v2.0/"), "rel": "self"]]]]])
        }
        routes.get("/v2.0") { request, _ in resources(request) }
        routes.get("/v2.0/extensions") { _, _ in .json(["extensions": .array(served.map(Self.view))]) }
        routes.get("/v2.0/extensions/{alias}") { _, ctx in
            let alias = try ctx.parameters.require("alias")
            guard let e = served.first(where: { $0.0 == alias }) else {
                throw NetworkError.make(.notFound, "HTTPNotFound", "Extension with alias \(alias) does not exist")
            }
            return .json(["extension": Self.view(e)])
        }
    }

    func resources(_ request: Request) -> Response {
        let host = request.head.authority ?? "localhost"
        let names = ["subnet", "network", "port", "router", "floatingip", "security_group", "security_group_rule", "quota", "agent", "rbac_policy"]
        let items: [JSON] = names.map { n in
            let plural = n == "quota" ? "quotas" : n == "rbac_policy" ? "rbac_policies" : (n + "s")
            let path = plural.replacingOccurrences(of: "_", with: "-")
            return ["name": .string(n), "collection": .string(plural), "links": [["href": .string("http://\(host)/v2.0/\(path)"), "rel": "self"]]]
        }
        return .json(["resources": .array(items)])
    }
}
