/// Neutron's attribute maps, as Stratus stores them: each resource kind names its table and the
/// attributes kept as columns. A record is the resource's attributes by API name
/// (`[String: JSON]`), which is how neutron itself moves resources between the API layer and
/// the plugin; the store converts to and from columns, the views add what lives elsewhere
/// (fixed IPs, security groups, tags).
public struct ResourceKind: Sendable, Hashable {
    public enum ColumnType: Sendable, Hashable {
        case string, bool, int
        /// A JSON document in a text column (lists and dicts nothing queries inside).
        case json
    }

    public struct Attribute: Sendable, Hashable {
        public var name: String
        public var column: String
        public var type: ColumnType

        init(_ name: String, _ type: ColumnType = .string, column: String? = nil) {
            self.name = name
            self.type = type
            self.column = column ?? name.replacingOccurrences(of: ":", with: "_")
        }
    }

    public var singular: String
    public var plural: String
    public var table: String
    public var attributes: [Attribute]
    /// Whether it takes tags (`/v2.0/<plural>/<id>/tags`).
    public var tagged: Bool

    init(_ singular: String, _ plural: String, table: String? = nil, tagged: Bool = true, _ attributes: [Attribute]) {
        self.singular = singular
        self.plural = plural
        self.table = table ?? plural
        self.tagged = tagged
        self.attributes = ResourceKind.standard + attributes
        byName = Dictionary(uniqueKeysWithValues: self.attributes.map { ($0.name, $0) })
    }

    private var byName: [String: Attribute]

    public func attribute(_ name: String) -> Attribute? { byName[name] }

    /// The URL collection (`security-groups`); bodies use `plural` (`security_groups`).
    public var path: String { plural.replacingOccurrences(of: "_", with: "-") }

    /// Every resource's standard attributes (neutron's `standardattributes` table, folded in).
    static let standard: [Attribute] = [
        .init("id"), .init("project_id"), .init("description"), .init("revision_number", .int),
        .init("created_at"), .init("updated_at"),
    ]

    public static func == (a: ResourceKind, b: ResourceKind) -> Bool { a.singular == b.singular }
    public func hash(into h: inout Hasher) { h.combine(singular) }

    public static let network = ResourceKind(
        "network",
        "networks",
        [
            .init("name"), .init("admin_state_up", .bool), .init("status"), .init("shared", .bool),
            .init("router:external", .bool, column: "external"), .init("is_default", .bool), .init("mtu", .int),
            .init("provider:network_type", column: "network_type"), .init("provider:physical_network", column: "physical_network"),
            .init("provider:segmentation_id", .int, column: "segmentation_id"), .init("port_security_enabled", .bool),
            .init("availability_zone_hints", .json), .init("dns_domain"),
        ]
    )

    public static let subnet = ResourceKind(
        "subnet",
        "subnets",
        [
            .init("name"), .init("network_id"), .init("ip_version", .int), .init("cidr"), .init("gateway_ip"),
            .init("enable_dhcp", .bool), .init("allocation_pools", .json), .init("dns_nameservers", .json),
            .init("host_routes", .json), .init("ipv6_ra_mode"), .init("ipv6_address_mode"), .init("subnetpool_id"),
            .init("segment_id"), .init("service_types", .json),
        ]
    )

    public static let port = ResourceKind(
        "port",
        "ports",
        [
            .init("name"), .init("network_id"), .init("mac_address"), .init("admin_state_up", .bool), .init("status"),
            .init("device_id"), .init("device_owner"), .init("binding:host_id", column: "binding_host_id"),
            .init("binding:vif_type", column: "binding_vif_type"), .init("binding:vif_details", .json, column: "binding_vif_details"),
            .init("binding:vnic_type", column: "binding_vnic_type"), .init("binding:profile", .json, column: "binding_profile"),
            .init("port_security_enabled", .bool), .init("allowed_address_pairs", .json), .init("extra_dhcp_opts", .json),
            .init("propagate_uplink_status", .bool),
        ]
    )

    public static let router = ResourceKind(
        "router",
        "routers",
        [
            .init("name"), .init("admin_state_up", .bool), .init("status"), .init("gw_network_id"), .init("gw_port_id"),
            .init("enable_snat", .bool), .init("availability_zone_hints", .json), .init("distributed", .bool), .init("ha", .bool),
            .init("routes", .json), .init("flavor_id"),
        ]
    )

    public static let floatingIP = ResourceKind(
        "floatingip",
        "floatingips",
        [
            .init("floating_network_id"), .init("floating_ip_address"), .init("floating_port_id"), .init("port_id"),
            .init("fixed_ip_address"), .init("router_id"), .init("status"), .init("dns_name"), .init("dns_domain"),
        ]
    )

    public static let securityGroup = ResourceKind(
        "security_group",
        "security_groups",
        [.init("name"), .init("stateful", .bool)]
    )

    public static let securityGroupRule = ResourceKind(
        "security_group_rule",
        "security_group_rules",
        tagged: false,
        [
            .init("security_group_id"), .init("direction"), .init("ethertype"), .init("protocol"), .init("port_range_min", .int),
            .init("port_range_max", .int), .init("remote_ip_prefix"), .init("remote_group_id"), .init("remote_address_group_id"),
            .init("normalized_cidr"),
        ]
    )

    public static let rbacPolicy = ResourceKind(
        "rbac_policy",
        "rbac_policies",
        tagged: false,
        [.init("object_type"), .init("object_id"), .init("action"), .init("target_tenant")]
    )

    /// Agents live in their own table with their own store; the kind names their errors.
    public static let agent = ResourceKind("agent", "agents", tagged: false, [])

    /// The kinds that take tags, by their URL collection name.
    public static let tagged: [String: ResourceKind] = Dictionary(
        uniqueKeysWithValues: [network, subnet, port, router, floatingIP, securityGroup].map { ($0.path, $0) }
    )
}
