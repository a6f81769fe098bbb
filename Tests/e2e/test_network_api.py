"""The Networking API (neutron v2.0, ML2 + router) of the all-in-one cloud, over raw HTTP
with Keystone tokens (and openstacksdk for pagination, as clients page).

What a user of neutron notices: networks with their segments (vxlan project networks, the flat
provider network), subnets and their addressing, ports with IPAM, MACs and bindings, routers,
floating IPs, security groups, quotas, revisions and If-Match, tags, list queries, agents,
extensions, and that one project sees nothing of another's. Three projects take part, each with
a non-admin user holding `member`; the admin is the cloud admin. Expected answers are neutron's
(docs/network-spec.md, neutron / neutron-lib sources). SQLite only: none of this depends on the
database (Tests/e2e/test_network_concurrency.py runs the races on both).

Status codes and error `type`s are asserted outright; neutron's message texts and a few
attribute values are collected (`Parity`) and checked at the end of each test, so that a
wording difference does not hide the behaviour after it.
"""
import datetime
import ipaddress
import re
import uuid

import pytest
import requests

from framework.cloud import API

pytestmark = pytest.mark.parametrize("cloud", ["sqlite"], indirect=True)

NEUTRON_QUOTA_DEFAULTS = {
    "floatingip": 50, "network": 100, "port": 500, "rbac_policy": 10, "router": 10, "router_route": 30,
    "security_group": 10, "security_group_rule": 100, "subnet": 100, "subnetpool": -1,
}
PROVIDER_CIDR = "203.0.113.0/24"
# What policy keeps from non-admins (get_port:binding:* and get_network:provider:*); binding:vnic_type
# is every reader's.
ADMIN_ONLY = ("binding:host_id", "binding:vif_type", "binding:vif_details", "binding:profile", "provider:")


def uid():
    return uuid.uuid4().hex[:8]


class Neutron:
    """Requests to the network endpoint with one user's token."""

    def __init__(self, base, token, project_id):
        self.base = base.rstrip("/")
        self.project_id = project_id
        self.session = requests.Session()
        self.session.headers.update({"X-Auth-Token": token, "Accept": "application/json"})

    def call(self, method, path, body=None, **kw):
        url = path if path.startswith("http") else self.base + path
        return self.session.request(method, url, json=body, timeout=60, **kw)

    def ok(self, method, path, body=None, status=(200, 201, 204), **kw):
        r = self.call(method, path, body, **kw)
        assert r.status_code in (status if isinstance(status, tuple) else (status,)), (method, path, body, r.status_code, r.text)
        return r.json() if r.content else None

    def create(self, collection, **attrs):
        singular = {"security-groups": "security_group", "security-group-rules": "security_group_rule"}.get(
            collection, collection[:-1])
        return self.ok("POST", f"/v2.0/{collection}", {singular: attrs}, status=201)[singular]

    def show(self, collection, rid):
        singular = {"security-groups": "security_group"}.get(collection, collection[:-1])
        return self.ok("GET", f"/v2.0/{collection}/{rid}", status=200)[singular]

    def list(self, collection, query=""):
        key = collection.replace("-", "_")
        return self.ok("GET", f"/v2.0/{collection}{query}", status=200)[key]

    def ids(self, collection, query=""):
        return [item["id"] for item in self.list(collection, query)]

    def network(self, cidr=None, **attrs):
        """A network (and a subnet on it when `cidr` is given): (network, subnet)."""
        net = self.create("networks", name=attrs.pop("name", "net-" + uid()), **attrs)
        sub = None
        if cidr:
            version = ipaddress.ip_network(cidr).version
            sub = self.create("subnets", network_id=net["id"], cidr=cidr, ip_version=version)
        return net, sub


class Parity:
    """Neutron's texts and values, checked after the behaviour: differences are collected and
    reported together at the end of a test."""

    def __init__(self):
        self.diffs = []

    def check(self, ok, what):
        if not ok:
            self.diffs.append(what)

    def equal(self, got, expected, what):
        self.check(got == expected, f"{what}: got {got!r}, neutron gives {expected!r}")

    def message(self, r, expected):
        said = r.json()["NeutronError"]["message"]
        self.check(said == expected, f"{r.request.method} {r.request.path_url} -> {r.status_code}: "
                                     f"message {said!r}, neutron says {expected!r}")

    def done(self):
        assert not self.diffs, "differs from neutron:\n" + "\n".join(self.diffs)


@pytest.fixture
def parity():
    return Parity()


def error(r, status, type_=None):
    """Neutron's error body: {"NeutronError": {"type", "message", "detail"}} with the status."""
    assert r.status_code == status, (r.request.method, r.request.path_url, r.status_code, r.text)
    body = r.json()
    assert list(body) == ["NeutronError"], body
    e = body["NeutronError"]
    assert set(e) == {"type", "message", "detail"}, e
    assert e["detail"] == "", e
    assert isinstance(e["message"], str) and e["message"], e
    if type_:
        assert e["type"] == type_, (r.request.method, r.request.path_url, e)
    return e


class Users:
    def __init__(self, admin, alice, bob, carol):
        self.admin, self.alice, self.bob, self.carol = admin, alice, bob, carol


@pytest.fixture(scope="module")
def users(cloud):
    """The cloud admin and three projects (alice, bob, carol) each with a `member` user."""
    api = API(cloud)
    admin_token, body = api.issue("admin", cloud.password, project="admin")
    base = cloud.url("network")
    admin = Neutron(base, admin_token, body["project"]["id"])
    roles = {r["name"]: r["id"] for r in api.call("GET", "/v3/roles", admin_token).json()["roles"]}
    out = {}
    for name in ("alice", "bob", "carol"):
        pname, uname, password = f"net-{name}-{uid()}", f"net-{name}-{uid()}", "secret-" + name
        r = api.call("POST", "/v3/projects", admin_token, json={"project": {"name": pname, "domain_id": "default"}})
        assert r.status_code == 201, r.text
        pid = r.json()["project"]["id"]
        r = api.call("POST", "/v3/users", admin_token, json={"user": {"name": uname, "password": password, "domain_id": "default"}})
        assert r.status_code == 201, r.text
        r = api.call("PUT", f"/v3/projects/{pid}/users/{r.json()['user']['id']}/roles/{roles['member']}", admin_token)
        assert r.status_code == 204, r.text
        token, body = api.issue(uname, password, project=pname)
        assert "admin" not in {role["name"] for role in body["roles"]}
        out[name] = Neutron(base, token, pid)
    return Users(admin, out["alice"], out["bob"], out["carol"])


@pytest.fixture(scope="module")
def provider(users):
    """The guide's provider network: flat on physnet `provider`, shared and external, with a
    subnet whose pool is .101-.250 (created once: a physnet takes one flat network)."""
    net = users.admin.create("networks", name="provider", shared=True, **{
        "router:external": True, "provider:network_type": "flat", "provider:physical_network": "provider"})
    sub = users.admin.create("subnets", network_id=net["id"], name="provider", cidr=PROVIDER_CIDR, ip_version=4,
                             gateway_ip="203.0.113.1", dns_nameservers=["8.8.4.4"],
                             allocation_pools=[{"start": "203.0.113.101", "end": "203.0.113.250"}])
    return net, sub


def in_pool(ip, start, end):
    return ipaddress.ip_address(start) <= ipaddress.ip_address(ip) <= ipaddress.ip_address(end)


# --- networks ------------------------------------------------------------------------------------

