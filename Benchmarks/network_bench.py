"""make bench SERVICE=network: Stratus Networking (neutron v2.0 API) against the reference neutron.

Each benchmark works in a project of its own (a fresh id) whose quotas it first raises as admin
(PUT /v2.0/quotas/{project}: network, subnet, port, security_group, security_group_rule -1);
every resource is created as admin with `project_id` in the body. Figures:
  (a) port creates: a network with a /16 subnet, one warm-up port (the project's default security
      group is made on its first port), then --creates POST /v2.0/ports ({network_id} only) from 16
      client threads, each on its own keep-alive http.client connection: creates/s (wall clock)
      and the p50/p99 of the requests' latencies;
  (b) GET /v2.0/ports?limit=100 with --ports ports in the project (made through the API, another
      network with a /16 subnet; by 16 threads for Stratus, by bulk POSTs of 100 for the
      reference, which manages ~3 single creates/s here; the rate is shown too): req/s and the
      median and p99 latency, wrk with 16 connections for --seconds (16 Python threads when wrk is
      missing);
  (c) GET /v2.0/security-group-rules with --rules rules: five security groups, tcp ingress rules
      with distinct ports (made like the ports of (b)), the same load as (b). The count of rules the list
      returns (which also holds the groups' default egress rules and the default groups' rules)
      is shown.
Every list is checked once before the load (200, 100 ports; the rule count). Requests that fail
with 5xx or a dropped connection (SQLite `database is locked`, …) are retried, up to 5 times,
and counted.

Stratus: `stratus all-in-one` (--stratus-bin, $STRATUS_BIN, default the release build) in a temp
data dir at a free port offset, the admin's token (password `bench-pass`). Reference (on by
default, --no-reference): neutron 29.0.0 from PyPI (scripts/network/reference_neutron.py, venv
$NEUTRON_VENV or --neutron-venv, default /work/refvenv-neutron) under gunicorn, 2 sync workers,
SQLite, noauth; it runs after Stratus, never at the same time. SQLite refuses concurrent writers
(`database is locked`), so the reference makes all the data with one worker, then is restarted
on the same database with 2 workers (--reference-workers) for the list loads. If it cannot run, the table says
why in one line. Ratios are Stratus / reference: above 1 is better for rates, below 1 for
latencies.

    Benchmarks/network_bench.py [--stratus-bin PATH] [--quick] [--creates 2000] [--ports 10000]
                                [--rules 5000] [--seconds 10] [--no-reference] [--no-stratus] [--neutron-venv DIR]
    --quick: 300 creates, 2,000 ports, 1,000 rules, 3 s of load per list.
"""
import argparse
import atexit
import concurrent.futures
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
STRATUS = os.environ.get("STRATUS_BIN", os.path.join(ROOT, ".build", "release", "stratus"))
NEUTRON_VENV = os.environ.get("NEUTRON_VENV", "/work/refvenv-neutron")
CLIENTS = 16
GROUPS = 5
LIVE = []  # servers to stop at exit, whatever happens


def cleanup():
    while LIVE:
        try:
            LIVE.pop().destroy()
        except Exception as e:  # noqa: BLE001 - best effort at exit
            print(f"cleanup: {e!r}", file=sys.stderr)


def on_signal(signum, _frame):
    cleanup()
    sys.stdout.flush()
    os._exit(128 + signum)


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


# --- HTTP ------------------------------------------------------------------------------------

