"""make bench SERVICE=image: Stratus Image data throughput, memory and list latency.

Stratus: `stratus all-in-one` (release build) in a temp data dir on free ports; a file of random
data (--size-mib, default 1 GiB) on the same filesystem as the data dir. Figures:
  (a) `dd if=FILE of=COPY bs=4M conv=fsync`: MB/s, the disk's limit for a durable copy;
  (b) upload: `curl -T FILE -H 'Content-Type: application/octet-stream' -X PUT …/v2/images/ID/file`
      (Stratus fsyncs the data before it answers): MB/s and ratio to dd;
  (c) download: `curl -o DEST …/file` to the same disk, then `sync DEST` (fsync): MB/s with and
      without the sync, ratio to dd (the with-sync figure, as dd's includes its fsync);
  (d) peak RSS of the stratus process during the transfers (VmRSS sampled every 50 ms):
      baseline before, peak during each transfer, growth, in MB;
  (e) `GET /v2/images?limit=100` latency, median and p95 of --list-runs requests, with
      --images images (default 10,000) in the database: rows inserted straight into
      DATA_DIR/glance.db (`images`, plus two properties each) while stratus is stopped, then
      stratus restarted.
Every transfer is checked: 204/200, the image `active` with the file's md5, the downloaded
file's md5.

Reference (optional, --reference, on by default): glance 33 from PyPI under gunicorn (1 gthread
worker, SQLite, file store, header auth) started by scripts/image/reference_glance.py from the
venv GLANCE_VENV (default .venv-bench-image, made by scripts/bench.sh), its temp dir on the same
filesystem; the same upload and download (and RSS of its gunicorn processes), shown beside
Stratus's with ratio = Stratus MB/s / reference MB/s. glance_store's file driver does not fsync
what it writes: its upload figure is not for durable data. If the reference cannot run, the
output says why.

curl gets `-H 'Expect:'` (no `Expect: 100-continue` handshake, which costs a 1 s wait with a
server that does not answer it) for both servers.

    Benchmarks/image_bench.py [--stratus-bin PATH] [--size-mib 1024] [--images 10000] [--list-runs 50]
                              [--no-reference] [--glance-venv DIR] [--work-dir DIR] [--keep]
"""
import argparse
import atexit
import hashlib
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
import uuid

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
STRATUS = os.environ.get("STRATUS_BIN", os.path.join(ROOT, ".build", "release", "stratus"))
DEFAULT_GLANCE_VENV = os.environ.get("GLANCE_VENV", os.path.join(ROOT, ".venv-bench-image"))
SAMPLE_SECONDS = 0.05
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- memory ------------------------------------------------------------------------------------