def test_network_lifecycle(cloud, users, parity):
    """Create, show, list, update, delete: a vxlan project network with MTU 1450 whose segment only
    the admin sees."""
    alice, admin = users.alice, users.admin
    r = alice.call("POST", "/v2.0/networks", {"network": {"name": "life-" + uid()}})
    assert r.status_code == 201, r.text
    net = r.json()["network"]
    assert net["status"] == "ACTIVE" and net["admin_state_up"] is True
    assert net["mtu"] == 1450
    assert net["shared"] is False and net["router:external"] is False
    assert net["subnets"] == [] and net["tags"] == [] and net["description"] == ""
    assert net["project_id"] == net["tenant_id"] == alice.project_id
    assert net["port_security_enabled"] is True
    assert not [k for k in net if k.startswith("provider:")], net
    parity.equal(net["revision_number"], 1, "revision_number of a new network")

    seen = admin.show("networks", net["id"])
    assert seen["provider:network_type"] == "vxlan"
    assert seen["provider:physical_network"] is None
    assert 1 <= seen["provider:segmentation_id"] <= 1000
    shown = alice.show("networks", net["id"])
    assert shown["name"] == net["name"] and not [k for k in shown if k.startswith("provider:")]
    assert alice.ids("networks", f"?name={net['name']}") == [net["id"]]

    r = alice.call("PUT", f"/v2.0/networks/{net['id']}", {"network": {"name": net["name"] + "-x", "description": "d"}})
    assert r.status_code == 200, r.text
    updated = r.json()["network"]
    assert (updated["name"], updated["description"]) == (net["name"] + "-x", "d")
    assert updated["revision_number"] == net["revision_number"] + 1
    assert alice.show("networks", net["id"])["name"] == net["name"] + "-x"

    r = alice.call("DELETE", f"/v2.0/networks/{net['id']}")
    assert r.status_code == 204 and r.content == b""
    r = alice.call("GET", f"/v2.0/networks/{net['id']}")
    e = error(r, 404, "NetworkNotFound")
    parity.equal(e["message"], f"Network {net['id']} could not be found.", "NetworkNotFound message")
    assert net["id"] not in admin.ids("networks")
    parity.done()


def test_admin_only_network_attributes(cloud, users, parity):
    """A member may not share a network, make it external or choose its segment (403
    PolicyNotAuthorized), on create or update."""
    alice = users.alice
    for attrs, rule in [
        ({"shared": True}, "create_network:shared"),
        ({"router:external": True}, "create_network:router:external"),
        ({"provider:network_type": "vxlan"}, "create_network:provider:network_type"),
        ({"provider:network_type": "flat", "provider:physical_network": "provider"}, None),
        ({"provider:network_type": "vxlan", "provider:segmentation_id": 777}, None),
    ]:
        r = alice.call("POST", "/v2.0/networks", {"network": {"name": "nope", **attrs}})
        error(r, 403, "PolicyNotAuthorized")
        if rule:
            parity.message(r, f"(rule:create_network and rule:{rule}) is disallowed by policy")
    assert not alice.list("networks", "?name=nope")
    net, _ = alice.network()
    r = alice.call("PUT", f"/v2.0/networks/{net['id']}", {"network": {"shared": True}})
    error(r, 403, "PolicyNotAuthorized")
    parity.message(r, "(rule:update_network and rule:update_network:shared) is disallowed by policy")
    assert alice.show("networks", net["id"])["shared"] is False
    # the admin may
    admin_net = users.admin.create("networks", name="admin-vx-" + uid(), **{
        "provider:network_type": "vxlan", "provider:segmentation_id": 777})
    assert admin_net["provider:segmentation_id"] == 777 and admin_net["mtu"] == 1450
    r = users.admin.call("POST", "/v2.0/networks", {"network": {"name": "dup", "provider:network_type": "vxlan",
                                                               "provider:segmentation_id": 777}})
    error(r, 409, "TunnelIdInUse")
    parity.message(r, "Unable to create the network. The tunnel ID 777 is in use.")
    parity.done()


def test_flat_provider_networks(cloud, users, provider, parity):
    """Flat networks only on the physnets `[ml2_type_flat] flat_networks` names (all-in-one:
    `provider`), one per physnet; they have the physnet's MTU (1500)."""
    net, sub = provider
    assert net["provider:network_type"] == "flat"
    assert net["provider:physical_network"] == "provider"
    assert net["provider:segmentation_id"] is None
    assert net["mtu"] == 1500 and net["shared"] is True and net["router:external"] is True
    r = users.admin.call("POST", "/v2.0/networks", {"network": {
        "name": "elsewhere", "provider:network_type": "flat", "provider:physical_network": "elsewhere"}})
    error(r, 400)
    r = users.admin.call("POST", "/v2.0/networks", {"network": {
        "name": "second", "provider:network_type": "flat", "provider:physical_network": "provider"}})
    error(r, 409, "FlatNetworkInUse")
    parity.message(r, "Unable to create the flat network. Physical network provider is in use.")
    assert [n["id"] for n in users.admin.list("networks", "?provider:physical_network=provider")] == [net["id"]]
    parity.done()


# --- subnets -------------------------------------------------------------------------------------

def test_ipv4_subnet(cloud, users):
    """Defaults (gateway .1, pool .2-.254), then given DNS servers, host routes, gateway and pools."""
    alice = users.alice
    net, sub = alice.network("10.10.0.0/24")
    assert sub["ip_version"] == 4 and sub["cidr"] == "10.10.0.0/24"
    assert sub["gateway_ip"] == "10.10.0.1"
    assert sub["allocation_pools"] == [{"start": "10.10.0.2", "end": "10.10.0.254"}]
    assert sub["dns_nameservers"] == [] and sub["host_routes"] == [] and sub["enable_dhcp"] is True
    assert sub["network_id"] == net["id"] and sub["project_id"] == alice.project_id
    assert alice.show("networks", net["id"])["subnets"] == [sub["id"]]

    routes = [{"destination": "192.168.50.0/24", "nexthop": "10.11.0.9"}]
    s2 = alice.create("subnets", network_id=net["id"], cidr="10.11.0.0/24", ip_version=4, gateway_ip="10.11.0.254",
                      dns_nameservers=["8.8.8.8", "1.1.1.1"], host_routes=routes,
                      allocation_pools=[{"start": "10.11.0.10", "end": "10.11.0.20"},
                                        {"start": "10.11.0.100", "end": "10.11.0.110"}])
    assert s2["gateway_ip"] == "10.11.0.254"
    assert s2["dns_nameservers"] == ["8.8.8.8", "1.1.1.1"]
    assert s2["host_routes"] == routes
    assert s2["allocation_pools"] == [{"start": "10.11.0.10", "end": "10.11.0.20"},
                                      {"start": "10.11.0.100", "end": "10.11.0.110"}]
    assert alice.show("subnets", s2["id"])["host_routes"] == routes
    s3 = alice.create("subnets", network_id=net["id"], cidr="10.12.0.0/30", ip_version=4)
    assert s3["allocation_pools"] == [{"start": "10.12.0.2", "end": "10.12.0.2"}]
    s4 = alice.create("subnets", network_id=net["id"], cidr="10.13.0.0/24", ip_version=4, gateway_ip=None)
    assert s4["gateway_ip"] is None
    assert s4["allocation_pools"] == [{"start": "10.13.0.1", "end": "10.13.0.254"}]
    updated = alice.ok("PUT", f"/v2.0/subnets/{s2['id']}", {"subnet": {"dns_nameservers": ["9.9.9.9"]}})["subnet"]
    assert updated["dns_nameservers"] == ["9.9.9.9"]
    assert sorted(alice.show("networks", net["id"])["subnets"]) == sorted([sub["id"], s2["id"], s3["id"], s4["id"]])


def test_ipv6_subnet(cloud, users):
    """An IPv6 subnet's default gateway is the subnet-router anycast address (the network
    address itself) and its pool the rest of the prefix, no broadcast excluded."""
    alice = users.alice
    net, sub = alice.network("fd00:10::/64")
    assert sub["ip_version"] == 6 and sub["cidr"] == "fd00:10::/64"
    assert sub["ipv6_ra_mode"] is None and sub["ipv6_address_mode"] is None
    assert (sub["gateway_ip"], sub["allocation_pools"]) == (
        "fd00:10::", [{"start": "fd00:10::1", "end": "fd00:10::ffff:ffff:ffff:ffff"}])
    given = alice.create("subnets", network_id=net["id"], cidr="fd00:11::/64", ip_version=6, gateway_ip="fd00:11::1",
                         dns_nameservers=["2001:4860:4860::8888"])
    assert given["gateway_ip"] == "fd00:11::1"
    assert given["allocation_pools"] == [{"start": "fd00:11::2", "end": "fd00:11::ffff:ffff:ffff:ffff"}]
    assert given["dns_nameservers"] == ["2001:4860:4860::8888"]


