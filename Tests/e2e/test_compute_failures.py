"""Compute under load and crashes, with nova's worker daemons as separate processes on the
all-in-one's own Compute state.

all-in-one runs only nova-api and the scheduler inside it (`--without nova-conductor,nova-compute`); `stratus nova-conductor` and `stratus nova-compute` run beside it
with a nova.conf naming all-in-one's nova_api and nova databases and its `nova` service user
(password in DATA_DIR/nova-password), as a second machine's nova.conf would.

What a user would notice is checked: every server ends ACTIVE or ERROR (never stuck in BUILD),
Placement's usages and Neutron's ports match the ACTIVE servers, nothing is left after delete.

Small numbers for the 2-core test machine: 100 servers in the load test, 20 in each crash test,
30 with two conductors (PostgreSQL only); `[stratus] task_lease_seconds = 10` (default 30) on the
workers so a task held by a killed worker comes back within the test's timeouts.
"""
import os
import signal
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import new_postgres_database, postgres_url_or_skip
from framework.cloud import API, STRATUS, Cloud, Process, clean_env

FLAVOR = {"VCPU": 1, "MEMORY_MB": 64, "DISK_GB": 1}
LEASE = 10


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cloud(request):
    """all-in-one with only the API (and the scheduler) of Compute inside it."""
    conf = ""
    database = None
    if request.param == "postgresql":
        database = new_postgres_database(postgres_url_or_skip())
        conf += f"[database]\nconnection = {database}\n"
    c = Cloud(conf=conf, database=database)
    compute_conf = os.path.join(c.data_dir, "compute-lease.conf")
    with open(compute_conf, "w") as f:
        f.write(f"[stratus]\ntask_lease_seconds = {LEASE}\n")
    c.start(extra_args=["--without", "nova-conductor,nova-compute", "--config-file", f"compute:{compute_conf}"])
    yield c
    c.destroy()


class Workers:
    """nova-conductor and nova-compute processes with their own nova.conf."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.dir = tempfile.mkdtemp(prefix="stratus-nova-workers-")
        self.procs = {}

    def connection(self, service):
        if self.cloud.database:
            return self.cloud.database.rsplit("/", 1)[0] + "/" + self.cloud.database_name(service)
        return f"sqlite:///{self.cloud.data_dir}/{service}.db"

    def conf(self, host):
        root = self.cloud.auth_url.rsplit("/v3", 1)[0]
        with open(os.path.join(self.cloud.data_dir, "nova-password")) as f:
            password = f.read().strip()
        creds = (f"auth_url = {root}/v3\nauth_type = password\nproject_domain_name = Default\n"
                 f"user_domain_name = Default\nproject_name = service\nusername = nova\npassword = {password}\n")
        path = os.path.join(self.dir, f"{host}.conf")
        with open(path, "w") as f:
            f.write(f"""[DEFAULT]
host = {host}
compute_driver = fake.FakeDriver
my_ip = 127.0.0.1
sync_power_state_interval = 2

[api_database]
connection = {self.connection("nova_api")}

[database]
connection = {self.connection("nova")}

[keystone_authtoken]
www_authenticate_uri = {root}
{creds}
[placement]
region_name = RegionOne
{creds}
[neutron]
region_name = RegionOne
{creds}
[service_user]
send_service_user_token = true
{creds}
[scheduler]
discover_hosts_in_cells_interval = 2

