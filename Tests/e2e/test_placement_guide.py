"""The install guide's Placement chapter, step by step, with `stratus` in place of the RPMs.

The chapter needs Keystone; the all-in-one cloud (the conftest's `cloud`, on SQLite and on
PostgreSQL) plays the controller's Identity service. Placement itself is installed the
guide's way next to it: accounts and catalog entries with `openstack`, /etc/placement/
placement.conf (a temp file), `placement-manage db sync` (as the `placement` user when we are
root, as the guide's `su -s /bin/sh -c … placement`), `placement-status upgrade check`, then
the `placement-api` daemon (the guide's httpd) on a free port.

Adapted only where a test must:
- all-in-one already registered a `placement` service user (password in DATA_DIR/placement-
  password), the `placement` catalog service and RegionOne endpoints for its own built-in
  placement. The guide's `openstack user create … placement` would collide with it, so the
  guide's user is created as `placement-guide` (same commands, same role) and this node's
  placement.conf authenticates as that user; the guide's endpoints are created on the existing
  `placement` service in a region of their own, RegionTwo, and the placement commands run
  with `--os-region-name RegionTwo` so that osc-placement (which only finds placement through
  the catalog) talks to the guide's daemon, not to all-in-one's.
- --password for --password-prompt, 127.0.0.1 and free ports for `controller`, --config-file
  for /etc/placement/placement.conf, the database URL for the MariaDB one.

The guide's verification (`resource class list`, `trait list`) runs as real `openstack`
processes; the rest of the osc-placement commands run through one long-lived `openstack`
worker (placement/osc.py) at the client's default microversion and at 1.39, to keep the CPU
bill small. Raw HTTP (requests) checks what the CLI did behind its back.
"""
import json
import os
import pwd
import random
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "placement"))

from conftest import new_postgres_database, postgres_url_or_skip  # noqa: E402
from framework.cloud import API, OPENSTACK, STRATUS, Process, clean_env, port_free, run, sourced  # noqa: E402
from osc import OSC  # noqa: E402

IS_ROOT = os.geteuid() == 0
REGION = "RegionTwo"
GUIDE_USER = "placement-guide"
GUIDE_PASSWORD = "PLACEMENT_PASS"


def free_port():
    for _ in range(200):
        port = random.randrange(10000, 32000)
        if port_free(port):
            return port
    raise RuntimeError("no free port")


def ensure_placement_user():
    try:
        pwd.getpwnam("placement")
    except KeyError:
        run(["useradd", "--system", "--user-group", "--home-dir", "/var/lib/placement", "--shell", "/sbin/nologin", "placement"])


def table_rows(text):
    """The cells of an `openstack` table, header first: [['name'], ['DISK_GB'], …]."""
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("|")]


class PlacementNode:
    """Placement installed the guide's way: placement.conf, placement-manage, the API daemon."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.dir = tempfile.mkdtemp(prefix="stratus-placement-guide-")
        os.chmod(self.dir, 0o755)
        if cloud.database:
            self.connection = new_postgres_database(postgres_url_or_skip())
        else:
            self.connection = f"sqlite:///{self.dir}/placement.db"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf = os.path.join(self.dir, "placement.conf")
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        for program in ("placement-manage", "placement-status", "placement-api"):
            os.symlink(STRATUS, os.path.join(self.bin, program))
        self.daemon = None
        self.as_placement_user = IS_ROOT

    def write_conf(self):
        with open(self.conf, "w") as f:
            f.write(f"""[placement_database]
# ...
connection = {self.connection}

[api]
# ...
auth_strategy = keystone