def test_subnet_validation(cloud, users, parity):
    """Bad CIDRs and versions (400), pools outside the CIDR (400), a gateway inside a pool (409),
    an unknown network (404)."""
    alice = users.alice
    net, _ = alice.network()

    def post(**attrs):
        return alice.call("POST", "/v2.0/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, **attrs}})

    r = post(cidr="10.20.0.0/33")
    e = error(r, 400)
    parity.equal(e["type"], "HTTPBadRequest", "type for an invalid cidr")
    parity.message(r, "Invalid input for cidr. Reason: '10.20.0.0/33' is not a valid IP subnet.")
    error(post(cidr="not-a-cidr"), 400)
    error(post(cidr="10.20.0.0/24", ip_version=6), 400)
    error(post(cidr="10.20.0.0/24", ip_version=5), 400)
    error(post(cidr="10.20.0.0/24", dns_nameservers=["not-an-ip"]), 400)
    r = post(cidr="10.20.0.0/24", allocation_pools=[{"start": "10.21.0.2", "end": "10.21.0.9"}])
    e = error(r, 400)
    parity.equal(e["type"], "OutOfBoundsAllocationPool", "type for a pool outside the cidr")
    parity.message(r, "The allocation pool 10.21.0.2-10.21.0.9 spans beyond the subnet cidr 10.20.0.0/24.")
    r = post(cidr="10.20.0.0/24", allocation_pools=[{"start": "10.20.0.200", "end": "10.20.1.9"}])
    error(r, 400)
    r = post(cidr="10.20.0.0/24", gateway_ip="10.20.0.5", allocation_pools=[{"start": "10.20.0.2", "end": "10.20.0.9"}])
    error(r, 409, "GatewayConflictWithAllocationPools")
    parity.message(r, "Gateway ip 10.20.0.5 conflicts with allocation pool 10.20.0.2-10.20.0.9.")
    r = post(cidr="10.20.0.0/24", gateway_ip="10.20.0.1", allocation_pools=[{"start": "10.20.0.1", "end": "10.20.0.9"}])
    error(r, 409, "GatewayConflictWithAllocationPools")
    r = post(cidr="10.20.0.0/24", foo="bar")
    error(r, 400, "HTTPBadRequest")
    parity.message(r, "Unrecognized attribute(s) 'foo'")
    r = alice.call("POST", "/v2.0/subnets", {"subnet": {"network_id": str(uuid.uuid4()), "cidr": "10.22.0.0/24", "ip_version": 4}})
    error(r, 404, "NetworkNotFound")
    assert alice.show("networks", net["id"])["subnets"] == []
    # the same CIDR twice on one network overlaps
    post(cidr="10.23.0.0/24")
    error(post(cidr="10.23.0.0/25"), 400, "InvalidInput")
    parity.done()


# --- ports ---------------------------------------------------------------------------------------

def test_port_addresses(cloud, users, parity):
    """IPs from the pool, a chosen IP, the same IP twice (409), an IP of no subnet (400); MACs from
    base_mac fa:16:3e, unique per network (409); the project's default security group."""
    alice = users.alice
    net, sub = alice.network("10.30.0.0/24")
    port = alice.create("ports", network_id=net["id"])
    assert port["status"] == "DOWN" and port["admin_state_up"] is True
    assert port["device_owner"] == "" and port["device_id"] == ""
    [fixed] = port["fixed_ips"]
    assert fixed["subnet_id"] == sub["id"] and in_pool(fixed["ip_address"], "10.30.0.2", "10.30.0.254")
    assert re.fullmatch(r"fa:16:3e(:[0-9a-f]{2}){3}", port["mac_address"]), port["mac_address"]
    assert port["port_security_enabled"] is True
    [default_sg] = alice.list("security-groups", "?name=default")
    assert port["security_groups"] == [default_sg["id"]]
    assert not [k for k in port if k.startswith(ADMIN_ONLY)], port
    assert port["binding:vnic_type"] == "normal"

    chosen = alice.create("ports", network_id=net["id"], fixed_ips=[{"ip_address": "10.30.0.77"}])
    assert chosen["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.30.0.77"}]
    by_subnet = alice.create("ports", network_id=net["id"], fixed_ips=[{"subnet_id": sub["id"]}])
    assert by_subnet["fixed_ips"][0]["subnet_id"] == sub["id"]
    assert len({p["fixed_ips"][0]["ip_address"] for p in (port, chosen, by_subnet)}) == 3

    r = alice.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.30.0.77"}]}})
    error(r, 409, "IpAddressAlreadyAllocated")
    parity.message(r, f"IP address 10.30.0.77 already allocated in subnet {sub['id']}")
    r = alice.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.99.0.5"}]}})
    error(r, 400, "InvalidIpForNetwork")
    r = alice.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"],
                                                    "fixed_ips": [{"subnet_id": sub["id"], "ip_address": "10.99.0.5"}]}})
    error(r, 400, "InvalidIpForSubnet")
    assert alice.ids("ports", "?fixed_ips=ip_address=10.30.0.77") == [chosen["id"]]

    mac = "fa:16:3e:12:34:56"
    mine = alice.create("ports", network_id=net["id"], mac_address=mac)
    assert mine["mac_address"] == mac
    r = alice.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"], "mac_address": mac}})
    error(r, 409, "MacAddressInUse")
    parity.message(r, f"Unable to complete operation for network {net['id']}. The mac address {mac} is in use.")
    other, _ = alice.network("10.31.0.0/24")
    assert alice.create("ports", network_id=other["id"], mac_address=mac)["mac_address"] == mac
    ports = alice.list("ports", f"?network_id={net['id']}")
    assert sorted(p["id"] for p in ports) == sorted(p["id"] for p in (port, chosen, by_subnet, mine))
    macs = [p["mac_address"] for p in ports]
    assert len(set(macs)) == len(macs)

    # updating fixed IPs moves the allocation
    moved = alice.ok("PUT", f"/v2.0/ports/{chosen['id']}", {"port": {"fixed_ips": [{"ip_address": "10.30.0.200"}]}})["port"]
    assert moved["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.30.0.200"}]
    again = alice.create("ports", network_id=net["id"], fixed_ips=[{"ip_address": "10.30.0.77"}])
    assert again["fixed_ips"][0]["ip_address"] == "10.30.0.77"
    parity.done()


def test_allowed_address_pairs(cloud, users):
    """An address pair without a MAC takes the port's MAC."""
    alice = users.alice
    net, _ = alice.network("10.32.0.0/24")
    port = alice.create("ports", network_id=net["id"], allowed_address_pairs=[
        {"ip_address": "10.32.0.200"}, {"ip_address": "10.32.1.0/24", "mac_address": "fa:16:3e:00:00:01"}])
    assert alice.show("ports", port["id"])["allowed_address_pairs"] == port["allowed_address_pairs"]
    assert port["allowed_address_pairs"] == [
        {"ip_address": "10.32.0.200", "mac_address": port["mac_address"]},
        {"ip_address": "10.32.1.0/24", "mac_address": "fa:16:3e:00:00:01"}]


def test_port_binding(cloud, users, parity):
    """binding:* is the admin's: hidden from members, settable only by the admin; a bound port
    (the all-in-one's noop driver) is ACTIVE with a vif_type."""
    alice, admin = users.alice, users.admin
    net, _ = alice.network("10.33.0.0/24")
    port = alice.create("ports", network_id=net["id"])
    seen = admin.show("ports", port["id"])
    assert seen["binding:host_id"] == "" and seen["binding:vif_type"] == "unbound"
    assert seen["binding:vif_details"] == {} and seen["binding:profile"] == {}
    assert seen["binding:vnic_type"] == "normal"

    r = alice.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"], "binding:host_id": "compute1"}})
    error(r, 403, "PolicyNotAuthorized")
    parity.message(r, "(rule:create_port and rule:create_port:binding:host_id) is disallowed by policy")
    r = alice.call("PUT", f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "compute1"}})
    error(r, 403, "PolicyNotAuthorized")
    assert admin.show("ports", port["id"])["binding:host_id"] == ""

    bound = admin.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "compute1"}})["port"]
    assert bound["binding:host_id"] == "compute1"
    assert bound["binding:vif_type"] not in ("unbound", "binding_failed"), bound
    assert bound["status"] == "ACTIVE"
    created = admin.create("ports", network_id=net["id"], project_id=alice.project_id, **{"binding:host_id": "compute2"})
    assert created["binding:vif_type"] not in ("unbound", "binding_failed") and created["status"] == "ACTIVE"
    for p in [alice.show("ports", port["id"]), alice.show("ports", created["id"])] + alice.list("ports"):
        assert not [k for k in p if k.startswith(ADMIN_ONLY)], p
    assert alice.show("ports", port["id"])["status"] == "ACTIVE"
    assert admin.ids("ports", "?binding:host_id=compute2") == [created["id"]]
    parity.done()