class Client:
    """One keep-alive http.client connection per thread; JSON in and out; retries counted."""

    def __init__(self, base, headers):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.headers = dict(headers, **{"Accept": "application/json", "Content-Type": "application/json"})
        self.local = threading.local()
        self.lock = threading.Lock()
        self.retries = 0
        self.reasons = {}

    def rebase(self, base):
        """Talk to `base` from now on (a restarted server); the retry counts carry on."""
        parts = urllib.parse.urlsplit(base)
        self.host, self.port, self.prefix = parts.hostname, parts.port or 80, parts.path.rstrip("/")
        self.local = threading.local()

    def conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
        return c

    def call(self, method, path, body=None):
        """(status, parsed JSON or raw bytes, seconds)."""
        data = json.dumps(body).encode() if body is not None else None
        c = self.conn()
        t = time.monotonic()
        try:
            c.request(method, self.prefix + path, body=data, headers=self.headers)
            r = c.getresponse()
            raw = r.read()
        except (http.client.HTTPException, OSError):
            c.close()
            self.local.conn = None
            raise
        seconds = time.monotonic() - t
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return r.status, parsed, seconds

    def must(self, method, path, body=None, ok=(200, 201, 204)):
        """Sends until the status is in `ok` (5 attempts; 5xx and dropped connections are
        retried and counted). Returns (JSON, seconds of the successful attempt)."""
        last = None
        for attempt in range(5):
            try:
                status, parsed, seconds = self.call(method, path, body)
                if status in ok:
                    return parsed, seconds
                last = f"{status} {str(parsed)[:300]}"
                reason = str(status)
                if status < 500:
                    break
            except (http.client.HTTPException, OSError) as e:
                last, reason = repr(e), type(e).__name__
            with self.lock:
                self.retries += 1
                self.reasons[reason] = self.reasons.get(reason, 0) + 1
            time.sleep(0.05 * (attempt + 1))
        raise RuntimeError(f"{method} {path}: {last}")

    def retry_note(self):
        return f"{self.retries} retried" + (f" {self.reasons}" if self.reasons else "")


# --- servers ---------------------------------------------------------------------------------

class Stratus:
    """`stratus all-in-one` in a temp dir at a port offset where every service port is free."""
    label = "stratus"
    bulk = False  # no bulk create: the data of (b) and (c) is made by 16 clients

    def __init__(self, binary):
        self.binary = binary
        out = subprocess.run([binary, "modules"], capture_output=True, text=True, check=True, timeout=30).stdout
        self.modules = [(line.split()[1], int(line.split()[2])) for line in out.splitlines() if line.strip()]
        if "network" not in [t for t, _ in self.modules]:
            raise RuntimeError(f"{binary} registers no network service (stratus modules: {[t for t, _ in self.modules]})")
        ports = [p for _, p in self.modules]
        for _ in range(500):
            offset = random.randrange(1000, 32768 - max(ports) - 1, 10)
            if all(port_free(p + offset) for p in ports):
                break
        else:
            raise RuntimeError("no port offset with every service port free")
        self.offset = offset
        self.dir = tempfile.mkdtemp(prefix="stratus-network-bench-")
        self.conf = os.path.join(self.dir, "bench.conf")
        with open(self.conf, "w") as f:
            f.write("[identity]\npassword_hash_rounds = 4\n")
        self.log_path = os.path.join(self.dir, "stratus.log")
        self.proc = None
        self.urls = {}
        self.headers = {}

    def start(self, timeout=120):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.binary, "all-in-one", "--data-dir", self.dir, "--port-offset", str(self.offset),
                                      "--admin-password", "bench-pass", "--config-file", self.conf],
                                     stdout=self.log, stderr=subprocess.STDOUT, text=True)
        LIVE.append(self)
        known = {t for t, _ in self.modules}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = open(self.log_path, errors="replace").read()
            if "stratus: ready" in out:
                lines = out[out.rindex("stratus: ready"):].splitlines()[1:]
                self.urls = dict(line.split(" ", 1) for line in lines if line.split(" ", 1)[0] in known)
                if "network" in self.urls and "identity" in self.urls:
                    self.headers = {"X-Auth-Token": self.token()}
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"stratus exited {self.proc.returncode}:\n{out[-3000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"stratus not ready after {timeout}s:\n{open(self.log_path).read()[-3000:]}")

    @property
    def base(self):
        return self.urls["network"].strip().rstrip("/")

    def token(self):
        auth = self.urls["identity"].strip().rstrip("/")
        auth = auth if auth.endswith("/v3") else auth + "/v3"
        body = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": "admin", "domain": {"id": "default"}, "password": "bench-pass"}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        parts = urllib.parse.urlsplit(auth)
        c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        c.request("POST", parts.path + "/auth/tokens?nocatalog", body=json.dumps(body),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status != 201:
            raise RuntimeError(f"token: {r.status}")
        return r.getheader("X-Subject-Token")

    def for_reads(self):
        pass

    def describe(self):
        build = os.path.basename(os.path.dirname(self.binary))
        return f"stratus all-in-one ({build} build)"

    def destroy(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


class ReferenceNeutron:
    """scripts/network/reference_neutron.py: neutron 29 under gunicorn, noauth (every caller admin).
    Writes with one sync worker (SQLite refuses concurrent writers: `database is locked`), then
    `for_reads()` serves the same database with `read_workers` workers."""
    label = "reference"
    bulk = True  # neutron's bulk create makes the data of (b) and (c) (no faster for ports: ~3/s here)

    def __init__(self, venv, read_workers=2):
        self.venv = venv
        self.read_workers = read_workers
        self.workers = 1
        self.proc = None
        self.base = None
        self.headers = {}
        self.version_line = ""
        self.dir = None

    def start(self, timeout=600):
        self.err_path = tempfile.mktemp(prefix="neutron-ref-launch-", suffix=".log")
        env = dict(os.environ, NEUTRON_VENV=self.venv)
        where = ["--dir", self.dir] if self.dir else ["--keep"]
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "network", "reference_neutron.py"),
                                      "--workers", str(self.workers), *where], env=env, stdout=subprocess.PIPE,
                                     stderr=open(self.err_path, "w"), text=True, start_new_session=True)
        if self not in LIVE:
            LIVE.append(self)
        result = {}

        def read_lines():
            result["url"] = self.proc.stdout.readline().strip()
            result["dir"] = self.proc.stdout.readline().strip().split(" ", 2)[-1]
            result["versions"] = self.proc.stdout.readline().strip().lstrip("# ")

        reader = threading.Thread(target=read_lines, daemon=True)
        reader.start()
        reader.join(timeout)
        if not result.get("url", "").startswith("http://"):
            err = open(self.err_path, errors="replace").read().strip().splitlines()
            raise RuntimeError(f"reference neutron did not start (exit {self.proc.poll()}): "
                               + (err[-1] if err else "no output"))
        reader.join(10)
        self.base = result["url"]
        self.dir = result.get("dir") or self.dir
        self.version_line = result.get("versions", "")
        return self

    def for_reads(self):
        """The same database served by read_workers gunicorn workers."""
        if self.read_workers == self.workers:
            return
        self.stop()
        self.workers = self.read_workers
        t0 = time.monotonic()
        self.start()
        print(f"  [{self.label}] restarted with {self.workers} workers on the same database in "
              f"{time.monotonic() - t0:.0f} s at {self.base}", flush=True)

    def describe(self):
        return (f"reference ({self.version_line.split(';')[0] or 'neutron 29.0.0'}; gunicorn sync, 1 worker for the "
                f"writes, {self.read_workers} for the lists; SQLite, noauth)")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if getattr(self, "err_path", None) and os.path.exists(self.err_path):
            os.unlink(self.err_path)

    def destroy(self):
        self.stop()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


