"""What a caller who should not succeed sees: status codes, keystone's error bodies, and no
data of other projects."""
import base64
import os
import time

import pytest

from framework.cloud import API


@pytest.fixture(scope="module")
def api(cloud):
    return API(cloud)


@pytest.fixture(scope="module")
def world(cloud, api):
    """Two projects with a member each, a group, an application credential and a credential of the first."""
    admin, _ = api.issue("admin", cloud.password, project="admin")
    ids = {}
    for n in ("alpha", "beta"):
        ids[n + "_project"] = cloud.openstack("project", "create", "--domain", "default", n, "-f", "json")["id"]
        ids[n + "_user"] = cloud.openstack("user", "create", "--domain", "default", "--password", n + "-pw", n + "-user", "-f", "json")["id"]
        cloud.openstack("role", "add", "--project", n, "--user", n + "-user", "member")
    ids["group"] = cloud.openstack("group", "create", "--domain", "default", "alpha-group", "-f", "json")["id"]
    cloud.openstack("group", "add", "user", "alpha-group", "alpha-user")
    alpha, _ = api.issue("alpha-user", "alpha-pw", project="alpha")
    beta, _ = api.issue("beta-user", "beta-pw", project="beta")
    r = api.call("POST", f"/v3/users/{ids['alpha_user']}/application_credentials", alpha, json={"application_credential": {"name": "a-cred"}})
    assert r.status_code == 201, r.text
    ids["app_cred"] = r.json()["application_credential"]["id"]
    ids["app_cred_secret"] = r.json()["application_credential"]["secret"]
    r = api.call("POST", "/v3/credentials", alpha, json={"credential": {"user_id": ids["alpha_user"], "type": "cert", "blob": "alpha-secret-blob"}})
    assert r.status_code == 201, r.text
    ids["credential"] = r.json()["credential"]["id"]
    assert r.json()["credential"]["blob"] == "alpha-secret-blob"
    return {"admin": admin, "alpha": alpha, "beta": beta, **ids}


def error(r, code):
    assert r.status_code == code, (r.status_code, r.text)
    body = r.json()["error"]
    assert body["code"] == code and body["title"] and body["message"]
    return body["message"]


def test_wrong_password_is_401_with_keystone_body(api):
    r = api.token("admin", "not-the-password", project="admin")
    assert error(r, 401) == "The request you have made requires authentication."
    assert "X-Subject-Token" not in r.headers
    assert r.headers["x-openstack-request-id"].startswith("req-")


def test_unknown_user_looks_like_wrong_password(api):
    r = api.token("nobody-here", "whatever")
    assert error(r, 401) == "The request you have made requires authentication."


def test_member_listing_users_is_403(cloud, world):
    env = cloud.env(user="alpha-user", password="alpha-pw", project="alpha")
    r = cloud.openstack("user", "list", env=env, check=False)
    assert r.returncode != 0 and "403" in r.stderr


def test_malformed_json_is_400_naming_the_problem(api, world):
    r = api.call("POST", "/v3/projects", world["admin"], data="{not json", headers={"Content-Type": "application/json"})
    assert "not valid JSON" in error(r, 400)
    r = api.call("POST", "/v3/projects", world["admin"], json={"project": {"name": 42}})
    assert "'name'" in error(r, 400)
    r = api.call("POST", "/v3/users", world["admin"], json={"usr": {"name": "x"}})
    assert "'user'" in error(r, 400)
    r = api.call("POST", "/v3/auth/tokens", json={"auth": {}})
    assert "'identity'" in error(r, 400)


def test_bad_input_writes_nothing(api, world, cloud):
    r = api.call("POST", "/v3/projects", world["admin"], json={"project": {"name": "half", "tags": ["ok", "bad/tag"]}})
    error(r, 400)
    assert api.call("GET", "/v3/projects?name=half", world["admin"]).json()["projects"] == []