# --- errors --------------------------------------------------------------------------------------

def test_resources_in_use(cloud, users, parity):
    """A network with ports (409 NetworkInUse), a subnet with allocations (409 SubnetInUse), a
    full subnet (409 IpAddressGenerationFailure); once the ports go, both can be deleted."""
    alice = users.alice
    net, _ = alice.network()
    sub = alice.create("subnets", network_id=net["id"], cidr="10.34.0.0/29", ip_version=4,
                       allocation_pools=[{"start": "10.34.0.2", "end": "10.34.0.4"}])
    ports = [alice.create("ports", network_id=net["id"]) for _ in range(3)]
    assert sorted(p["fixed_ips"][0]["ip_address"] for p in ports) == ["10.34.0.2", "10.34.0.3", "10.34.0.4"]
    r = alice.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"]}})
    error(r, 409, "IpAddressGenerationFailure")
    parity.message(r, f"No more IP addresses available on network {net['id']}.")
    assert len(alice.list("ports", f"?network_id={net['id']}")) == 3

    r = alice.call("DELETE", f"/v2.0/networks/{net['id']}")
    error(r, 409, "NetworkInUse")
    said = r.json()["NeutronError"]["message"]
    parity.check(said.startswith(f"Unable to complete operation on network {net['id']}. There are one or more ports "
                                 "still in use on the network, id for these ports is: ")
                 and all(p["id"] in said for p in ports),
                 f"NetworkInUse message {said!r}: neutron's names the ports (', id for these ports is: <ids>.')")
    r = alice.call("DELETE", f"/v2.0/subnets/{sub['id']}")
    error(r, 409, "SubnetInUse")
    parity.message(r, f"Unable to complete operation on subnet {sub['id']}: One or more ports have an IP allocation "
                      "from this subnet.")
    assert alice.show("subnets", sub["id"])["id"] == sub["id"]

    alice.ok("DELETE", f"/v2.0/ports/{ports[0]['id']}", status=204)
    freed = alice.create("ports", network_id=net["id"])
    assert freed["fixed_ips"][0]["ip_address"] == ports[0]["fixed_ips"][0]["ip_address"]
    for p in ports[1:] + [freed]:
        alice.ok("DELETE", f"/v2.0/ports/{p['id']}", status=204)
    alice.ok("DELETE", f"/v2.0/subnets/{sub['id']}", status=204)
    alice.ok("DELETE", f"/v2.0/networks/{net['id']}", status=204)
    error(alice.call("GET", f"/v2.0/subnets/{sub['id']}"), 404, "SubnetNotFound")
    parity.done()


def test_unknown_ids(cloud, users, parity):
    """Each resource's own 404 for an id that does not exist (or is not a UUID), with neutron's
    error body."""
    alice = users.alice
    missing = str(uuid.uuid4())
    cases = [
        ("networks", "NetworkNotFound", f"Network {missing} could not be found."),
        ("subnets", "SubnetNotFound", f"Subnet {missing} could not be found."),
        ("ports", "PortNotFound", f"Port {missing} could not be found."),
        ("routers", "RouterNotFound", f"Router {missing} could not be found"),
        ("floatingips", "FloatingIPNotFound", f"Floating IP {missing} could not be found"),
        ("security-groups", "SecurityGroupNotFound", f"Security group {missing} does not exist"),
        ("security-group-rules", "SecurityGroupRuleNotFound", f"Security group rule {missing} does not exist"),
    ]
    for collection, type_, message in cases:
        for method in ("GET", "DELETE"):
            r = alice.call(method, f"/v2.0/{collection}/{missing}")
            error(r, 404, type_)
            parity.message(r, message)
        if collection != "security-group-rules":
            r = alice.call("PUT", f"/v2.0/{collection}/{missing}",
                           {collection.replace("-", "_")[:-1]: {"description": "x"}})
            error(r, 404, type_)
    error(alice.call("GET", "/v2.0/networks/provider-by-name"), 404, "NetworkNotFound")
    r = alice.call("GET", "/v2.0/widgets")
    assert r.status_code == 404
    parity.done()


# --- routers -------------------------------------------------------------------------------------

def test_router_gateway(cloud, users, provider, parity):
    """The external gateway: a member names the network (SNAT on, an address from the pool); only
    the admin chooses enable_snat and external_fixed_ips; {} clears it."""
    alice, admin = users.alice, users.admin
    ext, ext_sub = provider
    router = alice.create("routers", name="r-" + uid(), external_gateway_info={"network_id": ext["id"]})
    gw = router["external_gateway_info"]
    assert gw["network_id"] == ext["id"] and gw["enable_snat"] is True
    [ip] = gw["external_fixed_ips"]
    assert ip["subnet_id"] == ext_sub["id"] and in_pool(ip["ip_address"], "203.0.113.101", "203.0.113.250")
    assert router["status"] == "ACTIVE" and router["project_id"] == alice.project_id
    assert "distributed" not in router and "ha" not in router
    gw_ports = admin.list("ports", f"?device_id={router['id']}&device_owner=network:router_gateway")
    assert [p["fixed_ips"] for p in gw_ports] == [[ip]]
    parity.equal(gw_ports[0]["project_id"], "", "project_id of a router gateway port")

    for info in ({"network_id": ext["id"], "enable_snat": False},
                 {"network_id": ext["id"], "external_fixed_ips": [{"subnet_id": ext_sub["id"], "ip_address": "203.0.113.60"}]}):
        r = alice.call("PUT", f"/v2.0/routers/{router['id']}", {"router": {"external_gateway_info": info}})
        error(r, 403, "PolicyNotAuthorized")
    assert alice.show("routers", router["id"])["external_gateway_info"] == gw

    info = {"network_id": ext["id"], "enable_snat": False,
            "external_fixed_ips": [{"subnet_id": ext_sub["id"], "ip_address": "203.0.113.50"}]}
    by_admin = admin.create("routers", name="ra-" + uid(), external_gateway_info=info)
    assert by_admin["external_gateway_info"] == {
        "network_id": ext["id"], "enable_snat": False,
        "external_fixed_ips": [{"subnet_id": ext_sub["id"], "ip_address": "203.0.113.50"}]}
    assert by_admin["distributed"] is False and by_admin["ha"] is False
    r = admin.call("POST", "/v2.0/routers", {"router": {"name": "dup", "external_gateway_info": info}})
    error(r, 409, "IpAddressAlreadyAllocated")
    snat = admin.ok("PUT", f"/v2.0/routers/{router['id']}", {"router": {"external_gateway_info": {
        "network_id": ext["id"], "enable_snat": False}}})["router"]
    assert snat["external_gateway_info"]["enable_snat"] is False

    private, _ = alice.network()
    r = alice.call("PUT", f"/v2.0/routers/{router['id']}", {"router": {"external_gateway_info": {"network_id": private["id"]}}})
    error(r, 400, "BadRequest")
    cleared = alice.ok("PUT", f"/v2.0/routers/{router['id']}", {"router": {"external_gateway_info": {}}})["router"]
    assert cleared["external_gateway_info"] is None
    assert admin.list("ports", f"?device_id={router['id']}") == []
    alice.ok("DELETE", f"/v2.0/routers/{router['id']}", status=204)
    admin.ok("DELETE", f"/v2.0/routers/{by_admin['id']}", status=204)
    assert not admin.list("ports", "?fixed_ips=ip_address=203.0.113.50")
    parity.done()