[keystone_authtoken]
# ...
auth_url = {self.cloud.auth_url}
memcached_servers = controller:11211
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = {GUIDE_USER}
password = {GUIDE_PASSWORD}
""")
        os.chmod(self.conf, 0o644)

    def tool(self, program, command, as_placement=False, check=True):
        """`placement-manage COMMAND` / `placement-status COMMAND` with this node's config file."""
        line = f"{self.bin}/{program} --config-file {self.conf} {command}"
        if as_placement and self.as_placement_user:
            return run(["su", "-s", "/bin/sh", "-c", line, "placement"], env=clean_env(), check=check)
        return run(["sh", "-c", line], env=clean_env(), check=check)

    def start(self):
        self.daemon = Process([os.path.join(self.bin, "placement-api"), "--config-file", self.conf,
                               "--bind", f"127.0.0.1:{self.port}"], env=clean_env())
        self.daemon.wait_for("listening")

    def destroy(self):
        if self.daemon:
            self.daemon.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def openstack(env, *args, check=True):
    """A real `openstack` process (what the guide types)."""
    return run([OPENSTACK, *args], env=env, check=check)


def install(cloud, node):
    """The chapter's 설치 및 구성 and 설치 확인 sections; returns the admin environment."""
    admin = sourced(os.path.join(cloud.data_dir, "admin-openrc"))  # . admin-openrc

    # 사용자 및 Endpoint 구성. all-in-one's own service user is there already, as the guide has it.
    assignments = openstack(admin, "role", "assignment", "list", "--user", "placement", "--project", "service",
                            "--names", "-f", "json")
    assert "admin" in assignments.stdout and "placement@Default" in assignments.stdout, assignments.stdout
    user = json.loads(openstack(admin, "user", "create", "--domain", "default", "--password", GUIDE_PASSWORD,
                                GUIDE_USER, "-f", "json").stdout)
    assert user["name"] == GUIDE_USER and user["domain_id"] == "default" and user["enabled"] is True
    assert openstack(admin, "role", "add", "--project", "service", "--user", GUIDE_USER, "admin").stdout.strip() == ""
    service = json.loads(openstack(admin, "service", "show", "placement", "-f", "json").stdout)
    assert (service["name"], service["type"]) == ("placement", "placement")
    openstack(admin, "region", "create", REGION)
    for interface in ("public", "internal", "admin"):
        e = json.loads(openstack(admin, "endpoint", "create", "--region", REGION, "placement", interface, node.url,
                                 "-f", "json").stdout)
        assert (e["interface"], e["region"], e["service_type"], e["url"]) == (interface, REGION, "placement", node.url)

    # 구성 요소 설치 및 구성: /etc/placement/placement.conf
    node.write_conf()
    if node.as_placement_user:
        ensure_placement_user()
        shutil.chown(node.dir, "placement", "placement")

    # Before the database is populated the readiness check must say so, not crash.
    # (as the placement user too, so that the SQLite file it creates stays the placement user's)
    early = node.tool("placement-status", "upgrade check", as_placement=True, check=False)
    assert early.returncode != 0, early
    assert "Upgrade Check Results" in early.stdout or "Error" in early.stdout + early.stderr, early
    assert node.tool("placement-manage", "db version", as_placement=True).stdout.strip() == "None"

    # su -s /bin/sh -c "placement-manage db sync" placement
    sync = node.tool("placement-manage", "db sync", as_placement=True)
    assert sync.stdout == "" and sync.returncode == 0
    if node.as_placement_user and not node.cloud.database:
        assert pwd.getpwuid(os.stat(os.path.join(node.dir, "placement.db")).st_uid).pw_name == "placement"
    version = node.tool("placement-manage", "db version").stdout.strip()
    assert version not in ("", "None"), version
    assert node.tool("placement-manage", "db sync").stdout == "", "db sync again is a no-op"
    assert node.tool("placement-manage", "db version").stdout.strip() == version
    migrations = node.tool("placement-manage", "db online_data_migrations")
    assert migrations.stdout.splitlines()[0] == "Running batches of 50 until complete"
    rows = table_rows(migrations.stdout)
    assert rows == [["Migration", "Total Found", "Completed"], ["set_root_provider_ids", "0", "0"],
                    ["create_incomplete_consumers", "0", "0"]], migrations.stdout

    # 설치 완료: systemctl restart httpd → the placement-api daemon
    node.start()

    # 설치 확인: placement-status upgrade check
    check = node.tool("placement-status", "upgrade check")
    lines = check.stdout.splitlines()
    assert lines[1].startswith("| Upgrade Check Results"), check.stdout
    cells = [line.strip("|").strip() for line in lines if line.startswith("|")]
    checks = [c.split(": ", 1)[1] for c in cells if c.startswith("Check: ")]
    assert {"Missing Root Provider IDs", "Incomplete Consumers", "Policy File JSON to YAML Migration"} <= set(checks), checks
    assert [c for c in cells if c.startswith("Result: ")] == ["Result: Success"] * len(checks)
    assert [c for c in cells if c.startswith("Details: ")] == ["Details: None"] * len(checks)
    assert len({len(line) for line in lines}) == 1, "every line of the table is as wide"
    return admin


