"""The Networking service under concurrent requests, and ML2 with a real mechanism driver.

- IPAM: 300 ports race for the 253 addresses of a /24 — exactly 253 win distinct addresses, the
  rest are told 409 IpAddressGenerationFailure, and no address is held twice (API and database).
- Segments: with `[ml2_type_vxlan] vni_ranges = 1:20`, project networks take VNIs 1..20 and the
  21st is refused (503 NoNetworkAvailable); a freed VNI is reused; 24 networks created at once
  still get 20 distinct VNIs.
- Binding with `[ml2] mechanism_drivers = linuxbridge`: a port binds (`bridge`) only to a host
  whose Linux bridge agent is alive, else `binding_failed`.

Each database (SQLite, PostgreSQL) gets an all-in-one cloud of its own with those ML2 options
(given to the network service alone: `--config-file network:FILE`, which all-in-one's own ML2
defaults do not override). Expected answers are neutron's (docs/network-spec.md).
"""
import datetime
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import new_postgres_database, postgres_url_or_skip
from framework.cloud import API, Cloud

PORTS = 300
WORKERS = 24
ML2 = """[ml2]
mechanism_drivers = linuxbridge
[ml2_type_vxlan]
vni_ranges = 1:20
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cloud(request):
    """An all-in-one cloud per database whose network service has the ML2 options above."""
    conf = ""
    database = None
    if request.param == "postgresql":
        database = new_postgres_database(postgres_url_or_skip())
        conf += f"[database]\nconnection = {database}\n"
    c = Cloud(conf=conf, database=database)
    ml2 = os.path.join(c.data_dir, "ml2_conf.ini")
    with open(ml2, "w") as f:
        f.write(ML2)
    try:
        c.start(extra_args=["--config-file", f"network:{ml2}"])
        yield c
    finally:
        c.destroy()


def count(cloud, query):
    """SELECT COUNT(*) … on the network service's own database."""
    return int(cloud.sql_value(query, service="neutron"))


class Admin:
    def __init__(self, cloud):
        self.token, body = API(cloud).issue("admin", cloud.password, project="admin")
        self.project_id = body["project"]["id"]
        self.base = cloud.url("network").rstrip("/")
        self.local = threading.local()

    def call(self, method, path, body=None, **kw):
        """Thread-safe: one session per thread."""
        s = getattr(self.local, "session", None)
        if s is None:
            s = self.local.session = requests.Session()
            s.headers.update({"X-Auth-Token": self.token, "Accept": "application/json"})
        return s.request(method, self.base + path, json=body, timeout=120, **kw)

    def ok(self, method, path, body=None, status=(200, 201, 204)):
        r = self.call(method, path, body)
        assert r.status_code in (status if isinstance(status, tuple) else (status,)), (method, path, r.status_code, r.text)
        return r.json() if r.content else None


@pytest.fixture(scope="module")
def admin(cloud):
    return Admin(cloud)


@pytest.fixture(scope="module")
def flat(admin):
    """The flat provider network (it takes no VNI) with a /24 subnet."""
    net = admin.ok("POST", "/v2.0/networks", {"network": {
        "name": "flat", "provider:network_type": "flat", "provider:physical_network": "provider"}})["network"]
    sub = admin.ok("POST", "/v2.0/subnets", {"subnet": {
        "network_id": net["id"], "cidr": "10.100.0.0/24", "ip_version": 4}})["subnet"]
    assert sub["allocation_pools"] == [{"start": "10.100.0.2", "end": "10.100.0.254"}]
    return net, sub


def parallel(fn, items, workers=WORKERS):
    """fn over items from `workers` threads released together."""
    start = threading.Barrier(min(workers, len(items)))
    started = threading.local()

    def go(item):
        if not getattr(started, "done", False):
            started.done = True
            try:
                start.wait(timeout=60)
            except threading.BrokenBarrierError:
                pass
        try:
            return fn(item)
        except Exception as e:  # noqa: BLE001 - a dropped connection is a result too
            return e

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(go, items))


