"""make bench SERVICE=compute: the Compute control plane with the fake driver.

There is no reference run: the anchors are published figures (issue 9): 9,000 new VMs per hour
sustained on 350 servers (≈ 2.5 boots/s; Mirantis OpenStack on IBM SoftLayer, 2014) and a
13.1 s mean `boot_server` at 1,000 compute nodes (OpenStack performance-docs, Mitaka, Rally).

Stratus: `stratus all-in-one` (--stratus-bin, $STRATUS_BIN, default the release build) in a temp
data dir at a free port offset, SQLite, the admin's token; the admin project's compute and network
quotas are raised first (os-quota-sets, PUT /v2.0/quotas). Figures:
  (a) boots: --boots N servers (flavor 1 VCPU / 64 MB / 1 GB, one port on a /16 network) created
      by 16 client threads, each POST /servers then GET /servers/{id} every 100 ms until ACTIVE:
      boots/s (N over the wall time) and the p50 / p99 from POST to ACTIVE; run for each N in
      --boots (default 100 and 1000), after 16 warm-up boots; N ≤ 100 runs three times and the
      median run is reported. Every server must reach ACTIVE.
  (b) GET /servers/detail?limit=1000 with --servers servers in the cell (default 10,000): the
      rows are written into the cell and API databases directly (as a boot leaves them), since
      only the list is measured; req/s and p50 / p99 from 16 threads for --seconds.
  (c) scheduling decisions per second with --nodes compute nodes (default 1,000): the nodes are
      resource providers with inventories in Placement (made through its API) and compute
      services + nodes + host mappings in the databases; --decisions `select_destinations` tasks
      are put on the scheduler's queue at once and timed until all are answered (each answer is a
      claim in Placement).

    Benchmarks/compute_bench.py [--stratus-bin PATH] [--boots 100,1000] [--servers 10000]
                                [--nodes 1000] [--decisions 500] [--seconds 10] [--quick]
    --quick: boots 50, 1,000 servers, 100 nodes, 100 decisions, 3 s of load.
    --servers 0 / --nodes 0 skip the list / scheduling figures.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
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
CLIENTS = 16
PASSWORD = "bench-pass"


def free_offset():
    for _ in range(200):
        offset = random.randrange(1000, 20000, 10)
        ok = True
        for port in (5000, 9292, 8778, 9696, 8774):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port + offset)) == 0:
                    ok = False
        if ok:
            return offset
    raise RuntimeError("no free port offset")


class Client:
    """One keep-alive connection to a base URL with a token."""

    def __init__(self, base, token):
        u = urllib.parse.urlsplit(base)
        self.prefix = u.path.rstrip("/")
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        self.headers = {"X-Auth-Token": token, "Content-Type": "application/json", "Accept": "application/json"}

    def call(self, method, path, body=None, headers=None):
        h = dict(self.headers)
        h.update(headers or {})
        for attempt in range(5):
            try:
                self.conn.request(method, self.prefix + path, body=json.dumps(body) if body is not None else None, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if r.status >= 500 and attempt < 4:
                    time.sleep(0.1)
                    continue
                return r.status, (json.loads(data) if data else None)
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                time.sleep(0.1)
        raise RuntimeError(f"{method} {path} failed")

    def ok(self, method, path, body=None, headers=None):
        status, data = self.call(method, path, body, headers)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {data}")
        return data


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


class Cloud:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="stratus-compute-bench-")
        self.offset = free_offset()
        conf = os.path.join(self.dir, "compute.conf")
        with open(conf, "w") as f:
            f.write("[DEFAULT]\nservice_down_time = 36000\n[database]\nmax_pool_size = 20\n[api_database]\nmax_pool_size = 20\n")
        shared = os.path.join(self.dir, "shared.conf")
        with open(shared, "w") as f:
            f.write("[identity]\npassword_hash_rounds = 4\n")
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.process = subprocess.Popen(
            [binary, "all-in-one", "--data-dir", self.dir, "--port-offset", str(self.offset), "--admin-password", PASSWORD,
             "--config-file", shared, "--config-file", "compute:" + conf],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.urls = {}
        for line in self.process.stdout:
            parts = line.split()
            if len(parts) == 2:
                self.urls[parts[0]] = parts[1]
            if "compute" in self.urls and "network" in self.urls and "placement" in self.urls:
                break
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
        u = urllib.parse.urlsplit(self.urls["identity"])
        c = http.client.HTTPConnection(u.hostname, u.port)
        c.request("POST", "/v3/auth/tokens", json.dumps(body), {"Content-Type": "application/json"})
        r = c.getresponse()
        self.token = r.getheader("X-Subject-Token")
        self.project = json.loads(r.read())["token"]["project"]["id"]
        # Wait until the compute host is registered and mapped.
        nova = self.client("compute")
        deadline = time.time() + 120
        while time.time() < deadline:
            hv = nova.ok("GET", "/os-hypervisors")["hypervisors"]
            if hv and hv[0]["state"] == "up" and self.mapped():
                break
            time.sleep(0.5)

    def mapped(self):
        db = sqlite3.connect(os.path.join(self.dir, "nova_api.db"), timeout=30)
        n = db.execute("SELECT COUNT(*) FROM host_mappings").fetchone()[0]
        db.close()
        return n > 0

    def client(self, service):
        return Client(self.urls[service], self.token)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def setup(cloud):
    nova = cloud.client("compute")
    neutron = cloud.client("network")
    nova.ok("PUT", f"/os-quota-sets/{cloud.project}", {"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
    neutron.ok("PUT", f"/v2.0/quotas/{cloud.project}", {"quota": {"port": -1, "network": -1, "subnet": -1}})
    flavor = nova.ok("POST", "/flavors", {"flavor": {"name": "bench", "ram": 64, "vcpus": 1, "disk": 1}})["flavor"]["id"]
    glance = cloud.client("image")
    image = glance.ok("POST", "/v2/images", {"name": "bench", "disk_format": "raw", "container_format": "bare"})["id"]
    u = urllib.parse.urlsplit(cloud.urls["image"])
    c = http.client.HTTPConnection(u.hostname, u.port)
    c.request("PUT", f"/v2/images/{image}/file", b"x" * 4096, {"X-Auth-Token": cloud.token, "Content-Type": "application/octet-stream"})
    assert c.getresponse().status == 204
    net = neutron.ok("POST", "/v2.0/networks", {"network": {"name": "bench"}})["network"]["id"]
    neutron.ok("POST", "/v2.0/subnets", {"subnet": {"network_id": net, "cidr": "10.64.0.0/16", "ip_version": 4}})
    return flavor, image, net


def boots(cloud, n, flavor, image, net):
    latencies = []
    failures = []
    lock = threading.Lock()
    counter = iter(range(n))

    def worker():
        nova = cloud.client("compute")
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            start = time.time()
            server = nova.ok("POST", "/servers", {"server": {
                "name": f"b{i}", "flavorRef": flavor, "imageRef": image, "networks": [{"uuid": net}]}})["server"]["id"]
            while True:
                s = nova.ok("GET", f"/servers/{server}")["server"]
                if s["status"] in ("ACTIVE", "ERROR"):
                    break
                time.sleep(0.1)
            with lock:
                (latencies if s["status"] == "ACTIVE" else failures).append(time.time() - start)

    started = time.time()
    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - started
    return {"n": n, "active": len(latencies), "errors": len(failures), "rate": n / wall,
            "p50": pct(latencies, 50) if latencies else None, "p99": pct(latencies, 99) if latencies else None}


def seed_servers(cloud, count, flavor):
    """Rows for `count` servers in cell1 and the API database, as a boot leaves them."""
    cell = sqlite3.connect(os.path.join(cloud.dir, "nova.db"), timeout=60)
    api = sqlite3.connect(os.path.join(cloud.dir, "nova_api.db"), timeout=60)
    cell_id = api.execute("SELECT id FROM cell_mappings WHERE uuid != '00000000-0000-0000-0000-000000000000' ORDER BY id LIMIT 1").fetchone()[0]
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000", time.gmtime())
    flavor_json = json.dumps({"flavorid": flavor, "name": "bench", "memory_mb": 64, "vcpus": 1, "root_gb": 1, "ephemeral_gb": 0,
                              "swap": 0, "extra_specs": {}})
    rows, maps = [], []
    for i in range(count):
        u = str(uuid.uuid4())
        info = json.dumps([{"port_id": str(uuid.uuid4()), "network_id": "n", "network_name": "bench", "mac": "fa:16:3e:00:00:01",
                            "ips": [{"address": f"10.65.{i // 250}.{i % 250 + 1}", "version": 4, "type": "fixed"}], "created": True}])
        rows.append((u, cloud.project, "bench", f"seed-{i}", f"seed-{i}", "img", flavor_json, "{}", "active", 1, "localhost", "localhost",
                     "nova", now, now, now, 0, "r-seed", info, '["default"]', "[]", "{}"))
        maps.append((u, cell_id, cloud.project, "bench", now))
    cell.executemany(
        "INSERT INTO instances (uuid, project_id, user_id, display_name, hostname, image_ref, flavor, metadata, vm_state, power_state, "
        "host, node, availability_zone, launched_at, created_at, updated_at, launch_index, reservation_id, network_info, "
        "security_groups, tags, request) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    api.executemany("INSERT INTO instance_mappings (instance_uuid, cell_id, project_id, user_id, queued_for_delete, created_at) "
                    "VALUES (?,?,?,?,0,?)", maps)
    cell.commit()
    api.commit()
    cell.close()
    api.close()


def list_load(cloud, seconds):
    latencies = []
    lock = threading.Lock()
    deadline = time.time() + seconds
    count = {"n": 0}

    def worker():
        nova = cloud.client("compute")
        while time.time() < deadline:
            t = time.time()
            servers = nova.ok("GET", "/servers/detail?limit=1000")["servers"]
            assert len(servers) == 1000, len(servers)
            with lock:
                latencies.append(time.time() - t)
                count["n"] += 1

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"rate": count["n"] / (time.time() - started), "p50": pct(latencies, 50), "p99": pct(latencies, 99)}


def seed_nodes(cloud, nodes):
    """`nodes` compute hosts: providers with inventories in Placement, services, nodes and mappings in the databases."""
    placement = cloud.client("placement")
    mv = {"OpenStack-API-Version": "placement 1.36"}
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000", time.gmtime())
    made = []

    def make(i):
        c = cloud.client("placement")
        u = str(uuid.uuid4())
        c.ok("POST", "/resource_providers", {"uuid": u, "name": f"bench-node-{i}"}, mv)
        c.ok("PUT", f"/resource_providers/{u}/inventories", {"resource_provider_generation": 0, "inventories": {
            "VCPU": {"total": 64, "allocation_ratio": 4.0}, "MEMORY_MB": {"total": 262144, "reserved": 512},
            "DISK_GB": {"total": 4000}}}, mv)
        return i, u

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        made = list(pool.map(make, range(nodes)))
    del placement
    cell = sqlite3.connect(os.path.join(cloud.dir, "nova.db"), timeout=60)
    api = sqlite3.connect(os.path.join(cloud.dir, "nova_api.db"), timeout=60)
    cell_id = api.execute("SELECT id FROM cell_mappings WHERE uuid != '00000000-0000-0000-0000-000000000000' ORDER BY id LIMIT 1").fetchone()[0]
    for i, u in made:
        host = f"bench-node-{i}"
        cur = cell.execute("INSERT INTO services (uuid, host, binary_name, topic, report_count, disabled, forced_down, last_seen_up, "
                           "created_at, updated_at) VALUES (?,?,?,?,0,0,0,?,?,?)", (str(uuid.uuid4()), host, "nova-compute", "compute", now, now, now))
        cell.execute("INSERT INTO compute_nodes (uuid, service_id, host, hypervisor_hostname, hypervisor_type, hypervisor_version, vcpus, "
                     "memory_mb, local_gb, host_ip, cpu_info, created_at, updated_at) VALUES (?,?,?,?,'fake',1000,64,262144,4000,'127.0.0.1','{}',?,?)",
                     (u, cur.lastrowid, host, host, now, now))
        api.execute("INSERT INTO host_mappings (cell_id, host, created_at) VALUES (?,?,?)", (cell_id, host, now))
    cell.commit()
    api.commit()
    cell.close()
    api.close()


def decisions(cloud, count):
    api = sqlite3.connect(os.path.join(cloud.dir, "nova_api.db"), timeout=60)
    flavor = {"vcpus": 1, "memory_mb": 64, "root_gb": 1, "ephemeral_gb": 0, "swap": 0, "extra_specs": {}}
    ids = []
    now = time.time()
    rows = []
    for i in range(count):
        tid = str(uuid.uuid4())
        ids.append(tid)
        spec = {"instance": str(uuid.uuid4()), "project_id": cloud.project, "user_id": "bench", "flavor": flavor,
                "availability_zone": None, "exclude": []}
        rows.append((tid, "scheduler", "select_destinations", json.dumps(spec), "queued", 0, now + i * 1e-6))
    started = time.time()
    api.executemany("INSERT INTO stratus_tasks (id, queue, kind, payload, state, attempts, created_at) VALUES (?,?,?,?,?,?,?)", rows)
    api.commit()
    while True:
        done = api.execute("SELECT COUNT(*) FROM stratus_tasks WHERE queue = 'scheduler' AND state IN ('done', 'failed')").fetchone()[0]
        if done >= count:
            break
        time.sleep(0.05)
    elapsed = time.time() - started
    hosts = [json.loads(r[0] or "{}").get("host") for r in api.execute("SELECT result FROM stratus_tasks WHERE queue = 'scheduler'")]
    api.close()
    return {"rate": count / elapsed, "placed": sum(1 for h in hosts if h), "distinct_hosts": len(set(h for h in hosts if h))}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--stratus-bin", default=STRATUS)
    p.add_argument("--boots", default="100,1000")
    p.add_argument("--servers", type=int, default=10000)
    p.add_argument("--nodes", type=int, default=1000)
    p.add_argument("--decisions", type=int, default=500)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    if a.quick:
        a.boots, a.servers, a.nodes, a.decisions, a.seconds = "50", 1000, 100, 100, 3
    print(f"Stratus compute benchmarks ({a.stratus_bin}), {CLIENTS} clients")
    cloud = Cloud(a.stratus_bin)
    try:
        flavor, image, net = setup(cloud)
        # Warm-up: the first boots open the service clients' connections and fill caches.
        boots(cloud, CLIENTS, flavor, image, net)
        for n in [int(x) for x in a.boots.split(",")]:
            # A run of 100 lasts about two seconds, where a few slow boots move the rate by a
            # fifth: three runs, the median one reported (all three rates printed).
            runs = sorted((boots(cloud, n, flavor, image, net) for _ in range(3 if n <= 100 else 1)), key=lambda r: r["rate"])
            r = runs[len(runs) // 2]
            if len(runs) > 1:
                print(f"boots {n:>5}: runs at " + ", ".join(f"{x['rate']:.1f}" for x in runs) + " boots/s; the median run:")
            print(f"boots {n:>5}: {r['rate']:7.1f} boots/s  p50 {r['p50']:.3f} s  p99 {r['p99']:.3f} s  "
                  f"ACTIVE {r['active']}/{n}  ERROR {r['errors']}   (reference anchors: ≈2.5 boots/s sustained; 13.1 s mean boot)")
        if a.servers > 0:
            seed_servers(cloud, a.servers, flavor)
            r = list_load(cloud, a.seconds)
            print(f"GET /servers/detail?limit=1000 with {a.servers}+ servers: {r['rate']:7.1f} req/s  p50 {r['p50']*1000:.0f} ms  "
                  f"p99 {r['p99']*1000:.0f} ms")
        if a.nodes > 0:
            seed_nodes(cloud, a.nodes)
            r = decisions(cloud, a.decisions)
            print(f"scheduling with {a.nodes}+1 compute nodes: {r['rate']:7.1f} decisions/s  ({r['placed']}/{a.decisions} placed on "
                  f"{r['distinct_hosts']} hosts)")
    finally:
        cloud.stop()


if __name__ == "__main__":
    main()