@pytest.fixture(scope="module")
def node(cloud):
    """The chapter installed, its steps asserted on the way (a failed step errors every test here)."""
    n = PlacementNode(cloud)
    try:
        n.admin = install(cloud, n)
        yield n
    finally:
        n.destroy()


@pytest.fixture(scope="module")
def osc(cloud, node):
    """The `openstack` worker as the admin of admin-openrc, pointed at the guide's region."""
    worker = OSC(dict(node.admin, OS_REGION_NAME=REGION))
    yield worker
    worker.close()


def admin_http(cloud, url):
    token, _ = API(cloud).issue("admin", cloud.password, project="admin")
    s = requests.Session()
    s.headers.update({"X-Auth-Token": token, "OpenStack-API-Version": "placement latest"})
    return s


def test_guide_install_steps(cloud, node):
    """What the install left in Keystone: the guide's service user can log in to the service project
    (what [keystone_authtoken] does) and the catalog has the guide's three placement endpoints."""
    api = API(cloud)
    token, body = api.issue(GUIDE_USER, GUIDE_PASSWORD, project="service")
    assert "admin" in [r["name"] for r in body["roles"]]
    placement = next(entry for entry in body["catalog"] if entry["type"] == "placement")
    guide = sorted((e["interface"], e["url"]) for e in placement["endpoints"] if e["region_id"] == REGION)
    assert guide == [("admin", node.url), ("internal", node.url), ("public", node.url)]
    assert node.daemon.proc.poll() is None, node.daemon.output()


def test_guide_verification_commands(cloud, node):
    """The chapter's checks: resource classes and traits, as tables, from the guide's daemon."""
    env = dict(node.admin, OS_REGION_NAME=REGION)
    classes = table_rows(openstack(env, "--os-placement-api-version", "1.2", "resource", "class", "list",
                                   "--sort-column", "name").stdout)
    assert classes[0] == ["name"]
    names = [row[0] for row in classes[1:]]
    assert names == sorted(names)
    assert {"VCPU", "MEMORY_MB", "DISK_GB", "PCI_DEVICE", "SRIOV_NET_VF", "IPV4_ADDRESS", "VGPU", "PCPU",
            "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC"} <= set(names)
    assert len(names) == 21, names
    traits = table_rows(openstack(env, "--os-placement-api-version", "1.6", "trait", "list",
                                  "--sort-column", "name").stdout)
    assert traits[0] == ["name"]
    tnames = [row[0] for row in traits[1:]]
    assert tnames == sorted(tnames)
    assert {"HW_CPU_X86_AVX2", "HW_CPU_X86_SSE42", "COMPUTE_STATUS_DISABLED", "MISC_SHARES_VIA_AGGREGATE",
            "STORAGE_DISK_SSD", "COMPUTE_VOLUME_MULTI_ATTACH"} <= set(tnames)
    assert len(tnames) == 377 and not any(t.startswith("CUSTOM_") for t in tnames)