def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def descendants(pid):
    """pid and every process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


class RSSSampler:
    """VmRSS (summed over `pids()`) every 50 ms in a thread; `peak()` since the last `reset()`."""

    def __init__(self, pids):
        self.pids = pids
        self.lock = threading.Lock()
        self.max_kb = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def sample(self):
        return sum(rss_kb(p) for p in self.pids())

    def run(self):
        while not self.stop_event.is_set():
            kb = self.sample()
            with self.lock:
                self.max_kb = max(self.max_kb, kb)
            time.sleep(SAMPLE_SECONDS)

    def reset(self):
        with self.lock:
            self.max_kb = self.sample()

    def peak_mb(self):
        with self.lock:
            return self.max_kb / 1024

    def stop(self):
        self.stop_event.set()
        self.thread.join()


# --- servers -----------------------------------------------------------------------------------

class Stratus:
    """`stratus all-in-one` with its data dir under the bench's work dir."""

    def __init__(self, binary, work):
        self.binary = binary
        out = subprocess.run([binary, "modules"], capture_output=True, text=True, check=True, timeout=30).stdout
        self.modules = [(line.split()[1], int(line.split()[2])) for line in out.splitlines() if line.strip()]
        if "image" not in [t for t, _ in self.modules]:
            raise RuntimeError(f"{binary} registers no image service (stratus modules: {[t for t, _ in self.modules]}); "
                               "rebuild it (swift build -c release)")
        ports = [p for _, p in self.modules]
        for _ in range(500):
            offset = random.randrange(1000, 32768 - max(ports) - 1, 10)
            if all(port_free(p + offset) for p in ports):
                break
        else:
            raise RuntimeError("no port offset with every service port free")
        self.offset = offset
        self.dir = os.path.join(work, "stratus-data")
        os.makedirs(self.dir)
        self.conf = os.path.join(work, "bench.conf")
        with open(self.conf, "w") as f:
            f.write("[identity]\npassword_hash_rounds = 4\n")
        self.log_path = os.path.join(work, "stratus.log")
        self.proc = None
        self.urls = {}

    def start(self, timeout=120):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.binary, "all-in-one", "--data-dir", self.dir, "--port-offset", str(self.offset),
                                      "--admin-password", "bench-pass", "--config-file", self.conf],
                                     stdout=self.log, stderr=subprocess.STDOUT, text=True)
        if self not in LIVE:
            LIVE.append(self)
        known = {t for t, _ in self.modules}
        deadline = time.monotonic() + timeout
        start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        while time.monotonic() < deadline:
            with open(self.log_path) as f:
                f.seek(start)
                out = f.read()
            if "stratus: ready" in out:
                lines = out[out.rindex("stratus: ready"):].splitlines()[1:]
                self.urls = dict(line.split(" ", 1) for line in lines if line.split(" ", 1)[0] in known)
                if "image" in self.urls and "identity" in self.urls:
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"stratus exited {self.proc.returncode}:\n{out[-3000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"stratus not ready after {timeout}s")

    @property
    def pid(self):
        return self.proc.pid

    @property
    def base(self):
        return self.urls["image"].rstrip("/")

    def auth(self):
        """(headers for the Image API, project id) of the admin."""
        auth = self.urls["identity"].rstrip("/")
        auth = auth if auth.endswith("/v3") else auth + "/v3"
        body = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": "admin", "domain": {"id": "default"}, "password": "bench-pass"}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        r = requests.post(auth + "/auth/tokens?nocatalog", json=body, timeout=30)
        r.raise_for_status()
        return {"X-Auth-Token": r.headers["X-Subject-Token"]}, r.json()["token"]["project"]["id"]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def destroy(self):
        self.stop()


class ReferenceGlance:
    """scripts/image/reference_glance.py: glance 33 under gunicorn with header auth."""

    def __init__(self, venv, work):
        self.venv = venv
        self.work = work
        self.proc = None
        self.base = None

    def start(self, timeout=600):
        for tool in ("gunicorn", "glance-manage"):
            if not os.access(os.path.join(self.venv, "bin", tool), os.X_OK):
                raise RuntimeError(f"no {tool} in {self.venv} (make bench SERVICE=image makes .venv-bench-image; "
                                   f"or set GLANCE_VENV / --glance-venv)")
        tmp = os.path.join(self.work, "reference-tmp")
        os.makedirs(tmp, exist_ok=True)
        self.log_path = os.path.join(self.work, "reference.log")
        env = dict(os.environ, GLANCE_VENV=self.venv, TMPDIR=tmp)  # its temp dir (store) on the bench's disk
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "image", "reference_glance.py"),
                                      "--port", str(free_port())], env=env, stdout=subprocess.PIPE,
                                     stderr=open(self.log_path, "w"), text=True, start_new_session=True)
        LIVE.append(self)
        result = {}

        def read_url():
            result["line"] = self.proc.stdout.readline().strip()

        reader = threading.Thread(target=read_url, daemon=True)
        reader.start()
        reader.join(timeout)
        line = result.get("line", "")
        if not line.startswith("http://"):
            with open(self.log_path) as f:
                err = f.read()[-2000:]
            raise RuntimeError(f"reference glance did not start (exit {self.proc.poll()}): {line!r} {err}")
        self.base = line
        return self

    @property
    def pid(self):
        return self.proc.pid

    def gunicorn_pids(self):
        return [p for p in descendants(self.proc.pid) if p != self.proc.pid]

    def auth(self):
        project = uuid.uuid4().hex
        return {"X-Identity-Status": "Confirmed", "X-Roles": "admin,member,reader", "X-Tenant-Id": project,
                "X-Project-Id": project, "X-User-Id": uuid.uuid4().hex}, project

    def destroy(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


# --- measurements ------------------------------------------------------------------------------

def make_source(path, size):
    """A file of random data (fsynced); its md5."""
    md5 = hashlib.md5()
    block = 4 * 1024 * 1024
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(block, left))
            md5.update(chunk)
            f.write(chunk)
            left -= len(chunk)
        f.flush()
        os.fsync(f.fileno())
    return md5.hexdigest()


