"""The Compute API (nova v2.1, microversions 2.1-2.104) of the all-in-one cloud, over raw HTTP
with Keystone tokens.

What a user of nova notices: the version documents and microversion headers; flavors (admin-made,
private ones shared through flavor access, extra specs) and how their view changes with the
microversion; keypairs, private to their user; servers booted on a project network with a key,
security groups and metadata, which go ACTIVE on host `localhost`, get a neutron port bound there
and a placement allocation, can be listed, filtered, paged, renamed, stopped, started, rebooted and
deleted, and leave instance actions behind; the errors of a bad boot request (flavor, image, key,
networks, quota, availability zone), the ERROR state of a server no host can take (kept in cell0)
or whose spawn fails; that one project sees nothing of another's servers and that admin APIs
(os-services, os-hypervisors, flavor-manage) are the admin's; and the admin resources themselves
(services, hypervisors, availability zones, limits, quota sets, external events).

Each test runs in its own project, with a non-admin user holding `member`; the admin is the
cloud admin (project-scoped). Expected answers are nova's (docs/compute-spec.md, from nova's
source). Status codes and fault names are asserted outright; nova's message texts and key sets
are collected (`Parity`) and checked at the end of each test, so that a wording difference does
not hide the behaviour after it. SQLite only: none of this depends on the database.

The module runs its own cloud, with `[stratus] fake_fail_spawn = failme` so that a server whose
name starts with `failme` fails to spawn on the fake driver.
"""
import base64
import hashlib
import os
import re
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

from framework.cloud import API, Cloud

pytestmark = pytest.mark.parametrize("cloud", ["sqlite"], indirect=True)

MAX_MV = "2.104"
GiB = 1024 ** 3


@pytest.fixture(scope="module")
def cloud(request):
    """This module's all-in-one cloud: the shared fixture's, plus the fake driver's spawn failure."""
    assert request.param == "sqlite"
    conf = ("[security_compliance]\nlockout_failure_attempts = 3\nlockout_duration = 600\n"
            "[stratus]\nfake_fail_spawn = failme\n")
    c = Cloud(conf=conf).start()
    # what a user finds the moment all-in-one says "ready" (test_compute_host_up_when_ready)
    token, _ = API(c).issue("admin", c.password, project="admin")
    r = requests.get(c.url("compute") + "/os-hypervisors", headers={"X-Auth-Token": token})
    c.hypervisors_at_ready = r.json().get("hypervisors") if r.status_code == 200 else r.text
    yield c
    c.destroy()


def uid():
    return uuid.uuid4().hex[:8]


class Client:
    """Requests to one endpoint with one user's token."""

    def __init__(self, base, token):
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"X-Auth-Token": token, "Accept": "application/json"})

    def call(self, method, path, body=None, mv=None, headers=None, **kw):
        url = path if path.startswith("http") else self.base + path
        h = dict(headers or {})
        if mv:
            h["OpenStack-API-Version"] = f"compute {mv}"
        return self.session.request(method, url, json=body, headers=h, timeout=60, **kw)

    def ok(self, method, path, body=None, status=(200,), mv=None, **kw):
        r = self.call(method, path, body, mv=mv, **kw)
        assert r.status_code in (status if isinstance(status, tuple) else (status,)), (
            method, path, body, r.status_code, r.text)
        return r.json() if r.content else None


class Nova(Client):
    def __init__(self, cloud, token, project_id, user_id):
        super().__init__(cloud.url("compute"), token)
        self.project_id, self.user_id = project_id, user_id

    def server(self, sid, mv=None):
        return self.ok("GET", f"/servers/{sid}", mv=mv)["server"]

    def wait(self, sid, statuses=("ACTIVE", "ERROR"), timeout=60):
        deadline = time.time() + timeout
        while True:
            s = self.server(sid)
            if s["status"] in statuses and s["OS-EXT-STS:task_state"] is None:
                return s
            assert time.time() < deadline, f"server {sid} still {s['status']}/{s['OS-EXT-STS:task_state']}"
            time.sleep(0.2)

    def wait_gone(self, sid, timeout=60):
        deadline = time.time() + timeout
        while True:
            r = self.call("GET", f"/servers/{sid}")
            if r.status_code == 404:
                return r
            assert r.status_code == 200, r.text
            assert time.time() < deadline, f"server {sid} not gone: {r.text}"
            time.sleep(0.2)

    def boot(self, name, mv=None, status=202, **attrs):
        r = self.call("POST", "/servers", {"server": {"name": name, **attrs}}, mv=mv)
        assert r.status_code == status, (r.status_code, r.text)
        return r


class Tenant:
    """A project with a `member` user: nova and neutron clients, and a network with a subnet."""

    def __init__(self, cloud, token, project_id, user_id, name, password, network=None):
        self.nova = Nova(cloud, token, project_id, user_id)
        self.neutron = Client(cloud.url("network"), token)
        self.project_id, self.user_id, self.name, self.password = project_id, user_id, name, password
        self.network = network


class Parity:
    """Nova's texts and key sets, checked after the behaviour: differences are collected and
    reported together at the end of a test."""

    def __init__(self):
        self.diffs = []

    def check(self, ok, what):
        if not ok:
            self.diffs.append(what)

    def equal(self, got, expected, what):
        self.check(got == expected, f"{what}: got {got!r}, nova gives {expected!r}")

    def keys(self, got, expected, what):
        got, expected = set(got), set(expected)
        self.check(got == expected, f"{what}: extra {sorted(got - expected)}, missing {sorted(expected - got)}")

    def message(self, r, expected):
        said = fault_of(r)[1].get("message")
        self.check(said == expected, f"{r.request.method} {r.request.path_url} -> {r.status_code}: "
                                     f"message {said!r}, nova says {expected!r}")

    def status(self, r, status, message=None):
        """A secondary case: its status (and fault name, message) checked without stopping the test."""
        where = f"{r.request.method} {r.request.path_url}"
        if r.status_code != status:
            self.diffs.append(f"{where}: status {r.status_code} ({r.text[:200]}), nova gives {status}"
                              + (f" {message!r}" if message else ""))
            return
        if status >= 400:
            name, f = fault_of(r)
            self.check(name == FAULTS[status], f"{where}: fault {name!r}, nova gives {FAULTS[status]!r}")
            if message is not None:
                self.message(r, message)

    def done(self):
        assert not self.diffs, "differs from nova:\n" + "\n".join(self.diffs)


@pytest.fixture
def parity():
    return Parity()


FAULTS = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 405: "badMethod",
          409: "conflictingRequest", 413: "overLimit", 415: "badMediaType", 406: "computeFault"}


def fault_of(r):
    body = r.json()
    assert isinstance(body, dict) and len(body) == 1, (r.status_code, r.text)
    (name, f), = body.items()
    return name, f


def fault(r, status, parity=None, message=None):
    """Nova's error body: {"<faultName>": {"code": status, "message": ...}}."""
    assert r.status_code == status, (r.request.method, r.request.path_url, r.status_code, r.text)
    name, f = fault_of(r)
    assert name == FAULTS[status], (r.request.method, r.request.path_url, r.text)
    assert f.get("code") == status, r.text
    assert isinstance(f.get("message"), str) and f["message"], r.text
    if message is not None:
        if parity is None:
            assert f["message"] == message, (r.request.method, r.request.path_url, r.text)
        else:
            parity.message(r, message)
    return f["message"]


# --- the cloud's users, flavors, images ---------------------------------------------------------

class World:
    def __init__(self, cloud):
        self.cloud = cloud
        self.api = API(cloud)
        token, body = self.api.issue("admin", cloud.password, project="admin")
        self.admin_token = token
        self.admin = Nova(cloud, token, body["project"]["id"], body["user"]["id"])
        self.admin_neutron = Client(cloud.url("network"), token)
        self.roles = {r["name"]: r["id"] for r in self.api.call("GET", "/v3/roles", token).json()["roles"]}
        image_base = re.sub(r"/v2/?$", "", cloud.url("image"))
        self.glance = Client(image_base, token)
        self.flavor = self.make_flavor("m1.tiny-" + uid(), ram=64, vcpus=1, disk=1)
        self.image = self.make_image("cirros-" + uid())
        self.wait_for_compute_host()

    def wait_for_compute_host(self, timeout=30):
        """Until the host is mapped to a cell (nova lists a hypervisor only then) and placement has
        its provider."""
        deadline = time.time() + timeout
        placement = self.cloud.url("placement").rstrip("/")
        while True:
            hv = self.admin.ok("GET", "/os-hypervisors")["hypervisors"]
            rps = self.admin.ok("GET", placement + "/resource_providers")["resource_providers"]
            if hv and rps and self.cloud.sql_value("SELECT COUNT(*) FROM host_mappings", service="nova_api"):
                return
            assert time.time() < deadline, "the compute host never came up"
            time.sleep(0.3)

    def make_flavor(self, name, **attrs):
        return self.admin.ok("POST", "/flavors", {"flavor": {"name": name, **attrs}})["flavor"]

    def make_image(self, name, **attrs):
        img = self.glance.ok("POST", "/v2/images", {"name": name, "disk_format": "raw", "container_format": "bare",
                                                     "visibility": "public", **attrs}, status=201)
        r = self.glance.session.put(f"{self.glance.base}/v2/images/{img['id']}/file", data=b"\0" * 4096,
                                    headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 204, r.text
        return self.glance.ok("GET", f"/v2/images/{img['id']}")

    def user(self, project_id, pname):
        uname, password = "cu-" + uid(), "secret-" + uid()
        r = self.api.call("POST", "/v3/users", self.admin_token,
                          json={"user": {"name": uname, "password": password, "domain_id": "default"}})
        assert r.status_code == 201, r.text
        user_id = r.json()["user"]["id"]
        r = self.api.call("PUT", f"/v3/projects/{project_id}/users/{user_id}/roles/{self.roles['member']}", self.admin_token)
        assert r.status_code == 204, r.text
        token, _ = self.api.issue(uname, password, project=pname)
        return token, user_id, uname, password

    def tenant(self, network=True):
        """A new project with a `member` user (and, unless told, a network 10.0.0.0/24 on it)."""
        pname = "compute-" + uid()
        r = self.api.call("POST", "/v3/projects", self.admin_token, json={"project": {"name": pname, "domain_id": "default"}})
        assert r.status_code == 201, r.text
        pid = r.json()["project"]["id"]
        token, user_id, uname, password = self.user(pid, pname)
        t = Tenant(self.cloud, token, pid, user_id, uname, password)
        t.pname = pname
        if network:
            net = t.neutron.ok("POST", "/v2.0/networks", {"network": {"name": "net-" + uid()}}, status=201)["network"]
            t.neutron.ok("POST", "/v2.0/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24",
                                                              "ip_version": 4}}, status=201)
            t.network = net
        return t

    def second_user(self, tenant):
        """Another `member` of the tenant's project."""
        token, user_id, _, _ = self.user(tenant.project_id, tenant.pname)
        return Nova(self.cloud, token, tenant.project_id, user_id)

    def boot_body(self, tenant, **attrs):
        body = {"flavorRef": self.flavor["id"], "imageRef": self.image["id"]}
        if tenant.network:
            body["networks"] = [{"uuid": tenant.network["id"]}]
        body.update(attrs)
        return body


