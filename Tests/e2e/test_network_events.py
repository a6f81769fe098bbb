"""Port events to Compute (`[nova]`, `notify_nova_on_port_*`): what neutron-server sends to
`POST /v2.1/os-server-external-events`, that nothing is kept while the catalog has no compute
endpoint, and that a failing Compute gets the events later (kept in the database, retried with
backoff), or never after `[nova] event_retry_seconds`.

Compute is a small HTTP server in this process that records what it is sent and can be told
to fail.
"""
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from framework.cloud import API, Cloud

RETRY_SECONDS = 8


class FakeCompute:
    def __init__(self):
        self.events = []
        self.failing = False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if owner.failing:
                    self.send_response(500)
                    self.end_headers()
                    return
                owner.events.append((self.path, self.headers.get("X-Auth-Token"), body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v2.1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def names(self):
        return [(e["name"], e["tag"], e["server_uuid"], e["status"]) for _, _, body in self.events for e in body["events"]]


def wait_until(condition, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def setup():
    compute = FakeCompute()
    probe = Cloud()
    auth = f"http://127.0.0.1:{5000 + probe.offset}/v3"
    conf = f"""[nova]
auth_url = {auth}
auth_type = password
project_domain_name = default
user_domain_name = default
region_name = RegionOne
project_name = admin
username = admin
password = admin-secret
event_retry_seconds = {RETRY_SECONDS}
"""
    with open(probe.conf_path, "a") as f:
        f.write(conf)
    # Without the Compute service: the test registers its own (fake) compute endpoint.
    cloud = probe.start(extra_args=("--without", "compute"))
    token, _ = API(cloud).issue("admin", cloud.password, project="admin")
    s = requests.Session()
    s.headers["X-Auth-Token"] = token
    yield cloud, compute, s
    cloud.destroy()
    compute.server.shutdown()


def network(cloud, s):
    net = cloud.url("network")
    n = s.post(f"{net}/v2.0/networks", json={"network": {"name": f"n-{uuid.uuid4().hex[:6]}"}}).json()["network"]
    s.post(f"{net}/v2.0/subnets", json={"subnet": {"network_id": n["id"], "ip_version": 4, "cidr": "10.9.0.0/24"}}).raise_for_status()
    return n["id"]


def server_port(cloud, s, net_id, server):
    r = s.post(f"{cloud.url('network')}/v2.0/ports", json={"port": {
        "network_id": net_id, "device_owner": "compute:nova", "device_id": server, "binding:host_id": "compute1"}})
    assert r.status_code == 201, r.text
    return r.json()["port"]


def test_events_follow_the_catalog_and_survive_a_failing_compute(setup):
    cloud, compute, s = setup
    net_id = network(cloud, s)
    pending = lambda: int(cloud.sql_value("SELECT COUNT(*) FROM nova_events", service="neutron"))

    # No compute endpoint yet: a server's port becomes ACTIVE, nothing is sent or kept.
    early = server_port(cloud, s, net_id, str(uuid.uuid4()))
    assert early["status"] == "ACTIVE"
    assert compute.events == [] and pending() == 0

    # Compute registered: the next port's plug event reaches it with the service's token.
    service = s.post(f"{cloud.auth_url}/services", json={"service": {"type": "compute", "name": "nova"}}).json()["service"]
    s.post(f"{cloud.auth_url}/endpoints", json={"endpoint": {
        "service_id": service["id"], "interface": "public", "region_id": "RegionOne", "url": compute.url}}).raise_for_status()
    server = str(uuid.uuid4())
    port = server_port(cloud, s, net_id, server)
    wait_until(lambda: ("network-vif-plugged", port["id"], server, "completed") in compute.names(), what="vif-plugged")
    path, token, _ = compute.events[-1]
    assert path == "/v2.1/os-server-external-events" and token

    # A port that is not a server's is never reported.
    before = len(compute.names())
    r = s.post(f"{cloud.url('network')}/v2.0/ports", json={"port": {"network_id": net_id, "binding:host_id": "compute1"}})
    assert r.status_code == 201

    # Compute fails: the delete's event is kept in the database, then delivered once it recovers.
    compute.failing = True
    assert s.delete(f"{cloud.url('network')}/v2.0/ports/{port['id']}").status_code == 204
    wait_until(lambda: pending() == 1, what="the event kept for retry")
    compute.failing = False
    wait_until(lambda: ("network-vif-deleted", port["id"], server, "completed") in compute.names(), what="retried vif-deleted")
    wait_until(lambda: pending() == 0, what="the kept event removed")
    assert all(n[0] != "network-vif-plugged" or n[1] != r.json()["port"]["id"] for n in compute.names()[before:])

    # Compute keeps failing: after event_retry_seconds the events are dropped, with an error logged.
    compute.failing = True
    assert s.delete(f"{cloud.url('network')}/v2.0/ports/{early['id']}").status_code == 204
    wait_until(lambda: pending() == 1, what="the event kept for retry")
    wait_until(lambda: pending() == 0, timeout=RETRY_SECONDS + 15, what="the event dropped")
    assert "dropping port events for compute" in cloud.process.output()
    compute.failing = False
    assert ("network-vif-deleted", early["id"]) not in [(n[0], n[1]) for n in compute.names()]
