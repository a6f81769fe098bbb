import StratusStorage

/// The neutron schema. Forward-only; a new version is a new entry, never an edit.
///
/// Each resource's standard attributes (neutron's `standardattributes` table) are columns of
/// its own table; timestamps are neutron's `YYYY-MM-DDTHH:MM:SSZ` text, which sorts as time.
/// Booleans are 0/1 so the same SQL runs on SQLite and PostgreSQL. The constraints that keep
/// concurrent writers honest are in the schema: one allocation per address of a subnet
/// (`ip_allocations` primary key), one MAC per network, one network per flat physnet, VLAN or
/// VNI (`segment_allocations`), one default security group per project.
enum NetworkMigrations {
    static let standard =
        "project_id VARCHAR(255), description VARCHAR(255) NOT NULL DEFAULT '', revision_number BIGINT NOT NULL, created_at VARCHAR(32) NOT NULL, updated_at VARCHAR(32) NOT NULL"

    static let all: [Migration] = [
        Migration(
            1,
            "initial neutron schema (ML2 + router)",
            [
                """
                CREATE TABLE networks (id VARCHAR(36) PRIMARY KEY, \(standard), name VARCHAR(255) NOT NULL DEFAULT '',
                  admin_state_up INTEGER NOT NULL, status VARCHAR(16) NOT NULL, shared INTEGER NOT NULL, external INTEGER NOT NULL,
                  is_default INTEGER NOT NULL, mtu BIGINT NOT NULL, network_type VARCHAR(32), physical_network VARCHAR(64),
                  segmentation_id BIGINT, port_security_enabled INTEGER NOT NULL, availability_zone_hints TEXT NOT NULL,
                  dns_domain VARCHAR(255))
                """,
                "CREATE INDEX networks_project ON networks (project_id)",
                """
                CREATE TABLE subnets (id VARCHAR(36) PRIMARY KEY, \(standard), name VARCHAR(255) NOT NULL DEFAULT '',
                  network_id VARCHAR(36) NOT NULL REFERENCES networks(id), ip_version BIGINT NOT NULL, cidr VARCHAR(64) NOT NULL,
                  gateway_ip VARCHAR(64), enable_dhcp INTEGER NOT NULL, allocation_pools TEXT NOT NULL, dns_nameservers TEXT NOT NULL,
                  host_routes TEXT NOT NULL, ipv6_ra_mode VARCHAR(32), ipv6_address_mode VARCHAR(32), subnetpool_id VARCHAR(36),
                  segment_id VARCHAR(36), service_types TEXT NOT NULL)
                """,
                "CREATE INDEX subnets_network ON subnets (network_id)",
                "CREATE INDEX subnets_project ON subnets (project_id)",
                """
                CREATE TABLE ports (id VARCHAR(36) PRIMARY KEY, \(standard), name VARCHAR(255) NOT NULL DEFAULT '',
                  network_id VARCHAR(36) NOT NULL REFERENCES networks(id), mac_address VARCHAR(32) NOT NULL,
                  admin_state_up INTEGER NOT NULL, status VARCHAR(16) NOT NULL, device_id VARCHAR(255) NOT NULL,
                  device_owner VARCHAR(255) NOT NULL, binding_host_id VARCHAR(255) NOT NULL, binding_vif_type VARCHAR(64) NOT NULL,
                  binding_vif_details TEXT NOT NULL, binding_vnic_type VARCHAR(64) NOT NULL, binding_profile TEXT NOT NULL,
                  port_security_enabled INTEGER NOT NULL, allowed_address_pairs TEXT NOT NULL, extra_dhcp_opts TEXT NOT NULL,
                  propagate_uplink_status INTEGER NOT NULL, UNIQUE (network_id, mac_address))
                """,
                "CREATE INDEX ports_project ON ports (project_id)",
                "CREATE INDEX ports_device ON ports (device_id)",
                """
                CREATE TABLE ip_allocations (subnet_id VARCHAR(36) NOT NULL REFERENCES subnets(id),
                  ip_address VARCHAR(64) NOT NULL, port_id VARCHAR(36) NOT NULL REFERENCES ports(id) ON DELETE CASCADE,
                  network_id VARCHAR(36) NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (subnet_id, ip_address))
                """,
                "CREATE INDEX ip_allocations_port ON ip_allocations (port_id)",
                "CREATE INDEX ip_allocations_address ON ip_allocations (ip_address)",
                """
                CREATE TABLE routers (id VARCHAR(36) PRIMARY KEY, \(standard), name VARCHAR(255) NOT NULL DEFAULT '',
                  admin_state_up INTEGER NOT NULL, status VARCHAR(16) NOT NULL, gw_network_id VARCHAR(36), gw_port_id VARCHAR(36),
                  enable_snat INTEGER NOT NULL, availability_zone_hints TEXT NOT NULL, distributed INTEGER NOT NULL,
                  ha INTEGER NOT NULL, routes TEXT NOT NULL, flavor_id VARCHAR(36))
                """,
                "CREATE INDEX routers_project ON routers (project_id)",
                """
                CREATE TABLE router_ports (router_id VARCHAR(36) NOT NULL REFERENCES routers(id),
                  port_id VARCHAR(36) PRIMARY KEY REFERENCES ports(id) ON DELETE CASCADE, port_type VARCHAR(255) NOT NULL)
                """,
                "CREATE INDEX router_ports_router ON router_ports (router_id)",
                """
                CREATE TABLE floatingips (id VARCHAR(36) PRIMARY KEY, \(standard), floating_network_id VARCHAR(36) NOT NULL,
                  floating_ip_address VARCHAR(64) NOT NULL, floating_port_id VARCHAR(36) NOT NULL, port_id VARCHAR(36),
                  fixed_ip_address VARCHAR(64), router_id VARCHAR(36), status VARCHAR(16) NOT NULL, dns_name VARCHAR(255) NOT NULL,
                  dns_domain VARCHAR(255) NOT NULL)
                """,
                "CREATE INDEX floatingips_project ON floatingips (project_id)",
                "CREATE UNIQUE INDEX floatingips_fixed ON floatingips (port_id, fixed_ip_address)",
                """
                CREATE TABLE security_groups (id VARCHAR(36) PRIMARY KEY, \(standard), name VARCHAR(255) NOT NULL DEFAULT '',
                  stateful INTEGER NOT NULL)
                """,
                "CREATE INDEX security_groups_project ON security_groups (project_id)",
                """
                CREATE TABLE default_security_groups (project_id VARCHAR(255) PRIMARY KEY,
                  security_group_id VARCHAR(36) NOT NULL REFERENCES security_groups(id) ON DELETE CASCADE)
                """,
                """
                CREATE TABLE security_group_rules (id VARCHAR(36) PRIMARY KEY, \(standard),
                  security_group_id VARCHAR(36) NOT NULL REFERENCES security_groups(id) ON DELETE CASCADE,
                  direction VARCHAR(16) NOT NULL, ethertype VARCHAR(16) NOT NULL, protocol VARCHAR(40),
                  port_range_min BIGINT, port_range_max BIGINT, remote_ip_prefix VARCHAR(64), remote_group_id VARCHAR(36),
                  remote_address_group_id VARCHAR(36), normalized_cidr VARCHAR(64))
                """,
                "CREATE INDEX security_group_rules_group ON security_group_rules (security_group_id)",
                """
                CREATE TABLE port_security_groups (port_id VARCHAR(36) NOT NULL REFERENCES ports(id) ON DELETE CASCADE,
                  security_group_id VARCHAR(36) NOT NULL REFERENCES security_groups(id), PRIMARY KEY (port_id, security_group_id))
                """,
                "CREATE INDEX port_security_groups_group ON port_security_groups (security_group_id)",
                """
                CREATE TABLE segment_allocations (network_type VARCHAR(32) NOT NULL, physical_network VARCHAR(64) NOT NULL,
                  segmentation_id BIGINT NOT NULL, network_id VARCHAR(36) NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
                  PRIMARY KEY (network_type, physical_network, segmentation_id))
                """,
                "CREATE TABLE tags (resource_id VARCHAR(36) NOT NULL, tag VARCHAR(255) NOT NULL, PRIMARY KEY (resource_id, tag))",
                "CREATE INDEX tags_tag ON tags (tag)",
                """
                CREATE TABLE quotas (project_id VARCHAR(255) NOT NULL, resource VARCHAR(255) NOT NULL, hard_limit BIGINT NOT NULL,
                  PRIMARY KEY (project_id, resource))
                """,
                """
                CREATE TABLE rbac_policies (id VARCHAR(36) PRIMARY KEY, \(standard), object_type VARCHAR(32) NOT NULL,
                  object_id VARCHAR(36) NOT NULL, action VARCHAR(32) NOT NULL, target_tenant VARCHAR(255) NOT NULL,
                  UNIQUE (object_type, object_id, action, target_tenant))
                """,
                """
                CREATE TABLE agents (id VARCHAR(36) PRIMARY KEY, agent_type VARCHAR(255) NOT NULL, binary_name VARCHAR(255) NOT NULL,
                  topic VARCHAR(255) NOT NULL, host VARCHAR(255) NOT NULL, admin_state_up INTEGER NOT NULL,
                  availability_zone VARCHAR(255), description VARCHAR(255) NOT NULL DEFAULT '', configurations TEXT NOT NULL,
                  resources_synced INTEGER, created_at VARCHAR(32) NOT NULL, started_at VARCHAR(32) NOT NULL,
                  heartbeat_timestamp VARCHAR(32) NOT NULL, UNIQUE (agent_type, host))
                """,
                """
                CREATE TABLE nova_events (id VARCHAR(36) PRIMARY KEY, body TEXT NOT NULL, created_at BIGINT NOT NULL,
                  next_attempt BIGINT NOT NULL, attempts BIGINT NOT NULL)
                """,
            ]
        )
    ]

    static let migrator = Migrator(service: "neutron", all)
}
