"""make bench SERVICE=placement: Stratus Placement against the reference placement from PyPI.

For each size N: a fresh server, N resource providers (VCPU 16 ratio 16, MEMORY_MB 32768 ratio
1.5, DISK_GB 1000; a tenth in one of ten aggregates, a tenth with trait CUSTOM_X) created by
8 client threads on keep-alive sessions (providers created/s, each provider being its POST and
its PUTs); then GET /allocation_candidates for VCPU:1,MEMORY_MB:256,DISK_GB:10 alone, with
&limit=10 and with &required=CUSTOM_X (median of 10 after one warm-up; the candidate count is
shown to cross-check the two servers); then allocation claims/s: wrk, 16 connections, PUT
/allocations/{new uuid} (consumer_generation null, 1 VCPU + 256 MB on a random provider).
All at microversion 1.39.

Stratus: `stratus all-in-one` (release build) on free ports, placement's URL from its ready
lines, an admin token from its Identity. Reference: openstack-placement under gunicorn (2 sync
workers, SQLite, noauth2 — token `admin`), from a venv (--reference-venv, $PLACEMENT_VENV, the
venv running this script if it has placement, else .venv-bench-placement). Stratus runs every
--sizes (default 1000,10000,100000); the reference runs the sizes up to 1,000, or up to 10,000
with BENCH_FULL=1. Ratios are reference time / Stratus time (so > 1 means Stratus is faster).

    Benchmarks/placement_bench.py [--stratus-bin PATH] [--sizes 1000,10000] [--no-reference] [--no-stratus]
"""
import argparse
import atexit
import concurrent.futures
import os
import re
import signal
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "placement"))
from reference_placement import ReferencePlacement  # noqa: E402

STRATUS = os.environ.get("STRATUS_BIN", os.path.join(ROOT, ".build", "release", "stratus"))
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
FULL = os.environ.get("BENCH_FULL") == "1"
MICROVERSION = "1.39"
CREATE_CLIENTS = 8
CLAIM_CLIENTS = 16
QUERY_RUNS = 10
RP_PREFIX = "b0000000-0000-4000-8000-"  # + 12 hex digits: the provider's index
AGGREGATES = [f"a0000000-0000-4000-8000-{i:012x}" for i in range(10)]
PROJECT, USER = "be0c0000-0000-4000-8000-000000000001", "be0c0000-0000-4000-8000-000000000002"
CANDIDATES = "/allocation_candidates?resources=VCPU:1,MEMORY_MB:256,DISK_GB:10"
QUERIES = [("candidates VCPU,MEMORY_MB,DISK_GB", CANDIDATES),
           ("  same, limit=10", CANDIDATES + "&limit=10"),
           ("  same, required=CUSTOM_X", CANDIDATES + "&required=CUSTOM_X")]
INVENTORIES = {
    "VCPU": {"total": 16, "allocation_ratio": 16.0},
    "MEMORY_MB": {"total": 32768, "allocation_ratio": 1.5},
    "DISK_GB": {"total": 1000, "allocation_ratio": 1.0},
}
LIVE = []  # servers to stop at exit, whatever happens


def rp_uuid(i):
    return f"{RP_PREFIX}{i:012x}"


def cleanup():
    while LIVE:
        try:
            LIVE.pop().destroy()
        except Exception as e:  # noqa: BLE001 - best effort at exit
            print(f"cleanup: {e!r}", file=sys.stderr)


def on_signal(signum, _frame):
    # os._exit: worker threads (and the executor's queue) must not outlive the servers they talk to.
    cleanup()
    sys.stdout.flush()
    os._exit(128 + signum)


# --- servers ---------------------------------------------------------------------------------

def stratus_modules(binary):
    out = subprocess.run([binary, "modules"], capture_output=True, text=True, check=True, timeout=30).stdout
    return [(line.split()[1], int(line.split()[2])) for line in out.splitlines() if line.strip()]


