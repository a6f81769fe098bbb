"""Identity parity with keystone 30 (issue 10, first part): the differences found by sending
keystone and Stratus the same requests, each now answered as keystone does, plus OS-REVOKE
events and the inexact list filters. Raw HTTP in one process."""
import time

import pytest

from framework.cloud import API

# Not a guide flow: SQLite only (ARCHITECTURE.md, test budget); the stores run on both databases.
pytestmark = pytest.mark.parametrize("cloud", ["sqlite"], indirect=True)


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
    for name in ("Alpha-one", "alpha-two", "beta_50%", "ab5"):
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
    assert names("/v3/users?name__contains=a_5") == ["beta_50%"], "not ab5: _ is no wildcard"
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


def test_inherited_roles_through_the_cli_on_a_project_tree(cloud, api, admin):
    """OS-INHERIT: `openstack role add --inherited` on a domain and on a parent project; the
    roles reach the projects below (tokens, effective listing), not the target itself."""
    os_ = cloud.openstack
    os_("domain", "create", "tree", "-f", "json")
    top = os_("project", "create", "--domain", "tree", "top", "-f", "json")["id"]
    leaf = os_("project", "create", "--domain", "tree", "--parent", "top", "leaf", "-f", "json")["id"]
    os_("user", "create", "--domain", "tree", "--password", "h-pw", "heir", "-f", "json")
    os_("role", "add", "--inherited", "--project", top, "--user", "heir", "--user-domain", "tree", "member")
    os_("role", "add", "--inherited", "--domain", "tree", "--user", "heir", "--user-domain", "tree", "reader")
    listed = os_("role", "assignment", "list", "--effective", "--names", "--project", leaf, "-f", "json")
    # member from top, the reader it implies, and reader from the domain
    assert sorted((a["Role"], a["User"], a["Project"]) for a in listed) == [
        ("member", "heir@tree", "leaf@tree"), ("reader", "heir@tree", "leaf@tree"), ("reader", "heir@tree", "leaf@tree")]
    on_top = os_("role", "assignment", "list", "--effective", "--names", "--project", top, "-f", "json")
    assert [(a["Role"], a["Project"]) for a in on_top] == [("reader", "top@tree")], "top's own inherited grant is not on top"
    # the tokens agree: member (and reader) below top, reader only (from the domain) on top
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "heir", "domain": {"name": "tree"}, "password": "h-pw"}}}}}
    body["auth"]["scope"] = {"project": {"id": leaf}}
    r = api.requests.post(api.base + "/v3/auth/tokens", json=body)
    assert r.status_code == 201 and {x["name"] for x in r.json()["token"]["roles"]} == {"member", "reader"}
    body["auth"]["scope"] = {"project": {"id": top}}
    r = api.requests.post(api.base + "/v3/auth/tokens", json=body)
    assert r.status_code == 201 and {x["name"] for x in r.json()["token"]["roles"]} == {"reader"}
    # both projects are the user's to pick (top through the domain's inherited grant), the domain is not
    unscoped = api.requests.post(api.base + "/v3/auth/tokens", json={"auth": {"identity": body["auth"]["identity"]}}).headers["X-Subject-Token"]
    assert sorted(p["name"] for p in api.call("GET", "/v3/auth/projects", unscoped).json()["projects"]) == ["leaf", "top"]
    assert api.call("GET", "/v3/auth/domains", unscoped).json()["domains"] == []
    # the direct listing shows the grants where they were made, marked inherited
    heir = api.call("GET", "/v3/users?name=heir", admin).json()["users"][0]["id"]
    direct = api.call("GET", f"/v3/role_assignments?user.id={heir}", admin).json()["role_assignments"]
    assert {(tuple(k for k in a["scope"] if k != "OS-INHERIT:inherited_to")[0], a["scope"].get("OS-INHERIT:inherited_to")) for a in direct} == {
        ("project", "projects"), ("domain", "projects")}
    assert all("/OS-INHERIT/" in a["links"]["assignment"] and a["links"]["assignment"].endswith("/inherited_to_projects") for a in direct)
    only = api.call("GET", f"/v3/role_assignments?user.id={heir}&scope.OS-INHERIT:inherited_to=projects", admin).json()["role_assignments"]
    assert len(only) == 2


