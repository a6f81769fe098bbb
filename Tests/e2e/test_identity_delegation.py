"""Delegation in Identity (issue 10): OS-TRUST trusts and trust-scoped tokens, EC2 credentials
and tokens, application-credential access rules. The guide-style flows through the `openstack`
CLI; the rest as raw HTTP in one process, each answer as keystone 30 gives it."""
import json

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


def password_token(api, user_id, password, scope=None):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": user_id, "password": password}}}}}
    if scope:
        body["auth"]["scope"] = scope
    return api.requests.post(api.base + "/v3/auth/tokens?nocatalog", json=body)


@pytest.fixture(scope="module")
def people(api, admin):
    """A project with a trustor (member there), a trustee and an outsider member of another project."""
    def make(kind, body):
        return ok(api.call("POST", f"/v3/{kind}s", admin, json={kind: body}), 201)[kind]["id"]
    roles = {r["name"]: r["id"] for r in ok(api.call("GET", "/v3/roles", admin))["roles"]}
    p = make("project", {"name": "deleg-p"})
    other = make("project", {"name": "deleg-other"})
    out = {"project": p, "other": other, "roles": roles}
    for name in ("trustor", "trustee", "outsider"):
        out[name] = make("user", {"name": "deleg-" + name, "password": name + "-pw"})
    assert api.call("PUT", f"/v3/projects/{p}/users/{out['trustor']}/roles/{roles['member']}", admin).status_code == 204
    assert api.call("PUT", f"/v3/projects/{other}/users/{out['outsider']}/roles/{roles['member']}", admin).status_code == 204
    assert api.call("PUT", f"/v3/projects/{other}/users/{out['trustee']}/roles/{roles['member']}", admin).status_code == 204
    for name, project in (("trustor", p), ("outsider", other), ("trustee", other)):
        r = password_token(api, out[name], name + "-pw", {"project": {"id": project}})
        assert r.status_code == 201, r.text
        out[name + "_token"] = r.headers["X-Subject-Token"]
    return out


def new_trust(api, people, **fields):
    body = {"trustor_user_id": people["trustor"], "trustee_user_id": people["trustee"], "impersonation": False,
            "project_id": people["project"], "roles": [{"name": "member"}]}
    body.update(fields)
    return api.call("POST", "/v3/OS-TRUST/trusts", people["trustor_token"], json={"trust": body})


def trust_token(api, people, trust_id):
    return password_token(api, people["trustee"], "trustee-pw", {"OS-TRUST:trust": {"id": trust_id}})


def test_trusts_through_the_cli(cloud, api, admin, people):
    """`openstack trust create/list/show/delete` as the trustor, and a trust-scoped token
    through `openstack --os-trust-id token issue` as the trustee."""
    trustor_env = cloud.env(user="deleg-trustor", password="trustor-pw", project="deleg-p")
    # ids, as a member would give them: the CLI cannot look names up without list rights
    created = cloud.openstack("trust", "create", "--project", people["project"], "--role", people["roles"]["member"], "--impersonate",
                              people["trustor"], people["trustee"], "-f", "json", env=trustor_env)
    assert created["is_impersonation"] is True and created["project_id"] == people["project"]
    assert created["trustor_user_id"] == people["trustor"] and created["trustee_user_id"] == people["trustee"]
    assert "member" in json.dumps(created["roles"])
    shown = cloud.openstack("trust", "show", created["id"], "-f", "json", env=trustor_env)
    assert shown["id"] == created["id"] and shown["remaining_uses"] is None
    listed = cloud.openstack("trust", "list", "-f", "json")  # admin lists every trust
    assert created["id"] in [t["ID"] for t in listed]
    trustee_env = cloud.env(user="deleg-trustee", password="trustee-pw", OS_TRUST_ID=created["id"])
    del trustee_env["OS_PROJECT_NAME"], trustee_env["OS_PROJECT_DOMAIN_NAME"]
    issued = cloud.openstack("token", "issue", "-f", "json", env=trustee_env)
    assert issued["project_id"] == people["project"]
    # impersonation: the token speaks for the trustor, with the delegated role (and what it implies)
    assert issued["user_id"] == people["trustor"]
    body = ok(api.call("GET", "/v3/auth/tokens?nocatalog", admin, headers={"X-Subject-Token": issued["id"]}))["token"]
    assert body["OS-TRUST:trust"] == {"id": created["id"], "impersonation": True,
                                      "trustor_user": {"id": people["trustor"]}, "trustee_user": {"id": people["trustee"]}}
    assert {r["name"] for r in body["roles"]} == {"member", "reader"}
    cloud.openstack("trust", "delete", created["id"], env=trustor_env)
    assert api.call("GET", "/v3/auth/tokens", admin, headers={"X-Subject-Token": issued["id"]}).status_code == 404
    assert created["id"] not in [t["ID"] for t in cloud.openstack("trust", "list", "-f", "json")]
    events = ok(api.call("GET", "/v3/OS-REVOKE/events", admin))["events"]
    assert any(e.get("OS-TRUST:trust_id") == created["id"] for e in events)


