"""Stratus Placement's allocation candidates against the reference placement's answers.

Replays the setup recipe of placement/golden/candidates.json (written by
scripts/placement/golden_candidates.py from openstack-placement) against the all-in-one
cloud's placement over HTTP as the admin, then asks each golden query and compares the answer
order-insensitively (placement/golden.py): allocation requests as a multiset, provider
summaries as a dict, errors by status and code, `limit` queries as slices of their full query.
SQLite only: the answers do not depend on the database, and the recipe takes a fresh cloud.
"""
import os
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "placement"))

import golden  # noqa: E402
from framework.cloud import API, Cloud, modules  # noqa: E402

GOLDEN = golden.load()
BY_NAME = {entry["name"]: entry for entry in GOLDEN["queries"]}

# SQLite only: the answers do not depend on the database.
pytestmark = pytest.mark.parametrize("cloud", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def cloud(request):
    """all-in-one without its in-process compute host: the golden answers are about the recipe's
    providers only, and a compute node would be one more candidate."""
    assert request.param == "sqlite"
    c = Cloud(conf="[security_compliance]\nlockout_failure_attempts = 3\nlockout_duration = 600\n").start(
        extra_args=("--without", "nova-compute"))
    yield c
    c.destroy()


class Placement:
    """Raw HTTP to the cloud's placement endpoint with an admin token (keep-alive session)."""

    def __init__(self, cloud):
        self.base = cloud.url("placement").rstrip("/")
        token, _ = API(cloud).issue("admin", cloud.password, project="admin")
        self.session = requests.Session()
        self.session.headers.update({"X-Auth-Token": token, "Accept": "application/json"})

    def call(self, method, path, microversion, body=None):
        """(status, parsed JSON or None, response) for one request at `microversion`."""
        headers = {"OpenStack-API-Version": f"placement {microversion}"}
        r = self.session.request(method, self.base + path, json=body, headers=headers, timeout=60)
        try:
            parsed = r.json() if r.content else None
        except ValueError:
            parsed = r.text
        return r.status_code, parsed, r

    def request(self, method, path, microversion, body=None):
        status, parsed, _ = self.call(method, path, microversion, body)
        return status, parsed


@pytest.fixture(scope="module")
def placement(cloud):
    if "placement" not in {service_type for _, service_type, _, _ in modules()}:
        pytest.skip("this stratus build registers no placement service")
    p = Placement(cloud)
    golden.replay(p.request, GOLDEN["recipe"])
    return p


def test_recipe_left_the_tree_the_reference_had(cloud, placement):
    """The replayed setup: every provider with its parent, root and generation as on the reference."""
    status, body, _ = placement.call("GET", "/resource_providers", "1.39")
    assert status == 200, body
    got = {rp["uuid"]: rp for rp in body["resource_providers"]}
    assert set(got) == set(GOLDEN["providers"].values())
    for name, uuid in GOLDEN["providers"].items():
        if uuid not in got:
            continue
        assert got[uuid]["name"] == name
    cn1, numa1, nic1 = (GOLDEN["providers"][n] for n in ("cn1", "numa1", "nic1"))
    assert got[nic1]["parent_provider_uuid"] == numa1 and got[nic1]["root_provider_uuid"] == cn1


@pytest.mark.parametrize("name", list(BY_NAME))
def test_allocation_candidates_match_the_reference(cloud, placement, name):
    entry = BY_NAME[name]
    status, body, response = placement.call("GET", "/allocation_candidates?" + entry["query"], entry["microversion"])
    assert response.headers.get("OpenStack-API-Version") == f"placement {entry['microversion']}"
    problem = golden.compare(entry, status, body, BY_NAME)
    assert problem is None, f"{name} (GET /allocation_candidates?{entry['query']} at {entry['microversion']}): {problem}"