def file_md5(path):
    md5 = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(8 * 1024 * 1024):
            md5.update(chunk)
    return md5.hexdigest()


def mbps(size, seconds):
    return size / 1e6 / seconds


def dd_copy(source, copy):
    t = time.monotonic()
    subprocess.run(["dd", f"if={source}", f"of={copy}", "bs=4M", "conv=fsync"], check=True, capture_output=True)
    seconds = time.monotonic() - t
    os.unlink(copy)
    return seconds


def curl(args):
    """Runs curl; (http status, seconds curl took)."""
    out = subprocess.run(["curl", "-sS", "-H", "Expect:", "-w", "%{http_code} %{time_total}", *args],
                         capture_output=True, text=True, check=True, timeout=3600)
    code, total = out.stdout.strip().split()[-2:]
    return int(code), float(total)


def header_args(headers):
    out = []
    for k, v in headers.items():
        out += ["-H", f"{k}: {v}"]
    return out


def transfers(server, source, size, md5, work, label, pids):
    """Upload and download through `server`: a dict of figures."""
    headers, _ = server.auth()
    http = requests.Session()
    http.headers.update(headers)
    r = http.post(server.base + "/v2/images", json={"name": "bench", "disk_format": "raw", "container_format": "bare"},
                  timeout=60)
    if r.status_code != 201:
        raise RuntimeError(f"{label}: create image: {r.status_code} {r.text[:300]}")
    image_id = r.json()["id"]
    url = f"{server.base}/v2/images/{image_id}/file"
    sampler = RSSSampler(pids)
    try:
        time.sleep(0.5)
        baseline = sampler.sample() / 1024
        sampler.reset()
        code, up = curl(["-o", "/dev/null", "-T", source, "-H", "Content-Type: application/octet-stream",
                         *header_args(headers), "-X", "PUT", url])
        up_peak = sampler.peak_mb()
        if code != 204:
            raise RuntimeError(f"{label}: upload answered {code}")
        image = http.get(f"{server.base}/v2/images/{image_id}", timeout=60).json()
        if (image["status"], image["size"], image["checksum"]) != ("active", size, md5):
            raise RuntimeError(f"{label}: after the upload the image is {image}")
        dest = os.path.join(work, f"download-{label}")
        sampler.reset()
        t = time.monotonic()
        code, down = curl(["-o", dest, *header_args(headers), url])
        subprocess.run(["sync", dest], check=True)
        down_synced = time.monotonic() - t
        down_peak = sampler.peak_mb()
        if code != 200:
            raise RuntimeError(f"{label}: download answered {code}")
        if os.path.getsize(dest) != size or file_md5(dest) != md5:
            raise RuntimeError(f"{label}: the downloaded file differs from the uploaded one")
        os.unlink(dest)
        after = sampler.sample() / 1024
    finally:
        sampler.stop()
    return {"upload": mbps(size, up), "download": mbps(size, down), "download_synced": mbps(size, down_synced),
            "rss_base": baseline, "rss_up": up_peak, "rss_down": down_peak, "rss_after": after}