def test_os_inherit_routes(api, admin):
    def id_of(kind, body):
        r = api.call("POST", f"/v3/{kind}s", admin, json={kind: body})
        assert r.status_code == 201, r.text
        return r.json()[kind]["id"]
    d = id_of("domain", {"name": "inh-d"})
    parent = id_of("project", {"name": "inh-parent", "domain_id": d})
    child = id_of("project", {"name": "inh-child", "domain_id": d, "parent_id": parent})
    grandchild = id_of("project", {"name": "inh-grandchild", "domain_id": d, "parent_id": child})
    g = id_of("group", {"name": "inh-g", "domain_id": d})
    u = id_of("user", {"name": "inh-u", "domain_id": d})
    assert api.call("PUT", f"/v3/groups/{g}/users/{u}", admin).status_code == 204
    reader = api.call("GET", "/v3/roles?name=reader", admin).json()["roles"][0]["id"]
    path = f"/v3/OS-INHERIT/domains/{d}/groups/{g}/roles/{reader}/inherited_to_projects"
    assert api.call("HEAD", path, admin).status_code == 404
    assert api.call("PUT", path, admin).status_code == 204
    assert api.call("HEAD", path, admin).status_code == 204 and api.call("GET", path, admin).status_code == 204
    listed = api.call("GET", f"/v3/OS-INHERIT/domains/{d}/groups/{g}/roles/inherited_to_projects", admin).json()["roles"]
    assert [r["id"] for r in listed] == [reader]
    # the plain grant list on the domain does not show it, nor does the domain itself get the role
    assert api.call("GET", f"/v3/domains/{d}/groups/{g}/roles", admin).json()["roles"] == []
    assert api.call("HEAD", f"/v3/domains/{d}/groups/{g}/roles/{reader}", admin).status_code == 404
    eff = api.call("GET", f"/v3/role_assignments?effective&user.id={u}", admin).json()["role_assignments"]
    assert sorted(a["scope"]["project"]["id"] for a in eff) == sorted([parent, child, grandchild])
    assert all(a["links"]["membership"].endswith(f"/groups/{g}/users/{u}") for a in eff)
    # a project-inherited grant reaches the subtree only; include_subtree lists it
    member = api.call("GET", "/v3/roles?name=member", admin).json()["roles"][0]["id"]
    ppath = f"/v3/OS-INHERIT/projects/{parent}/users/{u}/roles/{member}/inherited_to_projects"
    assert api.call("PUT", ppath, admin).status_code == 204
    on_parent = api.call("GET", f"/v3/role_assignments?effective&user.id={u}&scope.project.id={parent}", admin).json()["role_assignments"]
    assert {a["role"]["id"] for a in on_parent} == {reader}
    on_grandchild = api.call("GET", f"/v3/role_assignments?effective&user.id={u}&scope.project.id={grandchild}", admin).json()[
        "role_assignments"]
    assert {a["role"]["id"] for a in on_grandchild} == {reader, member}
    tree = api.call("GET", f"/v3/role_assignments?scope.project.id={parent}&include_subtree=true&user.id={u}", admin).json()[
        "role_assignments"]
    assert [(a["role"]["id"], a["scope"].get("OS-INHERIT:inherited_to")) for a in tree] == [(member, "projects")]
    r = api.call("GET", "/v3/role_assignments?include_subtree=true", admin)
    assert r.status_code == 400 and "scope.project.id" in r.json()["error"]["message"]
    # another project's member can neither make nor see such grants
    outsider = id_of("user", {"name": "inh-outsider", "password": "o-pw"})
    admin_project = api.call("GET", "/v3/projects?name=admin", admin).json()["projects"][0]["id"]
    assert api.call("PUT", f"/v3/projects/{admin_project}/users/{outsider}/roles/{member}", admin).status_code == 204
    theirs, _ = api.issue("inh-outsider", "o-pw", project="admin")
    other = f"/v3/OS-INHERIT/projects/{parent}/users/{outsider}/roles/{member}/inherited_to_projects"
    assert api.call("PUT", other, theirs).status_code == 403
    assert api.call("HEAD", other, admin).status_code == 404
    assert api.call("GET", f"/v3/OS-INHERIT/domains/{d}/groups/{g}/roles/inherited_to_projects", theirs).status_code == 403
    # revoking ends it
    assert api.call("DELETE", path, admin).status_code == 204
    assert api.call("DELETE", path, admin).status_code == 404
    eff = api.call("GET", f"/v3/role_assignments?effective&user.id={u}", admin).json()["role_assignments"]
    assert {(a["role"]["id"], a["scope"]["project"]["id"]) for a in eff} == {
        (member, child), (member, grandchild), (reader, child), (reader, grandchild)}, "member and the reader it implies, below parent"
    assert all(a["links"]["prior_role"].endswith(f"/{member}/implies/{reader}") for a in eff if a["role"]["id"] == reader)


def test_bodies_and_headers_as_keystone(api, admin):
    """Shape differences the differential runner found (scripts/identity_diff.py), fixed."""
    svc = api.call("POST", "/v3/services", admin, json={"service": {"type": "unnamed-type"}}).json()["service"]
    assert svc["name"] == ""
    assert api.call("GET", "/v3/auth/catalog", admin).json()["links"] == {"self": api.base + "/v3/auth/catalog"}
    assert "links" not in api.call("GET", "/v3/role_inferences", admin).json()
    p = api.call("POST", "/v3/projects", admin, json={"project": {"name": "loc-p"}}).json()["project"]["id"]
    r = api.call("PUT", f"/v3/projects/{p}/tags/blue", admin)
    assert r.status_code == 201 and r.headers["Location"] == f"{api.base}/v3/projects/{p}/tags/blue"
    u = api.call("POST", "/v3/users", admin, json={"user": {"name": "member-of-g"}}).json()["user"]["id"]
    g = api.call("POST", "/v3/groups", admin, json={"group": {"name": "g-with-member"}}).json()["group"]["id"]
    api.call("PUT", f"/v3/groups/{g}/users/{u}", admin)
    groups = api.call("GET", f"/v3/users/{u}/groups", admin).json()["groups"]
    assert [x["id"] for x in groups] == [g] and groups[0]["membership_expires_at"] is None
    ac_user = api.call("GET", "/v3/users?name=admin", admin).json()["users"][0]["id"]
    ac = api.call("POST", f"/v3/users/{ac_user}/application_credentials", admin, json={"application_credential": {"name": "shape-ac"}}).json()
    assert "access_rules" not in ac["application_credential"], "keystone omits an empty access_rules"