def test_cli_reaches_the_guides_daemon(cloud, node, osc):
    """`--os-region-name RegionTwo` goes to the daemon the guide installed, RegionOne to all-in-one's."""
    rp = str(uuid.uuid4())
    made = osc.json("resource", "provider", "create", "--uuid", rp, "guide-only")
    assert made["uuid"] == rp
    guide = admin_http(cloud, node.url)
    assert guide.get(f"{node.url}/resource_providers/{rp}").status_code == 200
    aio = admin_http(cloud, cloud.url("placement"))
    assert aio.get(f"{cloud.url('placement')}/resource_providers/{rp}").status_code == 404
    in_region_one = osc.run("resource", "provider", "show", rp, env=dict(node.admin, OS_REGION_NAME="RegionOne"), check=False)
    assert in_region_one.returncode == 1 and "No resource provider with uuid" in in_region_one.stderr
    osc.run("resource", "provider", "delete", rp)
    assert guide.get(f"{node.url}/resource_providers/{rp}").status_code == 404
    # The daemon accepts only Keystone tokens: nothing without one, a bogus one is refused.
    assert requests.get(f"{node.url}/resource_providers").status_code == 401
    assert requests.get(f"{node.url}/resource_providers", headers={"X-Auth-Token": "bogus"}).status_code == 401
    assert requests.get(f"{node.url}/").json()["versions"][0]["max_version"] == "1.39"


