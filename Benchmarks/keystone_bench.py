"""make bench: Stratus Identity against the reference keystone from PyPI, side by side.

Figures: start-to-ready (first start, restart), idle RSS, token validations/s (GET
/v3/auth/tokens, 16 connections, 10 s), token issues/s by rescoping and by password at
bcrypt cost 4 and 12 — each for Stratus and for keystone (gunicorn, 2 workers, SQLite,
[cache] enabled with dogpile.cache.memory, the same bcrypt cost), printed with ratios.
Load comes from wrk in a second process; Lua scripts carry the headers and bodies.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
STRATUS = os.environ.get("STRATUS_BIN", os.path.join(ROOT, ".build", "release", "stratus"))
BENCH_VENV = os.path.join(ROOT, ".venv-bench", "bin")
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = 16


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def login_body(user, password, project="admin"):
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}}},
                     "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}


def issue(base, user, password):
    r = requests.post(base + "/v3/auth/tokens", json=login_body(user, password))
    r.raise_for_status()
    return r.headers["X-Subject-Token"]


def wrk(url, method="GET", headers=None, body=None, duration=DURATION, connections=CONNECTIONS, expect=None):
    """Runs wrk; returns (requests/s, p50 ms, p99 ms, non-2xx count)."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(f'wrk.method = "{method}"\n')
    for k, v in (headers or {}).items():
        script.write(f'wrk.headers["{k}"] = "{v}"\n')
    if body is not None:
        script.write("wrk.body = [[" + json.dumps(body) + "]]\n")
        script.write('wrk.headers["Content-Type"] = "application/json"\n')
    script.close()
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency", "-s", script.name, url],
                         capture_output=True, text=True).stdout
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def ms(label):
        m = re.search(label + r"\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, ms("50%"), ms("99%"), int(bad.group(1)) if bad else 0


class Stratus:
    def __init__(self, rounds, binary=None):
        self.binary = binary or STRATUS
        self.dir = tempfile.mkdtemp(prefix="stratus-bench-")
        self.port = free_port()
        self.offset = self.port - 5000
        self.rounds = rounds
        with open(os.path.join(self.dir, "bench.conf"), "w") as f:
            f.write(f"[identity]\npassword_hash_rounds = {rounds}\n")
        self.proc = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        t0 = time.monotonic()
        self.proc = subprocess.Popen([self.binary, "all-in-one", "--data-dir", self.dir, "--port-offset", str(self.offset),
                                      "--admin-password", "bench-pass", "--config-file", os.path.join(self.dir, "bench.conf")],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in self.proc.stdout:
            if line.strip() == "stratus: ready":
                return time.monotonic() - t0
        raise RuntimeError("stratus exited before ready")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)

    def destroy(self):
        if self.proc and self.proc.poll() is None:
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class ReferenceKeystone:
    """keystone from PyPI under gunicorn (2 workers), SQLite, dogpile memory cache."""

    def __init__(self, rounds):
        self.dir = tempfile.mkdtemp(prefix="keystone-bench-")
        self.port = free_port()
        self.conf = os.path.join(self.dir, "keystone.conf")
        with open(self.conf, "w") as f:
            f.write(f"""[database]
connection = sqlite:///{self.dir}/keystone.db
[token]
provider = fernet
[fernet_tokens]
key_repository = {self.dir}/fernet-keys
[credential]
key_repository = {self.dir}/credential-keys
[identity]
password_hash_rounds = {rounds}
[cache]
enabled = true
backend = dogpile.cache.memory
""")
        with open(os.path.join(self.dir, "wsgi_keystone.py"), "w") as f:
            f.write("import sys\nsys.argv = sys.argv[:1]\nfrom keystone.wsgi.api import application  # noqa\n")
        self.env = dict(os.environ, OS_KEYSTONE_CONFIG_FILES=self.conf)
        manage = os.path.join(BENCH_VENV, "keystone-manage")
        import grp
        import pwd
        owner = ["--keystone-user", pwd.getpwuid(os.getuid()).pw_name, "--keystone-group", grp.getgrgid(os.getgid()).gr_name]
        for cmd in (["db_sync"], ["fernet_setup", *owner], ["credential_setup", *owner],
                    ["bootstrap", "--bootstrap-password", "bench-pass", "--bootstrap-public-url", self.base + "/v3",
                     "--bootstrap-region-id", "RegionOne"]):
            subprocess.run([manage, "--config-file", self.conf, *cmd], env=self.env, check=True, capture_output=True)
        self.proc = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen([os.path.join(BENCH_VENV, "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{self.port}",
                                      "--chdir", self.dir, "wsgi_keystone:application"],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                if requests.get(self.base + "/v3", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("keystone did not start")

    def destroy(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)
        shutil.rmtree(self.dir, ignore_errors=True)


def token_figures(base):
    """validations/s, rescopes/s for one server (cost does not matter for these)."""
    admin = issue(base, "admin", "bench-pass")
    user = issue(base, "admin", "bench-pass")
    validate = wrk(base + "/v3/auth/tokens", headers={"X-Auth-Token": admin, "X-Subject-Token": user})
    rescope_body = {"auth": {"identity": {"methods": ["token"], "token": {"id": user}},
                             "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    rescope = wrk(base + "/v3/auth/tokens?nocatalog", method="POST", body=rescope_body)
    return validate, rescope


def password_figure(base, during_probe=False):
    body = login_body("admin", "bench-pass")
    if not during_probe:
        return wrk(base + "/v3/auth/tokens?nocatalog", method="POST", body=body), None
    # Logins at full load while a second client reads /v3: the reads must not stall behind hashing.
    probe = subprocess.Popen([sys.executable, __file__, "--probe", base + "/v3"], stdout=subprocess.PIPE, text=True)
    login = wrk(base + "/v3/auth/tokens?nocatalog", method="POST", body=body)
    return login, json.loads(probe.communicate()[0])


def probe(url):
    """Sequential GETs for DURATION seconds: count and worst latency, printed as JSON."""
    s = requests.Session()
    lat = []
    end = time.monotonic() + DURATION
    while time.monotonic() < end:
        t = time.monotonic()
        s.get(url)
        lat.append(time.monotonic() - t)
    lat.sort()
    print(json.dumps({"count": len(lat), "p50_ms": lat[len(lat) // 2] * 1000, "p99_ms": lat[int(len(lat) * 0.99)] * 1000}))


def row(name, ours, theirs, unit, better="higher"):
    ratio = (ours / theirs if better == "higher" else theirs / ours) if theirs and ours else float("nan")
    print(f"  {name:<44} {ours:>10.1f} {unit:<6} | keystone {theirs:>9.1f} {unit:<6} | ratio {ratio:6.1f}x")


def compare(binaries, runs=3):
    """A/B: token validations/s and rescopes/s of several Stratus builds, runs interleaved
    (A, B, A, B, …) so drift on the machine hits both; prints each run and the medians."""
    results = {b: ([], []) for b in binaries}
    for run in range(runs):
        for b in binaries:
            s = Stratus(rounds=4, binary=b)
            s.start()
            validate, rescope = token_figures(s.base)
            s.destroy()
            results[b][0].append(validate[0])
            results[b][1].append(rescope[0])
            print(f"  run {run + 1} {b}: validations {validate[0]:.0f}/s, rescopes {rescope[0]:.0f}/s", flush=True)
    base = binaries[0]
    for b in binaries:
        v, r = sorted(results[b][0])[runs // 2], sorted(results[b][1])[runs // 2]
        bv, br = sorted(results[base][0])[runs // 2], sorted(results[base][1])[runs // 2]
        print(f"  median {b}: validations {v:.0f}/s ({v / bv:.3f} of first), rescopes {r:.0f}/s ({r / br:.3f} of first)")


def request_path_figures(base, rounds=3):
    """The request path against the framework: the bare Hummingbird app (Benchmarks/BareHummingbird,
    built only with STRATUS_BENCHMARKS=1; one GET /healthcheck route answering "OK") runs beside
    Stratus, and the three loads alternate — bare, Stratus /healthcheck, Stratus cached validation —
    `rounds` times, so a slow minute on this machine hits all three alike. Returns the medians
    (bare, health, validate) in req/s and every run, or None when the bare app is not built."""
    binary = os.path.join(os.path.dirname(STRATUS), "bare-hummingbird")
    if not os.path.exists(binary):
        return None
    port = free_port()
    proc = subprocess.Popen([binary, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthcheck", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.05)
        admin = issue(base, "admin", "bench-pass")
        user = issue(base, "admin", "bench-pass")
        runs = {"bare": [], "health": [], "validate": []}
        for _ in range(rounds):
            runs["bare"].append(wrk(f"http://127.0.0.1:{port}/healthcheck")[0])
            runs["health"].append(wrk(base + "/healthcheck")[0])
            runs["validate"].append(wrk(base + "/v3/auth/tokens", headers={"X-Auth-Token": admin, "X-Subject-Token": user})[0])
        median = {k: sorted(v)[len(v) // 2] for k, v in runs.items()}
        return median, runs
    finally:
        proc.terminate()
        proc.wait()


def populate(base, admin, projects, users, grants_per_user, inherited):
    """A database of `projects` projects (in trees of ten: a parent and nine children), `users` users,
    each granted member on `grants_per_user` projects; with `inherited`, each user also holds reader
    inherited from a parent project and a group holds reader inherited from the domain. Made over
    HTTP by 4 threads. Returns [(user name, password, project id)] — one distinct scope per user."""
    from concurrent.futures import ThreadPoolExecutor
    sess = requests.Session()
    h = {"X-Auth-Token": admin}
    def post(kind, body):
        r = sess.post(f"{base}/v3/{kind}s", json={kind: body}, headers=h)
        r.raise_for_status()
        return r.json()[kind]["id"]
    roles = {r["name"]: r["id"] for r in sess.get(base + "/v3/roles", headers=h).json()["roles"]}
    domain = post("domain", {"name": f"cold-{projects}-{users}"})
    parents = [post("project", {"name": f"parent-{i}", "domain_id": domain}) for i in range(max(1, projects // 10))]
    def child(i):
        return requests.post(f"{base}/v3/projects", headers=h, json={"project": {
            "name": f"child-{i}", "domain_id": domain, "parent_id": parents[i % len(parents)]}}).json()["project"]["id"]
    with ThreadPoolExecutor(4) as pool:
        ids = parents + list(pool.map(child, range(projects - len(parents))))
        def make_user(i):
            return requests.post(f"{base}/v3/users", headers=h, json={"user": {
                "name": f"cold-user-{i}", "domain_id": domain, "password": "cold-pw"}}).json()["user"]["id"]
        user_ids = list(pool.map(make_user, range(users)))
        def grant(i):
            s = requests.Session()
            u = user_ids[i]
            for k in range(grants_per_user):
                s.put(f"{base}/v3/projects/{ids[(i * grants_per_user + k) % len(ids)]}/users/{u}/roles/{roles['member']}", headers=h).raise_for_status()
            if inherited:
                s.put(f"{base}/v3/OS-INHERIT/projects/{parents[i % len(parents)]}/users/{u}/roles/{roles['reader']}/inherited_to_projects",
                      headers=h).raise_for_status()
        list(pool.map(grant, range(users)))
    if inherited:
        group = post("group", {"name": "cold-group", "domain_id": domain})
        sess.put(f"{base}/v3/OS-INHERIT/domains/{domain}/groups/{group}/roles/{roles['reader']}/inherited_to_projects",
                 headers=h).raise_for_status()
        for u in user_ids[::10]:
            sess.put(f"{base}/v3/groups/{group}/users/{u}", headers=h).raise_for_status()
    return [(f"cold-user-{i}", domain, ids[(i * grants_per_user) % len(ids)]) for i in range(users)]


def cold_validation_figure(base, admin, scopes):
    """Tokens for distinct (user, project) pairs, then one write (every cache in the process is
    stale after it), then each token validated once by 4 client threads: validations/s and p50 ms."""
    from concurrent.futures import ThreadPoolExecutor
    def token(scope):
        user, domain, project = scope
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": domain}, "password": "cold-pw"}}}, "scope": {"project": {"id": project}}}}
        r = requests.post(base + "/v3/auth/tokens?nocatalog", json=body)
        r.raise_for_status()
        return r.headers["X-Subject-Token"]
    with ThreadPoolExecutor(4) as pool:
        tokens = list(pool.map(token, scopes))
    requests.post(base + "/v3/regions", json={"region": {"description": "stale caches"}}, headers={"X-Auth-Token": admin}).raise_for_status()
    local = __import__("threading").local()
    def validate(t):
        s = getattr(local, "s", None) or requests.Session()
        local.s = s
        t0 = time.monotonic()
        r = s.get(base + "/v3/auth/tokens?nocatalog", headers={"X-Auth-Token": admin, "X-Subject-Token": t})
        assert r.status_code == 200, r.text
        return time.monotonic() - t0
    t0 = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        lat = sorted(pool.map(validate, tokens))
    return len(tokens) / (time.monotonic() - t0), lat[len(lat) // 2] * 1000


def cold_figures():
    """Cold validations on a small database (500 users, 50 projects, 500 grants) and a large one
    (1,000 projects, 1,000 users, 10,000 grants, inherited grants from parents and the domain)."""
    out = {}
    for label, projects, users, per_user, inherited in (("small", 50, 500, 1, False), ("large", 1000, 1000, 10, True)):
        s = Stratus(rounds=4)
        s.start()
        admin = issue(s.base, "admin", "bench-pass")
        scopes = populate(s.base, admin, projects, users, per_user, inherited)[:500]
        out[label] = cold_validation_figure(s.base, admin, scopes)
        s.destroy()
    return out


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--probe":
        probe(sys.argv[2])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--cold":
        # Benchmarks/keystone_bench.py --cold: only the cold-cache validation figures.
        print_cold(cold_figures())
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--compare":
        # Benchmarks/keystone_bench.py --compare OLD_BINARY NEW_BINARY: no reference keystone needed.
        compare(sys.argv[2:])
        return
    print(f"== Stratus vs keystone (PyPI), {os.cpu_count()} cores, wrk -t2 -c{CONNECTIONS} -d{DURATION}s")
    s = Stratus(rounds=4)
    first = s.start()
    time.sleep(2)
    idle = rss_mb(s.proc.pid)
    s.stop()
    restart = s.start()
    validate, rescope = token_figures(s.base)
    path = request_path_figures(s.base)
    login4, _ = password_figure(s.base)
    s.destroy()
    print(f"  stratus all-in-one first start to ready        {first:8.3f} s   (target < 3 s)")
    print(f"  stratus all-in-one restart to ready            {restart:8.3f} s   (target < 1 s)")
    print(f"  stratus idle resident memory                   {idle:8.1f} MB  (target < 60 MB)")
    if path:
        m, runs = path
        print(f"  request path, median of {len(runs['bare'])} alternating rounds (wrk -t2 -c{CONNECTIONS} -d{DURATION}s each):")
        print(f"  bare Hummingbird GET /healthcheck              {m['bare']:8.0f} req/s (the framework's floor: 1.00x)")
        print(f"  stratus GET /healthcheck                       {m['health']:8.0f} req/s ({m['health'] / m['bare']:.2f}x bare; target 0.80x)")
        print(f"  stratus cached token validation                {m['validate']:8.0f} req/s ({m['validate'] / m['bare']:.2f}x bare; target 0.75x)")
        for k in ("bare", "health", "validate"):
            print(f"    runs {k:<9} " + "  ".join(f"{r:8.0f}" for r in runs[k]))
    else:
        print("  bare Hummingbird baseline: not built (scripts/bench.sh builds it with STRATUS_BENCHMARKS=1)")

    s12 = Stratus(rounds=12)
    s12.start()
    login12, _ = password_figure(s12.base)
    _, probe12 = password_figure(s12.base, during_probe=True)
    s12.destroy()

    k = ReferenceKeystone(rounds=4)
    k.start()
    kvalidate, krescope = token_figures(k.base)
    klogin4, _ = password_figure(k.base)
    k.destroy()
    k12 = ReferenceKeystone(rounds=12)
    k12.start()
    klogin12, _ = password_figure(k12.base)
    k12.destroy()

    print("  (rate; p50/p99 latency in ms below)")
    row("token validations/s (GET /v3/auth/tokens)", validate[0], kvalidate[0], "req/s")
    row("token issues/s by rescoping", rescope[0], krescope[0], "req/s")
    row("password logins/s, bcrypt cost 4", login4[0], klogin4[0], "req/s")
    row("password logins/s, bcrypt cost 12", login12[0], klogin12[0], "req/s")
    for name, a, b in [("validate", validate, kvalidate), ("rescope", rescope, krescope), ("login cost 4", login4, klogin4),
                       ("login cost 12", login12, klogin12)]:
        print(f"  latency {name:<14} stratus p50 {a[1]:8.2f} p99 {a[2]:8.2f} | keystone p50 {b[1]:8.2f} p99 {b[2]:8.2f}"
              f" | errors {a[3]}/{b[3]}")
    print(f"  GET /v3 while cost-12 logins saturate Stratus: {probe12['count']} requests in {DURATION}s, "
          f"p50 {probe12['p50_ms']:.2f} ms, p99 {probe12['p99_ms']:.2f} ms (hashing runs on its own thread pool)")
    print_cold(cold_figures())


def print_cold(figures):
    (srate, sp50), (lrate, lp50) = figures["small"], figures["large"]
    print("  cold-cache validation: 500 distinct never-validated tokens (each its own user and project), 4 client threads")
    print(f"  small database (50 projects, 500 grants)       {srate:8.0f} req/s p50 {sp50:.2f} ms")
    print(f"  large database (1,000 projects, 10,000 grants, inheritance) {lrate:8.0f} req/s p50 {lp50:.2f} ms"
          f" ({lrate / srate:.2f}x small; target >= 0.80x)")


if __name__ == "__main__":
    main()