def test_duplicate_project_name_is_409(api, world):
    r = api.call("POST", "/v3/projects", world["admin"], json={"project": {"name": "alpha", "domain_id": "default"}})
    error(r, 409)
    # the same name in another domain is fine
    d = api.call("POST", "/v3/domains", world["admin"], json={"domain": {"name": "other"}}).json()["domain"]["id"]
    assert api.call("POST", "/v3/projects", world["admin"], json={"project": {"name": "alpha", "domain_id": d}}).status_code == 201


def test_unknown_ids_are_404_and_unknown_methods_405(api, world):
    assert "Could not find project: nope." == error(api.call("GET", "/v3/projects/nope", world["admin"]), 404)
    error(api.call("GET", "/v3/users/nope", world["admin"]), 404)
    error(api.call("DELETE", "/v3/roles/nope", world["admin"]), 404)
    error(api.call("GET", "/v3/no-such-collection", world["admin"]), 404)
    error(api.call("PUT", "/v3/projects", world["admin"], json={}), 405)


def test_absurd_dates_are_400_and_the_server_lives(api, world, cloud):
    for when in ("99999999999-01-01T00:00:00", "3000000-01-01T00:00:00", "tomorrow"):
        r = api.call("POST", f"/v3/users/{world['alpha_user']}/application_credentials", world["alpha"],
                     json={"application_credential": {"name": "c-" + when[:4], "expires_at": when}})
        assert "'expires_at'" in error(r, 400)
    assert api.call("GET", "/v3", None).status_code == 200


def test_too_long_secret_is_not_echoed(api, world):
    r = api.call("POST", "/v3/users", world["admin"], json={"user": {"name": "long", "password": "S3CRET" * 1000}})
    assert "'password'" in error(r, 400) and "S3CRET" not in r.text


def test_body_size_limit_is_413(api, world):
    r = api.call("POST", "/v3/projects", world["admin"], json={"project": {"name": "big", "description": "x" * 200_000}})
    error(r, 413)


def test_other_projects_member_gets_no_data(api, world):
    """beta's member reaches for every alpha resource it can name by id."""
    beta = world["beta"]
    attempts = [
        ("GET", f"/v3/projects/{world['alpha_project']}"),
        ("PATCH", f"/v3/projects/{world['alpha_project']}"),
        ("DELETE", f"/v3/projects/{world['alpha_project']}"),
        ("GET", f"/v3/users/{world['alpha_user']}"),
        ("PATCH", f"/v3/users/{world['alpha_user']}"),
        ("DELETE", f"/v3/users/{world['alpha_user']}"),
        ("GET", f"/v3/users/{world['alpha_user']}/projects"),
        ("GET", f"/v3/users/{world['alpha_user']}/groups"),
        ("GET", f"/v3/groups/{world['group']}"),
        ("GET", f"/v3/groups/{world['group']}/users"),
        ("GET", f"/v3/role_assignments?scope.project.id={world['alpha_project']}"),
        ("GET", f"/v3/role_assignments?user.id={world['alpha_user']}"),
        ("GET", f"/v3/projects/{world['alpha_project']}/users/{world['alpha_user']}/roles"),
        ("GET", f"/v3/users/{world['alpha_user']}/application_credentials"),
        ("GET", f"/v3/users/{world['alpha_user']}/application_credentials/{world['app_cred']}"),
        ("DELETE", f"/v3/users/{world['alpha_user']}/application_credentials/{world['app_cred']}"),
        ("GET", f"/v3/credentials/{world['credential']}"),
        ("PATCH", f"/v3/credentials/{world['credential']}"),
        ("DELETE", f"/v3/credentials/{world['credential']}"),
        ("GET", "/v3/users"),
        ("POST", "/v3/projects"),
    ]
    member = api.call("GET", "/v3/roles?name=member", world["admin"]).json()["roles"][0]["id"]
    beta_user = api.call("GET", "/v3/users?name=beta-user", world["admin"]).json()["users"][0]["id"]
    writes = [
        # grants on alpha for itself, joining alpha's group, keys in alpha's name
        ("PUT", f"/v3/projects/{world['alpha_project']}/users/{beta_user}/roles/{member}", None),
        ("PUT", f"/v3/groups/{world['group']}/users/{beta_user}", None),
        ("POST", f"/v3/users/{world['alpha_user']}/application_credentials", {"application_credential": {"name": "stolen"}}),
        ("POST", "/v3/credentials", {"credential": {"user_id": world["alpha_user"], "type": "cert", "blob": "stolen"}}),
    ]
    for method, path, body in writes:
        r = api.call(method, path, beta, json=body)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
    assert api.call("HEAD", f"/v3/projects/{world['alpha_project']}/users/{beta_user}/roles/{member}", world["admin"]).status_code == 404
    assert api.call("HEAD", f"/v3/groups/{world['group']}/users/{beta_user}", world["admin"]).status_code == 404
    assert [c["name"] for c in api.call("GET", f"/v3/users/{world['alpha_user']}/application_credentials", world["alpha"]).json()[
        "application_credentials"]] == ["a-cred"]
    assert [c["blob"] for c in api.call("GET", f"/v3/credentials?user_id={world['alpha_user']}", world["admin"]).json()["credentials"]] == [
        "alpha-secret-blob"]
    for method, path in attempts:
        body = {"project": {"name": "x"}, "user": {"name": "x"}, "credential": {"blob": "x"}} if method in ("PATCH", "POST") else None
        r = api.call(method, path, beta, json=body)
        assert r.status_code in (403, 404), (method, path, r.status_code, r.text)
        for secret in (world["alpha_project"], world["alpha_user"], "alpha-secret-blob", "a-cred"):
            if secret not in path:
                assert secret not in r.text, (method, path, r.text)
    # the listing of credentials shows beta only its own (none)
    r = api.call("GET", "/v3/credentials", beta)
    assert r.status_code == 200 and r.json()["credentials"] == []
    # and alpha's things are intact
    assert api.call("GET", f"/v3/credentials/{world['credential']}", world["alpha"]).status_code == 200
    assert api.call("GET", f"/v3/projects/{world['alpha_project']}", world["alpha"]).status_code == 200