@pytest.mark.parametrize("microversion", [None, "1.39"])
def test_cli_placement_commands(cloud, node, osc, microversion):
    """Every osc-placement command a user runs, and what it prints, at the client's default
    microversion (negotiated: 1.29) and at 1.39."""
    v = ["--os-placement-api-version", microversion] if microversion else []
    tag = "V139" if microversion else "DEFAULT"
    rc_name, trait = f"CUSTOM_GUIDE_{tag}", f"CUSTOM_GUIDE_TRAIT_{tag}"
    project, user = uuid.uuid4().hex, uuid.uuid4().hex
    parent, child = str(uuid.uuid4()), str(uuid.uuid4())
    consumer = str(uuid.uuid4())
    agg1, agg2 = str(uuid.uuid4()), str(uuid.uuid4())

    def cli(*args, **kw):
        return osc.run(*v, *args, **kw)

    def js(*args):
        return osc.json(*v, *args)

    def fails(*args):
        return osc.fails(*v, *args)

    # Messages are collected and reported together at the end, so that one difference from the
    # reference does not hide the rest of the walk.
    differences = []

    def says(text, stderr):
        if text not in stderr:
            differences.append(f"expected {text!r} in {stderr!r}")

    # resource class create / show / list
    assert cli("resource", "class", "create", rc_name).stdout == ""
    assert js("resource", "class", "show", rc_name) == {"name": rc_name}
    listed = [c["name"] for c in js("resource", "class", "list")]
    assert rc_name in listed and "VCPU" in listed
    assert "Conflicting resource class already exists: " + rc_name in fails("resource", "class", "create", rc_name)
    assert "No such resource class CUSTOM_NOPE" in fails("resource", "class", "show", "CUSTOM_NOPE")

    # trait create / show / list
    assert cli("trait", "create", trait).stdout == ""
    assert js("trait", "show", trait) == {"name": trait}
    assert {"name": trait} in js("trait", "list", "--name", "startswith:CUSTOM_GUIDE_")
    assert all(t["name"].startswith("CUSTOM_GUIDE_") for t in js("trait", "list", "--name", "startswith:CUSTOM_GUIDE_"))
    assert "No such trait(s): CUSTOM_NOPE." in fails("trait", "show", "CUSTOM_NOPE")

    # resource provider create / show / list / set
    p = js("resource", "provider", "create", "--uuid", parent, f"compute-{tag}")
    assert (p["uuid"], p["name"], p["generation"]) == (parent, f"compute-{tag}", 0)
    assert (p["root_provider_uuid"], p["parent_provider_uuid"]) == (parent, None)
    c = js("resource", "provider", "create", "--uuid", child, "--parent-provider", parent, f"numa0-{tag}")
    assert (c["parent_provider_uuid"], c["root_provider_uuid"]) == (parent, parent)
    assert "Conflicting resource provider name: compute-" in fails("resource", "provider", "create", f"compute-{tag}")
    tree = js("resource", "provider", "list", "--in-tree", child)
    assert sorted(r["uuid"] for r in tree) == sorted([parent, child])
    by_name = js("resource", "provider", "list", "--name", f"numa0-{tag}")
    assert [r["uuid"] for r in by_name] == [child]
    renamed = js("resource", "provider", "set", child, "--name", f"numa-zero-{tag}")
    assert renamed["name"] == f"numa-zero-{tag}" and renamed["parent_provider_uuid"] == parent
    shown = js("resource", "provider", "show", child)
    assert (shown["name"], shown["generation"], shown["root_provider_uuid"]) == (f"numa-zero-{tag}", 0, parent)

    # inventory set / list / show / class set / delete
    inv = js("resource", "provider", "inventory", "set", parent, "--resource", "VCPU=8",
             "--resource", "VCPU:allocation_ratio=2.0", "--resource", "VCPU:max_unit=4",
             "--resource", "MEMORY_MB=4096", "--resource", "MEMORY_MB:reserved=512",
             "--resource", f"{rc_name}=5")
    by_class = {row["resource_class"]: row for row in inv}
    assert set(by_class) == {"VCPU", "MEMORY_MB", rc_name}
    assert by_class["VCPU"] == {"resource_class": "VCPU", "allocation_ratio": 2.0, "min_unit": 1, "max_unit": 4,
                                "reserved": 0, "step_size": 1, "total": 8}
    assert by_class["MEMORY_MB"]["reserved"] == 512 and by_class["MEMORY_MB"]["max_unit"] == 2147483647
    amended = js("resource", "provider", "inventory", "set", parent, "--amend", "--resource", "DISK_GB=100")
    assert {row["resource_class"]: row["total"] for row in amended} == {"VCPU": 8, "MEMORY_MB": 4096, rc_name: 5, "DISK_GB": 100}
    one = js("resource", "provider", "inventory", "class", "set", parent, "MEMORY_MB", "--total", "8192", "--reserved", "1024")
    assert (one["total"], one["reserved"], one["allocation_ratio"]) == (8192, 1024, 1.0)
    assert "No inventory record with resource class for resource provider" in fails(
        "resource", "provider", "inventory", "class", "set", child, "VCPU", "--total", "2")
    assert cli("resource", "provider", "inventory", "delete", parent, "--resource-class", "DISK_GB").stdout == ""
    listed = {row["resource_class"]: row for row in js("resource", "provider", "inventory", "list", parent)}
    assert set(listed) == {"VCPU", "MEMORY_MB", rc_name}
    assert (listed["MEMORY_MB"]["total"], listed["MEMORY_MB"]["reserved"], listed["MEMORY_MB"]["used"]) == (8192, 1024, 0)
    vcpu = js("resource", "provider", "inventory", "show", parent, "VCPU")
    assert (vcpu["total"], vcpu["allocation_ratio"], vcpu["max_unit"], vcpu["used"]) == (8, 2.0, 4, 0)
    assert f"No inventory of class DISK_GB for {parent}" in fails("resource", "provider", "inventory", "show", parent, "DISK_GB")
    js("resource", "provider", "inventory", "set", child, "--resource", "VCPU=2")

    # traits and aggregates of a provider
    set_traits = js("resource", "provider", "trait", "set", parent, "--trait", trait, "--trait", "HW_CPU_X86_AVX2")
    assert sorted(t["name"] for t in set_traits) == sorted([trait, "HW_CPU_X86_AVX2"])
    assert sorted(t["name"] for t in js("resource", "provider", "trait", "list", parent)) == sorted([trait, "HW_CPU_X86_AVX2"])
    says("No such trait CUSTOM_NOPE (HTTP 400)", fails("resource", "provider", "trait", "set", parent, "--trait", "CUSTOM_NOPE"))
    generation = js("resource", "provider", "show", parent)["generation"]
    aggs = js("resource", "provider", "aggregate", "set", parent, "--aggregate", agg1, "--aggregate", agg2,
              "--generation", str(generation))
    assert sorted(a["uuid"] for a in aggs) == sorted([agg1, agg2])
    assert sorted(a["uuid"] for a in js("resource", "provider", "aggregate", "list", parent)) == sorted([agg1, agg2])
    stale = fails("resource", "provider", "aggregate", "set", parent, "--aggregate", agg1, "--generation", str(generation))
    assert "Resource provider's generation already changed" in stale and "HTTP 409" in stale
    assert [r["uuid"] for r in js("resource", "provider", "list", "--member-of", agg2)] == [parent]

    # allocation candidates
    candidates = js("allocation", "candidate", "list", "--resource", "VCPU=2", "--resource", "MEMORY_MB=1024",
                    "--required", "HW_CPU_X86_AVX2", "--member-of", agg1)
    requests_seen = {}
    for row in candidates:
        amounts = dict(item.split("=") for item in row["allocation"].split(","))
        requests_seen.setdefault(row["#"], {})[row["resource provider"]] = amounts
    # The tree may serve the request together (1.29+): the parent alone, or the child's VCPU with
    # the parent's memory; the parent's trait counts for the whole tree.
    assert sorted(requests_seen.values(), key=len) == [
        {parent: {"VCPU": "2", "MEMORY_MB": "1024"}},
        {child: {"VCPU": "2"}, parent: {"MEMORY_MB": "1024"}},
    ], candidates
    summary = {row["resource provider"]: dict(item.split("=") for item in row["inventory used/capacity"].split(","))
               for row in candidates}
    assert summary[parent] == {"VCPU": "0/16", "MEMORY_MB": "0/7168", rc_name: "0/5"}
    assert summary[child] == {"VCPU": "0/2"}
    assert {row["resource provider"]: row["traits"] for row in candidates}[parent] in (
        f"{trait},HW_CPU_X86_AVX2", f"HW_CPU_X86_AVX2,{trait}")
    assert js("allocation", "candidate", "list", "--resource", "VCPU=64") == []

    # allocation set / show
    set_args = ["resource", "provider", "allocation", "set", consumer,
                "--allocation", f"rp={parent},VCPU=2,MEMORY_MB=1024", "--allocation", f"rp={child},VCPU=1",
                "--project-id", project, "--user-id", user]
    if microversion:
        set_args += ["--consumer-type", "INSTANCE"]
    allocs = {row["resource_provider"]: row for row in js(*set_args)}
    assert allocs[parent]["resources"] == {"VCPU": 2, "MEMORY_MB": 1024} and allocs[child]["resources"] == {"VCPU": 1}
    assert allocs[parent]["project_id"] == project and allocs[parent]["user_id"] == user
    if microversion:
        assert allocs[parent]["consumer_type"] == "INSTANCE"
    shown = {row["resource_provider"]: row for row in js("resource", "provider", "allocation", "show", consumer)}
    assert shown[parent]["resources"] == {"VCPU": 2, "MEMORY_MB": 1024} and shown[parent]["generation"] >= 1
    assert shown[child]["project_id"] == project

    # usages
    usage = {row["resource_class"]: row["usage"] for row in js("resource", "provider", "usage", "show", parent)}
    assert usage == {"VCPU": 2, "MEMORY_MB": 1024, rc_name: 0}
    project_usage = {row["resource_class"]: row["usage"] for row in js("resource", "usage", "show", project)}
    if microversion:
        assert project_usage == {"INSTANCE": {"VCPU": 3, "MEMORY_MB": 1024, "consumer_count": 1}}
    else:
        assert project_usage == {"VCPU": 3, "MEMORY_MB": 1024}
    user_usage = {row["resource_class"]: row["usage"] for row in js("resource", "usage", "show", project, "--user-id", uuid.uuid4().hex)}
    assert user_usage == {}
    with_allocs = js("resource", "provider", "show", parent, "--allocations")
    assert with_allocs["allocations"][consumer]["resources"] == {"VCPU": 2, "MEMORY_MB": 1024}
    assert js("resource", "provider", "inventory", "show", parent, "VCPU")["used"] == 2

    # what a provider in use refuses
    # the reference checks for children before allocations
    says(f"Unable to delete parent resource provider {parent}: It has child resource providers. (HTTP 409)",
         fails("resource", "provider", "delete", parent))
    says(f"Unable to delete resource provider {child}: Resource provider has allocations. (HTTP 409)",
         fails("resource", "provider", "delete", child))
    assert "in use" in fails("resource", "provider", "inventory", "set", child, "--resource", "MEMORY_MB=64")
    assert f"Cannot delete resource class {rc_name}. Class is in use in inventory." in fails("resource", "class", "delete", rc_name)
    assert f"The trait {trait} is in use by a resource provider." in fails("trait", "delete", trait)
    too_much = fails(*set_args[:4], str(uuid.uuid4()), "--allocation", f"rp={parent},VCPU=15", *set_args[9:])
    assert "violate inventory constraints" in too_much or "exceed the capacity" in too_much

    # allocation unset / delete
    after = {row["resource_provider"]: row for row in js("resource", "provider", "allocation", "unset", consumer,
                                                           "--resource-class", "MEMORY_MB")}
    assert after[parent]["resources"] == {"VCPU": 2} and after[child]["resources"] == {"VCPU": 1}
    after = {row["resource_provider"]: row for row in js("resource", "provider", "allocation", "unset", consumer,
                                                           "--provider", child)}
    assert set(after) == {parent} and after[parent]["project_id"] == project
    assert cli("resource", "provider", "allocation", "delete", consumer).stdout == ""
    assert js("resource", "provider", "allocation", "show", consumer) == []
    assert f"No allocations for consumer '{consumer}'" in fails("resource", "provider", "allocation", "delete", consumer)
    assert {row["resource_class"]: row["usage"] for row in js("resource", "provider", "usage", "show", parent)}["VCPU"] == 0
    assert js("resource", "usage", "show", project) == []

    # take everything down again
    assert cli("resource", "provider", "trait", "delete", parent).stdout == ""
    assert js("resource", "provider", "trait", "list", parent) == []
    assert cli("trait", "delete", trait).stdout == ""
    assert "No such trait(s): " + trait in fails("trait", "show", trait)
    assert "Cannot delete standard trait HW_CPU_X86_AVX2." in fails("trait", "delete", "HW_CPU_X86_AVX2")
    assert cli("resource", "provider", "inventory", "delete", parent).stdout == ""
    assert js("resource", "provider", "inventory", "list", parent) == []
    assert cli("resource", "class", "delete", rc_name).stdout == ""
    assert "No such resource class " + rc_name in fails("resource", "class", "show", rc_name)
    assert "Cannot delete standard resource class VCPU." in fails("resource", "class", "delete", "VCPU")
    assert cli("resource", "provider", "delete", child).stdout == ""
    assert cli("resource", "provider", "delete", parent).stdout == ""
    assert f"No resource provider with uuid {parent} found" in fails("resource", "provider", "show", parent)
    assert js("resource", "provider", "list", "--name", f"compute-{tag}") == []
    assert not differences, "\n".join(differences)