def test_parallel_ports_exhaust_a_subnet_exactly(cloud, admin, flat):
    net, sub = flat
    admin.ok("PUT", f"/v2.0/quotas/{admin.project_id}", {"quota": {"port": 1000}})
    results = parallel(lambda i: admin.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"], "name": f"race-{i}"}}),
                       range(PORTS))
    odd = [r for r in results if isinstance(r, Exception) or r.status_code not in (201, 409)]
    assert not odd, [r if isinstance(r, Exception) else (r.status_code, r.text) for r in odd[:5]]
    won = [r.json()["port"] for r in results if r.status_code == 201]
    lost = [r.json()["NeutronError"] for r in results if r.status_code == 409]
    kinds = sorted((e["type"], e["message"]) for e in lost)
    assert (len(won), len(lost)) == (253, PORTS - 253), {k: kinds.count(k) for k in kinds}
    assert {e["type"] for e in lost} == {"IpAddressGenerationFailure"}, {k: kinds.count(k) for k in kinds}
    assert {e["message"] for e in lost} == {f"No more IP addresses available on network {net['id']}."}

    addresses = [ip["ip_address"] for p in won for ip in p["fixed_ips"]]
    assert all(len(p["fixed_ips"]) == 1 and p["fixed_ips"][0]["subnet_id"] == sub["id"] for p in won)
    assert sorted(addresses) == sorted(f"10.100.0.{i}" for i in range(2, 255))
    macs = [p["mac_address"] for p in won]
    assert len(set(macs)) == len(macs)

    listed = admin.ok("GET", f"/v2.0/ports?network_id={net['id']}")["ports"]
    assert sorted(p["id"] for p in listed) == sorted(p["id"] for p in won)
    listed_ips = [ip["ip_address"] for p in listed for ip in p["fixed_ips"]]
    assert len(listed_ips) == len(set(listed_ips)) == 253
    assert count(cloud, "SELECT COUNT(*) FROM (SELECT ip_address FROM ip_allocations GROUP BY ip_address "
                        "HAVING COUNT(*) > 1) AS twice") == 0
    assert count(cloud, f"SELECT COUNT(*) FROM ip_allocations WHERE subnet_id = '{sub['id']}'") == 253
    # one more is still refused; a freed address is handed out again
    r = admin.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"]}})
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "IpAddressGenerationFailure", r.text
    freed = won[100]
    admin.ok("DELETE", f"/v2.0/ports/{freed['id']}", status=204)
    again = admin.ok("POST", "/v2.0/ports", {"port": {"network_id": net["id"]}})["port"]
    assert again["fixed_ips"] == freed["fixed_ips"]

    # clean up in parallel too: every address comes back
    gone = parallel(lambda p: admin.call("DELETE", f"/v2.0/ports/{p['id']}"), [p for p in won if p is not freed] + [again])
    assert [r.status_code for r in gone if isinstance(r, Exception) or r.status_code != 204] == []
    assert count(cloud, f"SELECT COUNT(*) FROM ip_allocations WHERE subnet_id = '{sub['id']}'") == 0


def vnis(admin, ids):
    return sorted(admin.ok("GET", f"/v2.0/networks/{i}")["network"]["provider:segmentation_id"] for i in ids)