def test_router_interfaces(cloud, users, parity):
    """Interfaces by subnet (the port takes the gateway address) and by port; overlapping CIDRs
    on one router (400); a router with interfaces cannot go (409 RouterInUse); removing an
    interface it does not have (404)."""
    alice = users.alice
    router = alice.create("routers", name="ri-" + uid())
    net_a, sub_a = alice.network("10.40.0.0/24")
    net_b, sub_b = alice.network("10.41.0.0/24")
    net_c, sub_c = alice.network("10.40.0.0/25")

    r = alice.call("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub_a["id"]})
    assert r.status_code == 200, r.text
    info = r.json()
    assert set(info) >= {"id", "port_id", "subnet_id", "subnet_ids", "network_id", "project_id", "tenant_id"}, info
    assert (info["id"], info["subnet_id"], info["subnet_ids"], info["network_id"]) == (
        router["id"], sub_a["id"], [sub_a["id"]], net_a["id"])
    port_a = alice.show("ports", info["port_id"])
    assert port_a["fixed_ips"] == [{"subnet_id": sub_a["id"], "ip_address": "10.40.0.1"}]
    assert (port_a["device_owner"], port_a["device_id"]) == ("network:router_interface", router["id"])
    assert alice.ids("ports", f"?device_id={router['id']}") == [port_a["id"]]
    r = alice.call("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub_a["id"]})
    error(r, 400, "BadRequest")

    port_b = alice.create("ports", network_id=net_b["id"], fixed_ips=[{"ip_address": "10.41.0.5"}])
    info_b = alice.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"port_id": port_b["id"]})
    assert (info_b["port_id"], info_b["subnet_id"]) == (port_b["id"], sub_b["id"])
    shown = alice.show("ports", port_b["id"])
    assert (shown["device_owner"], shown["device_id"]) == ("network:router_interface", router["id"])

    r = alice.call("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub_c["id"]})
    error(r, 400, "BadRequest")
    parity.message(r, f"Bad router request: Cidr 10.40.0.0/25 of subnet {sub_c['id']} overlaps with cidr "
                      f"10.40.0.0/24 of subnet {sub_a['id']}.")
    r = alice.call("DELETE", f"/v2.0/routers/{router['id']}")
    error(r, 409, "RouterInUse")
    parity.check(any(p in r.json()["NeutronError"]["message"] for p in (port_a["id"], port_b["id"])),
                 f"RouterInUse message names no attached port: {r.json()['NeutronError']['message']!r}")
    r = alice.call("DELETE", f"/v2.0/ports/{port_a['id']}")
    error(r, 409)
    assert r.json()["NeutronError"]["type"] in ("ServicePortInUse", "PortInUse")

    r = alice.call("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", {"subnet_id": sub_c["id"]})
    error(r, 404, "RouterInterfaceNotFoundForSubnet")
    parity.message(r, f"Router {router['id']} has no interface on subnet {sub_c['id']}")
    stranger = alice.create("ports", network_id=net_c["id"])
    r = alice.call("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", {"port_id": stranger["id"]})
    error(r, 404, "RouterInterfaceNotFound")
    parity.message(r, f"Router {router['id']} does not have an interface with id {stranger['id']}")

    out = alice.ok("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", {"subnet_id": sub_a["id"]})
    assert (out["port_id"], out["subnet_id"]) == (port_a["id"], sub_a["id"])
    error(alice.call("GET", f"/v2.0/ports/{port_a['id']}"), 404, "PortNotFound")
    out = alice.ok("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", {"port_id": port_b["id"]})
    assert out["port_id"] == port_b["id"]
    error(alice.call("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", {"port_id": port_b["id"]}),
          404, "RouterInterfaceNotFound")
    # with the overlap gone, the other subnet fits
    alice.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub_c["id"]})
    alice.ok("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", {"subnet_id": sub_c["id"]})
    alice.ok("DELETE", f"/v2.0/routers/{router['id']}", status=204)
    error(alice.call("GET", f"/v2.0/routers/{router['id']}"), 404, "RouterNotFound")
    parity.done()


# --- floating IPs --------------------------------------------------------------------------------

def test_floating_ips(cloud, users, provider, parity):
    """A floating IP from the external network, associated with a port a router joins to it,
    refused for a port no router reaches (404), disassociated and deleted."""
    alice = users.alice
    ext, ext_sub = provider
    net, sub = alice.network("10.50.0.0/24")
    router = alice.create("routers", name="rf-" + uid(), external_gateway_info={"network_id": ext["id"]})
    alice.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    port = alice.create("ports", network_id=net["id"])
    fixed = port["fixed_ips"][0]["ip_address"]

    fip = alice.create("floatingips", floating_network_id=ext["id"])
    for what, view in (("POST", fip), ("GET", alice.show("floatingips", fip["id"]))):
        missing = {"port_id", "fixed_ip_address", "router_id", "port_details", "floating_ip_address"} - set(view)
        parity.check(not missing, f"{what} /v2.0/floatingips answer without {sorted(missing)} (neutron shows them as null)")
        fip = {"port_id": None, "fixed_ip_address": None, "router_id": None, **fip}
    assert in_pool(fip["floating_ip_address"], "203.0.113.101", "203.0.113.250")
    assert (fip["port_id"], fip["fixed_ip_address"], fip["router_id"], fip["status"]) == (None, None, None, "DOWN")
    assert fip["project_id"] == alice.project_id and fip["floating_network_id"] == ext["id"]
    assert fip["floating_ip_address"] != router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]

    assoc = alice.ok("PUT", f"/v2.0/floatingips/{fip['id']}", {"floatingip": {"port_id": port["id"]}})["floatingip"]
    assert (assoc["port_id"], assoc["fixed_ip_address"], assoc["router_id"]) == (port["id"], fixed, router["id"])
    details = assoc["port_details"]
    assert (details["network_id"], details["mac_address"]) == (net["id"], port["mac_address"])
    assert alice.ids("floatingips", f"?port_id={port['id']}") == [fip["id"]]
    r = alice.call("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", {"subnet_id": sub["id"]})
    error(r, 409, "RouterInterfaceInUseByFloatingIP")

    lonely_net, lonely_sub = alice.network("10.51.0.0/24")
    lonely = alice.create("ports", network_id=lonely_net["id"])
    r = alice.call("PUT", f"/v2.0/floatingips/{fip['id']}", {"floatingip": {"port_id": lonely["id"]}})
    error(r, 404, "ExternalGatewayForFloatingIPNotFound")
    parity.message(r, f"External network {ext['id']} is not reachable from subnet {lonely_sub['id']}.  Therefore, "
                      f"cannot associate Port {lonely['id']} with a Floating IP.")
    assert alice.show("floatingips", fip["id"])["port_id"] == port["id"]
    r = alice.call("POST", "/v2.0/floatingips", {"floatingip": {"floating_network_id": ext["id"], "port_id": lonely["id"]}})
    error(r, 404, "ExternalGatewayForFloatingIPNotFound")
    r = alice.call("POST", "/v2.0/floatingips", {"floatingip": {"floating_network_id": lonely_net["id"]}})
    error(r, 400, "BadRequest")
    parity.message(r, f"Bad floatingip request: Network {lonely_net['id']} is not a valid external network.")

    free = alice.ok("PUT", f"/v2.0/floatingips/{fip['id']}", {"floatingip": {"port_id": None}})["floatingip"]
    assert (free["port_id"], free["fixed_ip_address"], free["router_id"]) == (None, None, None)
    direct = alice.create("floatingips", floating_network_id=ext["id"], port_id=port["id"])
    assert (direct["port_id"], direct["fixed_ip_address"], direct["router_id"]) == (port["id"], fixed, router["id"])

    for f in (fip, direct):
        r = alice.call("DELETE", f"/v2.0/floatingips/{f['id']}")
        assert r.status_code == 204, r.text
        error(alice.call("GET", f"/v2.0/floatingips/{f['id']}"), 404, "FloatingIPNotFound")
        assert not users.admin.list("ports", f"?fixed_ips=ip_address={f['floating_ip_address']}")
    alice.ok("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", {"subnet_id": sub["id"]})
    parity.done()


# --- security groups -----------------------------------------------------------------------------

def test_default_security_group(cloud, users, parity):
    """Each project's `default` group: two ingress rules from the group itself and two egress
    rules, IPv4 and IPv6; it can be neither renamed nor deleted by its owner."""
    carol = users.carol
    groups = carol.list("security-groups")
    assert [g["name"] for g in groups] == ["default"]
    [sg] = groups
    assert sg["description"] == "Default security group" and sg["project_id"] == carol.project_id
    assert sg["stateful"] is True
    rules = carol.list("security-group-rules", f"?security_group_id={sg['id']}")
    shape = sorted((r["direction"], r["ethertype"], r["remote_group_id"], r["protocol"], r["port_range_min"],
                    r["port_range_max"], r["remote_ip_prefix"]) for r in rules)
    assert shape == [("egress", "IPv4", None, None, None, None, None), ("egress", "IPv6", None, None, None, None, None),
                     ("ingress", "IPv4", sg["id"], None, None, None, None),
                     ("ingress", "IPv6", sg["id"], None, None, None, None)]
    assert all(r["belongs_to_default_sg"] is True for r in rules)
    assert sorted(r["id"] for r in sg["security_group_rules"]) == sorted(r["id"] for r in rules)
    # the second listing does not make another
    assert carol.ids("security-groups") == [sg["id"]]

    r = carol.call("PUT", f"/v2.0/security-groups/{sg['id']}", {"security_group": {"name": "renamed"}})
    error(r, 409, "SecurityGroupCannotUpdateDefault")
    r = carol.call("DELETE", f"/v2.0/security-groups/{sg['id']}")
    error(r, 409, "SecurityGroupCannotRemoveDefault")
    r = carol.call("POST", "/v2.0/security-groups", {"security_group": {"name": "default"}})
    error(r, 409)
    assert carol.ids("security-groups") == [sg["id"]]
    parity.done()


