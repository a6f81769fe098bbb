"""The rest of the Identity v3 API through the real openstack CLI: groups, domain scope,
implied roles, effective assignments, regions, credentials, domain roles, tags, disabling."""
import base64
import os

import pytest

from framework.cloud import API


@pytest.fixture(scope="module")
def api(cloud):
    return API(cloud)


def test_groups_and_effective_assignments(cloud):
    os_ = cloud.openstack
    os_("project", "create", "--domain", "default", "teamproj", "-f", "json")
    os_("user", "create", "--domain", "default", "--password", "t-pw", "teammate", "-f", "json")
    os_("group", "create", "--domain", "default", "--description", "The team", "team", "-f", "json")
    os_("group", "add", "user", "team", "teammate")
    assert [u["Name"] for u in os_("user", "list", "--group", "team", "-f", "json")] == ["teammate"]
    # `group contains user` exits 0 either way: the answer is in what it prints
    assert os_("group", "contains", "user", "team", "teammate").stdout.strip() == "teammate in group team"
    os_("role", "add", "--project", "teamproj", "--group", "team", "member")
    # the member may log in through the group's role
    token = os_("token", "issue", "-f", "json", env=cloud.env(user="teammate", password="t-pw", project="teamproj"))
    assert token["project_id"]
    direct = os_("role", "assignment", "list", "--project", "teamproj", "--names", "-f", "json")
    assert [(a["Role"], a["Group"]) for a in direct] == [("member", "team@Default")]
    effective = os_("role", "assignment", "list", "--project", "teamproj", "--effective", "--names", "-f", "json")
    assert sorted((a["Role"], a["User"]) for a in effective) == [("member", "teammate@Default"), ("reader", "teammate@Default")]
    os_("group", "remove", "user", "team", "teammate")
    r = os_("group", "contains", "user", "team", "teammate")
    assert (r.stdout + r.stderr).strip() == "teammate not in group team"
    r = os_("token", "issue", env=cloud.env(user="teammate", password="t-pw", project="teamproj"), check=False)
    assert r.returncode != 0 and "401" in r.stderr


def test_domain_scoped_token_and_domain_admin(cloud, api):
    os_ = cloud.openstack
    os_("domain", "create", "dept", "-f", "json")
    os_("user", "create", "--domain", "dept", "--password", "d-pw", "dept-admin", "-f", "json")
    os_("role", "add", "--domain", "dept", "--user", "dept-admin", "--user-domain", "dept", "admin")
    env = cloud.env(user="dept-admin", password="d-pw", project="")
    env.pop("OS_PROJECT_NAME")
    env.pop("OS_PROJECT_DOMAIN_NAME")
    env.update(OS_USER_DOMAIN_NAME="dept", OS_DOMAIN_NAME="dept")
    token = os_("token", "issue", "-f", "json", env=env)
    assert token["domain_id"] and not token.get("project_id")
    domain_reader_users = os_("user", "list", "--domain", "dept", "-f", "json", env=env)
    assert [u["Name"] for u in domain_reader_users] == ["dept-admin"]
    # the domain admin works in its domain; scope types keep it off the system (keystone 30:
    # rules whose scope_types exclude domain refuse it, though role:admin passes elsewhere —
    # the persona matrix holds every cell)
    t, me, dept = token["id"], token["user_id"], token["domain_id"]
    assert api.call("POST", "/v3/users", t, json={"user": {"name": "dept-hire", "domain_id": dept}}).status_code == 201
    admin_role = api.call("GET", "/v3/roles?name=admin", t).json()["roles"][0]["id"]
    assert api.call("PUT", f"/v3/system/users/{me}/roles/{admin_role}", t).status_code == 403
    assert api.call("GET", f"/v3/system/users/{me}/roles", cloud_admin(cloud, api)).json()["roles"] == []
    # its lists show its domain only, whatever domain it names
    assert [u["name"] for u in api.call("GET", "/v3/users", t).json()["users"]] == ["dept-admin", "dept-hire"]
    assert api.call("GET", "/v3/users?domain_id=default", t).json()["users"] == []
    assert [d["name"] for d in api.call("GET", "/v3/domains", t).json()["domains"]] == ["dept"]


def cloud_admin(cloud, api):
    return api.issue("admin", cloud.password, project="admin")[0]


def test_implied_roles_through_the_cli(cloud):
    os_ = cloud.openstack
    auditor = os_("role", "create", "auditor", "-f", "json")
    viewer = os_("role", "create", "viewer", "-f", "json")
    created = os_("implied", "role", "create", "auditor", "--implied-role", "viewer", "-f", "json")
    assert created == {"prior_role": auditor["id"], "implies": viewer["id"]}
    listed = os_("implied", "role", "list", "-f", "json")
    assert ("admin", "manager") in {(i["Prior Role Name"], i["Implied Role Name"]) for i in listed}
    assert ("auditor", "viewer") in {(i["Prior Role Name"], i["Implied Role Name"]) for i in listed}
    r = os_("implied", "role", "create", "viewer", "--implied-role", "auditor", check=False)
    assert r.returncode != 0 and "HTTP 403" in r.stderr and "cycle" in r.stderr, r.stderr
    os_("implied", "role", "delete", "auditor", "--implied-role", "viewer")
    assert ("auditor", "viewer") not in {(i["Prior Role Name"], i["Implied Role Name"]) for i in os_("implied", "role", "list", "-f", "json")}


