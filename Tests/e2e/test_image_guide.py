"""The install guide's Glance chapter, step by step, with `stratus` in place of the RPMs.

The chapter needs Keystone; the all-in-one cloud (the conftest's `cloud`, on SQLite and on
PostgreSQL) plays the controller's Identity service. Glance itself is installed the guide's
way next to it: the service user and catalog endpoints with `openstack`, /etc/glance/
glance-api.conf (a temp file), `glance-manage db_sync` (as the `glance` user when we are root,
as the guide's `su -s /bin/sh -c "glance-manage db_sync" glance`), then the `glance-api` daemon
(the guide's openstack-glance-api.service) on a free port; then the chapter's verification with
the real clients: `glance image-create` of a small qcow2 (the guide's CirrOS), `glance
image-list`, and `openstack image list/show/save`.

Adapted only where a test must:
- all-in-one already registered a `glance` service user, the `glance` catalog service of type
  `image` and RegionOne endpoints for its own built-in glance. The guide's user is created as
  `glance-guide` (same commands, same role) and this node's glance-api.conf authenticates as it;
  instead of a second `image` service the guide's endpoints go on the existing one in a region
  of their own, RegionTwo, and the clients run with OS_REGION_NAME=RegionTwo so that they talk
  to the guide's daemon, not to all-in-one's.
- --password for --password-prompt, 127.0.0.1 and free ports for `controller`, --config-file
  for /etc/glance/glance-api.conf, SQLite or a fresh PostgreSQL database for the MariaDB one,
  a temp directory for /var/lib/glance/images/, a crafted 1 GiB-virtual qcow2 (scripts/image/
  format_fixtures.py) for cirros-0.4.0-x86_64-disk.img.
"""
import hashlib
import json
import os
import pwd
import random
import shutil
import subprocess
import sys
import tempfile

import pytest
import requests

from conftest import new_postgres_database, postgres_url_or_skip
from framework.cloud import API, OPENSTACK, ROOT, STRATUS, VENV_BIN, CommandFailed, Process, clean_env, port_free, sourced

IS_ROOT = os.geteuid() == 0
REGION = "RegionTwo"
GUIDE_USER = "glance-guide"
GUIDE_PASSWORD = "GLANCE_PASS"
GLANCE = os.path.join(VENV_BIN, "glance")
VERSIONS = ["v2.15", "v2.9", "v2.17", "v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"]


def free_port():
    for _ in range(200):
        port = random.randrange(10000, 32000)
        if port_free(port):
            return port
    raise RuntimeError("no free port")


def ensure_glance_user():
    try:
        pwd.getpwnam("glance")
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--home-dir", "/var/lib/glance", "--shell", "/sbin/nologin",
                        "glance"], check=True, capture_output=True)


def run(args, env, check=True, timeout=120):
    """A command as a user types it: stdin is not a terminal (/dev/null), output collected."""
    result = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise CommandFailed(args, result)
    return result


def table(text):
    """A client's `Property | Value` table as a dict (a value wrapped onto more lines joined again)."""
    out, key = {}, None
    for row in rows(text)[1:]:
        if row[0]:
            key = row[0]
            out[key] = row[1]
        else:
            out[key] += row[1]
    return out


def rows(text):
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines() if line.startswith("|")]


class GlanceNode:
    """Glance installed the guide's way: glance-api.conf, glance-manage, the API daemon."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.dir = tempfile.mkdtemp(prefix="stratus-glance-guide-")
        os.chmod(self.dir, 0o755)
        if cloud.database:
            self.connection = new_postgres_database(postgres_url_or_skip())
        else:
            self.connection = f"sqlite:///{self.dir}/glance.db"
        self.images = os.path.join(self.dir, "images")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.identity = cloud.auth_url.rsplit("/v3", 1)[0]  # the guide's http://controller:5000
        self.conf = os.path.join(self.dir, "glance-api.conf")
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        for program in ("glance-manage", "glance-api"):
            os.symlink(STRATUS, os.path.join(self.bin, program))
        self.daemon = None
        self.as_glance_user = IS_ROOT

    def write_conf(self):
        with open(self.conf, "w") as f:
            f.write(f"""[database]
# ...
connection = {self.connection}

[keystone_authtoken]
# ...
www_authenticate_uri  = {self.identity}
auth_url = {self.identity}
memcached_servers = controller:11211
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = {GUIDE_USER}
password = {GUIDE_PASSWORD}