[stratus]
task_lease_seconds = {LEASE}
""")
        return path

    def start(self, program, host):
        p = Process([STRATUS, program, "--config-file", self.conf(host)], env=clean_env())
        p.wait_for("running")
        self.procs[host] = p
        return p

    def kill9(self, host):
        p = self.procs.pop(host)
        os.kill(p.proc.pid, signal.SIGKILL)
        p.proc.wait()

    def stop_all(self):
        for p in self.procs.values():
            p.stop()
        self.procs = {}


def wait_until_schedulable(cloud, host, timeout=120):
    """A compute host takes servers once it is mapped to a cell (the conductor's discovery) and
    its provider has an inventory in Placement (the agent's report)."""
    token, _ = API(cloud).issue("admin", cloud.password, project="admin")
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "placement 1.36"}
    deadline = time.time() + timeout
    while time.time() < deadline:
        mapped = int(cloud.sql_value(f"SELECT COUNT(*) FROM host_mappings WHERE host = '{host}'", service="nova_api") or 0)
        providers = requests.get(cloud.url("placement") + f"/resource_providers?name={host}", headers=headers, timeout=30).json()
        providers = providers.get("resource_providers", [])
        if mapped and providers:
            inventories = requests.get(cloud.url("placement") + f"/resource_providers/{providers[0]['uuid']}/inventories",
                                       headers=headers, timeout=30).json().get("inventories", {})
            if "VCPU" in inventories:
                return
        time.sleep(0.5)
    raise AssertionError(f"compute host {host} never became schedulable")


@pytest.fixture(scope="module")
def workers(cloud):
    w = Workers(cloud)
    w.start("nova-conductor", "worker-conductor")
    w.start("nova-compute", "worker-compute")
    wait_until_schedulable(cloud, "worker-compute")
    yield w
    w.stop_all()


class Client:
    """Raw HTTP as a project's admin, against all-in-one's endpoints."""

    def __init__(self, cloud, project_name):
        self.cloud = cloud
        api = API(cloud)
        admin, _ = api.issue("admin", cloud.password, project="admin")
        r = api.call("POST", "/v3/projects", admin, json={"project": {"name": project_name, "domain_id": "default"}})
        assert r.status_code == 201, r.text
        self.project = r.json()["project"]["id"]
        user = api.call("GET", "/v3/users?name=admin", admin).json()["users"][0]["id"]
        role = api.call("GET", "/v3/roles?name=admin", admin).json()["roles"][0]["id"]
        assert api.call("PUT", f"/v3/projects/{self.project}/users/{user}/roles/{role}", admin).status_code == 204
        self.token, _ = api.issue("admin", cloud.password, project=project_name)
        self.compute = cloud.url("compute")
        self.network = cloud.url("network").rstrip("/")
        self.placement = cloud.url("placement")
        self.image = cloud.url("image").rstrip("/")

    def req(self, method, url, expect=None, **kwargs):
        headers = kwargs.pop("headers", {})
        headers["X-Auth-Token"] = self.token
        r = requests.request(method, url, headers=headers, timeout=120, **kwargs)
        if expect is not None:
            assert r.status_code == expect, (method, url, r.status_code, r.text)
        return r

    def nova(self, method, path, expect=None, **kwargs):
        return self.req(method, self.compute + path, expect, headers={"OpenStack-API-Version": "compute 2.79"}, **kwargs)

    def setup(self, count):
        """Quotas for `count` servers, a flavor, an image, a network with room for the ports."""
        self.nova("PUT", f"/os-quota-sets/{self.project}", 200,
                  json={"quota_set": {"instances": count + 10, "cores": count + 10, "ram": 64 * (count + 10)}})
        self.req("PUT", f"{self.network}/v2.0/quotas/{self.project}", 200, json={"quota": {"port": count + 20}})
        name = "f-" + uuid.uuid4().hex[:8]
        self.flavor = self.nova("POST", "/flavors", 200, json={"flavor": {
            "name": name, "vcpus": 1, "ram": 64, "disk": 1}}).json()["flavor"]["id"]
        image = self.req("POST", f"{self.image}/v2/images", 201, json={
            "name": "cirros", "disk_format": "raw", "container_format": "bare"}).json()
        self.req("PUT", f"{self.image}/v2/images/{image['id']}/file", 204, data=b"\0" * 4096,
                 headers={"Content-Type": "application/octet-stream"})
        self.image_id = image["id"]
        net = self.req("POST", f"{self.network}/v2.0/networks", 201, json={"network": {"name": "load"}}).json()["network"]
        self.req("POST", f"{self.network}/v2.0/subnets", 201, json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": "10.20.0.0/22"}})
        self.net = net["id"]

    def boot(self, count, name="load"):
        body = {"server": {"name": name, "imageRef": self.image_id, "flavorRef": self.flavor,
                           "networks": [{"uuid": self.net}], "min_count": count, "max_count": count}}
        self.nova("POST", "/servers", 202, json=body)

    def servers(self):
        return self.nova("GET", "/servers/detail?limit=1000", 200).json()["servers"]

    def wait_settled(self, count, timeout):
        """Every server ACTIVE or ERROR; returns them (fails listing those still building)."""
        deadline = time.time() + timeout
        while True:
            servers = self.servers()
            building = [s for s in servers if s["status"] not in ("ACTIVE", "ERROR")]
            if len(servers) == count and not building:
                return servers
            if time.time() > deadline:
                raise AssertionError(f"after {timeout}s: {len(servers)} servers, still building: "
                                     f"{[(s['id'], s['status'], s.get('OS-EXT-STS:task_state')) for s in building][:10]} "
                                     f"({len(building)} in all)")
            time.sleep(1)

    def allocations(self, server):
        return self.req("GET", f"{self.placement}/allocations/{server}", 200,
                        headers={"OpenStack-API-Version": "placement 1.28"}).json()["allocations"]

    def usages(self):
        return self.req("GET", f"{self.placement}/usages?project_id={self.project}", 200,
                        headers={"OpenStack-API-Version": "placement 1.9"}).json()["usages"]

    def ports(self):
        ports = self.req("GET", f"{self.network}/v2.0/ports?project_id={self.project}", 200).json()["ports"]
        return [p for p in ports if p["device_owner"].startswith("compute:")]

    def delete_all(self, timeout=180):
        servers = self.servers()
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda s: self.nova("DELETE", f"/servers/{s['id']}").status_code, servers))
        assert set(codes) <= {204}, codes
        deadline = time.time() + timeout
        while self.servers():
            assert time.time() < deadline, f"servers left {timeout}s after delete: {[(s['id'], s['status']) for s in self.servers()][:10]}"
            time.sleep(1)
        return servers

    def check_consistent(self, servers):
        """Allocations and ports are those of the ACTIVE servers, one each."""
        active = [s for s in servers if s["status"] == "ACTIVE"]
        ports = self.ports()
        by_device = {}
        for p in ports:
            by_device.setdefault(p["device_id"], []).append(p["id"])
        problems = []
        for s in servers:
            allocs = self.allocations(s["id"])
            want_alloc = [FLAVOR] if s["status"] == "ACTIVE" else []
            if [a["resources"] for a in allocs.values()] != want_alloc:
                problems.append((s["id"], s["status"], "allocations", allocs))
            want_ports = 1 if s["status"] == "ACTIVE" else 0
            if len(by_device.get(s["id"], [])) != want_ports:
                problems.append((s["id"], s["status"], "ports", by_device.get(s["id"])))
        orphans = set(by_device) - {s["id"] for s in servers}
        assert not problems and not orphans, (problems[:10], len(problems), orphans)
        n = len(active)
        usages = self.usages()
        assert usages == {k: v * n for k, v in FLAVOR.items()} or (n == 0 and not any(usages.values())), (usages, n)

    def check_clean(self, deleted):
        for s in deleted:
            assert self.allocations(s["id"]) == {}, (s["id"], self.allocations(s["id"]))
        assert self.ports() == []
        assert not any(self.usages().values()), self.usages()