def test_vni_exhaustion(cloud, admin):
    def create(name):
        return admin.call("POST", "/v2.0/networks", {"network": {"name": name}})

    made = []
    for i in range(20):
        r = create(f"vni-{i}")
        assert r.status_code == 201, r.text
        net = r.json()["network"]
        assert net["provider:network_type"] == "vxlan" and net["mtu"] == 1450
        made.append(net)
    assert sorted(n["provider:segmentation_id"] for n in made) == list(range(1, 21))
    r = create("vni-21")
    assert r.status_code == 503, r.text
    e = r.json()["NeutronError"]
    assert e["type"] == "NoNetworkAvailable", e
    assert not [n for n in admin.ok("GET", "/v2.0/networks?name=vni-21")["networks"]]

    victim = made[6]
    admin.ok("DELETE", f"/v2.0/networks/{victim['id']}", status=204)
    again = create("vni-again")
    assert again.status_code == 201, again.text
    assert again.json()["network"]["provider:segmentation_id"] == victim["provider:segmentation_id"]
    assert create("vni-22").status_code == 503

    left = [n["id"] for n in made if n is not victim] + [again.json()["network"]["id"]]
    gone = parallel(lambda i: admin.call("DELETE", f"/v2.0/networks/{i}"), left)
    assert [r for r in gone if isinstance(r, Exception) or r.status_code != 204] == []
    assert count(cloud, "SELECT COUNT(*) FROM segment_allocations WHERE network_type = 'vxlan'") == 0

    # all at once: 24 creates for 20 VNIs
    results = parallel(lambda i: create(f"vni-race-{i}"), range(24))
    odd = [r for r in results if isinstance(r, Exception) or r.status_code not in (201, 503)]
    assert not odd, [r if isinstance(r, Exception) else (r.status_code, r.text) for r in odd[:5]]
    won = [r.json()["network"] for r in results if r.status_code == 201]
    assert len(won) == 20, [r.status_code for r in results]
    assert sorted(n["provider:segmentation_id"] for n in won) == list(range(1, 21))
    assert vnis(admin, [n["id"] for n in won]) == list(range(1, 21))
    assert {r.json()["NeutronError"]["type"] for r in results if r.status_code == 503} == {"NoNetworkAvailable"}
    assert count(cloud, "SELECT COUNT(*) FROM (SELECT segmentation_id FROM networks WHERE network_type = 'vxlan' "
                        "GROUP BY segmentation_id HAVING COUNT(*) > 1) AS twice") == 0
    assert count(cloud, "SELECT COUNT(DISTINCT segmentation_id) FROM segment_allocations WHERE network_type = 'vxlan'") == 20
    gone = parallel(lambda n: admin.call("DELETE", f"/v2.0/networks/{n['id']}"), won)
    assert [r for r in gone if isinstance(r, Exception) or r.status_code != 204] == []
    # neutron-lib's wording, checked last so that it hides none of the above
    assert e["message"] == "Unable to create the network. No project network is available for allocation.", e


def test_linuxbridge_binding_needs_a_live_agent(cloud, admin, flat):
    net, _ = flat
    # a subnet of its own, whatever the race above left in the first one
    sub = admin.ok("POST", "/v2.0/subnets", {"subnet": {
        "network_id": net["id"], "cidr": "10.101.0.0/24", "ip_version": 4}})["subnet"]
    fixed = [{"subnet_id": sub["id"]}]
    now = datetime.datetime.now(datetime.timezone.utc)
    fresh = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    old = (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def agent(host, beat):
        cloud.sql("INSERT INTO agents (id, agent_type, binary_name, topic, host, admin_state_up, availability_zone, "
                  "description, configurations, resources_synced, created_at, started_at, heartbeat_timestamp) "
                  "VALUES (?, 'Linux bridge agent', 'neutron-linuxbridge-agent', 'N/A', ?, 1, NULL, '', '{}', NULL, ?, ?, ?)",
                  (str(uuid.uuid4()), host, old, old, beat), service="neutron")

    agent("compute1", fresh)
    agent("compute2", old)
    alive = {a["host"]: a["alive"] for a in admin.ok("GET", "/v2.0/agents?agent_type=Linux bridge agent")["agents"]}
    assert alive == {"compute1": True, "compute2": False}

    def port(host):
        return admin.ok("POST", "/v2.0/ports", {"port": {"network_id": net["id"], "fixed_ips": fixed,
                                                          "binding:host_id": host}})["port"]

    ok = port("compute1")
    assert ok["binding:host_id"] == "compute1"
    assert ok["binding:vif_type"] == "bridge"
    assert ok["binding:vif_details"].get("port_filter") is True, ok["binding:vif_details"]
    assert ok["status"] == "DOWN"
    for host in ("compute2", "nowhere"):
        failed = port(host)
        assert (failed["binding:host_id"], failed["binding:vif_type"]) == (host, "binding_failed"), failed
        assert admin.ok("GET", f"/v2.0/ports/{failed['id']}")["port"]["binding:vif_type"] == "binding_failed"
    unbound = admin.ok("POST", "/v2.0/ports", {"port": {"network_id": net["id"], "fixed_ips": fixed}})["port"]
    assert unbound["binding:vif_type"] == "unbound"

    # moving a port to the live host binds it; the agent's heartbeat coming back lets compute2 bind
    moved = admin.ok("PUT", f"/v2.0/ports/{unbound['id']}", {"port": {"binding:host_id": "compute1"}})["port"]
    assert moved["binding:vif_type"] == "bridge"
    cloud.sql("UPDATE agents SET heartbeat_timestamp = ? WHERE host = 'compute2'", (fresh,), service="neutron")
    second = port("compute2")
    assert second["binding:vif_type"] == "bridge"
