"""The install guide's Keystone chapter, step by step, with `stratus` in place of the RPMs.

Adapted only where a test must: temp paths through --config-file, 127.0.0.1 for
`controller`, --password for --password-prompt, free ports. Runs on SQLite and, when
STRATUS_TEST_POSTGRES_URL is set (root / CI), on PostgreSQL.
"""
import grp
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import pytest

from framework.cloud import OPENSTACK, STRATUS, Process, clean_env, free_offset, run, sourced
from conftest import new_postgres_database, postgres_url_or_skip

IS_ROOT = os.geteuid() == 0


class GuideController:
    """A controller node built the guide's way: keystone.conf, keystone-manage, the daemon."""

    def __init__(self, connection, as_keystone_user=False):
        self.dir = tempfile.mkdtemp(prefix="stratus-guide-")
        os.chmod(self.dir, 0o755)
        self.offset = free_offset()
        self.port = 5000 + self.offset
        self.url = f"http://127.0.0.1:{self.port}/v3/"
        self.conf = os.path.join(self.dir, "keystone.conf")
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        # the keystone user gets a copy, not a link: the checkout may sit under a 0700
        # directory (root's home, a mktemp -d clone) that it cannot enter
        (shutil.copy2 if as_keystone_user else os.symlink)(STRATUS, os.path.join(self.bin, "keystone-manage"))
        with open(self.conf, "w") as f:
            f.write(f"""[DEFAULT]
# the guide's file has more; unknown options only warn
[database]
connection = {connection(self.dir)}

[token]
provider = fernet

[fernet_tokens]
key_repository = {self.dir}/fernet-keys/

[credential]
key_repository = {self.dir}/credential-keys/

[identity]
password_hash_rounds = 4
""")
        self.as_keystone_user = as_keystone_user
        self.daemon = None

    def manage(self, command):
        """`keystone-manage COMMAND` — through `su -s /bin/sh -c … keystone` when testing as root."""
        line = f"{self.bin}/keystone-manage --config-file {self.conf} {command}"
        if self.as_keystone_user and command.startswith("db_sync"):
            return run(["su", "-s", "/bin/sh", "-c", line, "keystone"], env=clean_env())
        return run(["sh", "-c", line], env=clean_env())

    def start(self):
        self.daemon = Process([STRATUS, "keystone", "--config-file", self.conf, "--bind", f"127.0.0.1:{self.port}"], env=clean_env())
        self.daemon.wait_for("listening")

    def destroy(self):
        if self.daemon:
            self.daemon.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def ensure_keystone_user():
    try:
        pwd.getpwnam("keystone")
    except KeyError:
        run(["useradd", "--system", "--user-group", "--home-dir", "/var/lib/keystone", "--shell", "/sbin/nologin", "keystone"])


def sqlite_connection(d):
    return f"sqlite:///{d}/keystone.db"


def make_openrc(path, password, url, user="admin", project="admin"):
    with open(path, "w") as f:
        f.write(f"""export OS_PROJECT_DOMAIN_NAME=Default
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_NAME={project}
export OS_USERNAME={user}
export OS_PASSWORD={password}
export OS_AUTH_URL={url.rstrip('/')}
export OS_IDENTITY_API_VERSION=3
export OS_IMAGE_API_VERSION=2
""")


def openstack(env, *args):
    result = run([OPENSTACK, *args], env=env)
    return json.loads(result.stdout) if "-f" in args and result.stdout.strip() else result.stdout