def test_upgrade_check_after_use(cloud, node):
    """The readiness check and the data migrations still have nothing to report on a used database."""
    assert node.tool("placement-status", "upgrade check").returncode == 0
    assert node.tool("placement-manage", "db online_data_migrations").returncode == 0


def test_db_sync_refused_by_the_database_fails_cleanly():
    """`db sync` on a SQLite file its user may not write (the guide's `su … placement` after a
    root-run command created the file) must exit with an error message, not crash."""
    top = tempfile.mkdtemp(prefix="stratus-placement-ro-")
    d = Path(top) / "node"
    d.mkdir()
    os.chmod(top, 0o755)
    os.chmod(d, 0o755)
    conf = d / "placement.conf"
    conf.write_text(f"[placement_database]\nconnection = sqlite:///{d}/placement.db\n")
    os.chmod(conf, 0o644)
    run([STRATUS, "placement-manage", "--config-file", str(conf), "db", "version"], env=clean_env())
    assert (d / "placement.db").exists()
    line = f"{STRATUS} placement-manage --config-file {conf} db sync"
    if IS_ROOT:
        ensure_placement_user()
        shutil.chown(d, "placement", "placement")
        result = run(["su", "-s", "/bin/sh", "-c", line, "placement"], env=clean_env(), check=False)
    else:
        os.chmod(d / "placement.db", 0o444)
        result = run(["sh", "-c", line], env=clean_env(), check=False)
    assert "crashed" not in result.stderr and "Assertion failed" not in result.stderr, result.stderr[:400]
    assert result.returncode == 1, (result.returncode, result.stderr[:400])
    assert "readonly" in result.stderr.lower() or "read-only" in result.stderr.lower() or "permission" in result.stderr.lower()
    shutil.rmtree(top, ignore_errors=True)