@pytest.fixture(scope="module")
def world(cloud):
    return World(cloud)


def ed25519_key():
    d = tempfile.mkdtemp()
    path = os.path.join(d, "k")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e", "-f", path], check=True)
    with open(path + ".pub") as f:
        return f.read().strip()


def md5_fingerprint(public_key):
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


# Server view keys (a non-admin's show), by microversion
SERVER_21 = {"id", "name", "status", "tenant_id", "user_id", "created", "updated", "hostId", "accessIPv4", "accessIPv6",
             "addresses", "image", "flavor", "metadata", "links", "OS-DCF:diskConfig", "OS-EXT-AZ:availability_zone",
             "config_drive", "key_name", "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at",
             "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state", "OS-EXT-STS:power_state",
             "os-extended-volumes:volumes_attached"}
SERVER_LATEST_EXTRA = {"locked", "description", "tags", "trusted_image_certificates", "server_groups", "locked_reason",
                       "OS-EXT-SRV-ATTR:hostname", "pinned_availability_zone", "scheduler_hints"}
ADMIN_21_EXTRA = {"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:instance_name", "OS-EXT-SRV-ATTR:hypervisor_hostname"}
ADMIN_LATEST_EXTRA = ADMIN_21_EXTRA | {"OS-EXT-SRV-ATTR:kernel_id", "OS-EXT-SRV-ATTR:launch_index",
                                       "OS-EXT-SRV-ATTR:ramdisk_id", "OS-EXT-SRV-ATTR:reservation_id",
                                       "OS-EXT-SRV-ATTR:root_device_name", "OS-EXT-SRV-ATTR:user_data", "host_status"}

FLAVOR_21 = {"id", "name", "ram", "disk", "vcpus", "links", "swap", "OS-FLV-EXT-DATA:ephemeral",
             "os-flavor-access:is_public", "OS-FLV-DISABLED:disabled", "rxtx_factor"}


def test_compute_host_up_when_ready(cloud):
    """When all-in-one prints "stratus: ready", the compute host is there: one hypervisor (a
    server booted now must not fail with NoValidHost)."""
    assert isinstance(cloud.hypervisors_at_ready, list) and len(cloud.hypervisors_at_ready) == 1, \
        cloud.hypervisors_at_ready


# --- versions ----------------------------------------------------------------------------------

def test_version_documents(cloud, parity):
    """GET / lists v2.0 (DEPRECATED) and v2.1 (CURRENT, 2.1-2.104) with no token; GET /v2.1
    describes v2.1 alone."""
    compute = cloud.url("compute").rstrip("/")
    assert compute.endswith("/v2.1")
    root = compute[:-len("/v2.1")]
    r = requests.get(root + "/")
    assert r.status_code == 200, r.text
    versions = {v["id"]: v for v in r.json()["versions"]}
    assert set(versions) == {"v2.0", "v2.1"}
    v21 = versions["v2.1"]
    assert (v21["status"], v21["version"], v21["min_version"]) == ("CURRENT", MAX_MV, "2.1")
    assert versions["v2.0"]["status"] == "DEPRECATED"
    parity.equal((versions["v2.0"]["version"], versions["v2.0"]["min_version"]), ("", ""), "v2.0 version/min_version")
    parity.equal(v21["links"], [{"rel": "self", "href": root + "/v2.1/"}], "v2.1 links in GET /")
    parity.equal(versions["v2.0"]["links"], [{"rel": "self", "href": root + "/v2/"}], "v2.0 links in GET /")
    parity.equal(v21["updated"], "2013-07-23T11:33:21Z", "v2.1 updated")
    parity.check("OpenStack-API-Version" not in r.headers, "GET / carries OpenStack-API-Version")

    for path in ("/v2.1", "/v2.1/"):
        r = requests.get(root + path)
        assert r.status_code == 200, (path, r.status_code, r.text)
        v = r.json()["version"]
        assert (v["id"], v["status"], v["version"], v["min_version"]) == ("v2.1", "CURRENT", MAX_MV, "2.1")
        parity.equal(v["media-types"], [{"base": "application/json",
                                         "type": "application/vnd.openstack.compute+json;version=2.1"}],
                     f"GET {path} media-types")
        parity.equal([link["rel"] for link in v["links"]], ["self", "describedby"], f"GET {path} link rels")
    parity.done()


def test_microversion_headers(world, parity):
    """The version asked for is echoed in both headers (and Vary); `latest` is 2.104; none is 2.1;
    2.105 is 406; a malformed one 400."""
    nova = world.admin
    r = nova.call("GET", "/flavors")
    assert r.status_code == 200
    assert r.headers.get("OpenStack-API-Version") == "compute 2.1", r.headers
    assert r.headers.get("X-OpenStack-Nova-API-Version") == "2.1", r.headers
    vary = r.headers.get("Vary", "")
    parity.check("OpenStack-API-Version" in vary and "X-OpenStack-Nova-API-Version" in vary, f"Vary is {vary!r}")
    parity.check(re.fullmatch(r"req-[0-9a-f-]{36}", r.headers.get("X-OpenStack-Request-ID", "")) is not None,
                 f"X-OpenStack-Request-ID {r.headers.get('X-OpenStack-Request-ID')!r}")

    r = nova.call("GET", "/flavors", mv="2.53")
    assert r.headers.get("OpenStack-API-Version") == "compute 2.53"
    assert r.headers.get("X-OpenStack-Nova-API-Version") == "2.53"
    r = nova.call("GET", "/flavors", mv="latest")
    assert r.status_code == 200
    assert r.headers.get("OpenStack-API-Version") == f"compute {MAX_MV}"
    assert r.headers.get("X-OpenStack-Nova-API-Version") == MAX_MV
    r = nova.call("GET", "/flavors", headers={"X-OpenStack-Nova-API-Version": "2.30"})
    assert r.headers.get("X-OpenStack-Nova-API-Version") == "2.30", r.headers
    assert r.headers.get("OpenStack-API-Version") == "compute 2.30", r.headers

    r = nova.call("GET", "/flavors", mv="2.105")
    fault(r, 406, parity, "Version 2.105 is not supported by the API. Minimum is 2.1 and maximum is 2.104.")
    r = nova.call("GET", "/flavors", mv="2.x")
    fault(r, 400, parity, "API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum.")
    parity.done()


# --- flavors -----------------------------------------------------------------------------------

def test_flavor_manage_and_views(world, parity):
    """The admin creates flavors (200, full view); names are unique (409); a member may not
    (403 policy). The view changes with the microversion: swap "" then 0 from 2.75,
    extra_specs from 2.61, no disabled/rxtx_factor from 2.102. Deleting is 202, then 404."""
    admin, t = world.admin, world.tenant(network=False)
    name = "f-" + uid()
    r = admin.call("POST", "/flavors", {"flavor": {"name": name, "ram": 128, "vcpus": 2, "disk": 3}})
    assert r.status_code == 200, r.text
    f = r.json()["flavor"]
    parity.keys(f, FLAVOR_21, "flavor create view at 2.1")
    assert (f["name"], f["ram"], f["vcpus"], f["disk"]) == (name, 128, 2, 3)
    assert f["os-flavor-access:is_public"] is True and f["OS-FLV-DISABLED:disabled"] is False
    assert f["OS-FLV-EXT-DATA:ephemeral"] == 0
    assert uuid.UUID(f["id"])
    parity.equal(f["swap"], "", "swap at 2.1")
    parity.equal(f["rxtx_factor"], 1.0, "rxtx_factor default")
    fid = f["id"]
    parity.equal([link["rel"] for link in f["links"]], ["self", "bookmark"], "flavor link rels")
    parity.check(f["links"][0]["href"].endswith(f"/v2.1/flavors/{fid}"), f"self link {f['links'][0]['href']}")

    r = admin.call("POST", "/flavors", {"flavor": {"name": name, "ram": 64, "vcpus": 1, "disk": 1}})
    fault(r, 409, parity, f"Flavor with name {name} already exists.")
    r = admin.call("POST", "/flavors", {"flavor": {"name": "other-" + uid(), "ram": 64, "vcpus": 1, "disk": 1, "id": fid}})
    fault(r, 409, parity, f"Flavor with ID {fid} already exists.")
    r = t.nova.call("POST", "/flavors", {"flavor": {"name": "mine-" + uid(), "ram": 64, "vcpus": 1, "disk": 1}})
    fault(r, 403, parity, "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.")

    # list, detail, show, as the member
    listed = t.nova.ok("GET", "/flavors")["flavors"]
    mine = [x for x in listed if x["id"] == fid]
    assert len(mine) == 1
    parity.keys(mine[0], {"id", "name", "links"}, "flavor list item at 2.1")
    parity.keys([x for x in t.nova.ok("GET", "/flavors", mv="2.55")["flavors"] if x["id"] == fid][0],
                {"id", "name", "links", "description"}, "flavor list item at 2.55")
    detail = [x for x in t.nova.ok("GET", "/flavors/detail")["flavors"] if x["id"] == fid]
    assert len(detail) == 1
    parity.keys(detail[0], FLAVOR_21, "flavor detail at 2.1")
    shown = t.nova.ok("GET", f"/flavors/{fid}")["flavor"]
    parity.keys(shown, FLAVOR_21, "flavor show at 2.1")
    assert shown["swap"] == "" and shown["ram"] == 128
    s75 = t.nova.ok("GET", f"/flavors/{fid}", mv="2.75")["flavor"]
    assert s75["swap"] == 0
    parity.keys(s75, FLAVOR_21 | {"description", "extra_specs"}, "flavor show at 2.75")
    s61 = t.nova.ok("GET", f"/flavors/{fid}", mv="2.61")["flavor"]
    assert s61["extra_specs"] == {}
    parity.keys(s61, FLAVOR_21 | {"description", "extra_specs"}, "flavor show at 2.61")
    latest = t.nova.ok("GET", f"/flavors/{fid}", mv="latest")["flavor"]
    parity.keys(latest, FLAVOR_21 - {"OS-FLV-DISABLED:disabled", "rxtx_factor"} | {"description", "extra_specs"},
                "flavor show at 2.104")

    # delete
    r = t.nova.call("DELETE", f"/flavors/{fid}")
    fault(r, 403, parity, "Policy doesn't allow os_compute_api:os-flavor-manage:delete to be performed.")
    r = admin.call("DELETE", f"/flavors/{fid}")
    assert r.status_code == 202, r.text
    r = admin.call("GET", f"/flavors/{fid}")
    fault(r, 404, parity, f"Flavor {fid} could not be found.")
    r = admin.call("DELETE", f"/flavors/{fid}")
    fault(r, 404, parity, f"Flavor {fid} could not be found.")
    assert fid not in [x["id"] for x in t.nova.ok("GET", "/flavors")["flavors"]]
    parity.done()


