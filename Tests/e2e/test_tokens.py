"""Tokens through the real clients: validation, revocation, restarts, key rotation,
application credentials, system scope, lockout and password expiry."""
import json
import os
import signal
import time

import pytest

from framework.cloud import API, STRATUS, Cloud, clean_env, run, sourced


@pytest.fixture(scope="module")
def api(cloud):
    return API(cloud)


@pytest.fixture(scope="module")
def demo(cloud, api):
    """myproject / myuser with the member role, as the guide's demo-openrc uses."""
    cloud.openstack("project", "create", "--domain", "default", "myproject", "-f", "json")
    cloud.openstack("user", "create", "--domain", "default", "--password", "DEMO_PASS", "myuser", "-f", "json")
    cloud.openstack("role", "add", "--project", "myproject", "--user", "myuser", "member")
    return cloud.env(user="myuser", password="DEMO_PASS", project="myproject")


def test_all_in_one_writes_working_openrc_and_clouds_yaml(cloud):
    for name in ("admin-openrc", "clouds.yaml", "admin-password", "fernet-keys/0", "credential-keys/1") + (() if cloud.database else ("keystone.db",)):
        assert os.path.exists(os.path.join(cloud.data_dir, name)), name
    out = cloud.process.output()
    ready = out.index("stratus: ready")
    assert f"identity {cloud.auth_url}" in out[ready:]
    env = sourced(os.path.join(cloud.data_dir, "admin-openrc"))
    token = json.loads(run([cloud_openstack(), "token", "issue", "-f", "json"], env=env).stdout)
    assert token["project_id"]
    yaml_env = clean_env({"OS_CLIENT_CONFIG_FILE": os.path.join(cloud.data_dir, "clouds.yaml")})
    projects = json.loads(run([cloud_openstack(), "--os-cloud", "stratus", "project", "list", "-f", "json"], env=yaml_env).stdout)
    assert "admin" in [p["Name"] for p in projects]
    system = json.loads(run([cloud_openstack(), "--os-cloud", "stratus-system", "token", "issue", "-f", "json"], env=yaml_env).stdout)
    assert "project_id" not in system or not system.get("project_id")


def cloud_openstack():
    from framework.cloud import OPENSTACK
    return OPENSTACK


def test_openstacksdk_with_clouds_yaml(cloud):
    import openstack
    os.environ["OS_CLIENT_CONFIG_FILE"] = os.path.join(cloud.data_dir, "clouds.yaml")
    try:
        conn = openstack.connect(cloud="stratus")
        names = [p.name for p in conn.identity.projects()]
        assert "admin" in names
        roles = {r.name for r in conn.identity.roles()}
        assert {"admin", "manager", "member", "reader", "service"} <= roles
        system = openstack.connect(cloud="stratus-system")
        assert system.auth_token
        assert {u.name for u in system.identity.users()} >= {"admin"}
    finally:
        del os.environ["OS_CLIENT_CONFIG_FILE"]


def test_system_scoped_token_carries_system_and_admin_role(cloud, api):
    token, body = api.issue("admin", cloud.password, system=True)
    assert body["system"] == {"all": True}
    assert "project" not in body
    assert {"admin", "manager", "member", "reader"} <= {r["name"] for r in body["roles"]}
    # the scope is what grants system access: the same user's unscoped token is refused where
    # the system token passes (system_scope:all), and has no system to show
    unscoped, unscoped_body = api.issue("admin", cloud.password)
    assert "system" not in unscoped_body and "roles" not in unscoped_body
    assert api.call("GET", "/v3/auth/system", token).json()["system"] == [{"all": True}]
    for path in ("/v3/domains", "/v3/users", "/v3/role_assignments"):
        assert api.call("GET", path, token).status_code == 200, path
        assert api.call("GET", path, unscoped).status_code == 403, path