# --- workload --------------------------------------------------------------------------------

def new_project(client):
    project = uuid.uuid4().hex
    client.must("PUT", f"/v2.0/quotas/{project}", {"quota": {
        "network": -1, "subnet": -1, "port": -1, "security_group": -1, "security_group_rule": -1}})
    return project


def network_with_subnet(client, project, cidr, name):
    net, _ = client.must("POST", "/v2.0/networks", {"network": {"name": name, "project_id": project}})
    net_id = net["network"]["id"]
    client.must("POST", "/v2.0/subnets", {"subnet": {"network_id": net_id, "ip_version": 4, "cidr": cidr,
                                                     "name": name, "project_id": project}})
    return net_id


def parallel(n, fn):
    """Runs fn(i) for i in 0..n-1 on CLIENTS threads; (results, wall seconds)."""
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(fn, range(n)))
    return results, time.monotonic() - t0


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, int(round(q * len(sorted_values))) - 1))]


def create_ports(client, project, net_id, n):
    """n ports on 16 threads: (creates/s, p50 s, p99 s)."""
    client.must("POST", "/v2.0/ports", {"port": {"network_id": net_id, "project_id": project, "name": "warm-up"}})

    def one(i):
        _, seconds = client.must("POST", "/v2.0/ports", {"port": {"network_id": net_id, "project_id": project}})
        return seconds

    latencies, wall = parallel(n, one)
    latencies.sort()
    return n / wall, percentile(latencies, 0.50), percentile(latencies, 0.99)


