import StratusAuth

/// Neutron's default policy (neutron/conf/policies, 2024.x with `enforce_new_defaults`): the
/// base rules and personas, then each resource's actions and attribute-level rules
/// (`create_network:shared`, `get_port:binding:vif_type`, …) with their check strings. Every
/// rule is project-scoped, as neutron's are; neutron's credentials carry `tenant_id` beside
/// `project_id`, and the service adds it so these strings work verbatim.
enum NetworkPolicy {
    static let admin = "rule:admin_only"
    static let service = "rule:service_api"
    static let projectMember = "role:member and project_id:%(project_id)s"
    static let projectReader = "role:reader and project_id:%(project_id)s"
    static let adminOrMember = "(\(admin)) or (\(projectMember))"
    static let adminOrReader = "(\(admin)) or (\(projectReader))"
    static let netOwnerMember = "role:member and rule:network_owner"
    static let netOwnerReader = "role:reader and rule:network_owner"
    static let adminOrNetOwnerMember = "(\(admin)) or (\(netOwnerMember))"
    static let adminOrNetOwnerReader = "(\(admin)) or (\(netOwnerReader))"
    static let sgOwnerMember = "role:member and tenant_id:%(security_group:tenant_id)s"
    static let sgOwnerReader = "role:reader and tenant_id:%(security_group:tenant_id)s"

    static let base: [PolicyDefault] = [
        PolicyDefault("context_is_admin", "role:admin"),
        PolicyDefault("admin_or_owner", "rule:context_is_admin or tenant_id:%(tenant_id)s"),
        PolicyDefault("admin_only", "rule:context_is_admin"),
        PolicyDefault("service_api", "role:service"),
        PolicyDefault("regular_user", ""),
        PolicyDefault("shared", "field:networks:shared=True"),
        PolicyDefault("external", "field:networks:router:external=True"),
        PolicyDefault("network_device", "field:port:device_owner=~^network:"),
        PolicyDefault("default", "rule:admin_or_owner"),
        PolicyDefault("network_owner", "tenant_id:%(network:tenant_id)s"),
        PolicyDefault("admin_or_network_owner", "rule:context_is_admin or tenant_id:%(network:tenant_id)s"),
        PolicyDefault("sg_owner", "tenant_id:%(security_group:tenant_id)s"),
    ]