def walk_the_guide(node, key_owner):
    user, group = key_owner
    node.manage("db_sync")
    node.manage(f"fernet_setup --keystone-user {user} --keystone-group {group}")
    node.manage(f"credential_setup --keystone-user {user} --keystone-group {group}")
    for repo in ("fernet-keys", "credential-keys"):
        path = os.path.join(node.dir, repo)
        names = sorted(os.listdir(path))
        assert names == ["0", "1"], names
        for name in names:
            st = os.stat(os.path.join(path, name))
            assert oct(st.st_mode & 0o777) == "0o600"
            assert pwd.getpwuid(st.st_uid).pw_name == user
            assert grp.getgrgid(st.st_gid).gr_name == group
    node.manage(f"bootstrap --bootstrap-password ADMIN_PASS --bootstrap-admin-url {node.url} "
                f"--bootstrap-internal-url {node.url} --bootstrap-public-url {node.url} --bootstrap-region-id RegionOne")
    # systemctl enable/start httpd → the stratus-keystone service
    node.start()

    openrc = os.path.join(node.dir, "admin-openrc")
    make_openrc(openrc, "ADMIN_PASS", node.url)
    admin = sourced(openrc)
    token = openstack(admin, "token", "issue", "-f", "json")
    assert token["expires"] and token["id"] and token["project_id"] and token["user_id"]

    domain = openstack(admin, "domain", "create", "--description", "An Example Domain", "example", "-f", "json")
    assert domain["name"] == "example" and domain["description"] == "An Example Domain" and domain["enabled"] is True
    service = openstack(admin, "project", "create", "--domain", "default", "--description", "Service Project", "service", "-f", "json")
    assert service["domain_id"] == "default" and service["description"] == "Service Project"
    myproject = openstack(admin, "project", "create", "--domain", "default", "--description", "Demo Project", "myproject", "-f", "json")
    myuser = openstack(admin, "user", "create", "--domain", "default", "--password", "DEMO_PASS", "myuser", "-f", "json")
    assert myuser["name"] == "myuser" and myuser["domain_id"] == "default" and myuser["enabled"] is True
    assert "password" not in myuser
    myrole = openstack(admin, "role", "create", "myrole", "-f", "json")
    assert myrole["name"] == "myrole"
    assert openstack(admin, "role", "add", "--project", "myproject", "--user", "myuser", "myrole").strip() == ""
    assignments = openstack(admin, "role", "assignment", "list", "--user", "myuser", "--project", "myproject", "--names", "-f", "json")
    assert [(a["Role"], a["User"], a["Project"]) for a in assignments] == [("myrole", "myuser@Default", "myproject@Default")]

    # 작동 확인: unset OS_AUTH_URL OS_PASSWORD, then explicit options
    bare = {k: v for k, v in admin.items() if k not in ("OS_AUTH_URL", "OS_PASSWORD")}
    base = ["--os-auth-url", node.url.rstrip("/"), "--os-project-domain-name", "Default", "--os-user-domain-name", "Default"]
    t = openstack(bare, *base, "--os-project-name", "admin", "--os-username", "admin", "--os-password", "ADMIN_PASS", "token", "issue", "-f", "json")
    assert t["project_id"] == token["project_id"]
    t = openstack(bare, *base, "--os-project-name", "myproject", "--os-username", "myuser", "--os-password", "DEMO_PASS", "token", "issue", "-f", "json")
    assert t["project_id"] == myproject["id"] and t["user_id"] == myuser["id"]

    # demo-openrc
    demo_rc = os.path.join(node.dir, "demo-openrc")
    make_openrc(demo_rc, "DEMO_PASS", node.url, user="myuser", project="myproject")
    demo = sourced(demo_rc)
    assert openstack(demo, "token", "issue", "-f", "json")["project_id"] == myproject["id"]

    # What the Glance, Placement, Nova and Neutron chapters run against Keystone.
    for name, stype, desc, port, path in [("glance", "image", "OpenStack Image", 9292, ""),
                                          ("placement", "placement", "Placement API", 8778, ""),
                                          ("nova", "compute", "OpenStack Compute", 8774, "/v2.1"),
                                          ("neutron", "network", "OpenStack Networking", 9696, "")]:
        u = openstack(admin, "user", "create", "--domain", "default", "--password", f"{name.upper()}_PASS", name, "-f", "json")
        assert u["name"] == name
        openstack(admin, "role", "add", "--project", "service", "--user", name, "admin")
        s = openstack(admin, "service", "create", "--name", name, "--description", desc, stype, "-f", "json")
        assert (s["name"], s["type"], s["description"]) == (name, stype, desc)
        for interface in ("public", "internal", "admin"):
            e = openstack(admin, "endpoint", "create", "--region", "RegionOne", stype, interface, f"http://127.0.0.1:{port}{path}", "-f", "json")
            assert (e["interface"], e["region"], e["service_type"], e["url"]) == (interface, "RegionOne", stype, f"http://127.0.0.1:{port}{path}")
    catalog = openstack(admin, "catalog", "list", "-f", "json")
    by_type = {c["Type"]: c for c in catalog}
    assert set(by_type) == {"identity", "image", "placement", "compute", "network"}
    assert by_type["compute"]["Name"] == "nova"
    assert "http://127.0.0.1:8774/v2.1" in json.dumps(by_type["compute"]["Endpoints"])
    # a service user can log in to the service project (what keystone_authtoken does)
    svc = dict(admin, OS_USERNAME="glance", OS_PASSWORD="GLANCE_PASS", OS_PROJECT_NAME="service")
    assert openstack(svc, "token", "issue", "-f", "json")["project_id"] == service["id"]
    endpoints = openstack(admin, "endpoint", "list", "--service", "image", "-f", "json")
    assert sorted(e["Interface"] for e in endpoints) == ["admin", "internal", "public"]