def test_guide_database_options():
    """The chapter's 'Synchronize the database': without [placement_database] connection the
    service does not start; with sync_on_startup = True the API migrates an empty database itself."""
    d = tempfile.mkdtemp(prefix="stratus-placement-db-")
    try:
        bare = os.path.join(d, "bare.conf")
        with open(bare, "w") as f:
            f.write("[api]\nauth_strategy = noauth2\n")
        r = run([STRATUS, "placement-api", "--config-file", bare, "--bind", f"127.0.0.1:{free_port()}"],
                env=clean_env(), check=False, timeout=30)
        assert r.returncode != 0 and "[placement_database] connection" in r.stderr, r
        r = run([STRATUS, "placement-manage", "--config-file", bare, "db", "sync"], env=clean_env(), check=False)
        assert r.returncode != 0 and "[placement_database] connection" in r.stderr, r

        unsynced = os.path.join(d, "unsynced.conf")
        with open(unsynced, "w") as f:
            f.write(f"[placement_database]\nconnection = sqlite:///{d}/unsynced.db\n[api]\nauth_strategy = noauth2\n")
        r = run([STRATUS, "placement-api", "--config-file", unsynced, "--bind", f"127.0.0.1:{free_port()}"],
                env=clean_env(), check=False, timeout=30)
        assert r.returncode != 0 and "db sync" in r.stderr, r

        synced = os.path.join(d, "sync-on-startup.conf")
        with open(synced, "w") as f:
            f.write(f"[placement_database]\nconnection = sqlite:///{d}/auto.db\nsync_on_startup = True\n"
                    "[api]\nauth_strategy = noauth2\n")
        port = free_port()
        daemon = Process([STRATUS, "placement-api", "--config-file", synced, "--bind", f"127.0.0.1:{port}"], env=clean_env())
        try:
            daemon.wait_for("listening")
            r = requests.get(f"http://127.0.0.1:{port}/resource_classes",
                             headers={"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.2"})
            assert r.status_code == 200 and len(r.json()["resource_classes"]) == 21
        finally:
            daemon.stop()
        r = run([STRATUS, "placement-manage", "--config-file", synced, "db", "version"], env=clean_env())
        assert r.stdout.strip() not in ("", "None")
    finally:
        shutil.rmtree(d, ignore_errors=True)