[paste_deploy]
# ...
flavor = keystone

[glance_store]
# ...
stores = file,http
default_store = file
filesystem_store_datadir = {self.images}/
""")
        os.chmod(self.conf, 0o644)

    def manage(self, command, as_glance=False, check=True):
        """`glance-manage COMMAND` with this node's config file."""
        line = f"{self.bin}/glance-manage --config-file {self.conf} {command}"
        if as_glance and self.as_glance_user:
            return run(["su", "-s", "/bin/sh", "-c", line, "glance"], env=clean_env(), check=check)
        return run(["sh", "-c", line], env=clean_env(), check=check)

    def start(self):
        self.daemon = Process([os.path.join(self.bin, "glance-api"), "--config-file", self.conf,
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
    """The chapter's 설치 및 구성 section; returns the admin environment."""
    admin = sourced(os.path.join(cloud.data_dir, "admin-openrc"))  # . admin-openrc

    # Service credentials: the guide's user, with admin on the service project
    user = json.loads(openstack(admin, "user", "create", "--domain", "default", "--password", GUIDE_PASSWORD,
                                GUIDE_USER, "-f", "json").stdout)
    assert user["name"] == GUIDE_USER and user["domain_id"] == "default" and user["enabled"] is True
    assert openstack(admin, "role", "add", "--project", "service", "--user", GUIDE_USER, "admin").stdout.strip() == ""
    # the `image` service entity all-in-one created, as `openstack service create --name glance … image` does
    service = json.loads(openstack(admin, "service", "show", "glance", "-f", "json").stdout)
    assert (service["name"], service["type"]) == ("glance", "image")
    openstack(admin, "region", "create", REGION)
    for interface in ("public", "internal", "admin"):
        e = json.loads(openstack(admin, "endpoint", "create", "--region", REGION, "image", interface, node.url,
                                 "-f", "json").stdout)
        assert (e["interface"], e["region"], e["service_type"], e["url"]) == (interface, REGION, "image", node.url)

    # /etc/glance/glance-api.conf
    node.write_conf()
    if node.as_glance_user:
        ensure_glance_user()
        shutil.chown(node.dir, "glance", "glance")

    # The API refuses to serve an unpopulated database, and says what to run.
    # (as the glance user too, so that the SQLite file it opens stays the glance user's)
    line = f"{node.bin}/glance-api --config-file {node.conf} --bind 127.0.0.1:{node.port}"
    early = run(["su", "-s", "/bin/sh", "-c", line, "glance"] if node.as_glance_user else ["sh", "-c", line],
                env=clean_env(), check=False, timeout=30)
    assert early.returncode != 0 and "glance-manage db_sync" in early.stderr, early

    # su -s /bin/sh -c "glance-manage db_sync" glance
    sync = node.manage("db_sync", as_glance=True)
    assert "Database is synced successfully." in sync.stdout, sync.stdout
    if node.as_glance_user and not cloud.database:
        assert pwd.getpwuid(os.stat(os.path.join(node.dir, "glance.db")).st_uid).pw_name == "glance"
    again = node.manage("db_sync", as_glance=True)
    assert "Database is up to date. No migrations needed." in again.stdout, again.stdout

    # systemctl start openstack-glance-api.service
    node.start()
    return admin


@pytest.fixture(scope="module")
def node(cloud):
    """The chapter installed, its steps asserted on the way (a failed step errors every test here)."""
    n = GlanceNode(cloud)
    try:
        n.admin = install(cloud, n)
        n.env = dict(n.admin, OS_REGION_NAME=REGION)
        yield n
    finally:
        n.destroy()


@pytest.fixture(scope="module")
def cirros():
    """The guide's CirrOS download: a small valid qcow2 (virtual size 1 GiB)."""
    d = tempfile.mkdtemp(prefix="stratus-cirros-")
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "image", "format_fixtures.py"), d], check=True,
                   capture_output=True)
    path = os.path.join(d, "cirros-0.4.0-x86_64-disk.img")
    os.rename(os.path.join(d, "qcow2-v3.img"), path)
    yield path
    shutil.rmtree(d, ignore_errors=True)


