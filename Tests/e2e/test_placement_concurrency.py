"""Placement under concurrent claims: many consumers racing for the last resources of one
provider must never oversubscribe it, and every losing claim must be told so (409).

Against the all-in-one cloud's placement on SQLite and on PostgreSQL (the conftest's `cloud`).
"""
import threading
import uuid

import pytest
import requests

from framework.cloud import API

CLAIMS = 50
VCPUS = 10


def headers(token):
    return {"X-Auth-Token": token, "OpenStack-API-Version": "placement 1.39", "Accept": "application/json"}


@pytest.fixture(scope="module")
def placement(cloud):
    token, _ = API(cloud).issue("admin", cloud.password, project="admin")
    return cloud.url("placement").rstrip("/"), token


def test_parallel_claims_on_one_provider(cloud, placement):
    base, token = placement
    admin = requests.Session()
    admin.headers.update(headers(token))
    rp = str(uuid.uuid4())
    r = admin.post(f"{base}/resource_providers", json={"name": f"race-{rp[:8]}", "uuid": rp})
    assert r.status_code == 200, r.text
    r = admin.put(f"{base}/resource_providers/{rp}/inventories", json={
        "resource_provider_generation": 0,
        "inventories": {"VCPU": {"total": VCPUS, "allocation_ratio": 1.0}, "MEMORY_MB": {"total": 4096}}})
    assert r.status_code == 200, r.text

    project, user = uuid.uuid4().hex, uuid.uuid4().hex
    consumers = [str(uuid.uuid4()) for _ in range(CLAIMS)]
    results = {}
    start = threading.Barrier(CLAIMS)

    def claim(consumer):
        s = requests.Session()
        s.headers.update(headers(token))
        body = {"allocations": {rp: {"resources": {"VCPU": 1}}}, "consumer_generation": None,
                "consumer_type": "INSTANCE", "project_id": project, "user_id": user}
        start.wait()
        try:
            resp = s.put(f"{base}/allocations/{consumer}", json=body, timeout=120)
            results[consumer] = (resp.status_code, resp.text)
        except Exception as e:  # noqa: BLE001 - a dropped connection is a result too
            results[consumer] = (None, repr(e))
        finally:
            s.close()

    threads = [threading.Thread(target=claim, args=(c,)) for c in consumers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert len(results) == CLAIMS

    statuses = sorted(str(status) for status, _ in results.values())
    won = [c for c, (status, _) in results.items() if status == 204]
    lost = [c for c, (status, _) in results.items() if status == 409]
    odd = {c: v for c, v in results.items() if v[0] not in (204, 409)}
    assert not odd, f"unexpected answers: {list(odd.values())[:5]}"
    assert (len(won), len(lost)) == (VCPUS, CLAIMS - VCPUS), statuses
    # the losers were turned away for capacity (or, after every retry, for the race itself)
    for c in lost:
        text = results[c][1]
        assert "exceed the capacity" in text or "placement.concurrent_update" in text, text

    usages = admin.get(f"{base}/resource_providers/{rp}/usages")
    assert usages.status_code == 200, usages.text
    assert usages.json()["usages"] == {"VCPU": VCPUS, "MEMORY_MB": 0}
    allocations = admin.get(f"{base}/resource_providers/{rp}/allocations")
    assert allocations.status_code == 200, allocations.text
    by_consumer = allocations.json()["allocations"]
    assert sorted(by_consumer) == sorted(won)
    assert all(a["resources"] == {"VCPU": 1} for a in by_consumer.values())
    # one generation bump per successful write (plus the inventory's)
    assert allocations.json()["resource_provider_generation"] == 1 + VCPUS
    # the losers left no consumer behind; the winners are whole
    for c in lost[:5]:
        got = admin.get(f"{base}/allocations/{c}")
        assert got.status_code == 200 and got.json() == {"allocations": {}}, got.text
    for c in won[:3]:
        got = admin.get(f"{base}/allocations/{c}").json()
        assert got["allocations"][rp]["resources"] == {"VCPU": 1}
        assert (got["project_id"], got["user_id"], got["consumer_type"], got["consumer_generation"]) == (project, user, "INSTANCE", 1)
    usage = admin.get(f"{base}/usages", params={"project_id": project})
    assert usage.status_code == 200, usage.text
    assert usage.json() == {"usages": {"INSTANCE": {"VCPU": VCPUS, "consumer_count": VCPUS}}}
    # a further claim is refused for capacity, and freeing one lets the next one in
    extra = str(uuid.uuid4())
    body = {"allocations": {rp: {"resources": {"VCPU": 1}}}, "consumer_generation": None,
            "consumer_type": "INSTANCE", "project_id": project, "user_id": user}
    r = admin.put(f"{base}/allocations/{extra}", json=body)
    assert r.status_code == 409 and "exceed the capacity" in r.text, r.text
    assert admin.delete(f"{base}/allocations/{won[0]}").status_code == 204
    assert admin.put(f"{base}/allocations/{extra}", json=body).status_code == 204
    assert admin.get(f"{base}/resource_providers/{rp}/usages").json()["usages"]["VCPU"] == VCPUS


def test_parallel_claims_for_one_consumer(cloud, placement):
    """Many writers of the same new consumer, all with consumer_generation null: exactly one creates
    it; the others are told the consumer generation changed."""
    base, token = placement
    admin = requests.Session()
    admin.headers.update(headers(token))
    rp = str(uuid.uuid4())
    assert admin.post(f"{base}/resource_providers", json={"name": f"same-{rp[:8]}", "uuid": rp}).status_code == 200
    assert admin.put(f"{base}/resource_providers/{rp}/inventories", json={
        "resource_provider_generation": 0, "inventories": {"VCPU": {"total": 100}}}).status_code == 200
    consumer = str(uuid.uuid4())
    writers = 12
    start = threading.Barrier(writers)
    results = []
    lock = threading.Lock()

    def write(n):
        s = requests.Session()
        s.headers.update(headers(token))
        body = {"allocations": {rp: {"resources": {"VCPU": n + 1}}}, "consumer_generation": None,
                "consumer_type": "INSTANCE", "project_id": "p", "user_id": "u"}
        start.wait()
        resp = s.put(f"{base}/allocations/{consumer}", json=body, timeout=120)
        with lock:
            results.append((n + 1, resp.status_code, resp.text))
        s.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    winners = [(amount, status) for amount, status, _ in results if status == 204]
    assert len(winners) == 1, sorted((a, s) for a, s, _ in results)
    for amount, status, text in results:
        if status != 204:
            assert status == 409 and "placement.concurrent_update" in text, text
    got = admin.get(f"{base}/allocations/{consumer}").json()
    assert got["allocations"][rp]["resources"] == {"VCPU": winners[0][0]} and got["consumer_generation"] == 1
    assert admin.get(f"{base}/resource_providers/{rp}/usages").json()["usages"] == {"VCPU": winners[0][0]}


def test_empty_lists_and_racing_creators(cloud, placement):
    """Empty lists (nova clears traits with `[]`; a reshape may move no allocations) and names
    created by several callers at once answer as placement does on both databases: never a 500."""
    base, token = placement
    s = requests.Session()
    s.headers.update(headers(token))
    rp = str(uuid.uuid4())
    assert s.post(f"{base}/resource_providers", json={"name": f"empty-{rp[:8]}", "uuid": rp}).status_code == 200
    r = s.put(f"{base}/resource_providers/{rp}/traits", json={"traits": [], "resource_provider_generation": 0})
    assert r.status_code == 200 and r.json()["traits"] == [], r.text
    assert s.get(f"{base}/traits?name=in:").json()["traits"] == []
    r = s.post(f"{base}/reshaper", json={"inventories": {}, "allocations": {}})
    assert r.status_code == 403, r.text  # admin is not `service` (placement 16): refused by policy, not a crash

    name = "CUSTOM_RACE_" + uuid.uuid4().hex[:8].upper()
    statuses = []
    barrier = threading.Barrier(8)

    def create(kind):
        c = requests.Session()
        c.headers.update(headers(token))
        barrier.wait()
        statuses.append(c.put(f"{base}/{kind}/{name}", timeout=60).status_code)

    for kind in ("traits", "resource_classes"):
        statuses.clear()
        threads = [threading.Thread(target=create, args=(kind,)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(statuses) == [201] + [204] * 7, (kind, statuses)