    /// (name, check) of every action, all scoped to projects.
    static let actions: [(String, String)] = [
        ("create_network", "\(adminOrMember) or \(service)"),
        ("create_network:shared", admin),
        ("create_network:router:external", admin),
        ("create_network:is_default", admin),
        ("create_network:port_security_enabled", adminOrMember),
        ("create_network:segments", admin),
        ("create_network:provider:network_type", admin),
        ("create_network:provider:physical_network", admin),
        ("create_network:provider:segmentation_id", admin),
        ("get_network", "(\(adminOrReader)) or rule:shared or rule:external or \(service)"),
        ("get_network:segments", admin),
        ("get_network:provider:network_type", admin),
        ("get_network:provider:physical_network", admin),
        ("get_network:provider:segmentation_id", admin),
        ("get_network:router:external", "rule:regular_user"),
        ("update_network", "\(adminOrMember) or \(service)"),
        ("update_network:segments", admin),
        ("update_network:shared", admin),
        ("update_network:provider:network_type", admin),
        ("update_network:provider:physical_network", admin),
        ("update_network:provider:segmentation_id", admin),
        ("update_network:router:external", admin),
        ("update_network:is_default", admin),
        ("update_network:port_security_enabled", adminOrMember),
        ("delete_network", "\(adminOrMember) or \(service)"),

        ("create_subnet", "\(adminOrNetOwnerMember) or \(service)"),
        ("create_subnet:segment_id", admin),
        ("create_subnet:service_types", admin),
        ("get_subnet", "(\(adminOrReader)) or rule:shared or (\(netOwnerReader)) or \(service)"),
        ("get_subnet:segment_id", admin),
        ("update_subnet", "\(adminOrNetOwnerMember) or \(service)"),
        ("update_subnet:segment_id", admin),
        ("update_subnet:service_types", admin),
        ("delete_subnet", "\(adminOrNetOwnerMember) or \(service)"),

        ("create_port", "\(adminOrMember) or \(service)"),
        ("create_port:device_owner", "not rule:network_device or (\(adminOrNetOwnerMember)) or \(service)"),
        ("create_port:mac_address", "\(adminOrNetOwnerMember) or \(service)"),
        ("create_port:fixed_ips", "\(adminOrNetOwnerMember) or \(service) or rule:shared"),
        ("create_port:fixed_ips:ip_address", "\(adminOrNetOwnerMember) or \(service)"),
        ("create_port:fixed_ips:subnet_id", "\(adminOrNetOwnerMember) or \(service) or rule:shared"),
        ("create_port:port_security_enabled", "\(adminOrNetOwnerMember) or \(service)"),
        ("create_port:binding:host_id", "\(admin) or \(service)"),
        ("create_port:binding:profile", "\(admin) or \(service)"),
        ("create_port:binding:vnic_type", "\(adminOrMember) or \(service)"),
        ("create_port:allowed_address_pairs", "\(adminOrNetOwnerMember)"),
        ("create_port:allowed_address_pairs:mac_address", "\(adminOrNetOwnerMember)"),
        ("create_port:allowed_address_pairs:ip_address", "\(adminOrNetOwnerMember)"),
        ("get_port", "(\(adminOrReader)) or (\(adminOrNetOwnerReader)) or \(service)"),
        ("get_port:binding:vif_type", "\(admin) or \(service)"),
        ("get_port:binding:vif_details", "\(admin) or \(service)"),
        ("get_port:binding:host_id", "\(admin) or \(service)"),
        ("get_port:binding:profile", "\(admin) or \(service)"),
        ("get_port:resource_request", "\(admin) or \(service)"),
        ("update_port", "\(adminOrMember) or \(service)"),
        ("update_port:device_owner", "not rule:network_device or (\(adminOrNetOwnerMember)) or \(service)"),
        ("update_port:mac_address", "\(admin) or \(service)"),
        ("update_port:fixed_ips", "\(adminOrNetOwnerMember) or \(service)"),
        ("update_port:fixed_ips:ip_address", "\(adminOrNetOwnerMember) or \(service)"),
        ("update_port:fixed_ips:subnet_id", "\(adminOrNetOwnerMember) or \(service) or rule:shared"),
        ("update_port:port_security_enabled", "\(adminOrNetOwnerMember) or \(service)"),
        ("update_port:binding:host_id", "\(admin) or \(service)"),
        ("update_port:binding:profile", "\(admin) or \(service)"),
        ("update_port:binding:vnic_type", "\(adminOrMember) or \(service)"),
        ("update_port:allowed_address_pairs", adminOrNetOwnerMember),
        ("update_port:allowed_address_pairs:mac_address", adminOrNetOwnerMember),
        ("update_port:allowed_address_pairs:ip_address", adminOrNetOwnerMember),
        ("delete_port", "(\(adminOrMember)) or (\(netOwnerMember)) or \(service)"),

        ("create_router", adminOrMember),
        ("create_router:external_gateway_info", adminOrMember),
        ("create_router:external_gateway_info:network_id", adminOrMember),
        ("create_router:external_gateway_info:enable_snat", admin),
        ("create_router:external_gateway_info:external_fixed_ips", admin),
        ("create_router:distributed", admin),
        ("create_router:ha", admin),
        ("get_router", adminOrReader),
        ("get_router:distributed", admin),
        ("get_router:ha", admin),
        ("update_router", adminOrMember),
        ("update_router:external_gateway_info", adminOrMember),
        ("update_router:external_gateway_info:network_id", adminOrMember),
        ("update_router:external_gateway_info:enable_snat", admin),
        ("update_router:external_gateway_info:external_fixed_ips", admin),
        ("update_router:distributed", admin),
        ("update_router:ha", admin),
        ("delete_router", adminOrMember),
        ("add_router_interface", adminOrMember),
        ("remove_router_interface", adminOrMember),

        ("create_floatingip", adminOrMember),
        ("create_floatingip:floating_ip_address", admin),
        ("get_floatingip", adminOrReader),
        ("update_floatingip", adminOrMember),
        ("delete_floatingip", adminOrMember),

        ("create_security_group", adminOrMember),
        ("get_security_group", adminOrReader),
        ("update_security_group", adminOrMember),
        ("delete_security_group", adminOrMember),
        ("create_security_group_rule", "(\(adminOrMember)) or (\(sgOwnerMember))"),
        ("get_security_group_rule", "(\(adminOrReader)) or (\(sgOwnerReader))"),
        ("delete_security_group_rule", "(\(adminOrMember)) or (\(sgOwnerMember))"),

        ("create_rbac_policy", adminOrMember),
        ("create_rbac_policy:target_tenant", "\(admin) or (not field:rbac_policy:target_tenant=*)"),
        ("get_rbac_policy", adminOrReader),
        ("update_rbac_policy", adminOrMember),
        ("update_rbac_policy:target_tenant", "\(admin) or (not field:rbac_policy:target_tenant=*)"),
        ("delete_rbac_policy", adminOrMember),

        ("get_quota", adminOrReader),
        ("update_quota", admin),
        ("delete_quota", admin),
        ("get_agent", admin),
        ("update_agent", admin),
        ("delete_agent", admin),
        ("get_availability_zone", "rule:regular_user"),
    ]

    static let defaults: [PolicyDefault] = base + actions.map { PolicyDefault($0.0, $0.1, scopes: [.project]) }

    /// The attribute-level rules of an action (`create_port:binding:host_id` → `binding:host_id`).
    static let attributeRules: [String: [String]] = {
        var out: [String: [String]] = [:]
        for (name, _) in actions {
            let parts = name.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { out[String(parts[0]), default: []].append(String(parts[1])) }
        }
        return out
    }()
}