def current_owner():
    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


def test_guide_keystone_chapter_on_sqlite():
    node = GuideController(sqlite_connection)
    try:
        walk_the_guide(node, current_owner())
    finally:
        node.destroy()


# In CI (STRATUS_TEST_REQUIRE_ALL) it runs whoever runs it, and fails without root.
@pytest.mark.skipif(not IS_ROOT and os.environ.get("STRATUS_TEST_REQUIRE_ALL") != "1",
                    reason="needs root to create the keystone user and su to it")
def test_guide_keystone_chapter_as_keystone_user():
    assert IS_ROOT, "needs root to create the keystone user and su to it (CI runs as root)"
    ensure_keystone_user()
    node = GuideController(sqlite_connection, as_keystone_user=True)
    shutil.chown(node.dir, "keystone", "keystone")
    try:
        walk_the_guide(node, ("keystone", "keystone"))
        st = os.stat(os.path.join(node.dir, "keystone.db"))
        assert pwd.getpwuid(st.st_uid).pw_name == "keystone", "db_sync ran as the keystone user"
    finally:
        node.destroy()


def test_guide_keystone_chapter_on_postgresql():
    url = postgres_url_or_skip()
    node = GuideController(lambda d: new_postgres_database(url))
    try:
        walk_the_guide(node, current_owner())
    finally:
        node.destroy()


def test_config_errors_are_clear():
    d = tempfile.mkdtemp(prefix="stratus-conf-")
    try:
        conf = os.path.join(d, "keystone.conf")
        with open(conf, "w") as f:
            f.write("[database]\nconnection = mysql+pymysql://keystone:KEYSTONE_DBPASS@controller/keystone\n"
                    "[token]\nprovider = fernet\nexpirashun = 5\n")
        r = run([STRATUS, "keystone-manage", "--config-file", conf, "db_sync"], env=clean_env(), check=False)
        assert r.returncode != 0
        assert "mysql" in r.stderr.lower() and "postgresql://" in r.stderr and "sqlite:///" in r.stderr
        assert "KEYSTONE_DBPASS" not in r.stderr
        assert f"{conf}:5: unknown option [token] expirashun" in r.stderr
        with open(conf, "w") as f:
            f.write(f"[database]\nconnection = sqlite:///{d}/k.db\n[token]\nexpiration = soon\n")
        r = run([STRATUS, "keystone", "--config-file", conf, "--bind", "127.0.0.1:0"], env=clean_env(), check=False)
        assert r.returncode != 0
        assert f"{conf}:4: [token] expiration: 'soon' is not an integer" in r.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)
