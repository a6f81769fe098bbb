"""The install guide's Nova chapter (controller node and compute node), step by step, with
`stratus` in place of the RPMs, then a server's life with the real `openstack` CLI.

The all-in-one cloud (the conftest's `cloud`, on SQLite and on PostgreSQL) plays the
controller's Identity, Image, Placement and Networking services. Nova is installed the
guide's way beside it: the service user and the endpoints with `openstack`, /etc/nova/nova.conf
(a temp file with the guide's options), `nova-manage api_db sync`, `cell_v2 map_cell0`,
`cell_v2 create_cell --name=cell1 --verbose`, `db sync`, `cell_v2 list_cells` (as the `nova`
user when we are root, as the guide's `su -s /bin/sh -c … nova`), then the controller's daemons
(nova-api, nova-scheduler, nova-conductor) and the compute node's nova-compute as separate
processes, `openstack compute service list --service nova-compute`, `nova-manage cell_v2
discover_hosts --verbose` and `nova-status upgrade check`.

Adapted only where a test must:
- all-in-one already registered a `nova` service user and `compute` endpoints for its own
  built-in Compute service, so the guide's user is `nova-guide` and the guide's endpoints go in
  RegionTwo; the CLI runs with `--os-region-name RegionTwo` to reach the guide's nova-api.
- Identity, Image and Networking only exist in RegionOne (all-in-one's); the CLI resolves
  `--image` and `--network` through the endpoints of its own region (and `flavor create` fails
  with "public endpoint for identity service in RegionTwo region not found"), so this test also
  registers RegionTwo `identity`, `image` and `network` endpoints with all-in-one's URLs (a second region sharing the first
  region's services). nova itself reaches them as nova.conf says: `[glance] api_servers`,
  `[neutron] region_name = RegionOne`, `[placement] region_name = RegionOne`.
- `compute_driver = fake.FakeDriver` (no QEMU on the test machine; the README's guide table),
  `[service_user]` (nova 34 requires it, the README's guide table), `[DEFAULT] host =
  guide-compute` for the compute node (a second --config-file, as a second machine's own
  nova.conf would differ), `osapi_compute_listen_port` for a free port, `--config-file` on
  every command (the guide's default /etc/nova/nova.conf is not ours), --password for
  --password-prompt, 127.0.0.1 for `controller`, the database URLs for the MariaDB ones.
- The [placement] and [neutron] credentials are nova-guide's (the guide's `placement` and
  `neutron` users are all-in-one's, whose passwords this test does not know).
"""
import json
import os
import pwd
import random
import re
import shutil
import subprocess
import tempfile
import time
from urllib import parse

import prettytable
import pytest
import requests

from conftest import new_postgres_database, postgres_url_or_skip
from framework.cloud import API, OPENSTACK, STRATUS, Process, clean_env, port_free, run, sourced

IS_ROOT = os.geteuid() == 0
REGION = "RegionTwo"
GUIDE_USER = "nova-guide"
GUIDE_PASSWORD = "NOVA_PASS"
COMPUTE_HOST = "guide-compute"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CELL0 = "00000000-0000-0000-0000-000000000000"
PROGRAMS = ("nova-manage", "nova-status", "nova-api", "nova-scheduler", "nova-conductor", "nova-compute")


def free_port():
    for _ in range(200):
        port = random.randrange(10000, 32000)
        if port_free(port):
            return port
    raise RuntimeError("no free port")


def ensure_nova_user():
    try:
        pwd.getpwnam("nova")
    except KeyError:
        run(["useradd", "--system", "--user-group", "--home-dir", "/var/lib/nova", "--shell", "/sbin/nologin", "nova"])


def mask_passwd_in_url(url):
    """nova.utils.mask_passwd_in_url, as `nova-manage cell_v2 list_cells` prints URLs."""
    parsed = parse.urlparse(url)
    safe_netloc = re.sub(":.*@", ":****@", parsed.netloc)
    return parse.urlunparse(parse.ParseResult(parsed.scheme, safe_netloc, parsed.path, parsed.params,
                                              parsed.query, parsed.fragment))