def insert_images(db_path, count, owner):
    """`count` queued images (two properties each) straight into glance.db."""
    db = sqlite3.connect(db_path)
    now = int(time.time())
    rows, props = [], []
    for i in range(count):
        image_id = str(uuid.UUID(int=random.getrandbits(128), version=4))
        rows.append((image_id, f"bench-image-{i:05d}", "queued", "private" if i % 2 else "public", None, None, None, None,
                     None, "raw", "bare", 0, 0, 0, 0, owner, None, now - count + i, now - count + i))
        props += [(image_id, "os_distro", "ubuntu"), (image_id, "bench_index", str(i))]
    with db:
        db.executemany("INSERT INTO images (id, name, status, visibility, size, virtual_size, checksum, os_hash_algo, "
                       "os_hash_value, disk_format, container_format, min_disk, min_ram, protected, os_hidden, owner, "
                       "location, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        db.executemany("INSERT INTO image_properties (image_id, name, value) VALUES (?,?,?)", props)
    total = db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    db.close()
    return total


def list_latency(server, runs):
    headers, _ = server.auth()
    http = requests.Session()
    http.headers.update(headers)
    url = server.base + "/v2/images?limit=100"
    for _ in range(3):
        r = http.get(url, timeout=60)
        if r.status_code != 200 or len(r.json()["images"]) != 100:
            raise RuntimeError(f"GET /v2/images?limit=100: {r.status_code} {r.text[:300]}")
    times = []
    for _ in range(runs):
        t = time.monotonic()
        r = http.get(url, timeout=60)
        _ = r.content
        times.append(time.monotonic() - t)
        if r.status_code != 200:
            raise RuntimeError(f"GET /v2/images?limit=100: {r.status_code}")
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    return statistics.median(times), p95


# --- main --------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stratus-bin", default=STRATUS)
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the image file (MiB)")
    parser.add_argument("--images", type=int, default=10000, help="images in the database for the list latency")
    parser.add_argument("--list-runs", type=int, default=50)
    parser.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure the reference glance-api's upload and download")
    parser.add_argument("--glance-venv", default=DEFAULT_GLANCE_VENV)
    parser.add_argument("--work-dir", help="where the data dir and files go (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    args = parser.parse_args()
    for tool in ("curl", "dd", "sync"):
        if shutil.which(tool) is None:
            sys.exit(f"image bench needs {tool}")

    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    work = args.work_dir or tempfile.mkdtemp(prefix="stratus-image-bench-")
    os.makedirs(work, exist_ok=True)
    if not args.keep:
        atexit.register(shutil.rmtree, work, True)
    size = args.size_mib * 1024 * 1024
    ours, theirs, notes = {}, None, []

    stratus = Stratus(args.stratus_bin, work)
    stratus.start()
    source = os.path.join(work, "source.img")
    print(f"  writing {args.size_mib} MiB of random data to {source} …", flush=True)
    md5 = make_source(source, size)
    store = os.path.join(stratus.dir, "images")
    same_fs = os.stat(source).st_dev == os.stat(store).st_dev
    if not same_fs:
        notes.append(f"the image file ({source}) is NOT on the store's filesystem ({store})")

    dd_s = dd_copy(source, os.path.join(work, "dd-copy.img"))
    ours["dd"] = mbps(size, dd_s)
    print(f"  [dd] {ours['dd']:.0f} MB/s (bs=4M conv=fsync)", flush=True)

    ours.update(transfers(stratus, source, size, md5, work, "stratus", lambda: [stratus.pid]))
    print(f"  [stratus] upload {ours['upload']:.0f} MB/s, download {ours['download']:.0f} MB/s "
          f"({ours['download_synced']:.0f} MB/s with sync); RSS {ours['rss_base']:.1f} → {ours['rss_up']:.1f} (upload) / "
          f"{ours['rss_down']:.1f} MB (download)", flush=True)

    # (e) the list with many images: rows straight into glance.db while stratus is stopped.
    _, project = stratus.auth()
    stratus.stop()
    total = insert_images(os.path.join(stratus.dir, "glance.db"), args.images, project)
    stratus.start()
    ours["images"] = total
    ours["list_median"], ours["list_p95"] = list_latency(stratus, args.list_runs)
    ours["rss_list"] = rss_kb(stratus.pid) / 1024
    print(f"  [stratus] GET /v2/images?limit=100 with {total} images: median {ours['list_median'] * 1000:.1f} ms, "
          f"p95 {ours['list_p95'] * 1000:.1f} ms", flush=True)
    stratus.destroy()
    LIVE.remove(stratus)

    if args.reference:
        ref = ReferenceGlance(args.glance_venv, work)
        try:
            ref.start()
            theirs = transfers(ref, source, size, md5, work, "reference", ref.gunicorn_pids)
            print(f"  [reference] upload {theirs['upload']:.0f} MB/s, download {theirs['download']:.0f} MB/s "
                  f"({theirs['download_synced']:.0f} MB/s with sync)", flush=True)
        except Exception as e:  # noqa: BLE001 - the reference is optional; say why it has no figures
            notes.append(f"reference glance-api: no figures: {e}")
            print(f"  [reference] FAILED: {e}", file=sys.stderr, flush=True)
            theirs = None
        finally:
            ref.destroy()
            if ref in LIVE:
                LIVE.remove(ref)
    else:
        notes.append("reference glance-api: not run (--no-reference)")

    table(args, ours, theirs, notes)


def table(args, ours, theirs, notes):
    print(f"\n== Image: Stratus ({os.path.basename(os.path.dirname(os.path.dirname(args.stratus_bin)))}"
          f"/{os.path.basename(os.path.dirname(args.stratus_bin))} build) vs reference glance 33 "
          f"(gunicorn, 1 gthread worker, SQLite, file store); {args.size_mib} MiB of random data, {os.cpu_count()} cores")
    print(f"  {'figure':<44} {'stratus':>14} {'vs dd':>7} {'reference':>14} {'vs dd':>7} {'stratus/ref':>12}")
    dd = ours["dd"]

    def rate(name, key):
        a, b = ours.get(key), theirs.get(key) if theirs else None
        print(f"  {name:<44} {a:>9.0f} MB/s {a / dd:>6.2f}x "
              + (f"{b:>9.0f} MB/s {b / dd:>6.2f}x {a / b:>11.2f}x" if b else f"{'-':>14} {'-':>7} {'-':>12}"))

    print(f"  {'dd bs=4M conv=fsync (the disk limit)':<44} {dd:>9.0f} MB/s {1:>6.2f}x")
    rate("upload (curl -T, PUT …/file)", "upload")
    rate("download (curl -o, then sync)", "download_synced")
    rate("download (curl -o, page cache)", "download")

    def mem(name, key):
        a, b = ours.get(key), theirs.get(key) if theirs else None
        print(f"  {name:<44} {a:>11.1f} MB {'':>7} " + (f"{b:>11.1f} MB" if b is not None else f"{'-':>14}"))

    mem("RSS before the transfers", "rss_base")
    mem("peak RSS during the upload", "rss_up")
    mem("peak RSS during the download", "rss_down")
    growth = max(ours["rss_up"], ours["rss_down"]) - ours["rss_base"]
    ref_growth = max(theirs["rss_up"], theirs["rss_down"]) - theirs["rss_base"] if theirs else None
    print(f"  {'RSS growth (peak - before)':<44} {growth:>11.1f} MB {'':>7} "
          + (f"{ref_growth:>11.1f} MB" if ref_growth is not None else f"{'-':>14}"))
    print(f"  {'GET /v2/images?limit=100, ' + str(ours['images']) + ' images: median':<44} "
          f"{ours['list_median'] * 1000:>11.1f} ms")
    print(f"  {'  p95 (' + str(args.list_runs) + ' requests)':<44} {ours['list_p95'] * 1000:>11.1f} ms")
    print(f"  {'RSS after the list requests':<44} {ours['rss_list']:>11.1f} MB")
    print("  MB = 10^6 bytes. Stratus fsyncs uploaded data before answering; glance_store's file driver does not.")
    print("  Reference RSS: its gunicorn master and worker together.")
    for note in notes:
        print(f"  note: {note}")


if __name__ == "__main__":
    main()
