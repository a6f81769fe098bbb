"""Identity parity with keystone 30 (issue 10, first part): the differences found by sending
keystone and Stratus the same requests, each now answered as keystone does, plus OS-REVOKE
events and the inexact list filters. Raw HTTP in one process."""
import time

import pytest

from framework.cloud import API


@pytest.fixture(scope="module")
def api(cloud):
    return API(cloud)


@pytest.fixture(scope="module")
def admin(cloud, api):
    return api.issue("admin", cloud.password, project="admin")[0]


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.text)
    return r.json() if r.content else None


def test_domain_and_project_names_stop_at_64(api, admin):
    for kind in ("domain", "project"):
        r = api.call("POST", f"/v3/{kind}s", admin, json={kind: {"name": "n" * 65}})
        assert r.status_code == 400 and "'name'" in r.json()["error"]["message"], r.text
        assert ok(api.call("POST", f"/v3/{kind}s", admin, json={kind: {"name": "n" * 64}}), 201)[kind]["name"] == "n" * 64
    # users, groups and roles keep keystone's 255
    assert api.call("POST", "/v3/groups", admin, json={"group": {"name": "g" * 200}}).status_code == 201


def test_a_legacy_region_attribute_creates_the_region(api, admin):
    svc = ok(api.call("POST", "/v3/services", admin, json={"service": {"type": "legacy-type"}}), 201)["service"]["id"]
    ep = ok(api.call("POST", "/v3/endpoints", admin, json={"endpoint": {
        "service_id": svc, "interface": "public", "url": "http://legacy:1", "region": "LegacyRegion"}}), 201)["endpoint"]
    assert ep["region_id"] == ep["region"] == "LegacyRegion"
    assert ok(api.call("GET", "/v3/regions/LegacyRegion", admin))["region"]["parent_region_id"] is None
    # an unknown region_id is still refused, and nothing is written
    r = api.call("POST", "/v3/endpoints", admin, json={"endpoint": {
        "service_id": svc, "interface": "public", "url": "http://legacy:2", "region_id": "NoSuchRegion"}})
    assert r.status_code == 400 and "region_id" in r.json()["error"]["message"]
    assert api.call("GET", "/v3/regions/NoSuchRegion", admin).status_code == 404
    assert [e["url"] for e in ok(api.call("GET", f"/v3/endpoints?service_id={svc}", admin))["endpoints"]] == ["http://legacy:1"]


def test_project_tags_replaced_and_cleared_whole(api, admin):
    p = ok(api.call("POST", "/v3/projects", admin, json={"project": {"name": "tag-target", "tags": ["old"]}}), 201)["project"]["id"]
    body = ok(api.call("PUT", f"/v3/projects/{p}/tags", admin, json={"tags": ["a", "b"]}))
    assert sorted(body["tags"]) == ["a", "b"] and body["links"]["self"].endswith("/v3")
    assert sorted(ok(api.call("GET", f"/v3/projects/{p}/tags", admin))["tags"]) == ["a", "b"]
    r = api.call("PUT", f"/v3/projects/{p}/tags", admin, json={"tags": ["ok", "bad/tag"]})
    assert r.status_code == 400
    assert sorted(ok(api.call("GET", f"/v3/projects/{p}/tags", admin))["tags"]) == ["a", "b"], "a refused list changes nothing"
    assert api.call("DELETE", f"/v3/projects/{p}/tags", admin).status_code == 204
    assert ok(api.call("GET", f"/v3/projects/{p}/tags", admin))["tags"] == []


def test_effective_assignments_hold_no_system_grants_nor_domain_roles(api, admin):
    d = ok(api.call("POST", "/v3/domains", admin, json={"domain": {"name": "eff-d"}}), 201)["domain"]["id"]
    drole = ok(api.call("POST", "/v3/roles", admin, json={"role": {"name": "eff-drole", "domain_id": d}}), 201)["role"]["id"]
    reader = ok(api.call("GET", "/v3/roles?name=reader", admin))["roles"][0]["id"]
    assert api.call("PUT", f"/v3/roles/{drole}/implies/{reader}", admin).status_code == 201
    p = ok(api.call("POST", "/v3/projects", admin, json={"project": {"name": "eff-p", "domain_id": d}}), 201)["project"]["id"]
    u = ok(api.call("POST", "/v3/users", admin, json={"user": {"name": "eff-u", "domain_id": d}}), 201)["user"]["id"]
    assert api.call("PUT", f"/v3/projects/{p}/users/{u}/roles/{drole}", admin).status_code == 204
    assert api.call("PUT", f"/v3/system/users/{u}/roles/{reader}", admin).status_code == 204
    direct = ok(api.call("GET", f"/v3/role_assignments?user.id={u}", admin))["role_assignments"]
    assert sorted(a["role"]["id"] for a in direct) == sorted([drole, reader])
    effective = ok(api.call("GET", f"/v3/role_assignments?effective&user.id={u}", admin))["role_assignments"]
    assert [(a["role"]["id"], a["scope"]) for a in effective] == [(reader, {"project": {"id": p}})]
    assert effective[0]["links"]["prior_role"].endswith(f"/{drole}/implies/{reader}")