def table_rows(text):
    """The data rows of a prettytable (header first), cells stripped."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|")]
    return rows


class NovaNode:
    """The guide's controller (nova-api, nova-scheduler, nova-conductor) and compute node."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.dir = tempfile.mkdtemp(prefix="stratus-nova-guide-")
        os.chmod(self.dir, 0o755)
        if cloud.database:
            base = postgres_url_or_skip()
            self.api_connection = new_postgres_database(base)
            self.connection = new_postgres_database(base)
        else:
            self.api_connection = f"sqlite:///{self.dir}/nova_api.sqlite"
            self.connection = f"sqlite:///{self.dir}/nova.sqlite"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v2.1"
        self.conf = os.path.join(self.dir, "nova.conf")
        self.compute_conf = os.path.join(self.dir, "compute.conf")
        self.no_service_user = os.path.join(self.dir, "no-service-user.conf")
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        for program in PROGRAMS:
            os.symlink(STRATUS, os.path.join(self.bin, program))
        self.daemons = {}
        self.as_nova_user = IS_ROOT

    @property
    def identity_root(self):
        return self.cloud.auth_url.rsplit("/v3", 1)[0]

    def nova_conf(self, service_user=True):
        root = self.identity_root
        text = f"""[DEFAULT]
# ...
enabled_apis = osapi_compute,metadata
transport_url = rabbit://openstack:RABBIT_PASS@controller:5672/
my_ip = 127.0.0.1
use_neutron = true
firewall_driver = nova.virt.firewall.NoopFirewallDriver
# Stratus: nova's option of the API's port (the guide's 8774 may be taken)
osapi_compute_listen_port = {self.port}
# the test's one addition: no QEMU here
compute_driver = fake.FakeDriver

[api_database]
# ...
connection = {self.api_connection}

[database]
# ...
connection = {self.connection}

[api]
# ...
auth_strategy = keystone

[keystone_authtoken]
# ...
www_authenticate_uri = {root}/
auth_url = {root}/
memcached_servers = controller:11211
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = {GUIDE_USER}
password = {GUIDE_PASSWORD}
region_name = {REGION}

[vnc]
enabled = true
# ...
server_listen = $my_ip
server_proxyclient_address = $my_ip

[glance]
# ...
api_servers = {self.cloud.url("image").rstrip("/")}

[oslo_concurrency]
# ...
lock_path = {self.dir}/tmp

[placement]
# ...
region_name = RegionOne
project_domain_name = Default
project_name = service
auth_type = password
user_domain_name = Default
auth_url = {root}/v3
username = {GUIDE_USER}
password = {GUIDE_PASSWORD}

[neutron]
# ...
auth_url = {root}
auth_type = password
project_domain_name = Default
user_domain_name = Default
region_name = RegionOne
project_name = service
username = {GUIDE_USER}
password = {GUIDE_PASSWORD}

[libvirt]
# ...
virt_type = qemu
"""
        if service_user:
            text += f"""
[service_user]
send_service_user_token = true
auth_url = {root}/v3
auth_type = password
project_domain_name = Default
project_name = service
user_domain_name = Default
username = {GUIDE_USER}
password = {GUIDE_PASSWORD}
"""
        return text

    def write_conf(self):
        with open(self.conf, "w") as f:
            f.write(self.nova_conf())
        with open(self.no_service_user, "w") as f:
            f.write(self.nova_conf(service_user=False))
        with open(self.compute_conf, "w") as f:
            f.write(f"[DEFAULT]\nhost = {COMPUTE_HOST}\n\n[vnc]\nserver_listen = 0.0.0.0\n"
                    "novncproxy_base_url = http://controller:6080/vnc_auto.html\n")
        for path in (self.conf, self.compute_conf, self.no_service_user):
            os.chmod(path, 0o644)

    def command(self, program, line, as_nova=True, check=True, conf=None):
        text = f"{self.bin}/{program} --config-file {conf or self.conf} {line}"
        if as_nova and self.as_nova_user:
            return run(["su", "-s", "/bin/sh", "-c", text, "nova"], env=clean_env(), check=check)
        return run(["sh", "-c", text], env=clean_env(), check=check)

    def manage(self, line, **kwargs):
        return self.command("nova-manage", line, **kwargs)

    def start(self, program, *configs, wait="running"):
        args = [os.path.join(self.bin, program)]
        for c in configs or (self.conf,):
            args += ["--config-file", c]
        daemon = Process(args, env=clean_env())
        self.daemons[program] = daemon
        daemon.wait_for(wait)
        return daemon

    def destroy(self):
        for d in self.daemons.values():
            d.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def openstack(env, *args, check=True, timeout=180):
    return run([OPENSTACK, *args], env=env, check=check, timeout=timeout)


