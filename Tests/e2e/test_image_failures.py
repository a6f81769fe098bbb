"""Image data under failure: what a user sees when an upload is cut off or its server dies.

Stratus streams an upload to a hidden temporary file (`.<image>.<writer>.partial`) in the store
directory and renames it into place, turning the image `active`, only once the data is whole.
Each upload holds a lease row in the database that its process heartbeats; a process reaps
expired leases (image back to `queued`, files removed) at start and periodically.

- A client that drops its connection mid-upload (Content-Length or chunked): the image is
  `queued` again within seconds, nothing of the data is left in the store, and a fresh upload
  works.
- `kill -9` of a standalone `stratus glance-api` mid-upload (Identity from the all-in-one
  cloud, the daemon on its own database and store with `[stratus] upload_lease_seconds = 3`):
  after the restart nothing is `active` with partial data, within about two leases the image
  is `queued` and its files are gone, and a full upload then works.
- A live upload whose client pauses for longer than the lease is left alone.
- Two daemons on one database and store, one killed while both are mid-upload: the survivor's
  upload completes (its lease is never broken, its temporary file never removed) while the
  killed one's image returns to `queued`.

Runs on SQLite and on PostgreSQL (the conftest's `cloud` fixture is parametrized by database;
the daemons here use a database of the same kind).
"""
import hashlib
import os
import random
import shutil
import signal
import socket
import tempfile
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from conftest import new_postgres_database, postgres_url_or_skip
from framework.cloud import API, STRATUS, Process, clean_env, port_free, run

MiB = 1024 * 1024
LEASE = 3  # [stratus] upload_lease_seconds of the standalone daemons
# A dead writer's lease expires LEASE s after its last heartbeat (stored to the second, so up to
# LEASE + 1 s), and a live process reaps once per LEASE: ~2 leases, plus start-up and polling slack.
REAP_DEADLINE = 2 * LEASE + 4


def free_port():
    for _ in range(200):
        port = random.randrange(10000, 32000)
        if port_free(port):
            return port
    raise RuntimeError("no free port")


def admin_token(cloud):
    token, _ = API(cloud).issue("admin", cloud.password, project="admin")
    return token


