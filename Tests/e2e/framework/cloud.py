"""Start Stratus for end-to-end tests and drive it with the real OpenStack clients.

`Cloud` runs `stratus all-in-one` on free ports with a temp data dir (Firecracker's
microvm fixture, in spirit); `Keystone` runs the guide's manual path: keystone-manage
against a keystone.conf, then the `stratus keystone` daemon.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
STRATUS = os.environ.get("STRATUS_BIN", os.path.join(ROOT, ".build", "debug", "stratus"))
VENV_BIN = os.path.dirname(__import__("sys").executable)
OPENSTACK = os.path.join(VENV_BIN, "openstack")


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


_MODULES = None


def modules():
    """The registered services, from `stratus modules`: [(project, service_type, port, programs)]."""
    global _MODULES
    if _MODULES is None:
        out = subprocess.run([STRATUS, "modules"], capture_output=True, text=True, check=True).stdout
        _MODULES = []
        for line in out.splitlines():
            project, service_type, port, *programs = line.split()
            _MODULES.append((project, service_type, int(port), programs))
    return _MODULES


# Every service port + offset stays below 32768, where Linux's ephemeral ports begin, so a
# client's outgoing connection can never take a port a cloud is about to listen on.
EPHEMERAL_START = 32768


def free_offset():
    """A port offset (multiple of 10) at which every registered service's port is free."""
    ports = [port for _, _, port, _ in modules()]
    highest = EPHEMERAL_START - max(ports) - 1
    for _ in range(500):
        offset = random.randrange(1000, highest, 10)
        if all(port_free(p + offset) for p in ports):
            return offset
    raise RuntimeError("no offset at which every service port is free")


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(extra or {})
    return env


class CommandFailed(Exception):
    def __init__(self, args, result):
        super().__init__(f"{args!r} exited {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
        self.result = result


def run(args, env=None, check=True, timeout=120, input=None):
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, input=input)
    if check and result.returncode != 0:
        raise CommandFailed(args, result)
    return result


class Process:
    """A Stratus daemon whose output is collected; waits for a line to appear."""

    def __init__(self, args, env=None):
        self.log_path = tempfile.mktemp(prefix="stratus-", suffix=".log")
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT, text=True)

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_for(self, text, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.output():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"stratus exited {self.proc.returncode}:\n{self.output()}")
            time.sleep(0.05)
        raise TimeoutError(f"no {text!r} after {timeout}s:\n{self.output()}")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class Cloud:
    """`stratus all-in-one` on free ports, state in a temp dir."""

    def __init__(self, conf="", password="admin-secret", data_dir=None, rounds=4, database=None):
        self.database = database
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="stratus-aio-")
        self.offset = free_offset()
        self.password = password
        self.conf_path = os.path.join(self.data_dir, "extra.conf")
        with open(self.conf_path, "w") as f:
            f.write((f"[identity]\npassword_hash_rounds = {rounds}\n" if rounds else "") + conf)
        self.process = None
        self.urls = {}

    @property
    def auth_url(self):
        return self.url("identity")

    def url(self, service_type):
        """The endpoint all-in-one reported for `service_type` in its ready lines."""
        if service_type not in self.urls:
            raise KeyError(f"no {service_type!r} service: the cloud reported {sorted(self.urls)}")
        return self.urls[service_type]

    def start(self, extra_args=()):
        args = [STRATUS, "all-in-one", "--data-dir", self.data_dir, "--port-offset", str(self.offset),
                "--admin-password", self.password, "--config-file", self.conf_path, *extra_args]
        self.process = Process(args, env=clean_env())
        self.process.wait_for("stratus: ready")
        output = self.process.output()
        ready = output[output.rindex("stratus: ready"):].splitlines()[1:]
        known = {service_type for _, service_type, _, _ in modules()}
        self.urls = dict(line.split(" ", 1) for line in ready if line.split(" ", 1)[0] in known)
        return self

    def stop(self, sig=signal.SIGTERM):
        code = self.process.stop(sig) if self.process else None
        self.process = None
        return code

    def restart(self):
        self.stop()
        return self.start()

    def destroy(self):
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def database_name(self, service):
        """The PostgreSQL database (or SQLite file stem) of a service: keystone's own, else
        keystone's with `_<service>` appended, as all-in-one derives them."""
        if self.database:
            base = self.database.rsplit("/", 1)[1]
            return base if service == "keystone" else f"{base}_{service}"
        return service

    def sql(self, statement, params=(), service="keystone"):
        """Runs one SQL statement on a service's database, behind its back (for test set-up)."""
        if self.database:
            literal = statement
            for p in params:
                literal = literal.replace("?", "'" + str(p).replace("'", "''") + "'", 1)
            run(["su", "postgres", "-c", f'psql -q -d {self.database_name(service)} -c "{literal}"'])
        else:
            import sqlite3
            db = sqlite3.connect(os.path.join(self.data_dir, f"{service}.db"), timeout=30)
            db.execute(statement, params)
            db.commit()
            db.close()

    def sql_value(self, query, service="keystone"):
        if self.database:
            return run(["su", "postgres", "-c", f'psql -tA -d {self.database_name(service)} -c "{query}"']).stdout.strip()
        import sqlite3
        db = sqlite3.connect(os.path.join(self.data_dir, f"{service}.db"), timeout=30)
        (value,) = db.execute(query).fetchone()
        db.close()
        return value

    def env(self, user="admin", password=None, project="admin", **extra):
        env = {
            "OS_AUTH_URL": self.auth_url, "OS_USERNAME": user, "OS_PASSWORD": password or self.password,
            "OS_PROJECT_NAME": project, "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_IDENTITY_API_VERSION": "3", "OS_INTERFACE": "public",
        }
        env.update(extra)
        return clean_env(env)

    def openstack(self, *args, env=None, check=True):
        """Runs `openstack ARGS -f json` (when the command prints) and returns parsed JSON or text."""
        result = run([OPENSTACK, *args], env=env or self.env(), check=check)
        if check and "-f" in args and result.stdout.strip():
            return json.loads(result.stdout)
        return result


def sourced(path):
    """The variables an openrc file exports, as `. admin-openrc` would set them."""
    out = run(["bash", "-c", f". {path} && env -0"], env=clean_env())
    env = dict(item.split("=", 1) for item in out.stdout.split("\0") if "=" in item)
    return env


class API:
    """Raw HTTP against the Identity API, for status codes, headers and error bodies."""

    def __init__(self, cloud_or_url):
        import requests
        self.requests = requests
        url = cloud_or_url if isinstance(cloud_or_url, str) else cloud_or_url.auth_url
        self.base = url.rsplit("/v3", 1)[0]

    def token(self, user, password, project=None, domain=None, system=False):
        scope = None
        if project:
            scope = {"project": {"name": project, "domain": {"name": "Default"}}}
        elif domain:
            scope = {"domain": {"name": domain}}
        elif system:
            scope = {"system": {"all": True}}
        body = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": user, "domain": {"name": "Default"}, "password": password}}}}}
        if scope:
            body["auth"]["scope"] = scope
        return self.requests.post(self.base + "/v3/auth/tokens", json=body)

    def issue(self, *args, **kwargs):
        r = self.token(*args, **kwargs)
        assert r.status_code == 201, r.text
        return r.headers["X-Subject-Token"], r.json()["token"]

    def call(self, method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["X-Auth-Token"] = token
        return self.requests.request(method, self.base + path, headers=headers, **kwargs)