def test_private_flavor_access(world, parity):
    """A private flavor is seen only by the projects given access (addTenantAccess)."""
    admin, a, b = world.admin, world.tenant(network=False), world.tenant(network=False)
    f = world.make_flavor("priv-" + uid(), ram=64, vcpus=1, disk=1, **{"os-flavor-access:is_public": False})
    fid = f["id"]
    assert f["os-flavor-access:is_public"] is False
    for who in (a, b):
        fault(who.nova.call("GET", f"/flavors/{fid}"), 404, parity, f"Flavor {fid} could not be found.")
        assert fid not in [x["id"] for x in who.nova.ok("GET", "/flavors")["flavors"]]
    r = admin.call("POST", f"/flavors/{fid}/action", {"addTenantAccess": {"tenant": a.project_id}})
    assert r.status_code == 200, r.text
    assert r.json() == {"flavor_access": [{"flavor_id": fid, "tenant_id": a.project_id}]}
    # nova names the flavor by its database id in these two messages
    db_id = world.cloud.sql_value(f"SELECT id FROM flavors WHERE flavorid='{fid}'", service="nova_api")
    r = admin.call("POST", f"/flavors/{fid}/action", {"addTenantAccess": {"tenant": a.project_id}})
    fault(r, 409, parity, f"Flavor access already exists for flavor {db_id} and project {a.project_id} combination.")
    # the project is checked in Identity first (nova's verify_project_id): an unknown one is a 400
    ghost = uuid.uuid4().hex
    r = admin.call("POST", f"/flavors/{fid}/action", {"addTenantAccess": {"tenant": ghost}})
    fault(r, 400, parity, f"Project ID {ghost} is not a valid project.")
    assert admin.ok("GET", f"/flavors/{fid}/os-flavor-access") == {
        "flavor_access": [{"flavor_id": fid, "tenant_id": a.project_id}]}
    r = a.nova.call("GET", f"/flavors/{fid}/os-flavor-access")
    fault(r, 403, parity, "Policy doesn't allow os_compute_api:os-flavor-access to be performed.")
    assert a.nova.ok("GET", f"/flavors/{fid}")["flavor"]["name"] == f["name"]
    assert fid in [x["id"] for x in a.nova.ok("GET", "/flavors")["flavors"]]
    assert fid in [x["id"] for x in a.nova.ok("GET", "/flavors/detail")["flavors"]]
    fault(b.nova.call("GET", f"/flavors/{fid}"), 404, parity, f"Flavor {fid} could not be found.")
    assert fid not in [x["id"] for x in b.nova.ok("GET", "/flavors")["flavors"]]
    # the admin's default list is public flavors only; is_public=none shows all
    assert fid not in [x["id"] for x in admin.ok("GET", "/flavors")["flavors"]]
    assert fid in [x["id"] for x in admin.ok("GET", "/flavors?is_public=none")["flavors"]]
    # public flavors have no access list
    r = admin.call("GET", f"/flavors/{world.flavor['id']}/os-flavor-access")
    fault(r, 404, parity, "Access list not available for public flavors.")
    r = admin.call("POST", f"/flavors/{world.flavor['id']}/action", {"addTenantAccess": {"tenant": a.project_id}},
                   mv="2.7")
    fault(r, 409, parity, "Can not add access to a public flavor.")
    # remove
    r = admin.call("POST", f"/flavors/{fid}/action", {"removeTenantAccess": {"tenant": a.project_id}})
    assert r.status_code == 200 and r.json() == {"flavor_access": []}, r.text
    fault(a.nova.call("GET", f"/flavors/{fid}"), 404, parity, f"Flavor {fid} could not be found.")
    r = admin.call("POST", f"/flavors/{fid}/action", {"removeTenantAccess": {"tenant": a.project_id}})
    fault(r, 404, parity, f"Flavor access not found for {db_id} / {a.project_id} combination.")
    parity.done()


def test_flavor_extra_specs(world, parity):
    """Extra specs: set (POST echo), index, show one key, update one, delete (200), then 404; the
    flavor view shows them from 2.61; a member reads but cannot write."""
    admin, t = world.admin, world.tenant(network=False)
    fid = world.make_flavor("xs-" + uid(), ram=64, vcpus=1, disk=1)["id"]
    specs = {"hw:cpu_policy": "dedicated", "color": "blue"}
    r = admin.call("POST", f"/flavors/{fid}/os-extra_specs", {"extra_specs": specs})
    assert r.status_code == 200, r.text
    assert r.json() == {"extra_specs": specs}
    assert t.nova.ok("GET", f"/flavors/{fid}/os-extra_specs") == {"extra_specs": specs}
    assert t.nova.ok("GET", f"/flavors/{fid}/os-extra_specs/color") == {"color": "blue"}
    assert t.nova.ok("GET", f"/flavors/{fid}", mv="2.61")["flavor"]["extra_specs"] == specs
    r = admin.call("PUT", f"/flavors/{fid}/os-extra_specs/color", {"color": "red"})
    assert r.status_code == 200 and r.json() == {"color": "red"}, r.text
    r = admin.call("PUT", f"/flavors/{fid}/os-extra_specs/color", {"shade": "red"})
    fault(r, 400, parity, "Request body and URI mismatch")
    r = t.nova.call("POST", f"/flavors/{fid}/os-extra_specs", {"extra_specs": {"a": "b"}})
    fault(r, 403, parity, "Policy doesn't allow os_compute_api:os-flavor-extra-specs:create to be performed.")
    r = admin.call("DELETE", f"/flavors/{fid}/os-extra_specs/color")
    assert r.status_code in (200, 202, 204), r.text
    parity.status(r, 200)  # flavors_extraspecs.delete has no response decorator: 200
    r = admin.call("GET", f"/flavors/{fid}/os-extra_specs/color")
    fault(r, 404, parity, f"Flavor {fid} has no extra specs with key color.")
    assert admin.ok("GET", f"/flavors/{fid}/os-extra_specs") == {"extra_specs": {"hw:cpu_policy": "dedicated"}}
    # From 2.86 nova checks each spec against its registry: known keys get their values checked,
    # unknown keys in nova's namespaces are refused, other namespaces and bare keys are free.
    # Before 2.86 anything the schema allows is stored.
    refused = [
        ({"hw:nonsense": "1"}, "Validation failed; extra spec 'hw:nonsense' does not appear to be a valid extra spec."),
        ({"hw:cpu_policy": "bogus"}, "Validation failed; 'bogus' is not one of: dedicated, shared, mixed."),
        ({"hw:numa_nodes": "0"}, "Validation failed; '0' is less than the min value of '1'."),
        ({"hw:redirected_usb_ports": "16"}, "Validation failed; '16' is greater than the max value of '15'."),
        ({"resources:VCPU": "two"}, "Validation failed; 'two' is not a valid integer value."),
        ({"trait:CUSTOM_GPU": "maybe"}, "Validation failed; 'maybe' is not one of: required, forbidden."),
        ({"trait:NOT_A_TRAIT": "required"}, "Validation failed; extra spec 'trait:NOT_A_TRAIT' does not appear to be a valid extra spec."),
        ({"hw_rng:allowed": "perhaps"}, "Validation failed; 'perhaps' is not a valid boolean-like value."),
        ({"hw:mem_page_size": "huge"},
         "Validation failed; 'huge' is not of the format '(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)'."),
        ({"color": "green", "hw:numa_nodes": "0"}, "Validation failed; '0' is less than the min value of '1'."),
    ]
    for specs_in, message in refused:
        r = admin.call("POST", f"/flavors/{fid}/os-extra_specs", {"extra_specs": specs_in}, mv="2.86")
        fault(r, 400, parity, message)
    r = admin.call("PUT", f"/flavors/{fid}/os-extra_specs/hw:cpu_policy", {"hw:cpu_policy": "bogus"}, mv="2.86")
    fault(r, 400, parity, "Validation failed; 'bogus' is not one of: dedicated, shared, mixed.")
    # a refused body wrote nothing
    assert admin.ok("GET", f"/flavors/{fid}/os-extra_specs") == {"extra_specs": {"hw:cpu_policy": "dedicated"}}
    accepted = {"hw:numa_nodes": "2", "trait:HW_CPU_X86_AVX2": "required", "trait1:CUSTOM_GPU": "forbidden",
                "resources:CUSTOM_FPGA": "1", "resources_g1:VCPU": "2", "hw:numa_cpus.0": "0-1", "vendor:anything": "x",
                "plainkey": "y", "hw_rng:allowed": "True", "capabilities:cpu_info:features": "<in> aes"}
    r = admin.call("POST", f"/flavors/{fid}/os-extra_specs", {"extra_specs": accepted}, mv="2.86")
    assert r.status_code == 200, r.text
    r = admin.call("POST", f"/flavors/{fid}/os-extra_specs", {"extra_specs": {"hw:nonsense": "1"}}, mv="2.85")
    assert r.status_code == 200, r.text
    assert admin.ok("GET", f"/flavors/{fid}/os-extra_specs")["extra_specs"]["hw:nonsense"] == "1"
    parity.done()


# --- keypairs ----------------------------------------------------------------------------------

def test_keypairs(world, parity):
    """Import an ssh-ed25519 key (200 at 2.1, 201 with `type` at 2.2), MD5 colon-hex fingerprint,
    list/show/delete; keypairs are per user: another member of the project gets 404."""
    t = world.tenant(network=False)
    other = world.second_user(t)
    pub = ed25519_key()
    name = "kp-" + uid()
    r = t.nova.call("POST", "/os-keypairs", {"keypair": {"name": name, "public_key": pub}})
    assert r.status_code == 200, r.text
    kp = r.json()["keypair"]
    parity.keys(kp, {"name", "public_key", "fingerprint", "user_id"}, "keypair import at 2.1")
    assert kp["name"] == name and kp["public_key"] == pub and kp["user_id"] == t.user_id
    assert re.fullmatch(r"([0-9a-f]{2}:){15}[0-9a-f]{2}", kp["fingerprint"]), kp["fingerprint"]
    assert kp["fingerprint"] == md5_fingerprint(pub)

    listed = t.nova.ok("GET", "/os-keypairs")["keypairs"]
    assert [k["keypair"]["name"] for k in listed] == [name]
    parity.keys(listed[0]["keypair"], {"name", "public_key", "fingerprint"}, "keypair list item at 2.1")
    parity.keys(t.nova.ok("GET", "/os-keypairs", mv="2.2")["keypairs"][0]["keypair"],
                {"name", "public_key", "fingerprint", "type"}, "keypair list item at 2.2")
    shown = t.nova.ok("GET", f"/os-keypairs/{name}")["keypair"]
    parity.keys(shown, {"name", "public_key", "fingerprint", "user_id", "created_at", "deleted", "deleted_at", "id",
                        "updated_at"}, "keypair show at 2.1")
    assert shown["fingerprint"] == kp["fingerprint"] and shown["deleted"] is False
    assert shown["deleted_at"] is None and isinstance(shown["id"], int)

    # another user of the same project sees nothing
    assert other.ok("GET", "/os-keypairs")["keypairs"] == []
    r = other.call("GET", f"/os-keypairs/{name}")
    fault(r, 404, parity, f"Keypair {name} not found for user {other.user_id}")
    r = other.call("DELETE", f"/os-keypairs/{name}")
    fault(r, 404, parity, f"Keypair {name} not found for user {other.user_id}")
    # ...and may use the name for its own
    assert other.call("POST", "/os-keypairs", {"keypair": {"name": name, "public_key": pub}}).status_code == 200

    r = t.nova.call("POST", "/os-keypairs", {"keypair": {"name": name, "public_key": pub}})
    fault(r, 409, parity, f"Key pair '{name}' already exists.")
    r = t.nova.call("POST", "/os-keypairs", {"keypair": {"name": "bad-" + uid(), "public_key": "ssh-ed25519 AAAA!!notakey"}})
    fault(r, 400, parity, "Keypair data is invalid: failed to generate fingerprint")

    # 2.2: 201 with type; delete 204
    name2 = "kp2-" + uid()
    r = t.nova.call("POST", "/os-keypairs", {"keypair": {"name": name2, "public_key": pub}}, mv="2.2")
    assert r.status_code == 201, r.text
    parity.keys(r.json()["keypair"], {"name", "public_key", "fingerprint", "user_id", "type"}, "keypair import at 2.2")
    assert r.json()["keypair"]["type"] == "ssh"
    r = t.nova.call("DELETE", f"/os-keypairs/{name2}", mv="2.2")
    assert r.status_code == 204, r.text

    r = t.nova.call("DELETE", f"/os-keypairs/{name}")
    assert r.status_code == 202, r.text
    r = t.nova.call("GET", f"/os-keypairs/{name}")
    fault(r, 404, parity, f"Keypair {name} not found for user {t.user_id}")
    assert t.nova.ok("GET", "/os-keypairs")["keypairs"] == []
    parity.done()