def cli(env, *args, **kwargs):
    return json.loads(openstack(env, *args, "-f", "json", **kwargs).stdout)


def install(cloud, node):
    """The chapter's controller steps; returns the admin environment pointed at the guide's region."""
    admin = sourced(os.path.join(cloud.data_dir, "admin-openrc"))
    user = json.loads(openstack(admin, "user", "create", "--domain", "default", "--password", GUIDE_PASSWORD,
                                GUIDE_USER, "-f", "json").stdout)
    assert user["name"] == GUIDE_USER and user["enabled"] is True
    # openstack role add --project service --user nova admin: no output
    assert openstack(admin, "role", "add", "--project", "service", "--user", GUIDE_USER, "admin").stdout.strip() == ""
    service = cli(admin, "service", "show", "nova")
    assert (service["name"], service["type"]) == ("nova", "compute")
    openstack(admin, "region", "create", REGION)
    for interface in ("public", "internal", "admin"):
        e = cli(admin, "endpoint", "create", "--region", REGION, "compute", interface, node.url)
        assert (e["interface"], e["service_type"], e["url"], e["region"]) == (interface, "compute", node.url, REGION)
        # The adaptation (docstring): RegionTwo shares RegionOne's Image and Networking.
        for service_type in ("identity", "image", "network"):
            cli(admin, "endpoint", "create", "--region", REGION, service_type, interface, cloud.url(service_type))

    node.write_conf()
    if node.as_nova_user:
        ensure_nova_user()
        shutil.chown(node.dir, "nova", "nova")
    return admin


@pytest.fixture(scope="module")
def node(cloud):
    n = NovaNode(cloud)
    try:
        n.admin = install(cloud, n)
        n.env = dict(n.admin, OS_REGION_NAME=REGION)
        yield n
    finally:
        n.destroy()


def test_databases_and_cells(cloud, node):
    """api_db sync, map_cell0, create_cell --verbose, db sync, list_cells: what nova prints."""
    # su -s /bin/sh -c "nova-manage api_db sync" nova
    sync = node.manage("api_db sync")
    assert sync.stdout.strip() == "", sync.stdout
    if node.as_nova_user and not cloud.database:
        assert pwd.getpwuid(os.stat(os.path.join(node.dir, "nova_api.sqlite")).st_uid).pw_name == "nova"
    # su -s /bin/sh -c "nova-manage cell_v2 map_cell0" nova
    cell0 = node.manage("cell_v2 map_cell0")
    assert cell0.stdout.strip() == "", cell0.stdout
    assert node.manage("cell_v2 map_cell0").stdout.strip() == "Cell0 is already setup"
    # su -s /bin/sh -c "nova-manage cell_v2 create_cell --name=cell1 --verbose" nova
    created = node.manage("cell_v2 create_cell --name=cell1 --verbose")
    assert re.fullmatch(UUID, created.stdout.strip()), created.stdout
    node.cell1 = created.stdout.strip()
    again = node.manage("cell_v2 create_cell --name=cell1 --verbose", check=False)
    assert again.returncode == 2, (again.returncode, again.stdout, again.stderr)
    assert again.stdout.strip() == ("The specified transport_url and/or database_connection combination already "
                                    f"exists for another cell with uuid {node.cell1}.")
    # su -s /bin/sh -c "nova-manage db sync" nova
    db = node.manage("db sync")
    assert db.stdout.strip() == "", db.stdout
    if node.as_nova_user and not cloud.database:
        for name in ("nova.sqlite", "nova_cell0.sqlite"):
            assert pwd.getpwuid(os.stat(os.path.join(node.dir, name)).st_uid).pw_name == "nova", name

    # su -s /bin/sh -c "nova-manage cell_v2 list_cells" nova
    listed = node.manage("cell_v2 list_cells")
    root, ext = os.path.splitext(node.connection)  # nova: "_cell0" after the database's name
    cell0_url = root + "_cell0" + ext
    # (a SQLite URL has no password: shown as written)
    masked = mask_passwd_in_url if cloud.database else (lambda url: url)
    expected = [
        # the guide's picture shows cell0's transport URL as nova prints it: none:/
        ["cell0", CELL0, "none:/", masked(cell0_url), "False"],
        ["cell1", node.cell1, mask_passwd_in_url("rabbit://openstack:RABBIT_PASS@controller:5672/"),
         masked(node.connection), "False"],
    ]
    rows = table_rows(listed.stdout)
    assert rows[0] == ["Name", "UUID", "Transport URL", "Database Connection", "Disabled"]
    assert rows[1:] == expected, listed.stdout
    assert "RABBIT_PASS" not in listed.stdout and ":****@controller" in listed.stdout
    if cloud.database:
        assert ":stratus@" not in listed.stdout and ":****@127.0.0.1" in listed.stdout