def test_guide_install_steps(cloud, node):
    """What the install left in Keystone: the guide's service user can log in to the service project
    (what [keystone_authtoken] does) and the catalog has the guide's three image endpoints."""
    token, body = API(cloud).issue(GUIDE_USER, GUIDE_PASSWORD, project="service")
    assert "admin" in [r["name"] for r in body["roles"]]
    image = [entry for entry in body["catalog"] if entry["type"] == "image"]
    assert len(image) == 1
    guide = sorted((e["interface"], e["url"]) for e in image[0]["endpoints"] if e["region_id"] == REGION)
    assert guide == [("admin", node.url), ("internal", node.url), ("public", node.url)]
    assert node.daemon.proc.poll() is None, node.daemon.output()


def test_guide_daemon_http(cloud, node):
    """The daemon's unauthenticated answers: the version list at `/`, 401 pointing at Keystone."""
    r = requests.get(node.url + "/")
    assert r.status_code == 300, r.text
    versions = r.json()["versions"]
    assert [v["id"] for v in versions] == VERSIONS
    assert [v["status"] for v in versions if v["status"] == "CURRENT"] == ["CURRENT"]
    assert next(v for v in versions if v["status"] == "CURRENT")["id"] == "v2.17"
    assert {link["href"] for v in versions for link in v["links"]} == {node.url + "/v2/"}
    for headers in ({}, {"X-Auth-Token": "bogus"}):
        r = requests.get(node.url + "/v2/images", headers=headers)
        assert r.status_code == 401, r.text
        assert r.headers.get("WWW-Authenticate") == f'Keystone uri="{node.identity}"', dict(r.headers)
    token, _ = API(cloud).issue("admin", cloud.password, project="admin")
    r = requests.get(node.url + "/v2/images", headers={"X-Auth-Token": token})
    assert r.status_code == 200 and "images" in r.json()


def test_guide_verification(cloud, node, cirros):
    """작동 확인: upload CirrOS with `glance image-create`, list it with `glance image-list`, and
    read it back with `openstack image list/show/save`."""
    with open(cirros, "rb") as f:
        data = f.read()
    md5, sha512 = hashlib.md5(data).hexdigest(), hashlib.sha512(data).hexdigest()

    # glance image-create --name "cirros" --file cirros-0.4.0-x86-64-disk.img --disk-format qcow2
    #   --container-format bare --visibility public
    created = run([GLANCE, "image-create", "--name", "cirros", "--file", cirros, "--disk-format", "qcow2",
                   "--container-format", "bare", "--visibility", "public"], env=node.env)
    image = table(created.stdout)
    assert (image["name"], image["status"], image["visibility"]) == ("cirros", "active", "public"), created.stdout
    assert (image["disk_format"], image["container_format"]) == ("qcow2", "bare")
    assert (image["size"], image["virtual_size"], image["checksum"]) == (str(len(data)), str(1024 ** 3), md5)
    assert (image["os_hash_algo"], image["os_hash_value"], image["protected"]) == ("sha512", sha512, "False")
    iid = image["id"]
    assert os.listdir(node.images) == [iid]
    with open(os.path.join(node.images, iid), "rb") as f:
        assert f.read() == data

    # glance image-list
    listed = rows(run([GLANCE, "image-list"], env=node.env).stdout)
    assert listed[0] == ["ID", "Name"]
    assert [iid, "cirros"] in listed[1:]

    # the same through openstackclient
    images = json.loads(openstack(node.env, "image", "list", "-f", "json").stdout)
    assert {"ID": iid, "Name": "cirros", "Status": "active"} in images, images
    shown = json.loads(openstack(node.env, "image", "show", "cirros", "-f", "json").stdout)
    assert (shown["id"], shown["status"], shown["checksum"], shown["size"]) == (iid, "active", md5, len(data))
    assert (shown["disk_format"], shown["container_format"], shown["visibility"]) == ("qcow2", "bare", "public")
    out = os.path.join(tempfile.mkdtemp(prefix="stratus-save-"), "saved.img")
    assert openstack(node.env, "image", "save", "--file", out, "cirros").stdout.strip() == ""
    with open(out, "rb") as f:
        assert f.read() == data
    shutil.rmtree(os.path.dirname(out), ignore_errors=True)

    # It went to the guide's daemon, not to all-in-one's RegionOne glance.
    token, _ = API(cloud).issue("admin", cloud.password, project="admin")
    assert requests.get(f"{node.url}/v2/images/{iid}", headers={"X-Auth-Token": token}).status_code == 200
    assert requests.get(f"{cloud.url('image')}/v2/images/{iid}", headers={"X-Auth-Token": token}).status_code == 404
