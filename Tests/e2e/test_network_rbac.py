"""RBAC policies on networks: one project shares its network with another (`access_as_shared`)
or lets it use the network as external (`access_as_external`); the flags `shared` and
`router:external` are the entries to `*`; an entry another project depends on cannot go."""
import uuid

import pytest
import requests

from framework.cloud import API, Cloud


@pytest.fixture(scope="module")
def cloud():
    c = Cloud().start()
    yield c
    c.destroy()


def session(token):
    s = requests.Session()
    s.headers["X-Auth-Token"] = token
    return s


@pytest.fixture(scope="module")
def projects(cloud):
    """Two projects, each with a member user; returns (admin, alice, bob) sessions and project ids."""
    api = API(cloud)
    admin_token, _ = api.issue("admin", cloud.password, project="admin")
    admin = session(admin_token)
    keystone = cloud.auth_url
    member = next(r for r in admin.get(f"{keystone}/roles").json()["roles"] if r["name"] == "member")
    out = {}
    for name in ("alice", "bob"):
        p = admin.post(f"{keystone}/projects", json={"project": {"name": f"{name}-{uuid.uuid4().hex[:6]}", "domain_id": "default"}}).json()["project"]
        u = admin.post(f"{keystone}/users", json={"user": {"name": f"{name}-{uuid.uuid4().hex[:6]}", "password": "pw", "domain_id": "default"}}).json()["user"]
        admin.put(f"{keystone}/projects/{p['id']}/users/{u['id']}/roles/{member['id']}").raise_for_status()
        token, _ = api.issue(u["name"], "pw", project=p["name"])
        out[name] = (session(token), p["id"])
    return admin, out["alice"], out["bob"]


def test_sharing_with_one_project(cloud, projects):
    net = cloud.url("network") + "/v2.0"
    _, (alice, alice_project), (bob, bob_project) = projects
    n = alice.post(f"{net}/networks", json={"network": {"name": "alice-net"}}).json()["network"]
    alice.post(f"{net}/subnets", json={"subnet": {"network_id": n["id"], "ip_version": 4, "cidr": "10.20.0.0/24"}}).raise_for_status()
    assert bob.get(f"{net}/networks/{n['id']}").status_code == 404

    # Bob cannot share Alice's network with himself; Alice cannot share it with everyone.
    r = bob.post(f"{net}/rbac-policies", json={"rbac_policy": {"object_type": "network", "object_id": n["id"],
                                                               "action": "access_as_shared", "target_tenant": bob_project}})
    assert r.status_code == 404 and r.json()["NeutronError"]["type"] == "NetworkNotFound"
    r = alice.post(f"{net}/rbac-policies", json={"rbac_policy": {"object_type": "network", "object_id": n["id"],
                                                                 "action": "access_as_shared", "target_tenant": "*"}})
    assert r.status_code == 403 and r.json()["NeutronError"]["type"] == "PolicyNotAuthorized"
    r = alice.post(f"{net}/rbac-policies", json={"rbac_policy": {"object_type": "qos_policy", "object_id": n["id"],
                                                                 "action": "access_as_shared", "target_tenant": bob_project}})
    assert r.status_code == 400

    r = alice.post(f"{net}/rbac-policies", json={"rbac_policy": {"object_type": "network", "object_id": n["id"],
                                                                 "action": "access_as_shared", "target_tenant": bob_project}})
    assert r.status_code == 201, r.text
    policy = r.json()["rbac_policy"]
    assert (policy["project_id"], policy["target_tenant"], policy["action"]) == (alice_project, bob_project, "access_as_shared")
    again = alice.post(f"{net}/rbac-policies", json={"rbac_policy": {"object_type": "network", "object_id": n["id"],
                                                                     "action": "access_as_shared", "target_tenant": bob_project}})
    assert again.status_code == 409

    # Bob sees the network as shared (not its provider attributes), its subnet, and takes a port on it.
    seen = bob.get(f"{net}/networks/{n['id']}").json()["network"]
    assert seen["shared"] is True and "provider:network_type" not in seen
    assert n["id"] in [x["id"] for x in bob.get(f"{net}/networks").json()["networks"]]
    assert [s["cidr"] for s in bob.get(f"{net}/subnets", params={"network_id": n["id"]}).json()["subnets"]] == ["10.20.0.0/24"]
    port = bob.post(f"{net}/ports", json={"port": {"network_id": n["id"]}})
    assert port.status_code == 201, port.text
    assert bob.get(f"{net}/rbac-policies").json()["rbac_policies"] == []
    assert [p["id"] for p in alice.get(f"{net}/rbac-policies").json()["rbac_policies"]] == [policy["id"]]

    # The entry cannot go while Bob's port depends on it; once the port is gone, it can.
    busy = alice.delete(f"{net}/rbac-policies/{policy['id']}")
    assert busy.status_code == 409 and busy.json()["NeutronError"]["type"] == "RbacPolicyInUse"
    assert bob.delete(f"{net}/ports/{port.json()['port']['id']}").status_code == 204
    assert alice.delete(f"{net}/rbac-policies/{policy['id']}").status_code == 204
    assert bob.get(f"{net}/networks/{n['id']}").status_code == 404


def test_flags_are_wildcard_entries_and_external_access(cloud, projects):
    net = cloud.url("network") + "/v2.0"
    admin, (alice, alice_project), (bob, bob_project) = projects
    shared = admin.post(f"{net}/networks", json={"network": {"name": "everyone", "shared": True}}).json()["network"]
    entries = admin.get(f"{net}/rbac-policies", params={"object_id": shared["id"]}).json()["rbac_policies"]
    assert [(e["action"], e["target_tenant"]) for e in entries] == [("access_as_shared", "*")]
    admin.put(f"{net}/networks/{shared['id']}", json={"network": {"shared": False}}).raise_for_status()
    assert admin.get(f"{net}/rbac-policies", params={"object_id": shared["id"]}).json()["rbac_policies"] == []

    # An admin's external network made available to Bob only: Bob can take a floating IP from it.
    ext = admin.post(f"{net}/networks", json={"network": {"name": "ext-bob", "provider:network_type": "vxlan"}}).json()["network"]
    admin.post(f"{net}/subnets", json={"subnet": {"network_id": ext["id"], "ip_version": 4, "cidr": "198.51.100.0/24"}}).raise_for_status()
    assert bob.post(f"{net}/floatingips", json={"floatingip": {"floating_network_id": ext["id"]}}).status_code == 404
    grant = admin.post(f"{net}/rbac-policies", json={"rbac_policy": {"object_type": "network", "object_id": ext["id"],
                                                                     "action": "access_as_external", "target_tenant": bob_project}})
    assert grant.status_code == 201, grant.text
    assert bob.get(f"{net}/networks/{ext['id']}").json()["network"]["router:external"] is True
    fip = bob.post(f"{net}/floatingips", json={"floatingip": {"floating_network_id": ext["id"]}})
    assert fip.status_code == 201, fip.text
    assert alice.post(f"{net}/floatingips", json={"floatingip": {"floating_network_id": ext["id"]}}).status_code == 404
    busy = admin.delete(f"{net}/rbac-policies/{grant.json()['rbac_policy']['id']}")
    assert busy.status_code == 409