def wrk_load(base, headers, path, seconds):
    """GET base+path by wrk (2 threads, 16 connections): (req/s, p50 s, p99 s, failed, total)."""
    args = ["wrk", "-t", "2", "-c", str(CLIENTS), "-d", f"{seconds}s", "--timeout", "60s", "--latency"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run(args + [base + path], capture_output=True, text=True, timeout=seconds + 180).stdout
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    if not m:
        raise RuntimeError(f"wrk said:\n{out}")
    total = int(m.group(1))
    wall = float(m.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[m.group(3)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors: .*", out)
    if errors:
        print(f"    wrk: {errors.group(0)}", flush=True)

    def sec(label):
        mm = re.search(label + r"\s+([\d.]+)(us|ms|s|m)\b", out)
        if not mm:
            return float("nan")
        return float(mm.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[mm.group(2)]
    return (total - failed) / wall, sec("50%"), sec("99%"), failed, total


def python_load(client, path, seconds):
    """The same load from 16 Python threads (no wrk): (req/s, p50 s, p99 s, failed, total)."""
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    latencies, failed = [], [0]

    def worker(_):
        mine, bad = [], 0
        while time.monotonic() < stop:
            try:
                status, _, s = client.call("GET", path)
                mine.append(s)
                bad += status != 200
            except (http.client.HTTPException, OSError):
                bad += 1
        with lock:
            latencies.extend(mine)
            failed[0] += bad

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(worker, range(CLIENTS)))
    wall = time.monotonic() - t0
    latencies.sort()
    return (len(latencies) - failed[0]) / wall, percentile(latencies, 0.5), percentile(latencies, 0.99), failed[0], len(latencies)


def load(server, client, path, seconds):
    if shutil.which("wrk"):
        return wrk_load(server.base, client.headers, path, seconds)
    return python_load(client, path, seconds)


def bench_creates(server, client, n):
    project = new_project(client)
    net_id = network_with_subnet(client, project, "10.10.0.0/16", "bench-creates")
    rate, p50, p99 = create_ports(client, project, net_id, n)
    print(f"  [{server.label}] (a) {n} port creates, {CLIENTS} clients: {rate:.1f}/s, p50 {p50 * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms ({client.retry_note()})", flush=True)
    return {"create_rate": rate, "create_p50": p50, "create_p99": p99}


def bulk(client, collection, key, chunks):
    """neutron's bulk create (POST {"ports": [...]}), one request per chunk on 2 threads: seconds."""
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda c: client.must("POST", f"/v2.0/{collection}", {key: c}), chunks))
    return time.monotonic() - t0


def seed_ports(server, client, n):
    project = new_project(client)
    net_id = network_with_subnet(client, project, "10.20.0.0/16", "bench-list")
    if server.bulk:
        client.must("POST", "/v2.0/ports", {"port": {"network_id": net_id, "project_id": project}})
        bodies = [{"network_id": net_id, "project_id": project}] * (n - 1)
        rate = (n - 1) / bulk(client, "ports", "ports", [bodies[i:i + 100] for i in range(0, n - 1, 100)])
    else:
        rate, _, _ = create_ports(client, project, net_id, n - 1)
    how = "bulk POSTs of 100" if server.bulk else f"{CLIENTS} clients"
    print(f"  [{server.label}] (b) {n} ports made at {rate:.1f}/s, {how} ({client.retry_note()})", flush=True)
    return project, {"seed_rate": rate}


def seed_rules(server, client, n):
    project = new_project(client)
    groups = [client.must("POST", "/v2.0/security-groups", {"security_group": {
        "name": f"bench-{g}", "project_id": project}})[0]["security_group"]["id"] for g in range(GROUPS)]

    def rule(i):
        port = i // GROUPS + 1
        return {"security_group_id": groups[i % GROUPS], "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
                "port_range_min": port, "port_range_max": port, "project_id": project}

    if server.bulk:  # one group per bulk request (neutron: SecurityGroupNotSingleGroupRules)
        per_group = [[rule(i) for i in range(g, n, GROUPS)] for g in range(GROUPS)]
        wall = bulk(client, "security-group-rules", "security_group_rules",
                    [rules[i:i + 100] for rules in per_group for i in range(0, len(rules), 100)])
    else:
        _, wall = parallel(n, lambda i: client.must("POST", "/v2.0/security-group-rules", {"security_group_rule": rule(i)}))
    how = "bulk POSTs of 100" if server.bulk else f"{CLIENTS} clients"
    print(f"  [{server.label}] (c) {n} rules made at {n / wall:.1f}/s, {how} ({client.retry_note()})", flush=True)
    return groups, {"rule_rate": n / wall}


def port_list_load(server, client, project, n, seconds):
    path = "/v2.0/ports?limit=100"
    body, _ = client.must("GET", path)
    if len(body["ports"]) != 100:
        raise RuntimeError(f"GET {path}: {len(body['ports'])} ports, not 100")
    everything, _ = client.must("GET", f"/v2.0/ports?project_id={project}&fields=id")
    if len(everything["ports"]) != n:
        raise RuntimeError(f"project {project} has {len(everything['ports'])} ports, not {n}")
    rps, p50, p99, failed, total = load(server, client, path, seconds)
    print(f"  [{server.label}] (b) GET {path}: {rps:.1f} req/s, p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
          f"({failed} of {total} failed)", flush=True)
    if failed:
        raise RuntimeError(f"GET {path}: {failed} of {total} requests failed")
    return {"list_rps": rps, "list_p50": p50, "list_p99": p99}


def rule_list_load(server, client, groups, n, seconds):
    path = "/v2.0/security-group-rules"
    body, _ = client.must("GET", path)
    listed = len(body["security_group_rules"])
    mine = sum(1 for r in body["security_group_rules"] if r["security_group_id"] in groups and r["protocol"] == "tcp")
    if mine != n:
        raise RuntimeError(f"GET {path}: {mine} tcp rules in the bench's groups, not {n}")
    rps, p50, p99, failed, total = load(server, client, path, seconds)
    print(f"  [{server.label}] (c) GET {path} ({listed} rules): {rps:.1f} req/s, p50 {p50 * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms ({failed} of {total} failed)", flush=True)
    if failed:
        raise RuntimeError(f"GET {path}: {failed} of {total} requests failed")
    return {"rules": listed, "rules_rps": rps, "rules_p50": p50, "rules_p99": p99}


def run(server, args, figures):
    """Every figure for one fresh server, into `figures` (which keeps those measured before a
    failure): the writes (a, and the data of b and c), then `server.for_reads()`, then the lists."""
    t0 = time.monotonic()
    client = None
    try:
        server.start()
        print(f"  [{server.label}] up in {time.monotonic() - t0:.0f} s at {server.base}", flush=True)
        client = Client(server.base, server.headers)
        figures.update(bench_creates(server, client, args.creates))
        if not getattr(server, "lists", True):
            return
        project, seeded = seed_ports(server, client, args.ports)
        figures.update(seeded)
        groups, seeded = seed_rules(server, client, args.rules)
        figures.update(seeded)
        server.for_reads()
        client.rebase(server.base)
        figures.update(port_list_load(server, client, project, args.ports, args.seconds))
        figures.update(rule_list_load(server, client, groups, args.rules, args.seconds))
    finally:
        figures["describe"] = server.describe()
        if client:
            figures["retries"] = client.retry_note()
        server.destroy()
        if server in LIVE:
            LIVE.remove(server)
        print(f"  [{server.label}] done in {time.monotonic() - t0:.0f} s", flush=True)


# --- report ----------------------------------------------------------------------------------

def table(args, ours, theirs, why_not):
    print(f"\n== Networking: {ours.get('describe', 'stratus')} vs "
          f"{theirs.get('describe') if theirs else 'reference neutron'}; {os.cpu_count()} cores, "
          f"{CLIENTS} clients; ratio = Stratus / reference")
    print(f"  {'figure':<52} {'stratus':>14} {'reference':>14} {'ratio':>8}")

    def row(name, key, unit, scale=1.0, lower_better=False):
        a = ours.get(key)
        b = theirs.get(key) if theirs else None
        fmt = (lambda v: f"{v * scale:>10.1f} {unit:<3}" if v is not None else f"{'-':>14}")
        ratio = f"{a / b:>7.2f}x" if a and b else f"{'-':>8}"
        hint = " (lower is better)" if lower_better and (a and b) else ""
        print(f"  {name:<52} {fmt(a)} {fmt(b)} {ratio}{hint}")

    row(f"(a) POST /v2.0/ports, {args.creates} creates: creates/s", "create_rate", "/s")
    row("    latency p50", "create_p50", "ms", 1000, True)
    row("    latency p99", "create_p99", "ms", 1000, True)
    row(f"(b) GET /v2.0/ports?limit=100, {args.ports} ports: req/s", "list_rps", "/s")
    row("    latency p50", "list_p50", "ms", 1000, True)
    row("    latency p99", "list_p99", "ms", 1000, True)
    row("    (making those ports: ports/s; reference: bulk POSTs)", "seed_rate", "/s")
    rules = ours.get("rules")
    row(f"(c) GET /v2.0/security-group-rules, {args.rules} rules: req/s", "rules_rps", "/s")
    row("    latency p50", "rules_p50", "ms", 1000, True)
    row("    latency p99", "rules_p99", "ms", 1000, True)
    row("    (making those rules: rules/s; reference: bulk POSTs)", "rule_rate", "/s")
    print(f"  rules listed per request: stratus {rules}" + (f", reference {theirs.get('rules')}" if theirs else "")
          + f" ({args.rules} + 2 default egress rules per group + every project's default group rules)")
    print(f"  load: {'wrk -t 2 -c 16' if shutil.which('wrk') else '16 Python threads'}, {args.seconds} s per list; "
          f"creates: 16 threads, http.client keep-alive")
    print(f"  retries (5xx / dropped connection): stratus {ours.get('retries', '-')}"
          + (f"; reference {theirs.get('retries', '-')}" if theirs else ""))
    if why_not:
        print(f"  reference: no figures: {why_not}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stratus-bin", default=STRATUS)
    parser.add_argument("--quick", action="store_true", help="300 creates, 2,000 ports, 1,000 rules, 3 s of load")
    parser.add_argument("--creates", type=int)
    parser.add_argument("--ports", type=int)
    parser.add_argument("--rules", type=int)
    parser.add_argument("--seconds", type=int)
    parser.add_argument("--stratus", action=argparse.BooleanOptionalAction, default=True, help="(--no-stratus: the reference alone)")
    parser.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--neutron-venv", default=NEUTRON_VENV)
    parser.add_argument("--reference-lists", action=argparse.BooleanOptionalAction, default=None,
                        help="also (b) and (c) on the reference (default: with --quick only; neutron makes "
                             "~3 ports/s here, so 10,000 ports take about an hour)")
    parser.add_argument("--reference-workers", type=int, default=2, help="gunicorn workers of the reference (api_workers)")
    args = parser.parse_args()
    defaults = (300, 2000, 1000, 3) if args.quick else (2000, 10000, 5000, int(os.environ.get("BENCH_SECONDS", "10")))
    for key, value in zip(("creates", "ports", "rules", "seconds"), defaults):
        if getattr(args, key) is None:
            setattr(args, key, value)

    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ours, theirs, why_not = {}, None, None
    if args.stratus:
        run(Stratus(args.stratus_bin), args, ours)
    if args.reference:
        theirs = {}
        try:
            ref = ReferenceNeutron(args.neutron_venv, args.reference_workers)
            ref.lists = args.quick if args.reference_lists is None else args.reference_lists
            if not ref.lists:
                why_not = (f"(b) and (c) not run (--reference-lists to run them): neutron makes ~3 ports/s here, "
                           f"{args.ports} ports would take ~{args.ports / 3 / 60:.0f} min")
            run(ref, args, theirs)
        except Exception as e:  # noqa: BLE001 - the reference is optional; say why it has no figures
            why_not = " ".join(str(e).split())[:300]
            print(f"  [reference] FAILED: {why_not}", file=sys.stderr, flush=True)
    else:
        why_not = "not run (--no-reference)"
    table(args, ours, theirs, why_not)


if __name__ == "__main__":
    main()