def port_free(port):
    import socket
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Stratus:
    """`stratus all-in-one` in a temp dir at a port offset where every service port is free."""

    def __init__(self, binary):
        self.binary = binary
        self.modules = stratus_modules(binary)
        if "placement" not in [t for t, _ in self.modules]:
            raise RuntimeError(f"{binary} registers no placement service (stratus modules: {self.modules})")
        ports = [p for _, p in self.modules]
        import random
        for _ in range(500):
            offset = random.randrange(1000, 32768 - max(ports) - 1, 10)
            if all(port_free(p + offset) for p in ports):
                break
        else:
            raise RuntimeError("no port offset with every service port free")
        self.offset = offset
        self.dir = tempfile.mkdtemp(prefix="stratus-placement-bench-")
        with open(os.path.join(self.dir, "bench.conf"), "w") as f:
            f.write("[identity]\npassword_hash_rounds = 4\n")
        self.log_path = os.path.join(self.dir, "stratus.log")
        self.proc = None
        self.urls = {}

    def start(self, timeout=120):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.binary, "all-in-one", "--data-dir", self.dir, "--port-offset", str(self.offset),
                                      "--admin-password", "bench-pass", "--config-file", os.path.join(self.dir, "bench.conf")],
                                     stdout=self.log, stderr=subprocess.STDOUT, text=True)
        LIVE.append(self)
        known = {t for t, _ in self.modules}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = open(self.log_path).read()
            if "stratus: ready" in out:
                lines = out[out.rindex("stratus: ready"):].splitlines()[1:]
                self.urls = dict(line.split(" ", 1) for line in lines if line.split(" ", 1)[0] in known)
                if "placement" in self.urls and "identity" in self.urls:
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"stratus exited {self.proc.returncode}:\n{out[-3000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"stratus not ready after {timeout}s:\n{open(self.log_path).read()[-3000:]}")

    @property
    def base(self):
        return self.urls["placement"].rstrip("/")

    def token(self):
        auth = self.urls["identity"].rstrip("/")
        auth = auth if auth.endswith("/v3") else auth + "/v3"
        body = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": "admin", "domain": {"id": "default"}, "password": "bench-pass"}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        r = requests.post(auth + "/auth/tokens?nocatalog", json=body, timeout=30)
        r.raise_for_status()
        return r.headers["X-Subject-Token"]

    def destroy(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


class Reference:
    def __init__(self, venv):
        self.server = ReferencePlacement(venv=venv, log=os.environ.get("PLACEMENT_LOG"))

    def start(self):
        LIVE.append(self)
        self.server.start()
        return self

    @property
    def base(self):
        return self.server.base

    def token(self):
        return "admin"

    def destroy(self):
        self.server.destroy()


# --- workload --------------------------------------------------------------------------------

class Client:
    """One keep-alive requests.Session per thread, every request at MICROVERSION."""

    def __init__(self, base, token):
        self.base = base
        self.headers = {"X-Auth-Token": token, "OpenStack-API-Version": f"placement {MICROVERSION}", "Accept": "application/json"}
        self.local = threading.local()
        self.retries = 0
        self.reasons = {}  # retried answer ("503", "ConnectionError", ...) -> count
        self.lock = threading.Lock()

    def session(self):
        s = getattr(self.local, "session", None)
        if s is None:
            s = self.local.session = requests.Session()
            s.headers.update(self.headers)
        return s

    def call(self, method, path, body=None, timeout=120):
        return self.session().request(method, self.base + path, json=body, timeout=timeout)

    def must(self, method, path, body=None, ok=(200, 201, 204), also_ok_after_retry=()):
        """Sends until the status is in `ok` (5 attempts: SQLite 'database is locked' and
        dropped connections are retried; counted). A status in `also_ok_after_retry` counts as
        done when an earlier attempt may have been applied (e.g. 409 on a re-sent POST)."""
        last = None
        for attempt in range(5):
            try:
                r = self.call(method, path, body)
                if r.status_code in ok or (attempt and r.status_code in also_ok_after_retry):
                    return r
                last = f"{r.status_code} {r.text[:300]}"
                reason = str(r.status_code)
                if r.status_code < 500 and r.status_code != 409:
                    break
            except requests.RequestException as e:
                last, reason = repr(e), type(e).__name__
            with self.lock:
                self.retries += 1
                self.reasons[reason] = self.reasons.get(reason, 0) + 1
                if os.environ.get("BENCH_VERBOSE"):
                    print(f"    retry {method} {path}: {last[:200]}", flush=True)
            time.sleep(0.05 * (attempt + 1))
        raise RuntimeError(f"{method} {path}: {last}")


def create_providers(client, n):
    """Creates providers 0..n-1 with 8 threads; returns providers/s."""
    client.must("PUT", "/traits/CUSTOM_X")

    def one(i):
        uuid = rp_uuid(i)
        client.must("POST", "/resource_providers", {"name": f"bench-rp-{i}", "uuid": uuid}, also_ok_after_retry=(409,))
        generation = 0
        inventories = {rc: dict(v, reserved=0, min_unit=1, max_unit=v["total"], step_size=1) for rc, v in INVENTORIES.items()}
        r = client.must("PUT", f"/resource_providers/{uuid}/inventories",
                        {"resource_provider_generation": generation, "inventories": inventories})
        generation = r.json()["resource_provider_generation"]
        if i % 10 == 0:
            r = client.must("PUT", f"/resource_providers/{uuid}/aggregates",
                            {"resource_provider_generation": generation, "aggregates": [AGGREGATES[(i // 10) % len(AGGREGATES)]]})
            generation = r.json()["resource_provider_generation"]
        if i % 10 == 5:
            client.must("PUT", f"/resource_providers/{uuid}/traits",
                        {"resource_provider_generation": generation, "traits": ["CUSTOM_X"]})

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CREATE_CLIENTS) as pool:
        for future in concurrent.futures.as_completed([pool.submit(one, i) for i in range(n)]):
            future.result()
    return n / (time.monotonic() - t0)


def time_query(client, path):
    """(median seconds of QUERY_RUNS after a warm-up, number of allocation requests)."""
    r = client.call("GET", path, timeout=1800)
    if r.status_code != 200:
        raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:300]}")
    count = len(r.json()["allocation_requests"])
    times = []
    for _ in range(QUERY_RUNS):
        t = time.monotonic()
        r = client.call("GET", path, timeout=1800)
        _ = r.content
        times.append(time.monotonic() - t)
        if r.status_code != 200:
            raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:300]}")
    return statistics.median(times), count


CLAIM_LUA = """
local counter = 0
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end
function init(args)
    math.randomseed(os.time() * 100 + tid)
end
function request()
    counter = counter + 1
    local consumer = string.format("c0000000-%04x-4000-8000-%012x", tid, counter)
    local rp = string.format("@RP_PREFIX@%012x", math.random(0, @N@ - 1))
    local body = '{"allocations": {"' .. rp .. '": {"resources": {"VCPU": 1, "MEMORY_MB": 256}}}, ' ..
        '"consumer_generation": null, "project_id": "@PROJECT@", "user_id": "@USER@", "consumer_type": "INSTANCE"}'
    return wrk.format("PUT", "@BASE_PATH@/allocations/" .. consumer, nil, body)
end
"""


def claims(base, token, n):
    """Allocation claims/s by wrk (16 connections, DURATION s): (claims/s, p50 ms, p99 ms, failed, total)."""
    # One claim first, from Python, so a rejected body fails loudly rather than as a rate of 4xx.
    probe = requests.put(f"{base}/allocations/c0000000-ffff-4000-8000-000000000000", timeout=60,
                         headers={"X-Auth-Token": token, "OpenStack-API-Version": f"placement {MICROVERSION}"},
                         json={"allocations": {rp_uuid(0): {"resources": {"VCPU": 1, "MEMORY_MB": 256}}}, "consumer_generation": None,
                               "project_id": PROJECT, "user_id": USER, "consumer_type": "INSTANCE"})
    if probe.status_code != 204:
        raise RuntimeError(f"claim rejected: {probe.status_code} {probe.text[:300]}")
    from urllib.parse import urlsplit
    parts = urlsplit(base)
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(f'wrk.headers["X-Auth-Token"] = "{token}"\n')
    script.write(f'wrk.headers["OpenStack-API-Version"] = "placement {MICROVERSION}"\n')
    script.write('wrk.headers["Content-Type"] = "application/json"\n')
    lua = CLAIM_LUA
    for key, value in {"RP_PREFIX": RP_PREFIX, "N": str(n), "PROJECT": PROJECT, "USER": USER, "BASE_PATH": parts.path.rstrip("/")}.items():
        lua = lua.replace(f"@{key}@", value)
    script.write(lua)
    script.close()
    try:
        out = subprocess.run(["wrk", "-t", "2", "-c", str(CLAIM_CLIENTS), "-d", f"{DURATION}s", "--timeout", "30s", "--latency",
                              "-s", script.name, f"{parts.scheme}://{parts.netloc}/"],
                             capture_output=True, text=True, timeout=DURATION + 120).stdout
    finally:
        os.unlink(script.name)
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    if not m:
        raise RuntimeError(f"wrk said:\n{out}")
    total = int(m.group(1))
    seconds = float(m.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[m.group(3)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors: .*", out)
    if errors:
        print(f"    wrk: {errors.group(0)}", flush=True)

    def ms(label):
        mm = re.search(label + r"\s+([\d.]+)(us|ms|s)", out)
        if not mm:
            return float("nan")
        v, unit = float(mm.group(1)), mm.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    return (total - failed) / seconds, ms("50%"), ms("99%"), failed, total


def run(server, n, label):
    """Every figure for one fresh server at size n: a dict."""
    t0 = time.monotonic()
    try:
        server.start()
        token = server.token()
        client = Client(server.base, token)
        figures = {"create": create_providers(client, n)}
        reasons = f": {client.reasons}" if client.reasons else ""
        print(f"  [{label} N={n}] {figures['create']:.1f} providers/s ({client.retries} retried requests{reasons})", flush=True)
        for name, path in QUERIES:
            figures[name] = time_query(client, path)
            print(f"  [{label} N={n}] {name.strip()}: median {figures[name][0] * 1000:.1f} ms, "
                  f"{figures[name][1]} candidates", flush=True)
        figures["claims"] = claims(server.base, token, n)
        rate, p50, p99, failed, total = figures["claims"]
        print(f"  [{label} N={n}] {rate:.1f} claims/s (p50 {p50:.1f} ms, p99 {p99:.1f} ms, {failed} of {total} failed)", flush=True)
        return figures
    finally:
        server.destroy()
        if server in LIVE:
            LIVE.remove(server)
        print(f"  [{label} N={n}] done in {time.monotonic() - t0:.0f} s", flush=True)


def default_reference_venv():
    if os.environ.get("PLACEMENT_VENV"):
        return os.environ["PLACEMENT_VENV"]
    if os.access(os.path.join(sys.prefix, "bin", "placement-manage"), os.X_OK):
        return sys.prefix
    return os.path.join(ROOT, ".venv-bench-placement")


def table(sizes, ours, theirs):
    print(f"\n== Placement: Stratus vs reference placement (gunicorn, 2 workers, SQLite), {os.cpu_count()} cores, "
          f"microversion {MICROVERSION}; ratio = reference time / Stratus time")
    print(f"  {'N':>7}  {'figure':<48} {'stratus':>22} {'reference':>22} {'ratio':>8}")

    def rate_row(n, name, a, b, unit):
        ratio = f"{a / b:7.1f}x" if a and b else "       -"
        av = f"{a:12.1f} {unit}" if a is not None else "-"
        bv = f"{b:12.1f} {unit}" if b is not None else "-"
        print(f"  {n:>7}  {name:<48} {av:>22} {bv:>22} {ratio:>8}")

    def time_row(n, name, a, b):
        ratio = f"{b[0] / a[0]:7.1f}x" if a and b else "       -"
        av = f"{a[0] * 1000:9.1f} ms [{a[1]}]" if a else "-"
        bv = f"{b[0] * 1000:9.1f} ms [{b[1]}]" if b else "-"
        print(f"  {n:>7}  {name:<48} {av:>22} {bv:>22} {ratio:>8}")

    for n in sizes:
        a, b = ours.get(n, {}), theirs.get(n, {})
        if not a and not b:
            continue
        rate_row(n, f"providers created/s ({CREATE_CLIENTS} clients)", a.get("create"), b.get("create"), "/s")
        for name, _ in QUERIES:
            time_row(n, name + f" (median of {QUERY_RUNS})", a.get(name), b.get(name))
        rate_row(n, f"claims/s ({CLAIM_CLIENTS} clients, wrk)", a["claims"][0] if a else None, b["claims"][0] if b else None, "/s")
        detail = [f"{x['claims'][1]:.1f}/{x['claims'][2]:.1f}, {x['claims'][3]}" if x else "-" for x in (a, b)]
        print(f"  {'':>7}  {'  claims p50/p99 ms, failed':<48} {detail[0]:>22} {detail[1]:>22}")
    print("  [k] = allocation requests in the answer (the two servers should agree)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stratus-bin", default=STRATUS)
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated provider counts")
    parser.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the reference placement (sizes up to 1,000; 10,000 with BENCH_FULL=1)")
    parser.add_argument("--stratus", action=argparse.BooleanOptionalAction, default=True, help="run Stratus")
    parser.add_argument("--reference-venv", default=default_reference_venv())
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    reference_limit = 10000 if FULL else 1000

    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if shutil.which("wrk") is None:
        sys.exit("placement bench needs wrk (apt-get install wrk)")

    ours, theirs, failures = {}, {}, []
    for n in sizes:
        for wanted, results, label, make in ((args.stratus, ours, "stratus", lambda: Stratus(args.stratus_bin)),
                                             (args.reference and n <= reference_limit, theirs, "reference",
                                              lambda: Reference(args.reference_venv))):
            if not wanted:
                continue
            try:
                results[n] = run(make(), n, label)
            except Exception as e:  # noqa: BLE001 - one failed run must not lose the others' figures
                failures.append(f"{label} N={n}: {e}")
                print(f"  [{label} N={n}] FAILED: {e}", file=sys.stderr, flush=True)
    table(sizes, ours, theirs)
    if failures:
        print("\nfailed runs:\n  " + "\n  ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