def test_list_cells_is_novas_table(node):
    """nova-manage prints a prettytable: headers and cells centred."""
    t = prettytable.PrettyTable(["Name", "UUID", "Transport URL", "Database Connection", "Disabled"])
    for row in table_rows(node.manage("cell_v2 list_cells").stdout)[1:]:
        t.add_row(row)
    assert node.manage("cell_v2 list_cells").stdout.rstrip("\n") == str(t)


def test_controller_and_compute_daemons(cloud, node):
    """systemctl start openstack-nova-api, -scheduler, -conductor; then the compute node's
    nova-compute; the compute service is listed before discover_hosts, which maps it."""
    api = node.start("nova-api", wait="listening")
    node.start("nova-scheduler")
    node.start("nova-conductor")
    # transport_url is accepted and noted, not an error
    assert api.proc.poll() is None
    r = requests.get(node.url + "/servers")
    assert r.status_code == 401 and node.identity_root in r.headers.get("WWW-Authenticate", "")
    versions = requests.get(f"http://127.0.0.1:{node.port}/").json()["versions"]
    assert [v["id"] for v in versions] == ["v2.0", "v2.1"]

    # compute node: systemctl start libvirtd.service openstack-nova-compute.service
    node.start("nova-compute", node.conf, node.compute_conf)

    # openstack compute service list --service nova-compute
    deadline = time.time() + 60
    computes = []
    while time.time() < deadline and not computes:
        computes = cli(node.env, "compute", "service", "list", "--service", "nova-compute")
        time.sleep(1)
    assert [(c["Binary"], c["Host"], c["Zone"], c["Status"], c["State"]) for c in computes] == [
        ("nova-compute", COMPUTE_HOST, "nova", "enabled", "up")], computes

    # su -s /bin/sh -c "nova-manage cell_v2 discover_hosts --verbose" nova
    before = node.manage("cell_v2 list_hosts")
    assert table_rows(before.stdout) == [["Cell Name", "Cell UUID", "Hostname"]], before.stdout
    hypervisors = cli(node.env, "hypervisor", "list")
    assert [h["Hypervisor Hostname"] for h in hypervisors] == [COMPUTE_HOST], hypervisors
    node_uuid = hypervisors[0]["ID"]
    discovered = node.manage("cell_v2 discover_hosts --verbose")
    assert discovered.stdout.splitlines() == [
        "Found 2 cell mappings.",
        "Skipping cell0 since it does not contain hosts.",
        f"Getting computes from cell 'cell1': {node.cell1}",
        # nova prints the compute node's uuid here (host_mapping._check_and_create_node_host_mappings)
        f"Checking host mapping for compute host '{COMPUTE_HOST}': {node_uuid}",
        f"Creating host mapping for compute host '{COMPUTE_HOST}': {node_uuid}",
        f"Found 1 unmapped computes in cell: {node.cell1}",
    ], discovered.stdout
    second = node.manage("cell_v2 discover_hosts --verbose")
    assert f"Found 0 unmapped computes in cell: {node.cell1}" in second.stdout
    assert "Creating host mapping" not in second.stdout
    hosts = node.manage("cell_v2 list_hosts")
    assert table_rows(hosts.stdout)[1:] == [["cell1", node.cell1, COMPUTE_HOST]], hosts.stdout