def test_keypair_generation(world, parity):
    """Before 2.92 nova generates a key (RSA) and returns its private half once; from 2.92
    public_key is required (400)."""
    t = world.tenant(network=False)
    name = "gen-" + uid()
    r = t.nova.call("POST", "/os-keypairs", {"keypair": {"name": name}}, mv="2.91")
    assert r.status_code == 201, r.text
    kp = r.json()["keypair"]
    parity.keys(kp, {"name", "public_key", "fingerprint", "user_id", "type", "private_key"}, "generated keypair at 2.91")
    assert "PRIVATE KEY" in kp["private_key"]
    assert kp["public_key"].startswith("ssh-rsa ")
    assert kp["fingerprint"] == md5_fingerprint(kp["public_key"])
    assert "private_key" not in t.nova.ok("GET", f"/os-keypairs/{name}", mv="2.91")["keypair"]
    r = t.nova.call("POST", "/os-keypairs", {"keypair": {"name": "gen2-" + uid()}}, mv="2.92")
    fault(r, 400)
    # 2.92 allows @ and . in names
    pub = ed25519_key()
    r = t.nova.call("POST", "/os-keypairs", {"keypair": {"name": "me@host.x", "public_key": pub}}, mv="2.92")
    assert r.status_code == 201, r.text
    r = t.nova.call("POST", "/os-keypairs", {"keypair": {"name": "you@host.x", "public_key": pub}}, mv="2.91")
    fault(r, 400)
    parity.done()


# --- servers -----------------------------------------------------------------------------------