def test_get_and_head_validate_and_revoke_invalidates(cloud, api, demo):
    admin, _ = api.issue("admin", cloud.password, project="admin")
    user_token, issued = api.issue("myuser", "DEMO_PASS", project="myproject")
    assert len(issued["audit_ids"]) == 1 and issued["expires_at"].endswith("Z")
    assert issued["catalog"] and issued["catalog"][0]["endpoints"]
    r = api.call("GET", "/v3/auth/tokens", admin, headers={"X-Subject-Token": user_token})
    assert r.status_code == 200 and r.headers["X-Subject-Token"] == user_token
    body = r.json()["token"]
    assert body["user"]["name"] == "myuser" and body["project"]["name"] == "myproject"
    assert {"member", "reader"} == {x["name"] for x in body["roles"]}  # member implies reader
    assert body["audit_ids"] == issued["audit_ids"]
    r = api.call("GET", "/v3/auth/tokens?nocatalog", admin, headers={"X-Subject-Token": user_token})
    assert "catalog" not in r.json()["token"]
    r = api.call("HEAD", "/v3/auth/tokens", admin, headers={"X-Subject-Token": user_token})
    assert r.status_code == 200 and r.content == b""
    # a user may validate their own token
    assert api.call("GET", "/v3/auth/tokens", user_token, headers={"X-Subject-Token": user_token}).status_code == 200
    # revoke through the CLI, as a user would
    cloud.openstack("token", "revoke", user_token)
    r = api.call("GET", "/v3/auth/tokens", admin, headers={"X-Subject-Token": user_token})
    assert r.status_code == 404 and r.json()["error"]["code"] == 404
    # every reason gets keystone's generic answer: revoked, garbage, a disabled owner
    assert r.json()["error"]["message"] == f"Could not find token: {user_token}."
    garbage = user_token[:-8] + "AAAAAAAA"
    r = api.call("GET", "/v3/auth/tokens", admin, headers={"X-Subject-Token": garbage})
    assert r.status_code == 404 and r.json()["error"]["message"] == f"Could not find token: {garbage}."
    assert api.call("HEAD", "/v3/auth/tokens", admin, headers={"X-Subject-Token": user_token}).status_code == 404
    r = api.call("GET", "/v3/auth/projects", user_token)
    assert r.status_code == 401 and r.json()["error"]["title"] == "Unauthorized"
    # the revocation is for that token only: a fresh login works
    fresh, _ = api.issue("myuser", "DEMO_PASS", project="myproject")
    assert api.call("GET", "/v3/auth/projects", fresh).status_code == 200


def test_a_disabled_owners_token_gets_the_same_generic_404(cloud, api):
    admin, _ = api.issue("admin", cloud.password, project="admin")
    uid = api.call("POST", "/v3/users", admin, json={"user": {"name": "soon-disabled", "password": "sd-pw"}}).json()["user"]["id"]
    token, _ = api.issue("soon-disabled", "sd-pw")
    assert api.call("GET", "/v3/auth/tokens", admin, headers={"X-Subject-Token": token}).status_code == 200
    assert api.call("PATCH", f"/v3/users/{uid}", admin, json={"user": {"enabled": False}}).status_code == 200
    r = api.call("GET", "/v3/auth/tokens", admin, headers={"X-Subject-Token": token})
    assert r.status_code == 404 and r.json()["error"]["message"] == f"Could not find token: {token}."
    assert "disabled" not in r.text