def test_application_credential_roles_carry_what_they_imply(cloud, api, admin):
    uid = ok(api.call("GET", "/v3/users?name=admin", admin))["users"][0]["id"]
    ac = ok(api.call("POST", f"/v3/users/{uid}/application_credentials", admin,
                     json={"application_credential": {"name": "implied-ac", "roles": [{"name": "admin"}]}}), 201)["application_credential"]
    assert sorted(r["name"] for r in ac["roles"]) == ["admin", "manager", "member", "reader"]
    assert all({"id", "name", "domain_id", "description", "options"} <= set(r) for r in ac["roles"])
    assert ac["links"]["self"].endswith(f"/v3/application_credentials/{ac['id']}")
    token = api.requests.post(api.base + "/v3/auth/tokens", json={"auth": {"identity": {"methods": ["application_credential"],
                              "application_credential": {"id": ac["id"], "secret": ac["secret"]}}}})
    assert token.status_code == 201
    assert {r["name"] for r in token.json()["token"]["roles"]} == {"admin", "manager", "member", "reader"}
    assert api.call("DELETE", f"/v3/users/{uid}/application_credentials/{ac['id']}", admin).status_code == 204
    gone = api.requests.post(api.base + "/v3/auth/tokens", json={"auth": {"identity": {"methods": ["application_credential"],
                             "application_credential": {"id": ac["id"], "secret": ac["secret"]}}}})
    assert gone.status_code == 404
    assert gone.json()["error"]["message"] == f"Could not find Application Credential: {ac['id']}."


def test_revocation_events_are_listed(cloud, api, admin):
    before = ok(api.call("GET", "/v3/OS-REVOKE/events", admin))
    assert before["links"]["self"].endswith("/v3/OS-REVOKE/events")
    mark = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    victim, body = api.issue("admin", cloud.password, project="admin")
    assert api.call("DELETE", "/v3/auth/tokens", admin, headers={"X-Subject-Token": victim}).status_code == 204
    events = ok(api.call("GET", f"/v3/OS-REVOKE/events?since={mark}", admin))["events"]
    mine = [e for e in events if e.get("audit_id") == body["audit_ids"][0]]
    assert len(mine) == 1 and mine[0]["issued_before"].endswith(".000000Z") and mine[0]["revoked_at"]
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert ok(api.call("GET", f"/v3/OS-REVOKE/events?since={later}", admin))["events"] == []
    r = api.call("GET", "/v3/OS-REVOKE/events?since=yesterday", admin)
    assert r.status_code == 400 and "yesterday" in r.json()["error"]["message"]
    # keystone's rule: service or admin
    api.call("POST", "/v3/users", admin, json={"user": {"name": "rev-member", "password": "rm-pw"}})
    member_role = ok(api.call("GET", "/v3/roles?name=member", admin))["roles"][0]["id"]
    project = ok(api.call("GET", "/v3/projects?name=admin", admin))["projects"][0]["id"]
    rm = ok(api.call("GET", "/v3/users?name=rev-member", admin))["users"][0]["id"]
    api.call("PUT", f"/v3/projects/{project}/users/{rm}/roles/{member_role}", admin)
    member, _ = api.issue("rev-member", "rm-pw", project="admin")
    assert api.call("GET", "/v3/OS-REVOKE/events", member).status_code == 403


def test_inexact_filters(api, admin):
    for name in ("Alpha-one", "alpha-two", "beta_50%"):
        ok(api.call("POST", "/v3/users", admin, json={"user": {"name": name}}), 201)
        ok(api.call("POST", "/v3/projects", admin, json={"project": {"name": "p-" + name}}), 201)
        ok(api.call("POST", "/v3/groups", admin, json={"group": {"name": "g-" + name}}), 201)

    def names(path, key="users"):
        return sorted(x["name"] for x in ok(api.call("GET", path, admin))[key])

    assert names("/v3/users?name__contains=lpha") == ["Alpha-one", "alpha-two"]
    assert names("/v3/users?name__startswith=alpha") == ["alpha-two"]
    assert names("/v3/users?name__istartswith=alpha") == ["Alpha-one", "alpha-two"]
    assert names("/v3/users?name__endswith=one") == ["Alpha-one"]
    assert names("/v3/users?name__iendswith=ONE") == ["Alpha-one"]
    assert names("/v3/users?name__icontains=ALPHA-T") == ["alpha-two"]
    # % and _ match themselves, not any text
    assert names("/v3/users?name__contains=50%25") == ["beta_50%"]
    assert names("/v3/users?name__contains=a_5") == ["beta_50%"]
    assert names("/v3/users?name__contains=a%25o") == []
    # combined with each other and with exact filters; the same on projects and groups
    assert names("/v3/users?name__icontains=alpha&name__endswith=two") == ["alpha-two"]
    assert names("/v3/projects?name__startswith=p-alpha", "projects") == ["p-alpha-two"]
    assert names("/v3/groups?name__iendswith=-ONE", "groups") == ["g-Alpha-one"]
    assert names("/v3/roles?name__startswith=mem", "roles") == ["member"]
    assert names("/v3/domains?name__icontains=DEFAU", "domains") == ["Default"]


def test_groups_keep_extra_attributes(api, admin):
    g = ok(api.call("POST", "/v3/groups", admin, json={"group": {"name": "extra-g", "color": "blue", "tier": 2}}), 201)["group"]
    assert (g["color"], g["tier"]) == ("blue", 2)
    assert ok(api.call("GET", f"/v3/groups/{g['id']}", admin))["group"]["color"] == "blue"
    updated = ok(api.call("PATCH", f"/v3/groups/{g['id']}", admin, json={"group": {"color": "green"}}))["group"]
    assert (updated["color"], updated["tier"]) == ("green", 2)