def test_security_group_rules(cloud, users, parity):
    """A new group has two egress rules; rules by protocol name and number, port ranges, ICMP
    type/code, remote prefixes; duplicates (409) and bad ranges (400)."""
    alice = users.alice
    sg = alice.create("security-groups", name="web-" + uid(), description="web servers")
    assert sorted((r["direction"], r["ethertype"], r["remote_group_id"], r["belongs_to_default_sg"])
                  for r in sg["security_group_rules"]) == [("egress", "IPv4", None, False), ("egress", "IPv6", None, False)]

    def rule(**attrs):
        return alice.call("POST", "/v2.0/security-group-rules", {"security_group_rule": {
            "security_group_id": sg["id"], "direction": "ingress", **attrs}})

    r = rule(protocol="tcp", port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0")
    assert r.status_code == 201, r.text
    ssh = r.json()["security_group_rule"]
    assert (ssh["protocol"], ssh["port_range_min"], ssh["port_range_max"], ssh["ethertype"]) == ("tcp", 22, 22, "IPv4")
    assert ssh["security_group_id"] == sg["id"] and ssh["project_id"] == alice.project_id
    dup = rule(protocol="tcp", port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0")
    error(dup, 409, "SecurityGroupRuleExists")
    parity.message(dup, f"Security group rule already exists. Rule id is {ssh['id']}.")

    web = rule(protocol="tcp", port_range_min=8000, port_range_max=8080, remote_ip_prefix="10.0.0.5/8")
    assert web.status_code == 201, web.text
    web = web.json()["security_group_rule"]
    assert (web["port_range_min"], web["port_range_max"]) == (8000, 8080)
    assert (web["remote_ip_prefix"], web["normalized_cidr"]) == ("10.0.0.5/8", "10.0.0.0/8")
    sctp = rule(protocol="132", port_range_min=3000, port_range_max=3100)
    assert sctp.status_code == 201, sctp.text
    assert sctp.json()["security_group_rule"]["protocol"] == "132"
    udp = rule(protocol="17", port_range_min=53, port_range_max=53)
    assert udp.status_code == 201, udp.text
    ping = rule(protocol="icmp", port_range_min=8, port_range_max=0)
    assert ping.status_code == 201, ping.text
    assert (ping.json()["security_group_rule"]["port_range_min"], ping.json()["security_group_rule"]["port_range_max"]) == (8, 0)
    v6 = rule(protocol="ipv6-icmp", ethertype="IPv6", remote_ip_prefix="::/0")
    assert v6.status_code == 201, v6.text
    error(rule(protocol="udp", port_range_min=53, port_range_max=53), 409, "SecurityGroupRuleExists")

    r = rule(protocol="tcp", port_range_min=100, port_range_max=50)
    error(r, 400, "SecurityGroupInvalidPortRange")
    parity.message(r, "For TCP/UDP protocols, port_range_min must be <= port_range_max")
    error(rule(protocol="tcp", port_range_min=0, port_range_max=10), 400, "SecurityGroupInvalidPortValue")
    error(rule(protocol="udp", port_range_min=1, port_range_max=70000), 400, "SecurityGroupInvalidPortValue")
    error(rule(port_range_min=1, port_range_max=10), 400, "SecurityGroupProtocolRequiredWithPorts")
    error(rule(protocol="icmp", port_range_min=300), 400, "SecurityGroupInvalidIcmpValue")
    error(rule(protocol="nonsense"), 400, "SecurityGroupRuleInvalidProtocol")
    error(rule(protocol="tcp", ethertype="IPv6", remote_ip_prefix="10.0.0.0/8"), 400, "SecurityGroupRuleParameterConflict")
    error(rule(direction="sideways"), 400)

    rules = alice.list("security-group-rules", f"?security_group_id={sg['id']}")
    assert len(rules) == 2 + 6
    assert sorted(r["id"] for r in alice.show("security-groups", sg["id"])["security_group_rules"]) == sorted(r["id"] for r in rules)
    alice.ok("DELETE", f"/v2.0/security-group-rules/{ssh['id']}", status=204)
    error(alice.call("GET", f"/v2.0/security-group-rules/{ssh['id']}"), 404, "SecurityGroupRuleNotFound")
    assert rule(protocol="tcp", port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0").status_code == 201
    # neutron compares remote prefixes 0.0.0.0/0 and none as the same (any address)
    r = rule(protocol="tcp", port_range_min=22, port_range_max=22)
    parity.check(r.status_code == 409 and r.json()["NeutronError"]["type"] == "SecurityGroupRuleExists",
                 f"tcp/22 from anywhere without remote_ip_prefix beside one with 0.0.0.0/0: got {r.status_code}, "
                 "neutron answers 409 SecurityGroupRuleExists")

    # a port in the group keeps it from being deleted
    net, _ = alice.network("10.60.0.0/24")
    port = alice.create("ports", network_id=net["id"], security_groups=[sg["id"]])
    assert port["security_groups"] == [sg["id"]]
    assert alice.ids("ports", f"?security_groups={sg['id']}") == [port["id"]]
    error(alice.call("DELETE", f"/v2.0/security-groups/{sg['id']}"), 409, "SecurityGroupInUse")
    alice.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    alice.ok("DELETE", f"/v2.0/security-groups/{sg['id']}", status=204)
    error(alice.call("GET", f"/v2.0/security-groups/{sg['id']}"), 404, "SecurityGroupNotFound")
    assert alice.list("security-group-rules", f"?security_group_id={sg['id']}") == []
    parity.done()


# --- quotas --------------------------------------------------------------------------------------

def test_quotas(cloud, users, parity):
    """Defaults, a lower network quota that a project then exceeds (409 OverQuota), usage in
    details.json, and DELETE back to the defaults; only the admin sets quotas."""
    admin, carol = users.admin, users.carol
    pid = carol.project_id
    defaults = admin.ok("GET", f"/v2.0/quotas/{pid}/default")["quota"]
    for k in ("floatingip", "network", "port", "router", "security_group", "security_group_rule", "subnet"):
        assert defaults[k] == NEUTRON_QUOTA_DEFAULTS[k], (k, defaults)
    shown = admin.ok("GET", f"/v2.0/quotas/{pid}")["quota"]
    assert shown["network"] == 100
    parity.equal({k: v for k, v in shown.items() if k not in ("project_id", "tenant_id")}, NEUTRON_QUOTA_DEFAULTS,
                 "GET /v2.0/quotas/<project>")
    assert carol.ok("GET", f"/v2.0/quotas/{pid}")["quota"]["network"] == 100

    used = len(carol.list("networks", f"?project_id={pid}"))
    r = carol.call("PUT", f"/v2.0/quotas/{pid}", {"quota": {"network": used + 2}})
    error(r, 403, "PolicyNotAuthorized")
    set_ = admin.ok("PUT", f"/v2.0/quotas/{pid}", {"quota": {"network": used + 2}})["quota"]
    assert set_["network"] == used + 2 and set_["subnet"] == 100
    assert pid in [q["project_id"] for q in admin.ok("GET", "/v2.0/quotas")["quotas"]]
    made = [carol.network()[0] for _ in range(2)]
    r = carol.call("POST", "/v2.0/networks", {"network": {"name": "one-too-many"}})
    error(r, 409, "OverQuota")
    parity.message(r, "Quota exceeded for resources: ['network'].")
    assert len(carol.list("networks", f"?project_id={pid}")) == used + 2

    details = admin.ok("GET", f"/v2.0/quotas/{pid}/details.json")["quota"]
    assert details["network"] == {"limit": used + 2, "used": used + 2, "reserved": 0}
    assert details["subnet"]["limit"] == 100
    parity.equal(sorted(details), sorted(NEUTRON_QUOTA_DEFAULTS), "resources in details.json")
    r = admin.call("PUT", f"/v2.0/quotas/{pid}", {"quota": {"network": 0}})
    parity.check(r.status_code == 400, f"PUT a network quota below usage: got {r.status_code}, neutron answers 400 "
                                       "(Quota limit 0 for network must be greater than or equal to already used)")
    admin.ok("PUT", f"/v2.0/quotas/{pid}", {"quota": {"network": used + 2}})

    carol.ok("DELETE", f"/v2.0/networks/{made[0]['id']}", status=204)
    assert carol.network()[0]["id"]
    r = admin.call("DELETE", f"/v2.0/quotas/{pid}")
    assert r.status_code == 204, r.text
    assert admin.ok("GET", f"/v2.0/quotas/{pid}")["quota"]["network"] == 100
    assert pid not in [q["project_id"] for q in admin.ok("GET", "/v2.0/quotas")["quotas"]]
    assert carol.network()[0]["id"]
    r = admin.call("DELETE", f"/v2.0/quotas/{pid}")
    parity.check(r.status_code == 404 and "TenantQuotaNotFound" in r.text,
                 f"DELETE quota with no override: got {r.status_code} {r.text!r}, neutron answers 404 TenantQuotaNotFound")
    error(admin.call("PUT", f"/v2.0/quotas/{pid}", {"quota": {"widgets": 3}}), 400)
    parity.done()


# --- standard attributes and lists -----------------------------------------------------------------

def test_revisions_and_if_match(cloud, users, parity):
    """revision_number counts changes; If-Match: revision_number=N refuses a stale write (412)."""
    alice = users.alice
    net, _ = alice.network()
    rev = net["revision_number"]
    after = alice.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {"name": "rev-1"}})["network"]
    assert after["revision_number"] == rev + 1
    r = alice.call("PUT", f"/v2.0/networks/{net['id']}", {"network": {"name": "stale"}},
                   headers={"If-Match": f"revision_number={rev}"})
    error(r, 412, "RevisionNumberConstraintFailed")
    parity.message(r, f"Constrained to {rev}, but current revision is {rev + 1}")
    assert alice.show("networks", net["id"])["name"] == "rev-1"
    fresh = alice.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {"name": "rev-2"}},
                     headers={"If-Match": f"revision_number={rev + 1}"})["network"]
    assert fresh["revision_number"] == rev + 2 and fresh["name"] == "rev-2"
    alice.ok("PUT", f"/v2.0/networks/{net['id']}/tags/x", status=201)
    assert alice.show("networks", net["id"])["revision_number"] == rev + 3
    sub = alice.create("subnets", network_id=net["id"], cidr="10.70.0.0/24", ip_version=4)
    parity.check(alice.show("networks", net["id"])["revision_number"] > rev + 3,
                 "a network's revision_number does not change when a subnet is added to it (neutron bumps it)")
    r = alice.call("DELETE", f"/v2.0/subnets/{sub['id']}", headers={"If-Match": "revision_number=99"})
    error(r, 412, "RevisionNumberConstraintFailed")
    current = alice.show("networks", net["id"])["revision_number"]
    r = alice.call("DELETE", f"/v2.0/networks/{net['id']}", headers={"If-Match": f"revision_number={current - 1}"})
    error(r, 412, "RevisionNumberConstraintFailed")
    r = alice.call("DELETE", f"/v2.0/networks/{net['id']}", headers={"If-Match": f"revision_number={current}"})
    assert r.status_code == 204, r.text
    parity.done()