def test_revoked_role_ends_access_at_once(api, world, cloud):
    cloud.openstack("user", "create", "--domain", "default", "--password", "g-pw", "gamma", "-f", "json")
    cloud.openstack("role", "add", "--project", "alpha", "--project-domain", "default", "--user", "gamma", "member")
    token, _ = api.issue("gamma", "g-pw", project="alpha")
    assert api.call("GET", f"/v3/projects/{world['alpha_project']}", token).status_code == 200
    cloud.openstack("role", "remove", "--project", "alpha", "--project-domain", "default", "--user", "gamma", "member")
    error(api.call("GET", f"/v3/projects/{world['alpha_project']}", token), 401)
    error(api.call("GET", "/v3/auth/tokens", world["admin"], headers={"X-Subject-Token": token}), 404)


def test_concurrent_creates_of_one_name_make_one_project(api, world):
    from concurrent.futures import ThreadPoolExecutor
    body = {"project": {"name": "racer", "domain_id": "default"}}
    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: api.call("POST", "/v3/projects", world["admin"], json=body).status_code, range(8)))
    assert codes == [201] + [409] * 7
    assert len(api.call("GET", "/v3/projects?name=racer", world["admin"]).json()["projects"]) == 1


def test_a_delegated_token_cannot_touch_credentials(api, world):
    """keystone 30: a token from an application credential gets none of /v3/credentials, so an
    EC2 key cannot be minted from (and outlive) a restricted credential."""
    r = api.requests.post(api.base + "/v3/auth/tokens", json={"auth": {"identity": {"methods": ["application_credential"],
                          "application_credential": {"id": world["app_cred"], "secret": world["app_cred_secret"]}}}})
    assert r.status_code == 201, r.text
    delegated = r.headers["X-Subject-Token"]
    message = "You are not authorized to perform the requested action: Delegated tokens cannot access credentials directly."
    assert error(api.call("POST", "/v3/credentials", delegated, json={"credential": {
        "user_id": world["alpha_user"], "type": "ec2", "project_id": world["alpha_project"], "blob": '{"access": "a", "secret": "s"}'}}), 403) == message
    for method in ("GET", "PATCH", "DELETE"):
        r = api.call(method, f"/v3/credentials/{world['credential']}", delegated, json={"credential": {"blob": "x"}} if method == "PATCH" else None)
        assert error(r, 403) == message, method
    r = api.call("GET", "/v3/credentials", delegated)
    assert r.status_code == 200 and r.json()["credentials"] == []
    assert api.call("GET", f"/v3/credentials/{world['credential']}", world["alpha"]).json()["credential"]["blob"] == "alpha-secret-blob"