def test_rescoping_keeps_expiry_and_audit_chain(cloud, api):
    unscoped = api.token("admin", cloud.password)
    assert unscoped.status_code == 201 and "roles" not in unscoped.json()["token"]
    t = unscoped.headers["X-Subject-Token"]
    r = api.requests.post(api.base + "/v3/auth/tokens", json={"auth": {"identity": {"methods": ["token"], "token": {"id": t}},
                                                                        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    assert r.status_code == 201, r.text
    scoped = r.json()["token"]
    assert sorted(scoped["methods"]) == ["password", "token"]  # keystone treats methods as a set
    assert scoped["expires_at"] == unscoped.json()["token"]["expires_at"]
    assert scoped["audit_ids"][1] == unscoped.json()["token"]["audit_ids"][0]
    child = r.headers["X-Subject-Token"]
    # an unscoped token has no catalog to give
    assert api.call("GET", "/v3/auth/catalog", t).status_code == 403
    # revoking the child leaves its parent valid
    admin, _ = api.issue("admin", cloud.password, project="admin")
    assert api.call("DELETE", "/v3/auth/tokens", admin, headers={"X-Subject-Token": child}).status_code == 204
    assert api.call("GET", "/v3/auth/tokens", admin, headers={"X-Subject-Token": child}).status_code == 404
    assert api.call("GET", "/v3/auth/tokens", admin, headers={"X-Subject-Token": t}).status_code == 200


def keystone_manage(cloud, command):
    conf = os.path.join(cloud.data_dir, "rotate.conf")
    with open(conf, "w") as f:
        f.write(f"[fernet_tokens]\nkey_repository = {cloud.data_dir}/fernet-keys\nmax_active_keys = 3\n")
    return run([STRATUS, "keystone-manage", "--config-file", conf, *command.split()], env=clean_env())


def test_token_survives_restart_and_rotation_until_its_key_is_gone(cloud, api):
    admin, _ = api.issue("admin", cloud.password, project="admin")
    cloud.openstack("project", "create", "--domain", "default", "survivor", "-f", "json")
    assert cloud.stop() == 0, "SIGTERM stops cleanly"
    cloud.start()
    assert api.call("GET", "/v3/auth/projects", admin).status_code == 200, "valid after a restart"
    assert cloud.openstack("project", "show", "survivor", "-f", "json")["name"] == "survivor", "state reused"
    cloud.stop(signal.SIGKILL)
    cloud.start()
    assert api.call("GET", "/v3/auth/projects", admin).status_code == 200, "valid after kill -9 and a start"
    keystone_manage(cloud, "fernet_rotate")
    assert sorted(os.listdir(os.path.join(cloud.data_dir, "fernet-keys"))) == ["0", "1", "2"]
    time.sleep(1.1)  # the key ring re-reads the repository at most once a second
    assert api.call("GET", "/v3/auth/projects", admin).status_code == 200, "valid after one rotation"
    newer, _ = api.issue("admin", cloud.password, project="admin")
    keystone_manage(cloud, "fernet_rotate")
    assert sorted(os.listdir(os.path.join(cloud.data_dir, "fernet-keys"))) == ["0", "2", "3"]
    time.sleep(1.1)
    r = api.call("GET", "/v3/auth/projects", admin)
    assert r.status_code == 401, "its key was rotated out"
    assert api.call("GET", "/v3/auth/projects", newer).status_code == 200, "a token of a key still active"


def test_application_credential_login(cloud, demo, api):
    created = cloud.openstack("application", "credential", "create", "ci-cred", "--secret", "s3cret-value", "-f", "json", env=demo)
    assert created["Secret"] == "s3cret-value" and created["Project ID"]
    assert {r["name"] for r in created["Roles"]} == {"member", "reader"}, "all the caller's roles by default"
    env = clean_env({"OS_AUTH_URL": cloud.auth_url, "OS_AUTH_TYPE": "v3applicationcredential",
                     "OS_APPLICATION_CREDENTIAL_ID": created["ID"], "OS_APPLICATION_CREDENTIAL_SECRET": "s3cret-value",
                     "OS_IDENTITY_API_VERSION": "3"})
    token = cloud.openstack("token", "issue", "-f", "json", env=env)
    assert token["project_id"] == created["Project ID"]
    # restricted (the default): may not create further application credentials
    r = cloud.openstack("application", "credential", "create", "nested", env=env, check=False)
    assert r.returncode != 0 and "403" in r.stderr
    bad = dict(env, OS_APPLICATION_CREDENTIAL_SECRET="wrong")
    r = cloud.openstack("token", "issue", env=bad, check=False)
    assert r.returncode != 0 and "401" in r.stderr
    listed = cloud.openstack("application", "credential", "list", "-f", "json", env=demo)
    assert [c["Name"] for c in listed] == ["ci-cred"]
    assert "s3cret-value" not in json.dumps(listed)


def test_lockout_after_failed_attempts(cloud, api):
    cloud.openstack("user", "create", "--domain", "default", "--password", "right-one", "locky", "-f", "json")
    for _ in range(3):
        assert api.token("locky", "wrong").status_code == 401
    r = api.token("locky", "right-one")
    assert r.status_code == 401
    assert "locked" in r.json()["error"]["message"]


def test_expired_password_is_refused(cloud, api):
    user = cloud.openstack("user", "create", "--domain", "default", "--password", "old-pass", "expiring", "-f", "json")
    assert api.token("expiring", "old-pass").status_code == 201
    cloud.sql("UPDATE identity_user SET password_expires_at = ? WHERE id = ?", (int((time.time() - 60) * 1e6), user["id"]))
    r = api.token("expiring", "old-pass")
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def test_password_change_counts_towards_lockout(cloud, api):
    user = cloud.openstack("user", "create", "--domain", "default", "--password", "keep-me", "guessed", "-f", "json")
    body = lambda original: {"user": {"original_password": original, "password": "new-one"}}
    for _ in range(3):
        r = api.call("POST", f"/v3/users/{user['id']}/password", json=body("wrong"))
        assert r.status_code == 401
    r = api.call("POST", f"/v3/users/{user['id']}/password", json=body("keep-me"))
    assert r.status_code == 401 and "locked" in r.json()["error"]["message"]
    assert api.call("POST", "/v3/users/no-such-user/password", json=body("x")).status_code == 401, "unknown users look the same"


def test_change_own_password_revokes_old_tokens(cloud, api):
    cloud.openstack("user", "create", "--domain", "default", "--password", "first-pw", "changer", "-f", "json")
    cloud.openstack("role", "add", "--project", "admin", "--user", "changer", "reader")
    env = cloud.env(user="changer", password="first-pw", project="admin")
    old, _ = api.issue("changer", "first-pw", project="admin")
    cloud.openstack("user", "password", "set", "--original-password", "first-pw", "--password", "second-pw", env=env)
    assert api.token("changer", "first-pw").status_code == 401
    assert api.token("changer", "second-pw", project="admin").status_code == 201
    assert api.call("GET", "/v3/auth/projects", old).status_code == 401


def test_default_bcrypt_cost_and_stored_password():
    c = Cloud(rounds=None, password="cost-12-pass").start()
    try:
        api = API(c)
        _, body = api.issue("admin", "cost-12-pass", project="admin")
        assert c.sql_value("SELECT password_hash FROM identity_user WHERE name = 'admin'").startswith("$2b$12$")
        c.stop()
        # a later start with another password keeps the stored one and says so
        c.password = "something-else"
        c.start()
        assert "keeping the admin password" in c.process.output()
        assert api.token("admin", "cost-12-pass", project="admin").status_code == 201
        assert api.token("admin", "something-else", project="admin").status_code == 401
    finally:
        c.destroy()


def test_policy_yaml_overrides_a_default():
    c = Cloud()
    with open(os.path.join(c.data_dir, "policy.yaml"), "w") as f:
        f.write('# members may list users here\n"identity:list_users": "role:member"\n')
    c.start()
    try:
        c.openstack("project", "create", "--domain", "default", "p", "-f", "json")
        c.openstack("user", "create", "--domain", "default", "--password", "m-pw", "m", "-f", "json")
        c.openstack("role", "add", "--project", "p", "--user", "m", "member")
        users = c.openstack("user", "list", "-f", "json", env=c.env(user="m", password="m-pw", project="p"))
        assert {"admin", "m"} <= {u["Name"] for u in users}
        api = API(c)
        token, _ = api.issue("m", "m-pw", project="p")
        assert api.call("GET", "/v3/users", token).status_code == 200
        assert api.call("GET", "/v3/projects", token).status_code == 403, "other rules keep their defaults"
    finally:
        c.destroy()