def test_trust_documents_and_lists(api, admin, people):
    trust = ok(new_trust(api, people, remaining_uses=3, expires_at="2099-01-01T00:00:00Z"), 201)["trust"]
    assert set(trust) == {"id", "trustor_user_id", "trustee_user_id", "project_id", "impersonation", "deleted_at", "expires_at",
                          "remaining_uses", "redelegated_trust_id", "redelegation_count", "roles", "roles_links", "links"}
    assert (trust["expires_at"], trust["remaining_uses"], trust["redelegation_count"], trust["deleted_at"]) == (
        "2099-01-01T00:00:00.000000Z", 3, 0, None)
    assert [r["name"] for r in trust["roles"]] == ["member"] and trust["links"]["self"].endswith("/v3/OS-TRUST/trusts/" + trust["id"])
    tid = trust["id"]
    member = people["roles"]["member"]
    for token in (people["trustor_token"], people["trustee_token"]):
        assert ok(api.call("GET", f"/v3/OS-TRUST/trusts/{tid}", token))["trust"]["id"] == tid
        assert [r["id"] for r in ok(api.call("GET", f"/v3/OS-TRUST/trusts/{tid}/roles", token))["roles"]] == [member]
        assert ok(api.call("GET", f"/v3/OS-TRUST/trusts/{tid}/roles/{member}", token))["role"]["name"] == "member"
    r = api.call("GET", f"/v3/OS-TRUST/trusts/{tid}/roles/{people['roles']['reader']}", people["trustor_token"])
    assert r.status_code == 404 and r.json()["error"]["message"] == f"Could not find role: {people['roles']['reader']}."
    mine = ok(api.call("GET", f"/v3/OS-TRUST/trusts?trustor_user_id={people['trustor']}", people["trustor_token"]))["trusts"]
    assert tid in [t["id"] for t in mine] and all("roles" not in t for t in mine)
    given = ok(api.call("GET", f"/v3/OS-TRUST/trusts?trustee_user_id={people['trustee']}", people["trustee_token"]))["trusts"]
    assert tid in [t["id"] for t in given]
    # a trustee may not list by trustor, nor anyone but admins everything
    for token, query in ((people["trustee_token"], f"?trustor_user_id={people['trustor']}"), (people["trustor_token"], "")):
        r = api.call("GET", "/v3/OS-TRUST/trusts" + query, token)
        assert r.status_code == 403, r.text
    assert tid in [t["id"] for t in ok(api.call("GET", "/v3/OS-TRUST/trusts", admin))["trusts"]]
    r = api.call("GET", "/v3/OS-TRUST/trusts/nosuch", people["trustor_token"])
    assert r.status_code == 404 and r.json()["error"]["message"] == "Could not find trust: nosuch."


def test_trust_tokens_count_uses_and_end_with_the_trust(api, admin, people):
    trust = ok(new_trust(api, people, remaining_uses=2), 201)["trust"]
    tokens = []
    for _ in range(2):
        r = trust_token(api, people, trust["id"])
        assert r.status_code == 201, r.text
        tokens.append(r.headers["X-Subject-Token"])
        body = r.json()["token"]
        # without impersonation the token's user is the trustee
        assert body["user"]["id"] == people["trustee"] and body["project"]["id"] == people["project"]
        assert "is_domain" not in body
    r = trust_token(api, people, trust["id"])
    assert r.status_code == 401, "the third token is refused: the trust is used up"
    # a used-up trust is gone for show, still listed (as keystone), and its tokens still validate
    assert api.call("GET", f"/v3/OS-TRUST/trusts/{trust['id']}", people["trustor_token"]).status_code == 404
    listed = ok(api.call("GET", f"/v3/OS-TRUST/trusts?trustor_user_id={people['trustor']}", people["trustor_token"]))["trusts"]
    assert [t["remaining_uses"] for t in listed if t["id"] == trust["id"]] == [0]
    assert api.call("HEAD", "/v3/auth/tokens", admin, headers={"X-Subject-Token": tokens[0]}).status_code == 200
    # the trustor losing the delegated role ends the trust's tokens; getting it back revives them
    unlimited = ok(new_trust(api, people), 201)["trust"]
    t = trust_token(api, people, unlimited["id"]).headers["X-Subject-Token"]
    grant = f"/v3/projects/{people['project']}/users/{people['trustor']}/roles/{people['roles']['member']}"
    assert api.call("DELETE", grant, admin).status_code == 204
    assert api.call("HEAD", "/v3/auth/tokens", admin, headers={"X-Subject-Token": t}).status_code == 404
    assert trust_token(api, people, unlimited["id"]).status_code == 401
    assert api.call("PUT", grant, admin).status_code == 204
    assert api.call("HEAD", "/v3/auth/tokens", admin, headers={"X-Subject-Token": t}).status_code == 200
    # disabling the trustor ends them too
    assert api.call("PATCH", f"/v3/users/{people['trustor']}", admin, json={"user": {"enabled": False}}).status_code == 200
    assert api.call("HEAD", "/v3/auth/tokens", admin, headers={"X-Subject-Token": t}).status_code == 404
    assert api.call("PATCH", f"/v3/users/{people['trustor']}", admin, json={"user": {"enabled": True}}).status_code == 200
    people["trustor_token"] = password_token(api, people["trustor"], "trustor-pw", {"project": {"id": people["project"]}}).headers["X-Subject-Token"]