def test_tags(cloud, users):
    """The tag routes, and the tags / tags-any / not-tags / not-tags-any filters."""
    alice = users.alice
    t = uid()
    a, b, c = f"a-{t}", f"b-{t}", f"c-{t}"
    n1, n2, n3 = (alice.network()[0] for _ in range(3))
    base = f"/v2.0/networks/{n1['id']}/tags"
    assert sorted(alice.ok("PUT", base, {"tags": [b, a]})["tags"]) == [a, b]
    assert sorted(alice.ok("GET", base)["tags"]) == [a, b]
    assert sorted(alice.show("networks", n1["id"])["tags"]) == [a, b]
    assert alice.call("GET", f"{base}/{a}").status_code == 204
    error(alice.call("GET", f"{base}/zzz"), 404, "TagNotFound")
    r = alice.call("PUT", f"{base}/{c}")
    assert r.status_code == 201 and r.content == b""
    assert alice.call("DELETE", f"{base}/{c}").status_code == 204
    error(alice.call("DELETE", f"{base}/{c}"), 404, "TagNotFound")
    alice.ok("PUT", f"/v2.0/networks/{n2['id']}/tags", {"tags": [a]})
    alice.ok("PUT", f"/v2.0/networks/{n3['id']}/tags", {"tags": [c]})
    error(alice.call("PUT", base, {"tags": "not-a-list"}), 400)
    error(alice.call("POST", "/v2.0/networks", {"network": {"name": "x", "tags": [a]}}), 400)
    error(users.bob.call("PUT", f"{base}/{c}"), 404)

    def ids(query):
        return set(alice.ids("networks", query)) & {n1["id"], n2["id"], n3["id"]}

    assert ids(f"?tags={a},{b}") == {n1["id"]}
    assert ids(f"?tags={a}") == {n1["id"], n2["id"]}
    assert ids(f"?tags-any={b},{c}") == {n1["id"], n3["id"]}
    assert ids(f"?not-tags={a},{b}") == {n2["id"], n3["id"]}
    assert ids(f"?not-tags-any={a},{c}") == set()
    assert ids(f"?not-tags-any={b}") == {n2["id"], n3["id"]}
    assert ids(f"?tags={a}&not-tags={b}") == {n2["id"]}
    assert alice.call("DELETE", base).status_code == 204
    assert alice.ok("GET", base)["tags"] == []
    assert ids(f"?tags-any={a},{b}") == {n2["id"]}
    # the owner tags its subnets, ports, routers, security groups too
    sub = alice.create("subnets", network_id=n3["id"], cidr="10.71.0.0/24", ip_version=4)
    port = alice.create("ports", network_id=n3["id"])
    router = alice.create("routers", name="tagged-" + uid())
    sg = alice.create("security-groups", name="tagged-" + uid())
    for collection, item in (("subnets", sub), ("ports", port), ("routers", router), ("security-groups", sg)):
        r = alice.call("PUT", f"/v2.0/{collection}/{item['id']}/tags/{c}")
        assert r.status_code == 201, (collection, r.status_code, r.text)
        assert alice.ids(collection, f"?tags={c}") == [item["id"]]


def test_fields_sorting_pagination(cloud, users):
    """fields=, sort_key/sort_dir, limit+marker with networks_links followed to the end (every
    network exactly once), page_reverse."""
    alice = users.alice
    tag = "page-" + uid()
    names = [f"pg-{i:02d}-{tag}" for i in range(7)]
    created = {}
    for name in reversed(names):
        net = alice.network(name=name)[0]
        alice.ok("PUT", f"/v2.0/networks/{net['id']}/tags/{tag}", status=201)
        created[name] = net["id"]

    items = alice.list("networks", f"?tags={tag}&fields=id&fields=name")
    assert len(items) == 7 and all(set(i) == {"id", "name"} for i in items), items
    assert set(alice.list("networks", f"?tags={tag}&fields=id,mtu")[0]) == {"id", "mtu"}
    one = alice.ok("GET", f"/v2.0/networks/{created[names[0]]}?fields=name&fields=status")["network"]
    assert set(one) == {"name", "status"}
    assert [i["name"] for i in alice.list("networks", f"?tags={tag}&sort_key=name&sort_dir=desc")] == names[::-1]
    assert [i["name"] for i in alice.list("networks", f"?tags={tag}&sort_key=name&sort_dir=asc")] == names
    default_order = alice.ids("networks", f"?tags={tag}")
    assert default_order == sorted(default_order)

    for query, expected in [(f"?tags={tag}&limit=3&sort_key=name&sort_dir=asc", [created[n] for n in names]),
                            (f"?tags={tag}&limit=2", sorted(created.values()))]:
        seen, pages = [], 0
        url = "/v2.0/networks" + query
        while url:
            body = alice.ok("GET", url)
            pages += 1
            assert len(body["networks"]) <= (3 if "limit=3" in query else 2)
            seen += [n["id"] for n in body["networks"]]
            nexts = [link["href"] for link in body.get("networks_links", []) if link["rel"] == "next"]
            assert len(nexts) <= 1
            url = nexts[0] if nexts else None
            assert pages <= 8, "pagination does not end"
        assert seen == expected

    last = alice.list("networks", f"?tags={tag}&limit=3&sort_key=name&sort_dir=asc&page_reverse=True")
    assert [n["name"] for n in last] == names[4:]
    before = alice.list("networks", f"?tags={tag}&limit=2&sort_key=name&sort_dir=asc&page_reverse=True"
                                    f"&marker={created[names[3]]}")
    assert [n["name"] for n in before] == names[1:3]
    error(alice.call("GET", "/v2.0/networks?limit=-1"), 400)
    error(alice.call("GET", "/v2.0/networks?sort_key=name&sort_dir=sideways"), 400)