class Images:
    """The Image API at `base` as one user (requests, for everything but the cut-off uploads)."""

    def __init__(self, base, token):
        self.base = base.rstrip("/")
        self.token = token
        self.http = requests.Session()
        self.http.headers["X-Auth-Token"] = token

    def create(self, name):
        r = self.http.post(self.base + "/v2/images", json={"name": name, "disk_format": "raw", "container_format": "bare"},
                           timeout=30)
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "queued"
        return r.json()["id"]

    def show(self, image_id):
        r = self.http.get(f"{self.base}/v2/images/{image_id}", timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def status(self, image_id):
        return self.show(image_id)["status"]

    def list_all(self):
        r = self.http.get(self.base + "/v2/images?limit=1000", timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["images"]

    def upload(self, image_id, data):
        return self.http.put(f"{self.base}/v2/images/{image_id}/file", data=data, timeout=120,
                             headers={"Content-Type": "application/octet-stream"})

    def download(self, image_id):
        r = self.http.get(f"{self.base}/v2/images/{image_id}/file", timeout=120)
        assert r.status_code == 200, r.text
        return r.content

    def assert_whole(self, image_id, data):
        """The image is active with exactly `data`: size, checksum and the bytes served back."""
        image = self.show(image_id)
        md5 = hashlib.md5(data).hexdigest()
        assert (image["status"], image["size"], image["checksum"]) == ("active", len(data), md5), image
        assert image["os_hash_algo"] == "sha512" and image["os_hash_value"] == hashlib.sha512(data).hexdigest()
        served = self.download(image_id)
        assert len(served) == len(data) and hashlib.md5(served).hexdigest() == md5


class RawUpload:
    """`PUT /v2/images/{id}/file` on a raw socket, so that the client can stop at any byte and
    drop the connection (or go on slowly) as a real client or a crash would."""

    def __init__(self, base, token, image_id, length=None, chunked=False):
        parts = urlsplit(base)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
        self.chunked = chunked
        self.sent = 0
        head = [f"PUT {parts.path.rstrip('/')}/v2/images/{image_id}/file HTTP/1.1", f"Host: {parts.netloc}",
                f"X-Auth-Token: {token}", "Content-Type: application/octet-stream", "Connection: close"]
        head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())

    def send(self, data):
        if self.chunked:
            self.sock.sendall(b"%x\r\n" % len(data) + data + b"\r\n")
        else:
            self.sock.sendall(data)
        self.sent += len(data)

    def send_partial_chunk(self, declared, data):
        """A chunk header for `declared` bytes followed by only `data` (chunked only)."""
        assert self.chunked and len(data) < declared
        self.sock.sendall(b"%x\r\n" % declared + data)
        self.sent += len(data)

    def drop(self):
        self.sock.close()

    def response(self):
        """(status, body) once the client has sent everything."""
        if self.chunked:
            self.sock.sendall(b"0\r\n\r\n")
        data = b""
        while True:
            piece = self.sock.recv(65536)
            if not piece:
                break
            data += piece
        self.sock.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 "), data[:500]
        return int(head.split()[1]), body


def files_of(directory, image_id):
    """Names in the store directory that belong to the image: its data file or a temporary one."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n == image_id or n.startswith(f".{image_id}."))


def partials(directory):
    return sorted(n for n in os.listdir(directory) if n.endswith(".partial"))


def wait_for_partial(directory, image_id, min_size=1, timeout=15):
    """The upload's temporary file, once it exists and holds at least `min_size` bytes."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for name in files_of(directory, image_id):
            if name.endswith(".partial"):
                try:
                    if os.path.getsize(os.path.join(directory, name)) >= min_size:
                        return name
                except FileNotFoundError:
                    pass
        time.sleep(0.02)
    raise AssertionError(f"no temporary file of {min_size}+ bytes for {image_id} in {directory}: {os.listdir(directory)}")


def wait_until_reaped(images, directory, image_id, deadline_s, seen=None):
    """Polls until the image is `queued` with no file of its own left; returns the seconds it took.
    Every status seen goes into `seen` (the caller checks `active` never was one)."""
    seen = seen if seen is not None else []
    t0 = time.time()
    while True:
        status = images.status(image_id)
        seen.append(status)
        left = files_of(directory, image_id)
        if status == "queued" and not left:
            return time.time() - t0
        if time.time() - t0 > deadline_s:
            raise AssertionError(f"after {deadline_s}s image {image_id} is {status!r} with files {left} "
                                 f"(statuses seen: {sorted(set(seen))})")
        time.sleep(0.1)


# --- a client drops the connection mid-upload (all-in-one) -------------------------------------

@pytest.mark.parametrize("transfer", ["content-length", "chunked", "chunked-mid-chunk"])
def test_client_drops_connection_mid_upload(cloud, transfer):
    """The client sends part of the image and closes the socket: no `active` image with partial
    data, the image is `queued` again within seconds, the store keeps nothing of it, and the same
    image then takes a full upload."""
    token = admin_token(cloud)
    images = Images(cloud.url("image"), token)
    store = os.path.join(cloud.data_dir, "images")
    image_id = images.create(f"dropped-{transfer}")

    upload = RawUpload(cloud.url("image"), token, image_id, length=64 * MiB, chunked=transfer != "content-length")
    piece = os.urandom(MiB)
    for _ in range(8):
        upload.send(piece)
    if transfer == "chunked-mid-chunk":
        upload.send_partial_chunk(MiB, piece[: MiB // 2])
    wait_for_partial(store, image_id, min_size=MiB)
    assert images.status(image_id) == "saving"
    upload.drop()

    seen = []
    took = wait_until_reaped(images, store, image_id, 10, seen)
    assert "active" not in seen, f"a cut-off upload ({upload.sent} of 64 MiB sent) was committed: {seen}"
    assert partials(store) == [], os.listdir(store)
    print(f"[{transfer}] queued again {took:.2f}s after the client dropped the connection")

    data = os.urandom(3 * MiB + 123)
    r = images.upload(image_id, data)
    assert r.status_code == 204, r.text
    images.assert_whole(image_id, data)
    assert files_of(store, image_id) == [image_id]


# --- kill -9 of standalone glance-api daemons --------------------------------------------------

class GlanceNode:
    """glance-api.conf for standalone `stratus glance-api` daemons: their own database (of the
    cloud's kind), their own store directory, Identity from the all-in-one cloud as the service
    user all-in-one created for glance, and a 3-second upload lease. Several daemons may run
    on the same configuration (same database and store), each on its own port."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.dir = tempfile.mkdtemp(prefix="stratus-glance-failures-")
        self.store = os.path.join(self.dir, "images")
        self.connection = (new_postgres_database(postgres_url_or_skip()) if cloud.database
                           else f"sqlite:///{self.dir}/glance.db")
        with open(os.path.join(cloud.data_dir, "glance-password")) as f:
            password = f.read().strip()
        self.conf = os.path.join(self.dir, "glance-api.conf")
        with open(self.conf, "w") as f:
            f.write(f"""[DEFAULT]
node_staging_uri = file://{self.dir}/staging

[database]
connection = {self.connection}

[keystone_authtoken]
www_authenticate_uri = {cloud.auth_url}
auth_url = {cloud.auth_url}
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = glance
password = {password}

[paste_deploy]
flavor = keystone

[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = {self.store}

[stratus]
upload_lease_seconds = {LEASE}
""")
        run([STRATUS, "glance-manage", "--config-file", self.conf, "db_sync"], env=clean_env())
        self.daemons = []

    def start(self, port=None):
        daemon = GlanceDaemon(self.conf, port or free_port())
        self.daemons.append(daemon)
        return daemon

    def destroy(self):
        for d in self.daemons:
            d.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class GlanceDaemon:
    def __init__(self, conf, port):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = Process([STRATUS, "glance-api", "--config-file", conf, "--bind", f"127.0.0.1:{port}"], env=clean_env())
        self.process.wait_for("listening")

    def kill9(self):
        self.process.proc.send_signal(signal.SIGKILL)
        self.process.proc.wait(timeout=15)
        assert self.process.proc.returncode == -signal.SIGKILL

    def stop(self):
        self.process.stop()

    def log(self):
        return self.process.output()


@pytest.fixture
def glance(cloud):
    node = GlanceNode(cloud)
    yield node
    node.destroy()


def test_kill9_mid_upload_then_restart(cloud, glance):
    """kill -9 of the daemon while an upload streams in; after a restart the image never shows
    as `active`, is `queued` again within about two leases with no file left, and then takes a
    full upload whose checksum matches."""
    token = admin_token(cloud)
    daemon = glance.start()
    images = Images(daemon.url, token)
    image_id = images.create("killed-mid-upload")
    upload = RawUpload(daemon.url, token, image_id, length=64 * MiB)
    piece = os.urandom(MiB)
    for _ in range(6):
        upload.send(piece)
    temp = wait_for_partial(glance.store, image_id, min_size=2 * MiB)
    assert images.status(image_id) == "saving"

    daemon.kill9()
    killed_at = time.time()
    try:
        upload.send(piece)  # what a client keeps doing until it notices
    except OSError:
        pass
    upload.drop()
    assert temp in files_of(glance.store, image_id), "the temporary file is what the crash leaves behind"

    restarted = glance.start(port=daemon.port)
    seen = []
    first = images.status(image_id)
    assert first in ("saving", "queued"), f"right after the restart the image is {first!r}"
    took = wait_until_reaped(images, glance.store, image_id, REAP_DEADLINE, seen)
    assert "active" not in seen, seen
    assert not [i for i in images.list_all() if i["status"] == "active"], "nothing is active: no image got whole data"
    assert partials(glance.store) == [], os.listdir(glance.store)
    print(f"queued again {took:.2f}s after the restart, {time.time() - killed_at:.2f}s after kill -9")

    data = os.urandom(5 * MiB + 7)
    r = images.upload(image_id, data)
    assert r.status_code == 204, f"{r.status_code} {r.text}\n{restarted.log()[-3000:]}"
    images.assert_whole(image_id, data)
    assert files_of(glance.store, image_id) == [image_id]


def test_kill9_one_of_two_daemons_mid_upload(cloud, glance):
    """Two daemons on one database and store, each mid-upload (slow streams); kill -9 one. The
    survivor's upload keeps going through the reaping of the dead one's and completes whole;
    the dead one's image is `queued` again with its files gone."""
    token = admin_token(cloud)
    survivor, victim = glance.start(), glance.start()
    via_survivor, via_victim = Images(survivor.url, token), Images(victim.url, token)
    kept_id = via_survivor.create("survivor-upload")
    lost_id = via_victim.create("victim-upload")

    # The survivor's client: declares 24 MiB, trickles 64 KiB every 50 ms until told to finish.
    kept_data = os.urandom(24 * MiB)
    finish = threading.Event()
    outcome = {}

    def trickle():
        try:
            up = RawUpload(survivor.url, token, kept_id, length=len(kept_data))
            step = 64 * 1024
            while not finish.is_set() and up.sent + step < len(kept_data):
                up.send(kept_data[up.sent:up.sent + step])
                time.sleep(0.05)
            up.send(kept_data[up.sent:])
            outcome["response"] = up.response()
        except Exception as e:  # noqa: BLE001 - reported by the test
            outcome["error"] = repr(e)
        outcome["done"] = time.time()

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    kept_temp = wait_for_partial(glance.store, kept_id, min_size=256 * 1024)

    lost = RawUpload(victim.url, token, lost_id, length=64 * MiB)
    piece = os.urandom(MiB)
    for _ in range(4):
        lost.send(piece)
    wait_for_partial(glance.store, lost_id, min_size=MiB)
    assert via_survivor.status(kept_id) == "saving" and via_survivor.status(lost_id) == "saving"

    victim.kill9()
    lost.drop()

    # While the survivor's upload goes on: the dead one's image comes back, the survivor's
    # temporary file stays put. Then two more leases' worth of reaping before it finishes.
    seen, t0, queued_after = [], time.time(), None
    while sender.is_alive():
        assert os.path.exists(os.path.join(glance.store, kept_temp)) or os.path.exists(os.path.join(glance.store, kept_id)), \
            f"the survivor's temporary file {kept_temp} was removed mid-upload\n{survivor.log()[-3000:]}"
        status = via_survivor.status(lost_id)
        seen.append(status)
        if queued_after is None and status == "queued" and not files_of(glance.store, lost_id):
            queued_after = time.time() - t0
        elapsed = time.time() - t0
        if queued_after is not None and elapsed > queued_after + 2 * LEASE:
            finish.set()
        if elapsed > REAP_DEADLINE + 2 * LEASE + 2:
            finish.set()
        if elapsed > 90:
            pytest.fail("the survivor's upload did not finish")
        time.sleep(0.1)
    sender.join()

    assert "error" not in outcome, outcome["error"]
    status, body = outcome["response"]
    assert status == 204, f"the survivor's upload failed: {status} {body[:500]!r}\n{survivor.log()[-3000:]}"
    assert "active" not in seen, seen
    assert queued_after is not None and queued_after <= REAP_DEADLINE, \
        f"the killed daemon's image was not queued again within {REAP_DEADLINE}s while the survivor uploaded " \
        f"(statuses seen: {sorted(set(seen))}, files: {files_of(glance.store, lost_id)})"
    assert outcome["done"] - t0 > queued_after, "the survivor was still uploading when the dead upload was reaped"
    print(f"killed daemon's image queued again {queued_after:.2f}s after kill -9; survivor finished at "
          f"{outcome['done'] - t0:.2f}s")

    via_survivor.assert_whole(kept_id, kept_data)
    assert files_of(glance.store, kept_id) == [kept_id]
    assert via_survivor.status(lost_id) == "queued" and files_of(glance.store, lost_id) == []
    assert partials(glance.store) == []
    assert f"image {kept_id}: the upload by" not in survivor.log(), "the survivor's own upload was never called abandoned"

    data = os.urandom(2 * MiB)
    r = via_survivor.upload(lost_id, data)
    assert r.status_code == 204, r.text
    via_survivor.assert_whole(lost_id, data)


def test_paused_upload_outlives_the_lease(cloud, glance):
    """A live upload whose client pauses for three leases (its temporary file untouched all that
    time, as old as an abandoned one) is neither reaped nor cut: it completes whole."""
    token = admin_token(cloud)
    daemon = glance.start()
    images = Images(daemon.url, token)
    image_id = images.create("paused-upload")
    data = os.urandom(4 * MiB)
    upload = RawUpload(daemon.url, token, image_id, length=len(data))
    upload.send(data[:MiB])
    temp = wait_for_partial(glance.store, image_id, min_size=MiB)
    t0 = time.time()
    while time.time() - t0 < 3 * LEASE + 1:
        assert images.status(image_id) == "saving"
        assert os.path.exists(os.path.join(glance.store, temp)), f"the paused upload's file was removed\n{daemon.log()[-3000:]}"
        time.sleep(0.25)
    upload.send(data[MiB:])
    status, body = upload.response()
    assert status == 204, f"{status} {body[:500]!r}\n{daemon.log()[-3000:]}"
    images.assert_whole(image_id, data)
    assert f"image {image_id}: the upload by" not in daemon.log()