def test_domain_specific_role(cloud, api):
    os_ = cloud.openstack
    os_("domain", "create", "labs", "-f", "json")
    role = os_("role", "create", "--domain", "labs", "lab-operator", "-f", "json")
    assert role["domain_id"]
    assert "lab-operator" not in [r["Name"] for r in os_("role", "list", "-f", "json")], "global listing excludes domain roles"
    assert [r["Name"] for r in os_("role", "list", "--domain", "labs", "-f", "json")] == ["lab-operator"]
    # the same name may exist globally and in another domain
    os_("role", "create", "lab-operator", "-f", "json")
    # a domain role named "admin" grants nothing by itself: it never reaches the token
    os_("role", "create", "--domain", "labs", "admin", "-f", "json")
    os_("project", "create", "--domain", "labs", "lab1", "-f", "json")
    os_("user", "create", "--domain", "labs", "--password", "l-pw", "labber", "-f", "json")
    os_("role", "add", "--project", "lab1", "--project-domain", "labs", "--user", "labber", "--user-domain", "labs",
        "--role-domain", "labs", "admin")
    os_("role", "add", "--project", "lab1", "--project-domain", "labs", "--user", "labber", "--user-domain", "labs", "reader")
    env = cloud.env(user="labber", password="l-pw", project="lab1", OS_USER_DOMAIN_NAME="labs", OS_PROJECT_DOMAIN_NAME="labs")
    token = api.requests.post(api.base + "/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"name": "labber", "domain": {"name": "labs"}, "password": "l-pw"}}},
        "scope": {"project": {"name": "lab1", "domain": {"name": "labs"}}}}})
    assert [r["name"] for r in token.json()["token"]["roles"]] == ["reader"]
    r = os_("user", "list", env=env, check=False)
    assert r.returncode != 0 and "403" in r.stderr


def test_regions_services_endpoints_lifecycle(cloud):
    os_ = cloud.openstack
    os_("region", "create", "--description", "Second", "RegionTwo", "-f", "json")
    assert {r["Region"] for r in os_("region", "list", "-f", "json")} >= {"RegionOne", "RegionTwo"}
    svc = os_("service", "create", "--name", "demo", "--description", "d", "demo-type", "-f", "json")
    ep = os_("endpoint", "create", "--region", "RegionTwo", "demo-type", "public", "http://127.0.0.1:1234", "-f", "json")
    os_("endpoint", "set", "--disable", ep["id"])
    assert os_("endpoint", "show", ep["id"], "-f", "json")["enabled"] is False
    r = os_("endpoint", "create", "--region", "NoSuchRegion", "demo-type", "public", "http://127.0.0.1:1", check=False)
    assert r.returncode != 0 and "region" in r.stderr.lower()
    os_("service", "delete", svc["id"])
    assert os_("endpoint", "list", "--service", "identity", "-f", "json")
    assert ep["id"] not in [e["ID"] for e in os_("endpoint", "list", "-f", "json")], "endpoints go with their service"
    os_("region", "delete", "RegionTwo")


def test_credentials_and_project_tags(cloud):
    os_ = cloud.openstack
    cred = os_("credential", "create", "--type", "totp", "admin", "JBSWY3DPEHPK3PXP", "-f", "json")
    assert cred["blob"] == "JBSWY3DPEHPK3PXP"
    assert cred["id"] in [c["ID"] for c in os_("credential", "list", "-f", "json")]
    stored = cloud.sql_value(f"SELECT encrypted_blob FROM credential WHERE id = '{cred['id']}'")
    # encrypted at rest: the stored value is not the secret in any plain encoding, and the
    # primary credential key (keystone's layout, highest number) opens it to exactly the secret
    secret = b"JBSWY3DPEHPK3PXP"
    for encoding in (secret, base64.b64encode(secret), base64.urlsafe_b64encode(secret), secret.hex().encode(), base64.b32decode(secret)):
        assert encoding.decode("latin-1") not in stored, encoding
    from cryptography.fernet import Fernet, InvalidToken
    keys = os.path.join(cloud.data_dir, "credential-keys")
    primary = max(os.listdir(keys), key=int)
    token = (stored + "=" * (-len(stored) % 4)).encode()  # stored without base64 padding, as keystone's tokens
    assert Fernet(open(os.path.join(keys, primary), "rb").read().strip()).decrypt(token) == secret
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(token)
    os_("credential", "delete", cred["id"])
    p = os_("project", "create", "--domain", "default", "--tag", "blue", "--tag", "green", "tagged", "-f", "json")
    assert sorted(p["tags"]) == ["blue", "green"]
    assert [x["Name"] for x in os_("project", "list", "--tags", "blue", "-f", "json")] == ["tagged"]


def test_disabling_user_or_project_ends_their_tokens(cloud, api):
    os_ = cloud.openstack
    os_("project", "create", "--domain", "default", "short-lived", "-f", "json")
    os_("user", "create", "--domain", "default", "--password", "x-pw", "temp-user", "-f", "json")
    os_("role", "add", "--project", "short-lived", "--user", "temp-user", "member")
    token, _ = api.issue("temp-user", "x-pw", project="short-lived")
    assert api.call("GET", "/v3/auth/catalog", token).status_code == 200
    os_("project", "set", "--disable", "short-lived")
    assert api.call("GET", "/v3/auth/catalog", token).status_code == 401
    assert api.token("temp-user", "x-pw", project="short-lived").status_code == 401
    os_("project", "set", "--enable", "short-lived")
    token, _ = api.issue("temp-user", "x-pw", project="short-lived")
    os_("user", "set", "--disable", "temp-user")
    assert api.call("GET", "/v3/auth/catalog", token).status_code == 401
    assert api.token("temp-user", "x-pw", project="short-lived").status_code == 401