def test_sdk_pages_through_networks(cloud, users):
    """openstacksdk, as the CLI uses it, follows the links: small pages, every network once."""
    import openstack
    tag = "sdk-" + uid()
    for _ in range(5):
        net = users.alice.network()[0]
        users.alice.ok("PUT", f"/v2.0/networks/{net['id']}/tags/{tag}", status=201)
    conn = openstack.connection.Connection(auth={
        "auth_url": cloud.auth_url, "username": "admin", "password": cloud.password, "project_name": "admin",
        "user_domain_name": "Default", "project_domain_name": "Default"}, region_name="RegionOne", interface="public",
        identity_api_version="3")
    try:
        names = [n.name for n in conn.network.networks(tags=[tag], limit=2, sort_key="name", sort_dir="asc")]
        assert len(names) == 5 and names == sorted(names)
        made = conn.network.create_network(name="sdk-" + tag)
        assert conn.network.get_network(made.id).mtu == 1450
        conn.network.delete_network(made.id)
        assert conn.network.find_network("sdk-" + tag) is None
    finally:
        conn.close()


# --- agents and extensions -------------------------------------------------------------------------

def test_agents(cloud, users):
    """Agents (rows as the agents would write them): alive while the heartbeat is recent; admin
    only — a member sees an empty list and no agent (neutron filters, it does not refuse)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    fresh, old = now.strftime("%Y-%m-%dT%H:%M:%SZ"), (now - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ids = {}
    for host, type_, binary, beat in [("net-up", "DHCP agent", "neutron-dhcp-agent", fresh),
                                      ("net-down", "L3 agent", "neutron-l3-agent", old)]:
        ids[host] = str(uuid.uuid4())
        cloud.sql("INSERT INTO agents (id, agent_type, binary_name, topic, host, admin_state_up, availability_zone, "
                  "description, configurations, resources_synced, created_at, started_at, heartbeat_timestamp) "
                  "VALUES (?, ?, ?, 'N/A', ?, 1, 'nova', '', '{}', NULL, ?, ?, ?)",
                  (ids[host], type_, binary, host, old, old, beat), service="neutron")
    agents = {a["host"]: a for a in users.admin.list("agents") if a["host"] in ids}
    assert agents["net-up"]["alive"] is True and agents["net-down"]["alive"] is False
    up = agents["net-up"]
    assert (up["id"], up["agent_type"], up["binary"], up["admin_state_up"]) == (ids["net-up"], "DHCP agent", "neutron-dhcp-agent", True)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", up["heartbeat_timestamp"]), up
    assert [a["id"] for a in users.admin.list("agents", "?host=net-down")] == [ids["net-down"]]
    assert users.admin.show("agents", ids["net-up"])["alive"] is True
    zones = users.alice.ok("GET", "/v2.0/availability_zones")["availability_zones"]
    assert {"name": "nova", "resource": "network", "state": "available"} in zones

    r = users.alice.call("GET", "/v2.0/agents")
    assert r.status_code == 200 and r.json() == {"agents": []}, (r.status_code, r.text)
    error(users.alice.call("GET", f"/v2.0/agents/{ids['net-up']}"), 404)


def test_extensions(cloud, users):
    """The extension list names what is served; an unknown alias is 404."""
    extensions = users.alice.list("extensions")
    aliases = {e["alias"] for e in extensions}
    assert {"router", "security-group", "quotas", "binding", "external-net", "provider", "port-security",
            "standard-attr-tag", "pagination", "sorting", "revision-if-match"} <= aliases
    assert all(set(e) == {"alias", "name", "description", "updated", "links"} for e in extensions), extensions
    one = users.alice.ok("GET", "/v2.0/extensions/router")["extension"]
    assert (one["alias"], one["name"]) == ("router", "Neutron L3 Router")
    error(users.alice.call("GET", "/v2.0/extensions/no-such-extension"), 404)


# --- projects ------------------------------------------------------------------------------------

def test_other_projects_see_nothing(cloud, users, provider):
    """Bob sees none of alice's private resources (404 on show, update and delete; absent from
    lists), but does see the shared provider network and can put a port on it."""
    alice, bob, admin = users.alice, users.bob, users.admin
    ext, ext_sub = provider
    net, sub = alice.network("10.80.0.0/24")
    port = alice.create("ports", network_id=net["id"])
    router = alice.create("routers", name="private-" + uid(), external_gateway_info={"network_id": ext["id"]})
    alice.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    fip = alice.create("floatingips", floating_network_id=ext["id"], port_id=port["id"])
    sg = alice.create("security-groups", name="private-" + uid())
    owned = [("networks", "network", net, "NetworkNotFound"), ("subnets", "subnet", sub, "SubnetNotFound"),
             ("ports", "port", port, "PortNotFound"), ("routers", "router", router, "RouterNotFound"),
             ("floatingips", "floatingip", fip, "FloatingIPNotFound"),
             ("security-groups", "security_group", sg, "SecurityGroupNotFound")]
    for collection, singular, item, type_ in owned:
        r = bob.call("GET", f"/v2.0/{collection}/{item['id']}")
        error(r, 404, type_)
        assert item["id"] not in r.text or type_ in r.json()["NeutronError"]["type"]
        assert "project_id" not in r.text
        error(bob.call("PUT", f"/v2.0/{collection}/{item['id']}", {singular: {"description": "mine now"}}), 404, type_)
        error(bob.call("DELETE", f"/v2.0/{collection}/{item['id']}"), 404, type_)
        error(bob.call("GET", f"/v2.0/{collection}/{item['id']}/tags"), 404)
        assert item["id"] not in bob.ids(collection)
        assert alice.show(collection, item["id"])["description"] != "mine now"
    error(bob.call("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]}), 404, "RouterNotFound")
    error(bob.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"]}}), 404, "NetworkNotFound")
    error(bob.call("POST", "/v2.0/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.81.0.0/24", "ip_version": 4}}),
          404, "NetworkNotFound")
    rules = bob.list("security-group-rules")
    assert rules and all(r["project_id"] == bob.project_id for r in rules)
    assert sg["id"] not in {r["security_group_id"] for r in rules}

    # what bob does see, without the admin's attributes
    nets = bob.list("networks")
    assert ext["id"] in [n["id"] for n in nets]
    assert all(n["project_id"] == bob.project_id or n["shared"] or n["router:external"] for n in nets)
    shared = bob.show("networks", ext["id"])
    assert shared["shared"] is True and shared["subnets"] == [ext_sub["id"]]
    assert bob.show("subnets", ext_sub["id"])["cidr"] == PROVIDER_CIDR
    assert ext_sub["id"] in bob.ids("subnets")
    error(bob.call("PUT", f"/v2.0/networks/{ext['id']}", {"network": {"name": "taken"}}), 403, "PolicyNotAuthorized")
    bobs = bob.create("ports", network_id=ext["id"])
    assert bobs["project_id"] == bob.project_id
    assert in_pool(bobs["fixed_ips"][0]["ip_address"], "203.0.113.101", "203.0.113.250")
    assert bob.ids("ports") == [bobs["id"]]
    for listing in (nets, bob.list("ports"), bob.list("subnets"), [bob.show("ports", bobs["id"])]):
        for item in listing:
            assert not [k for k in item if k.startswith(ADMIN_ONLY)], item
    assert bobs["id"] in admin.ids("ports", f"?network_id={ext['id']}")
    assert bobs["id"] not in alice.ids("ports")
    bob.ok("DELETE", f"/v2.0/ports/{bobs['id']}", status=204)