def test_verify_operation(cloud, node):
    """openstack compute service list (three services up), catalog list, image list,
    nova-status upgrade check."""
    services = cli(node.env, "compute", "service", "list")
    by_binary = {s["Binary"]: s for s in services}
    assert sorted(by_binary) == ["nova-compute", "nova-conductor", "nova-scheduler"], services
    assert all(s["State"] == "up" and s["Status"] == "enabled" for s in services), services
    assert by_binary["nova-compute"]["Host"] == COMPUTE_HOST
    assert by_binary["nova-conductor"]["Zone"] == "internal" and by_binary["nova-compute"]["Zone"] == "nova"

    catalog = cli(node.admin, "catalog", "list")
    compute = next(c for c in catalog if c["Type"] == "compute")
    urls = {(e["region"], e["interface"]): e["url"] for e in compute["Endpoints"]}
    assert urls[(REGION, "public")] == node.url and urls[(REGION, "internal")] == node.url
    assert openstack(node.admin, "image", "list").returncode == 0

    check = node.command("nova-status", "upgrade check", check=False)
    assert check.returncode == 0, (check.returncode, check.stdout, check.stderr)
    results = re.findall(r"\| Check: (.+?)\s*\|?\n\| Result: (\w+)", check.stdout)
    assert [name for name, _ in results] == [
        "Cells v2", "Placement API", "Cinder API", "Policy File JSON to YAML Migration", "Older than N-1 computes",
        "hw_machine_type unset", "Service User Token Configuration"], check.stdout
    assert {result for _, result in results} == {"Success"}, check.stdout

    failing = node.command("nova-status", "upgrade check", check=False, conf=node.no_service_user)
    assert failing.returncode == 2, (failing.returncode, failing.stdout, failing.stderr)
    results = dict(re.findall(r"\| Check: (.+?)\s*\|?\n\| Result: (\w+)", failing.stdout))
    assert results["Service User Token Configuration"] == "Failure" and results["Cells v2"] == "Success"
    # oslo.upgradecheck wraps the details at 60 columns inside the table: compare the words.
    words = " ".join(failing.stdout.replace("|", " ").split())
    assert "Service user token configuration is required for all Nova services." in words


def test_upgrade_check_is_oslo_table(node):
    """oslo.upgradecheck prints one prettytable, left-aligned, a rule between checks and
    details wrapped at 60 columns: every line ends with its border."""
    out = node.command("nova-status", "upgrade check", check=False).stdout.rstrip("\n").splitlines()
    widths = {len(line) for line in out}
    assert len(widths) == 1, out
    assert out[0] == out[2] and set(out[0]) == {"+", "-"}, out[:3]
    assert out[1].startswith("| Upgrade Check Results") and out[1].endswith("|")
    assert all(line.endswith("|") or line.endswith("+") for line in out)