def test_trust_scoped_tokens_cannot_widen_or_spread(api, admin, people):
    trust = ok(new_trust(api, people), 201)["trust"]
    t = trust_token(api, people, trust["id"]).headers["X-Subject-Token"]
    # no new trust from a trust that does not allow redelegation, nothing written
    before = len(ok(api.call("GET", "/v3/OS-TRUST/trusts", admin))["trusts"])
    r = api.call("POST", "/v3/OS-TRUST/trusts", t, json={"trust": {
        "trustor_user_id": people["trustee"], "trustee_user_id": people["outsider"], "impersonation": False,
        "project_id": people["project"], "roles": [{"name": "member"}]}})
    assert r.status_code == 403, r.text
    assert len(ok(api.call("GET", "/v3/OS-TRUST/trusts", admin))["trusts"]) == before
    # no application credential, no rescoping, no credentials
    r = api.call("POST", f"/v3/users/{people['trustee']}/application_credentials", t, json={"application_credential": {"name": "via-trust"}})
    assert r.status_code == 403, r.text
    assert ok(api.call("GET", f"/v3/users/{people['trustee']}/application_credentials", admin))["application_credentials"] == []
    r = api.requests.post(api.base + "/v3/auth/tokens", json={"auth": {"identity": {"methods": ["token"], "token": {"id": t}},
                                                                        "scope": {"project": {"id": people["project"]}}}})
    assert r.status_code == 401
    r = api.call("POST", "/v3/credentials", t, json={"credential": {"user_id": people["trustee"], "type": "totp", "blob": "x"}})
    assert r.status_code == 403
    # the trustor may not hand out a role it does not hold, nor a trust without roles on a project
    r = new_trust(api, people, roles=[{"name": "admin"}])
    assert r.status_code == 404 and r.json()["error"]["message"] == f"Could not find role: {people['roles']['admin']}."
    r = new_trust(api, people, roles=[])
    assert r.status_code == 403 and "At least one role should be specified" in r.json()["error"]["message"]
    r = new_trust(api, people, roles=[{"name": "no-such-role"}])
    assert r.status_code == 404 and r.json()["error"]["message"] == "Role no-such-role is not defined"
    # the trustee's application credential on the trust's very project still cannot take the trust
    grant = f"/v3/projects/{people['project']}/users/{people['trustee']}/roles/{people['roles']['reader']}"
    assert api.call("PUT", grant, admin).status_code == 204
    own = password_token(api, people["trustee"], "trustee-pw", {"project": {"id": people["project"]}}).headers["X-Subject-Token"]
    ac = ok(api.call("POST", f"/v3/users/{people['trustee']}/application_credentials", own,
                     json={"application_credential": {"name": "trustee-ac"}}), 201)["application_credential"]
    r = api.requests.post(api.base + "/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["application_credential"], "application_credential": {"id": ac["id"], "secret": ac["secret"]}},
        "scope": {"OS-TRUST:trust": {"id": trust["id"]}}}})
    assert r.status_code == 401, r.text
    assert api.call("DELETE", grant, admin).status_code == 204


def test_redelegation_narrows_down_the_chain(api, admin, people):
    trust = ok(new_trust(api, people, allow_redelegation=True, roles=[{"name": "member"}]), 201)["trust"]
    assert trust["redelegation_count"] == 3 and "allow_redelegation" not in trust
    t = trust_token(api, people, trust["id"]).headers["X-Subject-Token"]
    def redelegate(**fields):
        body = {"trustor_user_id": people["trustee"], "trustee_user_id": people["outsider"], "impersonation": False,
                "project_id": people["project"], "roles": [{"name": "member"}]}
        body.update(fields)
        return api.call("POST", "/v3/OS-TRUST/trusts", t, json={"trust": body})
    r = redelegate(roles=[{"name": "admin"}])
    assert r.status_code == 404, r.text  # the original trustor does not hold admin
    r = redelegate(roles=[{"name": "reader"}])  # held by the trustor (implied), but not in the trust
    assert r.status_code == 403 and r.json()["error"]["message"] == "Some of requested roles are not in redelegated trust"
    r = redelegate(impersonation=True)
    assert r.status_code == 403 and "Impersonation is not allowed" in r.json()["error"]["message"]
    r = redelegate(remaining_uses=1)
    assert r.status_code == 403 and "remaining_uses" in r.json()["error"]["message"]
    # the chain stays on its project: the trustor's roles elsewhere are not the trust's to give
    assert api.call("PUT", f"/v3/projects/{people['other']}/users/{people['trustor']}/roles/{people['roles']['member']}", admin).status_code == 204
    r = redelegate(project_id=people["other"])
    assert r.status_code == 403 and "project" in r.json()["error"]["message"], r.text
    assert api.call("DELETE", f"/v3/projects/{people['other']}/users/{people['trustor']}/roles/{people['roles']['member']}", admin).status_code == 204
    child = ok(redelegate(allow_redelegation=True), 201)["trust"]
    assert (child["redelegated_trust_id"], child["redelegation_count"]) == (trust["id"], 2)
    r = password_token(api, people["outsider"], "outsider-pw", {"OS-TRUST:trust": {"id": child["id"]}})
    assert r.status_code == 201 and {x["name"] for x in r.json()["token"]["roles"]} == {"member", "reader"}
    grandchild_token = r.headers["X-Subject-Token"]
    # the first trustor disabled: the end of the chain stops too
    assert api.call("PATCH", f"/v3/users/{people['trustor']}", admin, json={"user": {"enabled": False}}).status_code == 200
    assert api.call("HEAD", "/v3/auth/tokens", admin, headers={"X-Subject-Token": grandchild_token}).status_code == 404
    assert api.call("PATCH", f"/v3/users/{people['trustor']}", admin, json={"user": {"enabled": True}}).status_code == 200
    # disabling revoked the trustor's tokens, and with them those the chain gave out (keystone's revocation model)
    assert api.call("HEAD", "/v3/auth/tokens", admin, headers={"X-Subject-Token": grandchild_token}).status_code == 404
    people["trustor_token"] = password_token(api, people["trustor"], "trustor-pw", {"project": {"id": people["project"]}}).headers["X-Subject-Token"]
    r = password_token(api, people["outsider"], "outsider-pw", {"OS-TRUST:trust": {"id": child["id"]}})
    assert r.status_code == 201, "the chain stands again: a new token through it works"
    grandchild_token = r.headers["X-Subject-Token"]
    assert api.call("HEAD", "/v3/auth/tokens", admin, headers={"X-Subject-Token": grandchild_token}).status_code == 200
    # deleting the source trust ends the redelegated one and its tokens
    assert api.call("DELETE", f"/v3/OS-TRUST/trusts/{trust['id']}", people["trustor_token"]).status_code == 204
    assert api.call("HEAD", "/v3/auth/tokens", admin, headers={"X-Subject-Token": grandchild_token}).status_code == 404
    assert api.call("GET", f"/v3/OS-TRUST/trusts/{child['id']}", admin).status_code == 404