def test_credential_project_and_owner_are_fixed(api, world):
    """Only the blob of a credential changes (keystone 30); its project must exist."""
    path = f"/v3/credentials/{world['credential']}"
    for body in ({"project_id": world["beta_project"]}, {"type": "ec2", "blob": "x"}, {"user_id": world["beta_user"], "blob": "x"}):
        assert "was unexpected" in error(api.call("PATCH", path, world["admin"], json={"credential": body}), 400), body
    cred = api.call("GET", path, world["admin"]).json()["credential"]
    assert (cred["project_id"], cred["type"], cred["blob"]) == (None, "cert", "alpha-secret-blob")
    # what `openstack credential set` sends: the unchanged owner and type with a new blob
    r = api.call("PATCH", path, world["alpha"], json={"credential": {"user_id": world["alpha_user"], "type": "cert", "blob": "alpha-secret-blob"}})
    assert r.status_code == 200 and r.json()["credential"]["blob"] == "alpha-secret-blob"
    r = api.call("POST", "/v3/credentials", world["alpha"], json={"credential": {"user_id": world["alpha_user"], "type": "cert",
                                                                                 "project_id": "no-such-project", "blob": "x"}})
    assert "'project_id'" in error(r, 400)
    r = api.call("POST", "/v3/credentials", world["alpha"], json={"credential": {"user_id": world["alpha_user"], "type": "ec2", "blob": "{}"}})
    assert "'project_id' is a required property" in error(r, 400)
    assert len(api.call("GET", f"/v3/credentials?user_id={world['alpha_user']}", world["admin"]).json()["credentials"]) == 1


def test_logs_carry_no_passwords_tokens_or_secrets(cloud, world, api):
    # a 500 path: the credential key repository is emptied and replaced by a key that opens
    # nothing, so reading a credential fails inside the server
    keys = os.path.join(cloud.data_dir, "credential-keys")
    saved = {name: open(os.path.join(keys, name), "rb").read() for name in os.listdir(keys)}
    try:
        for name in saved:
            os.remove(os.path.join(keys, name))
        with open(os.path.join(keys, "0"), "wb") as f:
            f.write(base64.urlsafe_b64encode(os.urandom(32)))
        deadline = time.time() + 10
        while api.call("GET", f"/v3/credentials/{world['credential']}", world["admin"]).status_code != 500:
            assert time.time() < deadline, "the replaced key never took effect"
            time.sleep(0.3)
    finally:
        os.remove(os.path.join(keys, "0"))
        for name, data in saved.items():
            with open(os.path.join(keys, name), "wb") as f:
                f.write(data)
    deadline = time.time() + 10
    while api.call("GET", f"/v3/credentials/{world['credential']}", world["admin"]).status_code != 200:
        assert time.time() < deadline
        time.sleep(0.3)
    out = cloud.process.output()
    assert f"GET /v3/credentials/{world['credential']} 500 " in out, "the 500 went through the logged path"
    for secret in (cloud.password, "alpha-pw", "beta-pw", world["alpha"], world["beta"], world["admin"], world["app_cred_secret"],
                   "alpha-secret-blob", "stolen"):
        assert secret not in out
    assert " GET /v3/projects" in out and "request_id=req-" in out, "one line per request with method, path and request id"