def test_server_lifecycle(world, parity):
    """Boot with a network, a security group, a key and metadata: 202 with the short body and a
    Location; ACTIVE on localhost with an address on the network; its port bound in neutron;
    views at 2.1 and latest; list, detail, filters, paging; rename; stop (twice: 409), start,
    reboot soft and hard; instance actions; delete (204), after which the server, its port and
    its placement allocations are gone."""
    admin, t = world.admin, world.tenant()
    nova = t.nova
    pub = ed25519_key()
    key = "key-" + uid()
    nova.ok("POST", "/os-keypairs", {"keypair": {"name": key, "public_key": pub}})
    sg = t.neutron.ok("POST", "/v2.0/security-groups", {"security_group": {"name": "web-" + uid()}},
                      status=201)["security_group"]
    name = "life-" + uid()
    r = nova.boot(name, **world.boot_body(t, key_name=key, metadata={"role": "test"},
                                          security_groups=[{"name": sg["name"]}]))
    created = r.json()["server"]
    parity.keys(created, {"id", "links", "OS-DCF:diskConfig", "security_groups", "adminPass"}, "202 body of create")
    sid = created["id"]
    assert uuid.UUID(sid)
    assert created["security_groups"] == [{"name": sg["name"]}]
    assert isinstance(created["adminPass"], str) and len(created["adminPass"]) == 12, created
    assert created["OS-DCF:diskConfig"] in ("MANUAL", "AUTO")
    self_link = [link["href"] for link in created["links"] if link["rel"] == "self"]
    assert r.headers.get("Location") == self_link[0], (r.headers.get("Location"), created["links"])
    assert self_link[0].endswith(f"/v2.1/servers/{sid}"), self_link
    bookmark = [link["href"] for link in created["links"] if link["rel"] == "bookmark"]
    parity.check(bookmark and bookmark[0].endswith(f"/servers/{sid}") and "/v2.1/" not in bookmark[0],
                 f"bookmark link {bookmark}")

    s = nova.wait(sid)
    assert s["status"] == "ACTIVE", s
    parity.keys(s, SERVER_21 | {"progress", "security_groups"}, "server show at 2.1 (member)")
    assert s["OS-EXT-STS:vm_state"] == "active" and s["OS-EXT-STS:power_state"] == 1
    assert s["name"] == name and s["tenant_id"] == t.project_id and s["user_id"] == t.user_id
    assert s["key_name"] == key and s["metadata"] == {"role": "test"}
    assert s["security_groups"] == [{"name": sg["name"]}]
    assert s["image"]["id"] == world.image["id"]
    assert s["flavor"]["id"] == world.flavor["id"]
    # the conductor sets the host's zone on the instance when it picks the host
    parity.equal(s["OS-EXT-AZ:availability_zone"], "nova", "OS-EXT-AZ:availability_zone of a server booted without a zone")
    assert s["OS-SRV-USG:launched_at"] and s["OS-SRV-USG:terminated_at"] is None
    parity.check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s["created"]) is not None, f"created {s['created']!r}")
    parity.equal(s["hostId"], hashlib.sha224((t.project_id + "localhost").encode()).hexdigest(), "hostId")
    assert s["hostId"]
    parity.equal(s["accessIPv4"], "", "accessIPv4 unset")
    parity.equal(s["config_drive"], "", "config_drive unset")
    parity.equal(s["os-extended-volumes:volumes_attached"], [], "volumes_attached")
    parity.equal(s["progress"], 0, "progress")

    # the port
    ports = world.admin_neutron.ok("GET", f"/v2.0/ports?device_id={sid}")["ports"]
    assert len(ports) == 1, ports
    port = ports[0]
    assert port["network_id"] == t.network["id"]
    assert port["device_owner"] == "compute:nova", port["device_owner"]
    assert port["binding:host_id"] == "localhost", port
    assert port["project_id"] == t.project_id
    assert sg["id"] in port["security_groups"], port["security_groups"]
    assert list(s["addresses"]) == [t.network["name"]], s["addresses"]
    addrs = s["addresses"][t.network["name"]]
    assert [a["addr"] for a in addrs] == [ip["ip_address"] for ip in port["fixed_ips"]]
    assert addrs[0]["addr"].startswith("10.0.0.")
    parity.equal(addrs[0], {"version": 4, "addr": port["fixed_ips"][0]["ip_address"], "OS-EXT-IPS:type": "fixed",
                            "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]}, "address entry")
    r = nova.call("GET", f"/servers/{sid}/ips")
    parity.equal(r.status_code, 200, "GET /servers/{id}/ips status")
    ips = r.json() if r.status_code == 200 else None
    parity.equal(ips, {"addresses": {t.network["name"]: [{"version": 4, "addr": addrs[0]["addr"]}]}}, "GET ips")

    # views at the latest microversion, member and admin
    latest = nova.server(sid, mv="latest")
    parity.keys(latest, SERVER_21 | SERVER_LATEST_EXTRA | {"progress", "security_groups"}, "server show at 2.104 (member)")
    assert latest["locked"] is False and latest["tags"] == []
    assert latest["description"] == name  # booted at 2.1: nova stores the name as the description
    parity.equal(latest["flavor"].get("original_name"), world.flavor["name"], "flavor original_name at 2.47+")
    parity.keys(latest["flavor"], {"vcpus", "ram", "disk", "ephemeral", "swap", "original_name", "extra_specs"},
                "embedded flavor at 2.104")
    assert (latest["flavor"]["vcpus"], latest["flavor"]["ram"], latest["flavor"]["disk"]) == (1, 64, 1)
    parity.equal(latest.get("server_groups", "absent"), [], "server_groups at 2.71+")
    parity.equal(latest.get("locked_reason", "absent"), None, "locked_reason at 2.73+")
    parity.check(isinstance(latest["image"].get("properties"), dict), f"image.properties at 2.98: {latest['image']}")
    admin_view = admin.server(sid)
    parity.keys(admin_view, SERVER_21 | ADMIN_21_EXTRA | {"progress", "security_groups"}, "server show at 2.1 (admin)")
    assert admin_view["OS-EXT-SRV-ATTR:host"] == "localhost"
    admin_latest = admin.server(sid, mv="latest")
    parity.keys(admin_latest, SERVER_21 | SERVER_LATEST_EXTRA | ADMIN_LATEST_EXTRA | {"progress", "security_groups"},
                "server show at 2.104 (admin)")
    parity.equal(admin_latest.get("host_status"), "UP", "host_status")

    # a second server, for lists and paging
    r = nova.boot("life-b-" + uid(), **world.boot_body(t))
    sid2 = r.json()["server"]["id"]
    assert nova.wait(sid2)["status"] == "ACTIVE"
    listed = nova.ok("GET", "/servers")["servers"]
    assert {x["id"] for x in listed} == {sid, sid2}
    parity.keys(listed[0], {"id", "name", "links"}, "server list item")
    parity.equal([x["id"] for x in listed], [sid2, sid], "default order (created_at desc)")
    detail = nova.ok("GET", "/servers/detail")["servers"]
    assert {x["id"] for x in detail} == {sid, sid2}
    parity.keys([x for x in detail if x["id"] == sid][0], SERVER_21 | {"progress", "security_groups"}, "server detail item")
    assert [x["id"] for x in nova.ok("GET", f"/servers?name=^{name}$")["servers"]] == [sid]
    assert {x["id"] for x in nova.ok("GET", "/servers?name=life")["servers"]} == {sid, sid2}
    assert {x["id"] for x in nova.ok("GET", "/servers?status=ACTIVE")["servers"]} == {sid, sid2}
    assert nova.ok("GET", "/servers?status=SHUTOFF")["servers"] == []
    assert {x["id"] for x in nova.ok("GET", f"/servers?flavor={world.flavor['id']}")["servers"]} == {sid, sid2}
    assert nova.ok("GET", "/servers?flavor=nope")["servers"] == []
    assert {x["id"] for x in nova.ok("GET", f"/servers?image={world.image['id']}")["servers"]} == {sid, sid2}
    assert nova.ok("GET", f"/servers?image={uuid.uuid4()}")["servers"] == []
    r = nova.call("GET", "/servers?status=BOGUS", mv="2.38")
    fault(r, 400, parity, "Invalid status value")
    r = nova.call("GET", "/servers?bogus=1", mv="2.75")
    parity.status(r, 400)
    assert nova.call("GET", "/servers?bogus=1").status_code == 200
    page = nova.ok("GET", "/servers?limit=1")
    assert [x["id"] for x in page["servers"]] == [sid2]
    links = page.get("servers_links")
    assert links and links[0]["rel"] == "next", page
    assert f"marker={sid2}" in links[0]["href"] and "limit=1" in links[0]["href"], links
    page2 = nova.ok("GET", links[0]["href"])
    assert [x["id"] for x in page2["servers"]] == [sid]
    page3 = nova.ok("GET", f"/servers?limit=1&marker={sid}")
    assert page3["servers"] == [] and "servers_links" not in page3, page3
    r = nova.call("GET", f"/servers?marker={uuid.uuid4()}")
    assert r.status_code == 400, r.text
    parity.check(re.fullmatch(r"marker \[[0-9a-f-]{36}\] not found", fault(r, 400)) is not None,
                 f"unknown marker message {fault_of(r)[1]['message']!r}")

    # update
    r = nova.call("PUT", f"/servers/{sid}", {"server": {"name": name + "-x", "description": "desc"}}, mv="2.19")
    assert r.status_code == 200, r.text
    up = r.json()["server"]
    assert up["name"] == name + "-x" and up["description"] == "desc"
    reduced = {"id", "name", "status", "tenant_id", "user_id", "created", "updated", "hostId", "accessIPv4", "accessIPv6",
               "addresses", "image", "flavor", "metadata", "links", "OS-DCF:diskConfig", "progress", "description", "locked"}
    parity.keys(up, reduced, "PUT response at 2.19 (reduced view before 2.75)")
    up75 = nova.ok("PUT", f"/servers/{sid}", {"server": {"name": name}}, mv="2.75")["server"]
    parity.check("OS-EXT-STS:vm_state" in up75 and "key_name" in up75, "PUT response at 2.75 is not the full view")
    assert nova.server(sid)["name"] == name
    r = nova.call("PUT", f"/servers/{sid}", {"server": {"nickname": "x"}})
    fault(r, 400)

    # stop, stop again, start, reboots
    r = nova.call("POST", f"/servers/{sid}/action", {"os-stop": None})
    assert r.status_code == 202 and r.content == b"", (r.status_code, r.text)
    stop_request = r.headers.get("X-OpenStack-Request-ID")
    s = nova.wait(sid, ("SHUTOFF",))
    assert s["OS-EXT-STS:vm_state"] == "stopped" and s["OS-EXT-STS:power_state"] == 4
    assert nova.ok("GET", "/servers?status=SHUTOFF")["servers"][0]["id"] == sid
    r = nova.call("POST", f"/servers/{sid}/action", {"os-stop": None})
    fault(r, 409, parity, f"Cannot 'stop' instance {sid} while it is in vm_state stopped")
    r = nova.call("POST", f"/servers/{sid}/action", {"reboot": {"type": "SOFT"}})
    fault(r, 409, parity, f"Cannot 'reboot' instance {sid} while it is in vm_state stopped")
    r = nova.call("POST", f"/servers/{sid}/action", {"os-start": None})
    assert r.status_code == 202, r.text
    s = nova.wait(sid, ("ACTIVE",))
    assert s["OS-EXT-STS:power_state"] == 1
    r = nova.call("POST", f"/servers/{sid}/action", {"os-start": None})
    fault(r, 409, parity, f"Cannot 'start' instance {sid} while it is in vm_state active")
    for kind in ("SOFT", "HARD"):
        r = nova.call("POST", f"/servers/{sid}/action", {"reboot": {"type": kind}})
        assert r.status_code == 202, (kind, r.text)
        s = nova.wait(sid, ("ACTIVE",))
        assert s["OS-EXT-STS:power_state"] == 1
    r = nova.call("POST", f"/servers/{sid}/action", {"reboot": {"type": "GENTLE"}})
    fault(r, 400)
    r = nova.call("POST", f"/servers/{sid}/action", {"frobnicate": None})
    fault(r, 400, parity, "There is no such action: frobnicate")

    # instance actions
    actions = nova.ok("GET", f"/servers/{sid}/os-instance-actions")["instanceActions"]
    assert [a["action"] for a in actions] == ["reboot", "reboot", "start", "stop", "create"], actions
    parity.keys(actions[0], {"action", "instance_uuid", "request_id", "user_id", "project_id", "start_time", "message"},
                "instance action at 2.1")
    assert all(a["instance_uuid"] == sid and a["project_id"] == t.project_id and a["user_id"] == t.user_id
               for a in actions)
    stop = [a for a in actions if a["action"] == "stop"][0]
    parity.equal(stop["request_id"], stop_request, "stop action's request_id (the stop call's X-OpenStack-Request-ID)")
    parity.keys(nova.ok("GET", f"/servers/{sid}/os-instance-actions", mv="2.58")["instanceActions"][0],
                {"action", "instance_uuid", "request_id", "user_id", "project_id", "start_time", "message",
                 "updated_at"}, "instance action at 2.58")
    create = [a for a in actions if a["action"] == "create"][0]
    shown = nova.ok("GET", f"/servers/{sid}/os-instance-actions/{create['request_id']}", mv="2.51")["instanceAction"]
    assert shown["action"] == "create" and shown["events"], shown
    for event in shown["events"]:
        parity.keys(event, {"event", "start_time", "finish_time", "result"}, "action event (member, 2.51)")
        assert event["result"] == "Success", event
    shown = nova.ok("GET", f"/servers/{sid}/os-instance-actions/{create['request_id']}", mv="latest")["instanceAction"]
    parity.keys(shown["events"][0], {"event", "start_time", "finish_time", "result", "hostId"}, "action event (member, 2.104)")
    shown21 = nova.ok("GET", f"/servers/{sid}/os-instance-actions/{create['request_id']}")["instanceAction"]
    parity.check("events" not in shown21, "a member sees events before 2.51")
    stop_shown = admin.ok("GET", f"/servers/{sid}/os-instance-actions/{stop['request_id']}", mv="latest")["instanceAction"]
    assert stop_shown["events"] and stop_shown["events"][0].get("host") == "localhost", stop_shown
    r = nova.call("GET", f"/servers/{sid}/os-instance-actions/req-{uuid.uuid4()}")
    assert r.status_code == 404, r.text

    # delete
    allocations = admin.call("GET", world.cloud.url("placement").rstrip("/") + f"/allocations/{sid}")
    assert allocations.status_code == 200 and allocations.json()["allocations"], allocations.text
    r = nova.call("DELETE", f"/servers/{sid}")
    assert r.status_code == 204 and r.content == b"", (r.status_code, r.text)
    r = nova.wait_gone(sid)
    fault(r, 404, parity, f"Instance {sid} could not be found.")
    r = nova.call("DELETE", f"/servers/{sid}")
    fault(r, 404, parity, f"Instance {sid} could not be found.")
    r = nova.call("POST", f"/servers/{sid}/action", {"os-stop": None})
    fault(r, 404, parity, f"Instance {sid} could not be found.")
    deadline = time.time() + 30
    while world.admin_neutron.ok("GET", f"/v2.0/ports?device_id={sid}")["ports"] and time.time() < deadline:
        time.sleep(0.2)
    assert world.admin_neutron.ok("GET", f"/v2.0/ports?device_id={sid}")["ports"] == []
    allocations = admin.call("GET", world.cloud.url("placement").rstrip("/") + f"/allocations/{sid}")
    assert allocations.status_code == 200 and allocations.json()["allocations"] == {}, allocations.text
    assert [x["id"] for x in nova.ok("GET", "/servers")["servers"]] == [sid2]
    # with 2.21 the deleted server's actions stay readable
    r = nova.call("GET", f"/servers/{sid}/os-instance-actions", mv="2.21")
    parity.status(r, 200)
    if r.status_code == 200:
        parity.equal(r.json()["instanceActions"][0]["action"], "delete", "latest action of a deleted server")
    parity.done()


def test_boot_errors(world, parity):
    """What nova rejects at the API: flavor too small for the image's min_disk, unknown flavor or
    image, unknown key, an unknown availability zone, networks missing from 2.37, bad networks."""
    t = world.tenant()
    nova = t.nova
    big = world.make_image("big-" + uid(), min_disk=5)
    r = nova.call("POST", "/servers", {"server": {"name": "x", **world.boot_body(t, imageRef=big["id"])}})
    fault(r, 400, parity, "Flavor's disk is smaller than the minimum size specified in image metadata. "
                          f"Flavor disk is {1 * GiB} bytes, minimum size is {5 * GiB} bytes.")
    hungry = world.make_image("hungry-" + uid(), min_ram=4096)
    r = nova.call("POST", "/servers", {"server": {"name": "x", **world.boot_body(t, imageRef=hungry["id"])}})
    fault(r, 400, parity, "Flavor's memory is too small for requested image.")
    r = nova.call("POST", "/servers", {"server": {"name": "x", **world.boot_body(t, flavorRef="nope")}})
    fault(r, 400, parity, "Flavor nope could not be found.")
    r = nova.call("POST", "/servers", {"server": {"name": "x", **world.boot_body(t, imageRef=str(uuid.uuid4()))}})
    fault(r, 400, parity, "Can not find requested image")
    r = nova.call("POST", "/servers", {"server": {"name": "x", **world.boot_body(t, key_name="nokey")}})
    fault(r, 400, parity, "Invalid key_name provided.")
    missing = str(uuid.uuid4())
    r = nova.call("POST", "/servers", {"server": {"name": "x", **world.boot_body(t, networks=[{"uuid": missing}])}})
    fault(r, 400, parity, f"Network {missing} could not be found.")
    body = world.boot_body(t)
    del body["networks"]
    r = nova.call("POST", "/servers", {"server": {"name": "x", **body}}, mv="2.37")
    fault(r, 400)
    r = nova.call("POST", "/servers", {"server": {"name": "x", **world.boot_body(t, networks=[{"uuid": "not-a-uuid"}])}},
                  mv="2.37")
    fault(r, 400)
    r = nova.call("POST", "/servers", {"server": {"name": "x", **world.boot_body(t, min_count=3, max_count=2)}})
    fault(r, 400, parity, "min_count must be <= max_count")
    r = nova.call("POST", "/servers", {"server": {"name": " x", **world.boot_body(t)}})
    fault(r, 400)
    r = nova.call("POST", "/servers", {"server": {"name": "x", **world.boot_body(t)}, "extra": 1})
    fault(r, 400)
    r = nova.call("POST", "/servers", {"server": {"name": "x", "flavorRef": world.flavor["id"],
                                                  "networks": [{"uuid": t.network["id"]}]}})
    fault(r, 400, parity, "Missing imageRef attribute")
    r = nova.session.post(nova.base + "/servers", data="{not json", headers={"Content-Type": "application/json"})
    fault(r, 400, parity, "Malformed request body")
    assert nova.ok("GET", "/servers")["servers"] == []
    # nova checks the zone in the API (compute.api._validate_and_build_base_options), before any scheduling
    r = nova.call("POST", "/servers", {"server": {"name": "x", **world.boot_body(t, availability_zone="nowhere")}})
    fault(r, 400, parity, "The requested availability zone is not available")
    parity.done()


def test_boot_without_network(world, parity):
    """networks "none" (2.37) boots a server with no address; without networks before 2.37 the
    project's only network is used."""
    t = world.tenant()
    r = t.nova.boot("nonet-" + uid(), mv="2.37", **world.boot_body(t, networks="none"))
    sid = r.json()["server"]["id"]
    s = t.nova.wait(sid)
    assert s["status"] == "ACTIVE", s
    assert s["addresses"] == {}
    assert world.admin_neutron.ok("GET", f"/v2.0/ports?device_id={sid}")["ports"] == []
    body = world.boot_body(t)
    del body["networks"]
    sid2 = t.nova.boot("onenet-" + uid(), **body).json()["server"]["id"]
    s2 = t.nova.wait(sid2)
    assert s2["status"] == "ACTIVE" and list(s2["addresses"]) == [t.network["name"]], s2
    parity.done()


def test_quota_exceeded(world, parity):
    """With an instances quota of 1 the second boot is 403 with nova's message."""
    t = world.tenant()
    r = world.admin.call("PUT", f"/os-quota-sets/{t.project_id}", {"quota_set": {"instances": 1}})
    assert r.status_code == 200, r.text
    assert r.json()["quota_set"]["instances"] == 1
    sid = t.nova.boot("q1-" + uid(), **world.boot_body(t)).json()["server"]["id"]
    r = t.nova.call("POST", "/servers", {"server": {"name": "q2-" + uid(), **world.boot_body(t)}})
    fault(r, 403, parity, "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances")
    assert t.nova.wait(sid)["status"] == "ACTIVE"
    r = t.nova.call("POST", "/servers", {"server": {"name": "q3-" + uid(), **world.boot_body(t, min_count=2)}})
    fault(r, 403, parity, "Quota exceeded for instances: Requested 2, but already used 1 of 1 instances")
    detail = t.nova.ok("GET", f"/os-quota-sets/{t.project_id}/detail")["quota_set"]
    assert detail["instances"] == {"in_use": 1, "limit": 1, "reserved": 0}, detail
    assert detail["cores"]["in_use"] == 1 and detail["ram"]["in_use"] == 64
    r = world.admin.call("PUT", f"/os-quota-sets/{t.project_id}", {"quota_set": {"instances": 0}})
    fault(r, 400, parity, "Quota limit 0 for instances must be greater than or equal to already used and reserved 1.")
    parity.done()


def test_quota_holds_under_concurrent_boots(world, parity):
    """Twelve boots at once against an instances quota of 3: never more than 3 servers are kept
    (the recheck after recording a boot takes back what a concurrent boot pushed over); every
    refusal is nova's 403; a private flavor the project was not given is refused like a missing one."""
    import concurrent.futures
    t = world.tenant()
    world.admin.ok("PUT", f"/os-quota-sets/{t.project_id}", {"quota_set": {"instances": 3}})
    body = world.boot_body(t)

    def boot(i):
        s = requests.Session()
        s.headers.update(t.nova.session.headers)
        return s.post(t.nova.base + "/servers", json={"server": {"name": f"cq{i}-" + uid(), **body}}, timeout=60)

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(boot, range(12)))
    accepted = [r.json()["server"]["id"] for r in replies if r.status_code == 202]
    refused = [r for r in replies if r.status_code != 202]
    assert 1 <= len(accepted) <= 3, [(r.status_code, r.text[:120]) for r in replies]
    for r in refused:
        assert fault(r, 403).startswith("Quota exceeded for instances: Requested 1, but already used"), r.text
    listed = t.nova.ok("GET", "/servers")["servers"]
    assert sorted(x["id"] for x in listed) == sorted(accepted)
    for sid in accepted:
        assert t.nova.wait(sid)["status"] == "ACTIVE"
    assert world.admin.ok("GET", f"/os-quota-sets/{t.project_id}/detail")["quota_set"]["instances"]["in_use"] == len(accepted)
    private = world.make_flavor("priv-boot-" + uid(), ram=64, vcpus=1, disk=1, **{"os-flavor-access:is_public": False})
    other = world.tenant()
    r = other.nova.call("POST", "/servers", {"server": {"name": "pf-" + uid(), **world.boot_body(other, flavorRef=private["id"])}})
    fault(r, 400, parity, f"Flavor {private['id']} could not be found.")
    parity.done()


def test_multi_create(world, parity):
    """min_count = max_count = 5 boots five servers, named <name>-1..5, all ACTIVE."""
    t = world.tenant()
    world.admin.ok("PUT", f"/os-quota-sets/{t.project_id}", {"quota_set": {"instances": 20, "cores": 40, "ram": 102400}})
    name = "multi-" + uid()
    r = t.nova.boot(name, **world.boot_body(t, min_count=5, max_count=5))
    first = r.json()["server"]["id"]
    servers = t.nova.ok("GET", "/servers")["servers"]
    assert len(servers) == 5, servers
    assert first in {s["id"] for s in servers}
    parity.equal(sorted(s["name"] for s in servers), [f"{name}-{i}" for i in range(1, 6)], "multi-create names")
    for s in servers:
        assert t.nova.wait(s["id"])["status"] == "ACTIVE"
    ips = {a["addr"] for s in t.nova.ok("GET", "/servers/detail")["servers"] for a in s["addresses"][t.network["name"]]}
    assert len(ips) == 5
    r = t.nova.call("POST", "/servers", {"server": {"name": "rr", **world.boot_body(t, return_reservation_id=True)}})
    assert r.status_code == 202, r.text
    assert list(r.json()) == ["reservation_id"] and re.fullmatch(r"r-[0-9a-z]{8}", r.json()["reservation_id"]), r.text
    assert "Location" not in r.headers
    rid = r.json()["reservation_id"]
    sid = [x for x in world.admin.ok("GET", f"/servers/detail?all_tenants=1&project_id={t.project_id}",
                                     mv="2.3")["servers"] if x["name"] == "rr"][0]["id"]
    assert world.admin.server(sid, mv="2.3")["OS-EXT-SRV-ATTR:reservation_id"] == rid
    multi_rids = {world.admin.server(x["id"], mv="2.3")["OS-EXT-SRV-ATTR:reservation_id"] for x in servers}
    assert len(multi_rids) == 1 and rid not in multi_rids, (rid, multi_rids)
    parity.equal([x["id"] for x in t.nova.ok("GET", f"/servers?reservation_id={rid}")["servers"]], [sid],
                 "servers?reservation_id= of the single server")
    parity.equal(len(t.nova.ok("GET", f"/servers?reservation_id={multi_rids.pop()}")["servers"]), 5,
                 "servers?reservation_id= of the five")
    # sort_key / sort_dir: names ascending, then descending; sorting by host is for admins only.
    names = [x["name"] for x in t.nova.ok("GET", "/servers?sort_key=display_name&sort_dir=asc")["servers"]]
    assert names == sorted(names) and len(names) == 6, names
    names = [x["name"] for x in t.nova.ok("GET", "/servers?sort_key=display_name&sort_dir=desc")["servers"]]
    assert names == sorted(names, reverse=True), names
    fault(t.nova.call("GET", "/servers?sort_key=host"), 403, parity, "Only administrators can sort servers by host")
    parity.done()


def test_extensions(world):
    """GET /extensions lists nova's static extensions; one can be shown by alias; an unknown one is 404."""
    t = world.tenant()
    extensions = t.nova.ok("GET", "/extensions")["extensions"]
    aliases = {e["alias"] for e in extensions}
    assert {"os-keypairs", "os-services", "OS-EXT-SRV-ATTR", "os-server-external-events"} <= aliases
    assert all(set(e) == {"alias", "name", "description", "links", "namespace", "updated"} for e in extensions)
    assert t.nova.ok("GET", "/extensions/os-keypairs")["extension"]["alias"] == "os-keypairs"
    fault(t.nova.call("GET", "/extensions/os-nothing"), 404)


def test_no_valid_host(world, parity):
    """A flavor no host can take: the server goes to ERROR with a NoValidHost fault, and it lives
    in cell0."""
    t = world.tenant()
    world.admin.ok("PUT", f"/os-quota-sets/{t.project_id}", {"quota_set": {"cores": -1, "ram": -1}})
    huge = world.make_flavor("huge-" + uid(), ram=64 * 1024 * 1024, vcpus=4096, disk=1)
    sid = t.nova.boot("nvh-" + uid(), **world.boot_body(t, flavorRef=huge["id"])).json()["server"]["id"]
    s = t.nova.wait(sid)
    assert s["status"] == "ERROR", s
    assert s["OS-EXT-STS:vm_state"] == "error"
    assert s["fault"]["message"].startswith("No valid host was found"), s["fault"]
    assert s["fault"]["code"] == 500
    parity.keys(s["fault"], {"code", "created", "message"}, "fault (member, code 500)")
    parity.check("progress" not in s, "progress shown for an ERROR server")
    assert "details" in world.admin.server(sid)["fault"]
    assert s["hostId"] == ""
    assert s["addresses"] == {}
    assert world.cloud.sql_value(f"SELECT COUNT(*) FROM instances WHERE uuid='{sid}'", service="nova_cell0") == 1
    assert world.admin_neutron.ok("GET", f"/v2.0/ports?device_id={sid}")["ports"] == []
    # conductor's _create_instance_action_for_cell0: a create action whose one event failed
    actions = t.nova.ok("GET", f"/servers/{sid}/os-instance-actions")["instanceActions"]
    parity.equal([a["action"] for a in actions], ["create"], "instance actions of a server buried in cell0")
    if actions:
        shown = t.nova.ok("GET", f"/servers/{sid}/os-instance-actions/{actions[0]['request_id']}", mv="2.51")
        parity.equal([(e["event"], e["result"]) for e in shown["instanceAction"]["events"]],
                     [("conductor_schedule_and_build_instances", "Error")], "events of its create action")
    assert t.nova.ok("GET", "/servers?status=ERROR")["servers"][0]["id"] == sid
    r = t.nova.call("DELETE", f"/servers/{sid}")
    assert r.status_code == 204, r.text
    t.nova.wait_gone(sid)
    parity.done()


def test_spawn_failure(world, parity):
    """A server the fake driver fails to spawn ends in ERROR with a fault; its port is released."""
    t = world.tenant()
    sid = t.nova.boot("failme-" + uid(), **world.boot_body(t)).json()["server"]["id"]
    s = t.nova.wait(sid)
    assert s["status"] == "ERROR", s
    assert s["fault"]["message"] and s["fault"]["code"] in (500,), s["fault"]
    deadline = time.time() + 15
    while world.admin_neutron.ok("GET", f"/v2.0/ports?device_id={sid}")["ports"] and time.time() < deadline:
        time.sleep(0.2)
    assert world.admin_neutron.ok("GET", f"/v2.0/ports?device_id={sid}")["ports"] == []
    r = t.nova.call("DELETE", f"/servers/{sid}")
    assert r.status_code == 204, r.text
    t.nova.wait_gone(sid)
    parity.done()


# --- isolation and policy ----------------------------------------------------------------------

def test_other_projects_see_nothing(world, parity):
    """Another project's member gets 404 on every call about a server; members get 403 on admin
    APIs; a system-scoped admin token gets 403 on GET /servers (every compute rule is project-scoped)."""
    a, b = world.tenant(), world.tenant(network=False)
    sid = a.nova.boot("mine-" + uid(), **world.boot_body(a)).json()["server"]["id"]
    a.nova.wait(sid)
    msg = f"Instance {sid} could not be found."
    fault(b.nova.call("GET", f"/servers/{sid}"), 404, parity, msg)
    fault(b.nova.call("PUT", f"/servers/{sid}", {"server": {"name": "stolen"}}), 404, parity, msg)
    fault(b.nova.call("POST", f"/servers/{sid}/action", {"os-stop": None}), 404, parity, msg)
    fault(b.nova.call("GET", f"/servers/{sid}/os-instance-actions"), 404, parity, msg)
    fault(b.nova.call("DELETE", f"/servers/{sid}"), 404, parity, msg)
    assert b.nova.ok("GET", "/servers")["servers"] == []
    assert b.nova.ok("GET", "/servers/detail")["servers"] == []
    r = b.nova.call("GET", "/servers?all_tenants=1")
    fault(r, 403, parity, "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.")
    assert a.nova.server(sid)["status"] == "ACTIVE" and a.nova.server(sid)["name"].startswith("mine-")
    assert sid in [s["id"] for s in world.admin.ok("GET", "/servers?all_tenants=1")["servers"]]
    assert sid not in [s["id"] for s in world.admin.ok("GET", "/servers")["servers"]]
    # the admin may act on it
    assert world.admin.server(sid)["tenant_id"] == a.project_id

    for path, rule in [("/os-services", "os-services:list"), ("/os-hypervisors", "os-hypervisors:list"),
                       ("/os-hypervisors/detail", "os-hypervisors:list-detail"),
                       ("/os-availability-zone/detail", "os-availability-zone:detail")]:
        fault(b.nova.call("GET", path), 403, parity, f"Policy doesn't allow os_compute_api:{rule} to be performed.")
    fault(b.nova.call("PUT", f"/os-quota-sets/{b.project_id}", {"quota_set": {"instances": 50}}), 403, parity,
          "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")
    fault(b.nova.call("POST", "/os-server-external-events",
                      {"events": [{"name": "network-changed", "server_uuid": sid}]}), 403, parity,
          "Policy doesn't allow os_compute_api:os-server-external-events:create to be performed.")
    fault(b.nova.call("GET", f"/os-quota-sets/{a.project_id}"), 403)

    token, _ = world.api.issue("admin", world.cloud.password, system=True)
    system = Nova(world.cloud, token, None, None)
    fault(system.call("GET", "/servers"), 403, parity, "Policy doesn't allow os_compute_api:servers:index to be performed.")
    fault(system.call("GET", "/os-services"), 403, parity, "Policy doesn't allow os_compute_api:os-services:list to be performed.")
    r = requests.get(world.cloud.url("compute") + "/servers")
    assert r.status_code == 401, r.text
    parity.done()


# --- admin resources ---------------------------------------------------------------------------

def test_services(world, parity):
    """os-services lists conductor, scheduler and compute, enabled and up; from 2.53 the compute
    service is disabled (with a reason) and enabled by uuid."""
    admin = world.admin
    services = admin.ok("GET", "/os-services")["services"]
    by_binary = {s["binary"]: s for s in services}
    assert {"nova-conductor", "nova-scheduler", "nova-compute"} <= set(by_binary), services
    parity.check(not {"nova-osapi_compute", "nova-metadata"} & set(by_binary), "API services listed")
    for s in services:
        assert (s["status"], s["state"]) == ("enabled", "up"), s
        parity.keys(s, {"id", "binary", "host", "zone", "status", "state", "updated_at", "disabled_reason"},
                    "service at 2.1")
        assert isinstance(s["id"], int)
    compute = by_binary["nova-compute"]
    assert compute["host"] == "localhost" and compute["zone"] == "nova"
    parity.equal(by_binary["nova-scheduler"]["zone"], "internal", "scheduler zone")
    assert [s["binary"] for s in admin.ok("GET", "/os-services?binary=nova-compute")["services"]] == ["nova-compute"]

    s53 = {s["binary"]: s for s in admin.ok("GET", "/os-services", mv="2.53")["services"]}
    compute = s53["nova-compute"]
    assert uuid.UUID(compute["id"])
    parity.keys(compute, {"id", "binary", "host", "zone", "status", "state", "updated_at", "disabled_reason",
                          "forced_down"}, "service at 2.53")
    try:
        r = admin.call("PUT", f"/os-services/{compute['id']}", {"status": "disabled", "disabled_reason": "maintenance"},
                       mv="2.53")
        assert r.status_code == 200, r.text
        s = r.json()["service"]
        assert (s["id"], s["status"], s["disabled_reason"]) == (compute["id"], "disabled", "maintenance"), s
        listed = {x["binary"]: x for x in admin.ok("GET", "/os-services", mv="2.53")["services"]}["nova-compute"]
        assert listed["status"] == "disabled" and listed["disabled_reason"] == "maintenance"
        r = admin.call("PUT", f"/os-services/{compute['id']}", {"status": "enabled", "disabled_reason": "x"}, mv="2.53")
        fault(r, 400, parity, "Specifying 'disabled_reason' with status 'enabled' is invalid.")
    finally:
        r = admin.call("PUT", f"/os-services/{compute['id']}", {"status": "enabled"}, mv="2.53")
    assert r.status_code == 200, r.text
    assert (r.json()["service"]["status"], r.json()["service"]["disabled_reason"]) == ("enabled", None), r.text
    r = admin.call("PUT", f"/os-services/{compute['id']}", {}, mv="2.53")
    fault(r, 400, parity, "No updates were requested. Fields 'status' or 'forced_down' should be specified.")
    r = admin.call("PUT", "/os-services/not-a-uuid", {"status": "disabled"}, mv="2.53")
    fault(r, 400, parity, "Invalid uuid not-a-uuid")
    missing = str(uuid.uuid4())
    r = admin.call("PUT", f"/os-services/{missing}", {"status": "disabled"}, mv="2.53")
    fault(r, 404, parity, f"Service {missing} could not be found.")
    r = admin.call("PUT", f"/os-services/{s53['nova-scheduler']['id']}", {"status": "disabled"}, mv="2.53")
    fault(r, 400, parity, "Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.")
    parity.done()


def test_hypervisors(world, parity):
    """os-hypervisors: one hypervisor `localhost`; statistics in the detail before 2.88, none after."""
    admin = world.admin
    hv = admin.ok("GET", "/os-hypervisors")["hypervisors"]
    assert len(hv) == 1, hv
    parity.keys(hv[0], {"id", "hypervisor_hostname", "state", "status"}, "hypervisor list item")
    assert (hv[0]["state"], hv[0]["status"]) == ("up", "enabled")
    assert isinstance(hv[0]["id"], int)
    detail = admin.ok("GET", "/os-hypervisors/detail")["hypervisors"][0]
    stats = {"vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "free_ram_mb",
             "free_disk_gb", "current_workload", "running_vms", "disk_available_least", "cpu_info"}
    base = {"id", "hypervisor_hostname", "state", "status", "hypervisor_type", "hypervisor_version", "host_ip", "service"}
    parity.keys(detail, base | stats, "hypervisor detail at 2.1")
    assert detail["vcpus"] > 0 and detail["memory_mb"] > 0
    assert detail["service"]["host"] == "localhost"
    parity.check(isinstance(detail["cpu_info"], str), f"cpu_info before 2.28 is {type(detail['cpu_info'])}")
    shown = admin.ok("GET", f"/os-hypervisors/{detail['id']}")["hypervisor"]
    assert shown["hypervisor_hostname"] == detail["hypervisor_hostname"]
    stats_doc = admin.ok("GET", "/os-hypervisors/statistics")["hypervisor_statistics"]
    assert stats_doc["count"] == 1
    d88 = admin.ok("GET", "/os-hypervisors/detail", mv="2.88")["hypervisors"][0]
    parity.keys(d88, base | {"uptime"}, "hypervisor detail at 2.88")
    assert "vcpus" not in d88
    assert uuid.UUID(d88["id"])
    fault(admin.call("GET", "/os-hypervisors/statistics", mv="2.88"), 404)
    r = admin.call("GET", f"/os-hypervisors/{uuid.uuid4()}", mv="2.53")
    fault(r, 404)
    r = admin.call("GET", "/os-hypervisors/999999")
    fault(r, 404, parity, "Hypervisor with ID '999999' could not be found.")
    parity.done()


def test_hypervisor_servers(world, parity):
    """A hypervisor's servers: `/os-hypervisors/{pattern}/servers` before 2.53, `with_servers` from
    2.53 (`servers` left out when empty until 2.75, always there from 2.75 when asked for)."""
    admin, t = world.admin, world.tenant()
    sid = t.nova.boot("hvs-" + uid(), **world.boot_body(t)).json()["server"]["id"]
    assert t.nova.wait(sid)["status"] == "ACTIVE"
    # nova lists the instance name (instance-%08x), not the display name
    name = admin.server(sid)["OS-EXT-SRV-ATTR:instance_name"]
    assert re.fullmatch(r"instance-[0-9a-f]{8}", name), name
    hv = admin.ok("GET", "/os-hypervisors/localhost/servers")["hypervisors"]
    assert len(hv) == 1 and hv[0]["hypervisor_hostname"] == "localhost", hv
    parity.keys(hv[0], {"id", "hypervisor_hostname", "state", "status", "servers"}, "hypervisor servers item")
    assert {"name": name, "uuid": sid} in hv[0]["servers"], hv
    parity.check(all(set(x) == {"name", "uuid"} for x in hv[0]["servers"]), "server entries are {name, uuid}")
    assert admin.ok("GET", "/os-hypervisors/local/search")["hypervisors"][0]["hypervisor_hostname"] == "localhost"
    fault(admin.call("GET", "/os-hypervisors/nomatch/servers"), 404, parity, "No hypervisor matching 'nomatch' could be found.")
    fault(admin.call("GET", "/os-hypervisors/localhost/servers", mv="2.53"), 404)
    fault(t.nova.call("GET", "/os-hypervisors/localhost/servers"), 403)
    listed = admin.ok("GET", "/os-hypervisors?with_servers=true", mv="2.53")["hypervisors"][0]
    assert {"name": name, "uuid": sid} in listed["servers"], listed
    detail = admin.ok("GET", "/os-hypervisors/detail?with_servers=1", mv="2.88")["hypervisors"][0]
    assert {"name": name, "uuid": sid} in detail["servers"], detail
    shown = admin.ok("GET", f"/os-hypervisors/{listed['id']}?with_servers=yes", mv="2.75")["hypervisor"]
    assert {"name": name, "uuid": sid} in shown["servers"]
    assert "servers" not in admin.ok("GET", "/os-hypervisors", mv="2.53")["hypervisors"][0]
    assert "servers" not in admin.ok("GET", "/os-hypervisors?with_servers=false", mv="2.53")["hypervisors"][0]
    fault(admin.call("GET", "/os-hypervisors?with_servers=maybe", mv="2.53"), 400)
    fault(admin.call("GET", "/os-hypervisors?hypervisor_hostname_pattern=local&limit=1", mv="2.53"), 400, parity,
          "Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.")
    # deleted servers are not listed
    assert t.nova.call("DELETE", f"/servers/{sid}").status_code == 204
    t.nova.wait_gone(sid)
    listed = admin.ok("GET", "/os-hypervisors?with_servers=true", mv="2.75")["hypervisors"][0]
    assert sid not in [x["uuid"] for x in listed["servers"]]
    parity.done()


def test_image_properties_and_traits_schedule(world, parity):
    """The image's architecture, hypervisor type and VM mode must match a hypervisor's supported
    instances (the fake driver: x86_64 / fake / hvm), and its `trait:X=required` properties must
    be traits of the host's resource provider; otherwise NoValidHost."""
    t = world.tenant()
    placement = Client(world.cloud.url("placement"), world.admin_token)
    mv = {"OpenStack-API-Version": "placement 1.36"}

    def boot(image):
        sid = t.nova.boot("img-" + uid(), **world.boot_body(t, imageRef=image["id"])).json()["server"]["id"]
        return sid, t.nova.wait(sid)

    arm = world.make_image("arm-" + uid(), hw_architecture="aarch64")
    sid, s = boot(arm)
    assert s["status"] == "ERROR" and s["fault"]["message"].startswith("No valid host was found"), s
    for props in ({"hw_architecture": "amd64"}, {"hw_architecture": "x86_64", "img_hv_type": "fake", "hw_vm_mode": "hvm"},
                  {"img_hv_requested_version": ">=2.0"}):
        sid, s = boot(world.make_image("fits-" + uid(), **props))
        assert s["status"] == "ACTIVE", (props, s)
    sid, s = boot(world.make_image("kvm-" + uid(), img_hv_type="kvm"))
    assert s["status"] == "ERROR", s
    sid, s = boot(world.make_image("old-" + uid(), img_hv_type="fake", img_hv_requested_version=">=2.0"))
    assert s["status"] == "ERROR", "the fake hypervisor is version 1.0"
    trait = "CUSTOM_E2E_" + uid().upper()
    gpu = world.make_image("gpu-" + uid(), **{"trait:" + trait: "required"})
    sid, s = boot(gpu)
    assert s["status"] == "ERROR", s
    # give the host the trait: the next boot of that image lands
    rp = placement.ok("GET", "/resource_providers", headers=mv)["resource_providers"][0]
    placement.ok("PUT", f"/traits/{trait}", status=(201, 204), headers=mv)
    current = placement.ok("GET", f"/resource_providers/{rp['uuid']}/traits", headers=mv)
    try:
        placement.ok("PUT", f"/resource_providers/{rp['uuid']}/traits", {
            "resource_provider_generation": current["resource_provider_generation"],
            "traits": current["traits"] + [trait]}, headers=mv)
        sid, s = boot(gpu)
        assert s["status"] == "ACTIVE", s
    finally:
        current = placement.ok("GET", f"/resource_providers/{rp['uuid']}/traits", headers=mv)
        placement.ok("PUT", f"/resource_providers/{rp['uuid']}/traits", {
            "resource_provider_generation": current["resource_provider_generation"],
            "traits": [x for x in current["traits"] if x != trait]}, headers=mv)
    parity.done()


def test_availability_zones_and_limits(world, parity):
    """The `nova` zone is available (and `internal` hidden); limits has nova's absolute keys,
    fewer from 2.36/2.39/2.57."""
    t = world.tenant(network=False)
    zones = t.nova.ok("GET", "/os-availability-zone")["availabilityZoneInfo"]
    assert zones == [{"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}], zones
    detail = world.admin.ok("GET", "/os-availability-zone/detail")["availabilityZoneInfo"]
    names = {z["zoneName"]: z for z in detail}
    assert set(names) == {"nova", "internal"}, detail
    assert "localhost" in names["nova"]["hosts"] and "nova-compute" in names["nova"]["hosts"]["localhost"]

    limits = t.nova.ok("GET", "/limits")["limits"]
    assert limits["rate"] == []
    absolute = limits["absolute"]
    keys21 = {"maxTotalRAMSize", "maxTotalInstances", "maxTotalCores", "maxTotalKeypairs", "maxTotalFloatingIps",
              "maxServerMeta", "maxImageMeta", "maxPersonality", "maxPersonalitySize", "maxSecurityGroups",
              "maxSecurityGroupRules", "maxServerGroups", "maxServerGroupMembers", "totalRAMUsed", "totalCoresUsed",
              "totalInstancesUsed", "totalFloatingIpsUsed", "totalSecurityGroupsUsed", "totalServerGroupsUsed"}
    parity.keys(absolute, keys21, "limits absolute at 2.1")
    assert (absolute["maxTotalInstances"], absolute["maxTotalCores"], absolute["maxTotalRAMSize"]) == (10, 20, 51200)
    assert absolute["totalInstancesUsed"] == 0 and absolute["maxTotalKeypairs"] == 100
    latest = t.nova.ok("GET", "/limits", mv="latest")["limits"]["absolute"]
    parity.keys(latest, keys21 - {"maxTotalFloatingIps", "maxSecurityGroups", "maxSecurityGroupRules",
                                  "totalFloatingIpsUsed", "totalSecurityGroupsUsed", "maxImageMeta", "maxPersonality",
                                  "maxPersonalitySize"}, "limits absolute at 2.104")
    parity.status(t.nova.call("GET", "/limits?bogus=1", mv="2.75"), 400)
    other = world.tenant(network=False)
    fault(t.nova.call("GET", f"/limits?tenant_id={other.project_id}"), 403)
    parity.done()


def test_quota_sets(world, parity):
    """Quota sets: show and defaults with nova's keys and defaults; the admin updates (no id in
    the answer) and resets; detail gives in_use/limit/reserved."""
    t = world.tenant(network=False)
    pid = t.project_id
    defaults21 = {"instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128, "key_pairs": 100,
                  "server_groups": 10, "server_group_members": 10, "injected_files": 5,
                  "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255, "fixed_ips": -1,
                  "floating_ips": -1, "security_groups": -1, "security_group_rules": -1}
    shown = t.nova.ok("GET", f"/os-quota-sets/{pid}")["quota_set"]
    parity.equal(shown, {"id": pid, **defaults21}, "quota set at 2.1")
    assert shown["instances"] == 10 and shown["id"] == pid
    assert t.nova.ok("GET", f"/os-quota-sets/{pid}/defaults")["quota_set"] == shown
    latest = t.nova.ok("GET", f"/os-quota-sets/{pid}", mv="latest")["quota_set"]
    parity.keys(latest, {"id", "instances", "cores", "ram", "metadata_items", "key_pairs", "server_groups",
                         "server_group_members"}, "quota set at 2.104")
    r = world.admin.call("PUT", f"/os-quota-sets/{pid}", {"quota_set": {"instances": 7, "cores": "30"}})
    assert r.status_code == 200, r.text
    updated = r.json()["quota_set"]
    parity.check("id" not in updated, "PUT os-quota-sets answer has an id")
    assert updated["instances"] == 7 and updated["cores"] == 30
    assert t.nova.ok("GET", f"/os-quota-sets/{pid}")["quota_set"]["instances"] == 7
    assert t.nova.ok("GET", f"/os-quota-sets/{pid}/defaults")["quota_set"]["instances"] == 10
    detail = t.nova.ok("GET", f"/os-quota-sets/{pid}/detail")["quota_set"]
    assert detail["instances"] == {"in_use": 0, "limit": 7, "reserved": 0}, detail
    assert detail["id"] == pid
    assert t.nova.ok("GET", "/limits")["limits"]["absolute"]["maxTotalInstances"] == 7
    r = world.admin.call("PUT", f"/os-quota-sets/{pid}", {"quota_set": {"instances": -2}})
    fault(r, 400)
    r = world.admin.call("PUT", f"/os-quota-sets/{pid}", {"quota_set": {"widgets": 1}})
    fault(r, 400)
    r = world.admin.call("DELETE", f"/os-quota-sets/{pid}")
    assert r.status_code == 202, r.text
    assert t.nova.ok("GET", f"/os-quota-sets/{pid}")["quota_set"]["instances"] == 10
    r = world.admin.call("GET", f"/os-quota-sets/{uuid.uuid4().hex}")
    parity.status(r, 400)  # nova asks keystone whether the project exists
    parity.done()


def test_server_external_events(world, parity):
    """An event for a server is accepted (200, code 200); one for an unknown server alone is 207
    with code 404 (never an overall 404 since Ussuri); a member may not send events."""
    t = world.tenant()
    sid = t.nova.boot("ev-" + uid(), **world.boot_body(t)).json()["server"]["id"]
    t.nova.wait(sid)
    r = world.admin.call("POST", "/os-server-external-events",
                         {"events": [{"name": "network-changed", "server_uuid": sid, "tag": "abc"}]})
    assert r.status_code == 200, r.text
    events = r.json()["events"]
    assert events == [{"name": "network-changed", "server_uuid": sid, "tag": "abc", "status": "completed", "code": 200}], events
    missing = str(uuid.uuid4())
    r = world.admin.call("POST", "/os-server-external-events",
                         {"events": [{"name": "network-vif-plugged", "server_uuid": missing}]})
    assert r.status_code == 207, r.text
    assert r.json()["events"] == [{"name": "network-vif-plugged", "server_uuid": missing, "status": "failed",
                                   "code": 404}], r.text
    r = world.admin.call("POST", "/os-server-external-events",
                         {"events": [{"name": "network-changed", "server_uuid": sid},
                                     {"name": "network-changed", "server_uuid": missing}]})
    assert r.status_code == 207, r.text
    assert [e["code"] for e in r.json()["events"]] == [200, 404]
    r = world.admin.call("POST", "/os-server-external-events",
                         {"events": [{"name": "power-update", "server_uuid": sid, "tag": "POWER_OFF"}]})
    fault(r, 400)  # power-update needs 2.76
    r = world.admin.call("POST", "/os-server-external-events", {"events": []})
    fault(r, 400)
    parity.done()