def test_server_walkthrough(cloud, node, tmp_path):
    """The launch-an-instance chapter on the guide's compute node: flavor, key pair, network,
    image, server create --wait, list, show, set, stop, start, reboot --hard, delete --wait."""
    env = node.env
    one = dict(node.admin, OS_REGION_NAME="RegionOne")
    flavor = cli(env, "flavor", "create", "--id", "0", "--vcpus", "1", "--ram", "64", "--disk", "1", "m1.nano")
    assert (flavor["name"], flavor["id"], flavor["vcpus"], flavor["ram"], flavor["disk"]) == ("m1.nano", "0", 1, 64, 1)
    key = tmp_path / "id_rsa"
    run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(key)])
    pair = cli(env, "keypair", "create", "--public-key", f"{key}.pub", "mykey")
    fingerprint = run(["ssh-keygen", "-l", "-E", "md5", "-f", f"{key}.pub"]).stdout.split()[1].removeprefix("MD5:")
    assert (pair["name"], pair["fingerprint"]) == ("mykey", fingerprint)
    assert [k["Name"] for k in cli(env, "keypair", "list")] == ["mykey"]

    net = cli(one, "network", "create", "selfservice")
    cli(one, "subnet", "create", "--network", "selfservice", "--dns-nameserver", "8.8.4.4", "--gateway", "172.16.1.1",
        "--subnet-range", "172.16.1.0/24", "selfservice")
    disk = tmp_path / "cirros.img"
    disk.write_bytes(b"\0" * 65536)
    image = cli(one, "image", "create", "--disk-format", "raw", "--container-format", "bare", "--public",
                "--file", str(disk), "cirros")
    assert image["status"] == "active"

    server = cli(env, "server", "create", "--flavor", "m1.nano", "--image", "cirros", "--network", "selfservice",
                 "--security-group", "default", "--key-name", "mykey", "--wait", "provider-instance")
    assert server["status"] == "ACTIVE", server
    assert server["OS-EXT-SRV-ATTR:host"] == COMPUTE_HOST
    assert server["key_name"] == "mykey" and "m1.nano" in str(server["flavor"])
    addresses = server["addresses"]
    assert list(addresses) == ["selfservice"] and addresses["selfservice"][0].startswith("172.16.1."), addresses
    ip = addresses["selfservice"][0]

    listed = cli(env, "server", "list")
    assert [(s["Name"], s["Status"], s["Image"], s["Flavor"]) for s in listed] == [
        ("provider-instance", "ACTIVE", "cirros", "m1.nano")], listed
    assert listed[0]["Networks"] == {"selfservice": [ip]}

    # nova told neutron and placement: one bound port on the compute host, one allocation
    [port] = cli(one, "port", "list", "--device-id", server["id"])
    shown_port = cli(one, "port", "show", port["ID"])
    assert shown_port["device_owner"] == "compute:nova" and shown_port["binding_host_id"] == COMPUTE_HOST
    assert shown_port["status"] == "ACTIVE" and shown_port["fixed_ips"][0]["ip_address"] == ip
    token, _ = API(cloud).issue("admin", cloud.password, project="admin")
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "placement 1.28"}
    allocations = requests.get(f"{cloud.url('placement')}/allocations/{server['id']}", headers=headers).json()["allocations"]
    assert [a["resources"] for a in allocations.values()] == [{"VCPU": 1, "MEMORY_MB": 64, "DISK_GB": 1}]

    openstack(env, "server", "set", "--name", "renamed", "--property", "role=web", "provider-instance")
    shown = cli(env, "server", "show", "renamed")
    assert shown["name"] == "renamed" and shown["properties"] == {"role": "web"}

    openstack(env, "server", "stop", "renamed")
    wait_status(env, "renamed", "SHUTOFF")
    assert cli(env, "server", "show", "renamed")["OS-EXT-STS:power_state"] in ("Shutdown", 4)
    openstack(env, "server", "start", "renamed")
    wait_status(env, "renamed", "ACTIVE")
    openstack(env, "server", "reboot", "--hard", "--wait", "renamed")
    assert cli(env, "server", "show", "renamed")["status"] == "ACTIVE"
    actions = [a["Action"] for a in cli(env, "server", "event", "list", "renamed")]
    assert sorted(actions) == sorted(["create", "stop", "start", "reboot"]), actions

    openstack(env, "server", "delete", "--wait", "renamed")
    assert cli(env, "server", "list") == []
    assert cli(one, "port", "list", "--device-id", server["id"]) == []
    gone = requests.get(f"{cloud.url('placement')}/allocations/{server['id']}", headers=headers).json()["allocations"]
    assert gone == {}
    # --min/--max: one request, five servers named <name>-1…5, all ACTIVE; then all deleted.
    openstack(env, "server", "create", "--flavor", "m1.nano", "--image", "cirros", "--network", "selfservice", "--min", "5", "--max", "5",
              "--wait", "fleet")
    fleet = {s["Name"]: s["Status"] for s in cli(env, "server", "list")}
    assert fleet == {f"fleet-{n}": "ACTIVE" for n in range(1, 6)}, fleet
    openstack(env, "server", "delete", "--wait", *fleet)
    assert cli(env, "server", "list") == []
    missing = openstack(env, "server", "show", "renamed", check=False)
    # The CLI looks the name up (GET /servers/renamed, then ?name=renamed) and finds nothing; its
    # wording depends on the openstackclient release, so only the outcome is asserted.
    assert missing.returncode == 1 and "renamed" in missing.stderr and ("No Server found" in missing.stderr or "No server with" in missing.stderr)


def wait_status(env, name, status, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        current = cli(env, "server", "show", name)["status"]
        if current == status:
            return
        time.sleep(1)
    raise AssertionError(f"{name} is {current}, not {status}, after {timeout}s")