def live_instances(cloud, project):
    """Rows of the project's instances not deleted in the cell database (nova.instances)."""
    return int(cloud.sql_value(f"SELECT COUNT(*) FROM instances WHERE deleted = 0 AND project_id = '{project}'",
                               service="nova"))


def wait_compute_mapped(client, host, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        hosts = [h["hypervisor_hostname"] for h in client.nova("GET", "/os-hypervisors", 200).json()["hypervisors"]]
        services = client.nova("GET", "/os-services?binary=nova-compute", 200).json()["services"]
        if host in hosts and any(s["host"] == host and s["state"] == "up" for s in services):
            return
        time.sleep(1)
    raise AssertionError(f"{host} never showed up as a hypervisor: {hosts}")


def test_hundred_servers_at_once(cloud, workers):
    """One POST with min_count = max_count = 100: all ACTIVE, Placement counts 100 flavors;
    after delete nothing is left in Placement, Neutron or the cell database."""
    c = Client(cloud, "load")
    c.setup(100)
    wait_compute_mapped(c, "worker-compute")
    c.boot(100)
    servers = c.wait_settled(100, timeout=240)
    assert live_instances(cloud, c.project) == sum(s["status"] == "ACTIVE" for s in servers)
    statuses = {s["status"] for s in servers}
    assert statuses == {"ACTIVE"}, [(s["id"], s["status"], s.get("fault")) for s in servers if s["status"] != "ACTIVE"][:5]
    assert {s["OS-EXT-SRV-ATTR:host"] for s in servers} == {"worker-compute"}
    assert c.usages() == {k: v * 100 for k, v in FLAVOR.items()}
    c.check_consistent(servers)
    deleted = c.delete_all()
    c.check_clean(deleted)
    assert live_instances(cloud, c.project) == 0


def crash_and_recover(cloud, workers, program, host, project):
    c = Client(cloud, project)
    c.setup(20)
    wait_compute_mapped(c, "worker-compute")
    c.boot(20)
    time.sleep(0.3)
    building = sum(1 for s in c.servers() if s["status"] == "BUILD")
    workers.kill9(host)
    time.sleep(1)
    workers.start(program, host)
    servers = c.wait_settled(20, timeout=150)
    print(f"\n{program} killed with {building}/20 servers in BUILD; after restart: "
          f"{sum(s['status'] == 'ACTIVE' for s in servers)} ACTIVE, {sum(s['status'] == 'ERROR' for s in servers)} ERROR")
    c.check_consistent(servers)
    deleted = c.delete_all()
    c.check_clean(deleted)
    assert live_instances(cloud, c.project) == 0
    return building


def test_conductor_killed_while_building(cloud, workers):
    """kill -9 of nova-conductor while 20 servers build, then restart it: none stays in BUILD."""
    crash_and_recover(cloud, workers, "nova-conductor", "worker-conductor", "crash-conductor")


def test_compute_killed_while_building(cloud, workers):
    """kill -9 of nova-compute while 20 servers build, then restart it: none stays in BUILD."""
    crash_and_recover(cloud, workers, "nova-compute", "worker-compute", "crash-compute")


def test_power_state_follows_the_hypervisor(cloud, workers):
    """The compute agent's power-state sync: after nova-compute is killed and restarted, the fake
    hypervisor no longer knows the guests, and within a sync interval their power state reads
    NOSTATE (0) while they stay ACTIVE, as nova records it; stop and start then bring a server back
    to SHUTOFF / 4 and ACTIVE / 1."""
    c = Client(cloud, "power-sync")
    c.setup(2)
    wait_compute_mapped(c, "worker-compute")
    c.boot(2)
    servers = c.wait_settled(2, timeout=60)
    assert [(s["status"], s["OS-EXT-STS:power_state"]) for s in servers] == [("ACTIVE", 1)] * 2, servers
    workers.kill9("worker-compute")
    workers.start("nova-compute", "worker-compute")
    deadline = time.time() + 60
    while True:
        servers = c.servers()
        if all(s["OS-EXT-STS:power_state"] == 0 for s in servers):
            break
        assert time.time() < deadline, [(s["id"], s["status"], s["OS-EXT-STS:power_state"]) for s in servers]
        time.sleep(0.5)
    assert {s["status"] for s in servers} == {"ACTIVE"}
    sid = servers[0]["id"]

    def settle(status):
        deadline = time.time() + 60
        while True:
            s = c.nova("GET", f"/servers/{sid}", 200).json()["server"]
            if s["status"] == status and s["OS-EXT-STS:task_state"] is None:
                return s
            assert time.time() < deadline, s
            time.sleep(0.3)

    c.nova("POST", f"/servers/{sid}/action", 202, json={"os-stop": None})
    assert settle("SHUTOFF")["OS-EXT-STS:power_state"] == 4
    c.nova("POST", f"/servers/{sid}/action", 202, json={"os-start": None})
    assert settle("ACTIVE")["OS-EXT-STS:power_state"] == 1
    deleted = c.delete_all()
    c.check_clean(deleted)


def test_two_conductors_build_each_server_once(cloud, workers):
    """Two nova-conductors on one PostgreSQL: 30 servers, each built exactly once."""
    if not cloud.database:
        pytest.skip("two conductors at once: PostgreSQL only (SQLite has one writer)")
    workers.start("nova-conductor", "worker-conductor-2")
    try:
        c = Client(cloud, "two-conductors")
        c.setup(30)
        wait_compute_mapped(c, "worker-compute")
        c.boot(30)
        servers = c.wait_settled(30, timeout=180)
        assert {s["status"] for s in servers} == {"ACTIVE"}, [(s["id"], s["status"], s.get("fault")) for s in servers]
        c.check_consistent(servers)
        for s in servers:
            actions = c.nova("GET", f"/servers/{s['id']}/os-instance-actions", 200).json()["instanceActions"]
            assert [a["action"] for a in actions] == ["create"], (s["id"], actions)
        ids = ",".join("'" + s["id"] + "'" for s in servers)
        creates = cloud.sql_value(f"SELECT COUNT(*) FROM instance_actions WHERE action = 'create' AND instance_uuid IN ({ids})",
                                  service="nova")
        assert int(creates) == 30
        builds = cloud.sql_value(
            "SELECT COUNT(*) FROM instance_actions_events e JOIN instance_actions a ON a.id = e.action_id "
            f"WHERE e.event = 'compute__do_build_and_run_instance' AND a.instance_uuid IN ({ids})", service="nova")
        assert int(builds) == 30, builds
        deleted = c.delete_all()
        c.check_clean(deleted)
        assert live_instances(cloud, c.project) == 0
    finally:
        p = workers.procs.pop("worker-conductor-2", None)
        if p:
            p.stop()