def test_other_users_get_no_trust(api, admin, people):
    trust = ok(new_trust(api, people), 201)["trust"]
    outsider = people["outsider_token"]
    for path in ("", "/roles", f"/roles/{people['roles']['member']}"):
        r = api.call("GET", f"/v3/OS-TRUST/trusts/{trust['id']}{path}", outsider)
        assert r.status_code == 403 and "trustor_user_id" not in r.text, r.text
    r = api.call("GET", f"/v3/OS-TRUST/trusts?trustor_user_id={people['trustor']}", outsider)
    assert r.status_code == 403
    # an outsider cannot use the trust, nor make one in the trustor's name, nor delete it; the trustee cannot delete it
    assert password_token(api, people["outsider"], "outsider-pw", {"OS-TRUST:trust": {"id": trust["id"]}}).status_code == 401
    assert password_token(api, people["trustor"], "trustor-pw", {"OS-TRUST:trust": {"id": trust["id"]}}).status_code == 401
    r = api.call("POST", "/v3/OS-TRUST/trusts", outsider, json={"trust": {
        "trustor_user_id": people["trustor"], "trustee_user_id": people["outsider"], "impersonation": True,
        "project_id": people["project"], "roles": [{"name": "member"}]}})
    assert r.status_code == 403
    for token in (outsider, people["trustee_token"]):
        assert api.call("DELETE", f"/v3/OS-TRUST/trusts/{trust['id']}", token).status_code == 403
    assert ok(api.call("GET", f"/v3/OS-TRUST/trusts/{trust['id']}", admin))["trust"]["deleted_at"] is None
    # bad bodies name the field and write nothing
    for fields, word in (({"impersonation": None}, "impersonation"), ({"remaining_uses": 0}, "remaining_uses"),
                         ({"expires_at": "junk"}, "Timestamp"), ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at")):
        body = {"trustor_user_id": people["trustor"], "trustee_user_id": people["trustee"], "impersonation": False,
                "project_id": people["project"], "roles": [{"name": "member"}]}
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        r = api.call("POST", "/v3/OS-TRUST/trusts", people["trustor_token"], json={"trust": body})
        assert r.status_code == 400 and word in r.json()["error"]["message"], r.text
    # deleting the trust's project deletes the trust
    doomed = ok(api.call("POST", "/v3/projects", admin, json={"project": {"name": "deleg-doomed"}}), 201)["project"]["id"]
    assert api.call("PUT", f"/v3/projects/{doomed}/users/{people['trustor']}/roles/{people['roles']['member']}", admin).status_code == 204
    on_doomed = password_token(api, people["trustor"], "trustor-pw", {"project": {"id": doomed}}).headers["X-Subject-Token"]
    t = ok(api.call("POST", "/v3/OS-TRUST/trusts", on_doomed, json={"trust": {
        "trustor_user_id": people["trustor"], "trustee_user_id": people["trustee"], "impersonation": False,
        "project_id": doomed, "roles": [{"name": "member"}]}}), 201)["trust"]["id"]
    assert api.call("DELETE", f"/v3/projects/{doomed}", admin).status_code == 204
    assert api.call("GET", f"/v3/OS-TRUST/trusts/{t}", admin).status_code == 404
    # a trust without a project delegates no role
    r = new_trust(api, people, project_id=None)
    assert r.status_code == 404, r.text
    # deleting the trustee deletes the trust
    u = ok(api.call("POST", "/v3/users", admin, json={"user": {"name": "deleg-short-lived", "password": "x-pw"}}), 201)["user"]["id"]
    short = ok(new_trust(api, people, trustee_user_id=u), 201)["trust"]["id"]
    assert api.call("DELETE", f"/v3/users/{u}", admin).status_code == 204
    assert api.call("GET", f"/v3/OS-TRUST/trusts/{short}", admin).status_code == 404


# EC2 credentials and tokens. The requests an EC2 or S3 gateway checks are signed by botocore,
# the AWS SDK's signer, exactly as an AWS client signs them; the gateway's forwarding is the part
# written here (keystonemiddleware's s3token and ec2-api send these fields).

def ec2_check(api, token, access, method="GET", url="http://ec2.example:8788/?Action=DescribeInstances&Version=2016-11-15",
              secret=None, version=4):
    import hashlib
    import urllib.parse
    from botocore.auth import SigV2Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    split = urllib.parse.urlsplit(url)
    params = dict(urllib.parse.parse_qsl(split.query))
    if version == 4:
        request = AWSRequest(method=method, url=url)
        SigV4Auth(Credentials(access, secret), "ec2", "RegionOne").add_auth(request)
        headers = {"Host": split.netloc, **{k: v for k, v in request.headers.items()}}
        signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    else:
        request = AWSRequest(method=method, url=f"{split.scheme}://{split.netloc}{split.path}", params=dict(params))
        SigV2Auth(Credentials(access, secret)).add_auth(request)
        params = dict(request.params)
        signature = params.pop("Signature")
        headers = {"Host": split.netloc}
    body = {"credentials": {"access": access, "signature": signature, "host": split.netloc, "verb": method,
                            "path": split.path, "params": params, "headers": headers,
                            "body_hash": hashlib.sha256(b"").hexdigest()}}
    return api.call("POST", "/v3/ec2tokens", token, json=body)


def test_ec2_credentials_through_the_cli_and_signed_requests(cloud, api, admin, people):
    """`openstack ec2 credentials create/list/delete` as a project member, and the gateway's
    ec2tokens call with requests signed by the AWS SDK (SigV4 and SigV2)."""
    member_env = cloud.env(user="deleg-outsider", password="outsider-pw", project="deleg-other")
    created = cloud.openstack("ec2", "credentials", "create", "-f", "json", env=member_env)
    access, secret = created["access"], created["secret"]
    assert (created["project_id"], created["user_id"], created["trust_id"]) == (people["other"], people["outsider"], None)
    listed = cloud.openstack("ec2", "credentials", "list", "-f", "json", env=member_env)
    assert [(c["Access"], c["Project ID"]) for c in listed] == [(access, people["other"])]
    # the stored credential is keystone's: type ec2, id = sha256(access)
    import hashlib
    stored = ok(api.call("GET", "/v3/credentials/" + hashlib.sha256(access.encode()).hexdigest(), admin))["credential"]
    assert stored["type"] == "ec2" and json.loads(stored["blob"])["secret"] == secret
    for version in (4, 2):
        r = ec2_check(api, admin, access, secret=secret, version=version)
        assert r.status_code == 200, (version, r.text)
        token = r.json()["token"]
        assert token["methods"] == ["ec2credential"] and token["user"]["id"] == people["outsider"]
        assert token["project"]["id"] == people["other"] and {x["name"] for x in token["roles"]} >= {"member"}
        assert "catalog" in token and r.headers["X-Subject-Token"]
    minted = ec2_check(api, admin, access, secret=secret).headers["X-Subject-Token"]
    # the minted token is for the EC2 service, not for Identity's API (keystone 30)
    assert api.call("GET", f"/v3/users/{people['outsider']}", minted).status_code == 403
    # a wrong secret, an unknown key
    assert ec2_check(api, admin, access, secret="0" * 32).status_code == 401
    r = ec2_check(api, admin, "no-such-key", secret=secret)
    assert r.status_code == 404 and r.json()["error"]["message"] == "EC2 access key not found."
    # only admins and services may ask
    assert ec2_check(api, people["outsider_token"], access, secret=secret).status_code == 403
    cloud.openstack("ec2", "credentials", "delete", access, env=member_env)
    assert cloud.openstack("ec2", "credentials", "list", "-f", "json", env=member_env) == []
    assert ec2_check(api, admin, access, secret=secret).status_code == 404


def test_tampered_and_stale_ec2_requests_are_refused(api, admin, people):
    user = people["outsider"]
    cred = ok(api.call("POST", f"/v3/users/{user}/credentials/OS-EC2", people["outsider_token"],
                       json={"tenant_id": people["other"]}), 201)["credential"]
    body = ec2_check(api, admin, cred["access"], secret=cred["secret"]).request.body
    sent = json.loads(body)
    sent["credentials"]["params"]["Action"] = "TerminateInstances"
    assert api.call("POST", "/v3/ec2tokens", admin, json=sent).status_code == 401, "a changed parameter breaks the signature"
    # a v2 request signed 20 minutes ago is past [credential] auth_ttl (15)
    import base64
    import hashlib
    import hmac
    import time
    params = {"Action": "DescribeInstances", "AWSAccessKeyId": cred["access"], "SignatureVersion": "2", "SignatureMethod": "HmacSHA256",
              "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1200))}
    from urllib.parse import quote
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
    sig = base64.b64encode(hmac.new(cred["secret"].encode(), f"GET\nec2.example\n/\n{query}".encode(), hashlib.sha256).digest()).decode()
    stale = {"credentials": {"access": cred["access"], "signature": sig, "host": "ec2.example", "verb": "GET", "path": "/",
                             "params": params}}
    assert api.call("POST", "/v3/ec2tokens", admin, json=stale).status_code == 401
    params["Timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
    stale["credentials"]["signature"] = base64.b64encode(
        hmac.new(cred["secret"].encode(), f"GET\nec2.example\n/\n{query}".encode(), hashlib.sha256).digest()).decode()
    assert api.call("POST", "/v3/ec2tokens", admin, json=stale).status_code == 200, "the same request signed now passes"
    assert api.call("POST", "/v3/ec2tokens", admin, json={}).status_code == 400
    # the user losing their role on the project: no token
    grant = f"/v3/projects/{people['other']}/users/{user}/roles/{people['roles']['member']}"
    assert api.call("DELETE", grant, admin).status_code == 204
    assert api.call("POST", "/v3/ec2tokens", admin, json=stale).status_code == 401
    assert api.call("PUT", grant, admin).status_code == 204
    people["outsider_token"] = password_token(api, user, "outsider-pw", {"project": {"id": people["other"]}}).headers["X-Subject-Token"]


def test_s3tokens_with_an_s3_client_signature(api, admin, people):
    import base64
    import urllib.parse
    from botocore.auth import HmacV1Auth
    from botocore.credentials import Credentials
    cred = ok(api.call("POST", f"/v3/users/{people['outsider']}/credentials/OS-EC2", people["outsider_token"],
                       json={"tenant_id": people["other"]}), 201)["credential"]
    signer = HmacV1Auth(Credentials(cred["access"], cred["secret"]))
    headers = {"Date": "Tue, 11 Dec 2012 21:41:41 GMT", "Content-Type": "application/octet-stream"}
    split = urllib.parse.urlsplit("http://s3.example/bucket/object.txt")
    string_to_sign = signer.canonical_string("PUT", split, headers)
    signature = signer.get_signature("PUT", split, headers)
    body = {"credentials": {"access": cred["access"], "signature": signature,
                            "token": base64.urlsafe_b64encode(string_to_sign.encode()).decode()}}
    r = api.call("POST", "/v3/s3tokens", admin, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["token"]["project"]["id"] == people["other"] and "X-Subject-Token" not in r.headers
    body["credentials"]["signature"] = signer.get_signature("GET", split, headers)
    assert api.call("POST", "/v3/s3tokens", admin, json=body).status_code == 401


def test_other_users_and_delegated_tokens_get_no_ec2_keys(api, admin, people):
    owner = people["outsider"]
    cred = ok(api.call("POST", f"/v3/users/{owner}/credentials/OS-EC2", people["outsider_token"],
                       json={"tenant_id": people["other"]}), 201)["credential"]
    other = people["trustor_token"]
    for method in ("GET", "DELETE"):
        r = api.call(method, f"/v3/users/{owner}/credentials/OS-EC2/{cred['access']}", other)
        assert r.status_code == 403 and cred["secret"] not in r.text
        # naming oneself in the path does not help: ownership is the credential's
        r = api.call(method, f"/v3/users/{people['trustor']}/credentials/OS-EC2/{cred['access']}", other)
        assert r.status_code == 403 and cred["secret"] not in r.text
    assert api.call("GET", f"/v3/users/{owner}/credentials/OS-EC2", other).status_code == 403
    r = api.call("POST", f"/v3/users/{owner}/credentials/OS-EC2", other, json={"tenant_id": people["other"]})
    assert r.status_code == 403
    assert len(ok(api.call("GET", f"/v3/users/{owner}/credentials/OS-EC2", people["outsider_token"]))["credentials"]) >= 1
    # an ec2 credential made through /v3/credentials is the same key for OS-EC2 (id = sha256 of the access key)
    import hashlib
    made = ok(api.call("POST", "/v3/credentials", people["outsider_token"], json={"credential": {
        "user_id": owner, "type": "ec2", "project_id": people["other"], "blob": json.dumps({"access": "made-by-v3", "secret": "s3cr3t"})}}), 201)
    assert made["credential"]["id"] == hashlib.sha256(b"made-by-v3").hexdigest()
    shown = ok(api.call("GET", f"/v3/users/{owner}/credentials/OS-EC2/made-by-v3", people["outsider_token"]))["credential"]
    assert shown["secret"] == "s3cr3t"
    r = api.call("POST", "/v3/credentials", people["outsider_token"], json={"credential": {
        "user_id": owner, "type": "ec2", "project_id": people["other"], "blob": "not json"}})
    assert r.status_code == 400 and "blob" in r.json()["error"]["message"]
    r = api.call("POST", f"/v3/users/{owner}/credentials/OS-EC2", people["outsider_token"], json={})
    assert r.status_code == 404 and r.json()["error"]["message"] == "Could not find project: None."
    r = api.call("GET", f"/v3/users/{owner}/credentials/OS-EC2/nosuch", people["outsider_token"])
    assert r.status_code == 404
    # a trust-scoped token may not mint or read EC2 keys
    trust = ok(new_trust(api, people), 201)["trust"]
    t = trust_token(api, people, trust["id"]).headers["X-Subject-Token"]
    r = api.call("POST", f"/v3/users/{people['trustee']}/credentials/OS-EC2", t, json={"tenant_id": people["project"]})
    assert r.status_code == 403 and "Delegated tokens cannot access credentials directly" in r.json()["error"]["message"]
    assert api.call("GET", f"/v3/users/{people['trustee']}/credentials/OS-EC2", admin).json()["credentials"] == []


# Application credential access rules: enforced by Identity for itself (service type identity)
# and by every other service's token check (here Image, in the same all-in-one).

def app_cred_token(api, cred_id, secret):
    body = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {"id": cred_id, "secret": secret}}}}
    r = api.requests.post(api.base + "/v3/auth/tokens?nocatalog", json=body)
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"], r.json()["token"]


def test_access_rules_through_the_cli(cloud, api, admin, people):
    """`openstack application credential create --access-rules`; the credential's token does what
    its rules allow and is refused (401) outside them, through the CLI too."""
    member_env = cloud.env(user="deleg-outsider", password="outsider-pw", project="deleg-other")
    rules = [{"service": "identity", "method": "GET", "path": "/v3/users/{user_id}"},
             {"service": "image", "method": "GET", "path": "/v2/images"}]
    created = cloud.openstack("application", "credential", "create", "--access-rules", json.dumps(rules), "ruled", "-f", "json",
                              env=member_env)
    assert sorted((r["service"], r["path"]) for r in created["Access Rules"]) == [("identity", "/v3/users/{user_id}"), ("image", "/v2/images")]
    app_env = {k: v for k, v in cloud.env().items() if not k.startswith("OS_") or k in ("OS_AUTH_URL", "OS_IDENTITY_API_VERSION", "OS_INTERFACE")}
    app_env.update({"OS_AUTH_TYPE": "v3applicationcredential", "OS_APPLICATION_CREDENTIAL_ID": created["ID"],
                    "OS_APPLICATION_CREDENTIAL_SECRET": created["Secret"]})
    shown = cloud.openstack("user", "show", people["outsider"], "-f", "json", env=app_env)
    assert shown["name"] == "deleg-outsider"
    refused = cloud.openstack("project", "list", env=app_env, check=False)
    assert refused.returncode != 0 and "401" in refused.stderr, refused.stderr
    token, body = app_cred_token(api, created["ID"], created["Secret"])
    assert sorted(r["path"] for r in body["application_credential"]["access_rules"]) == ["/v2/images", "/v3/users/{user_id}"]
    # Image enforces the same rules: its list is allowed, nothing else
    image = cloud.url("image").rstrip("/")
    assert api.requests.get(image + "/v2/images", headers={"X-Auth-Token": token}).status_code == 200
    r = api.requests.get(image + "/v2/schemas/image", headers={"X-Auth-Token": token})
    assert r.status_code == 401, r.text
    assert api.requests.post(image + "/v2/images", headers={"X-Auth-Token": token}, json={"name": "x"}).status_code == 401


def test_access_rules_validation_and_service_tokens(cloud, api, admin, people):
    uid = people["outsider"]
    cred = ok(api.call("POST", f"/v3/users/{uid}/application_credentials", people["outsider_token"], json={"application_credential": {
        "name": "ruled-api", "access_rules": [{"service": "identity", "method": "GET", "path": "/v3/users/*"}]}}), 201)["application_credential"]
    token, _ = app_cred_token(api, cred["id"], cred["secret"])
    # a validator that does not say it enforces access rules may not validate the token
    r = api.call("GET", "/v3/auth/tokens", admin, headers={"X-Subject-Token": token})
    assert r.status_code == 404 and r.json()["error"]["message"] == "Failed to validate token"
    r = api.call("GET", "/v3/auth/tokens", admin, headers={"X-Subject-Token": token, "OpenStack-Identity-Access-Rules": "1"})
    assert r.status_code == 200 and r.json()["token"]["application_credential"]["access_rules"][0]["path"] == "/v3/users/*"
    # the token may validate itself (GET), nothing else outside its rules
    assert api.call("GET", "/v3/auth/tokens", token, headers={"X-Subject-Token": token, "OpenStack-Identity-Access-Rules": "1"}).status_code == 200
    assert api.call("GET", f"/v3/users/{uid}", token).status_code == 200
    assert api.call("GET", f"/v3/users/{uid}/application_credentials", token).status_code == 401
    assert api.call("GET", "/v3/projects", token).status_code == 401
    # a valid service token (service role) lifts the rules; any other token does not
    roles = people["roles"]
    svc = ok(api.call("POST", "/v3/users", admin, json={"user": {"name": "deleg-svc", "password": "svc-pw"}}), 201)["user"]["id"]
    service_project = ok(api.call("GET", "/v3/projects?name=service", admin))["projects"][0]["id"]
    service_role = ok(api.call("GET", "/v3/roles?name=service", admin))["roles"]
    service_role = service_role[0]["id"] if service_role else ok(api.call("POST", "/v3/roles", admin, json={"role": {"name": "service"}}), 201)["role"]["id"]
    assert api.call("PUT", f"/v3/projects/{service_project}/users/{svc}/roles/{service_role}", admin).status_code == 204
    svc_token = password_token(api, svc, "svc-pw", {"project": {"id": service_project}}).headers["X-Subject-Token"]
    assert api.call("GET", f"/v3/users/{uid}/application_credentials", token, headers={"X-Service-Token": svc_token}).status_code == 200
    assert api.call("GET", f"/v3/users/{uid}/application_credentials", token, headers={"X-Service-Token": "garbage"}).status_code == 401
    assert api.call("GET", f"/v3/users/{uid}/application_credentials", token,
                    headers={"X-Service-Token": people["trustor_token"]}).status_code == 401, "a token without the service role"
    assert roles["member"]


def test_access_rule_api_and_sharing(api, admin, people):
    uid, mine = people["outsider"], people["outsider_token"]
    rule = {"service": "compute", "method": "GET", "path": "/v2.1/servers"}
    a = ok(api.call("POST", f"/v3/users/{uid}/application_credentials", mine,
                    json={"application_credential": {"name": "share-a", "access_rules": [rule]}}), 201)["application_credential"]
    b = ok(api.call("POST", f"/v3/users/{uid}/application_credentials", mine,
                    json={"application_credential": {"name": "share-b", "access_rules": [rule]}}), 201)["application_credential"]
    assert a["access_rules"][0]["id"] == b["access_rules"][0]["id"], "the same rule of one user is one rule"
    rid = a["access_rules"][0]["id"]
    assert set(a["access_rules"][0]) == {"id", "service", "path", "method"}
    # by id: the user's own rule is reused; another user's id is not found
    c = ok(api.call("POST", f"/v3/users/{uid}/application_credentials", mine,
                    json={"application_credential": {"name": "share-c", "access_rules": [{"id": rid}]}}), 201)["application_credential"]
    assert c["access_rules"] == a["access_rules"]
    trustor = people["trustor"]
    r = api.call("POST", f"/v3/users/{trustor}/application_credentials", people["trustor_token"],
                 json={"application_credential": {"name": "steal", "access_rules": [{"id": rid}]}})
    assert r.status_code == 404 and r.json()["error"]["message"] == f"Could not find Access Rule: {rid}."
    assert ok(api.call("GET", f"/v3/users/{trustor}/application_credentials", admin))["application_credentials"] == [], "nothing half-written"
    listed = ok(api.call("GET", f"/v3/users/{uid}/access_rules?service=compute", mine))["access_rules"]
    assert [x["id"] for x in listed] == [rid] and listed[0]["links"]["self"].endswith("/v3/access_rules/" + rid)
    assert ok(api.call("GET", f"/v3/users/{uid}/access_rules/{rid}", mine))["access_rule"]["path"] == "/v2.1/servers"
    # another user sees none of it
    for method, path in (("GET", f"/v3/users/{uid}/access_rules"), ("GET", f"/v3/users/{uid}/access_rules/{rid}"),
                         ("DELETE", f"/v3/users/{uid}/access_rules/{rid}")):
        r = api.call(method, path, people["trustor_token"])
        assert r.status_code == 403 and "/v2.1/servers" not in r.text, r.text
    # in use: not deleted; after its credentials go: deleted
    r = api.call("DELETE", f"/v3/users/{uid}/access_rules/{rid}", mine)
    assert r.status_code == 403 and r.json()["error"]["message"] == "May not delete access rule in use"
    for cred in (a, b, c):
        assert api.call("DELETE", f"/v3/users/{uid}/application_credentials/{cred['id']}", mine).status_code == 204
    assert api.call("DELETE", f"/v3/users/{uid}/access_rules/{rid}", mine).status_code == 204
    r = api.call("GET", f"/v3/users/{uid}/access_rules/{rid}", mine)
    assert r.status_code == 404 and r.json()["error"]["message"] == f"Could not find Access Rule: {rid}."
    # bad rules name the field and write nothing
    for bad, field in (({"service": "compute", "method": "get", "path": "/x"}, "method"),
                       ({"service": "comp_ute", "method": "GET", "path": "/x"}, "service"),
                       ({"service": "compute", "method": "GET", "path": "x"}, "path"),
                       ({"service": "compute", "method": "GET"}, "path")):
        r = api.call("POST", f"/v3/users/{uid}/application_credentials", mine,
                     json={"application_credential": {"name": "bad-rule", "access_rules": [bad]}})
        assert r.status_code == 400 and field in r.json()["error"]["message"], r.text
    assert [x["name"] for x in ok(api.call("GET", f"/v3/users/{uid}/application_credentials?name=bad-rule", mine))["application_credentials"]] == []
    # an application credential's token may not touch trusts at all
    plain = ok(api.call("POST", f"/v3/users/{uid}/application_credentials", mine,
                        json={"application_credential": {"name": "no-trusts", "unrestricted": True}}), 201)["application_credential"]
    token, _ = app_cred_token(api, plain["id"], plain["secret"])
    r = api.call("GET", f"/v3/OS-TRUST/trusts?trustor_user_id={uid}", token)
    assert r.status_code == 403 and "Delegated tokens cannot manage trusts" in r.json()["error"]["message"]
