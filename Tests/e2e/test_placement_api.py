"""Placement's API over raw HTTP: authentication (noauth2 and Keystone), policy, error bodies
and codes, microversion negotiation.

Most of it runs against a `stratus placement-api` of its own with `[api] auth_strategy =
noauth2` on SQLite (no Keystone: the token is `user[:project]`, roles come from `X-Roles`),
as placement's functional tests do; the Keystone part uses the all-in-one cloud (SQLite only:
none of this depends on the database). Expected texts are placement 16's (docs/placement-spec.md).
"""
import os
import random
import re
import shutil
import tempfile
import uuid

import pytest
import requests

from framework.cloud import API, STRATUS, Process, clean_env, port_free, run

LATEST = "1.39"
on_sqlite_cloud = pytest.mark.parametrize("cloud", ["sqlite"], indirect=True)


def free_port():
    for _ in range(200):
        port = random.randrange(10000, 32000)
        if port_free(port):
            return port
    raise RuntimeError("no free port")


class Placement:
    """Requests to one placement endpoint; `token` None sends no X-Auth-Token."""

    def __init__(self, base, token="admin"):
        self.base = base.rstrip("/")
        self.token = token
        self.session = requests.Session()

    def call(self, method, path, mv=LATEST, body=None, token="default", headers=None, **kw):
        h = {"Accept": "application/json"}
        if mv is not None:
            h["OpenStack-API-Version"] = f"placement {mv}"
        token = self.token if token == "default" else token
        if token is not None:
            h["X-Auth-Token"] = token
        h.update(headers or {})
        return self.session.request(method, self.base + path, json=body, headers=h, timeout=60, **kw)

    def ok(self, method, path, mv=LATEST, body=None, status=(200, 201, 204), **kw):
        r = self.call(method, path, mv, body, **kw)
        assert r.status_code in (status if isinstance(status, tuple) else (status,)), (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    def provider(self, name=None, parent=None, inventory=None):
        u = str(uuid.uuid4())
        body = {"name": name or "rp-" + u[:8], "uuid": u}
        if parent:
            body["parent_provider_uuid"] = parent
        self.ok("POST", "/resource_providers", body=body)
        if inventory:
            self.ok("PUT", f"/resource_providers/{u}/inventories",
                    body={"resource_provider_generation": 0, "inventories": inventory})
        return u

    def allocate(self, consumer, rp, resources, project="proj1", user="user1"):
        self.ok("PUT", f"/allocations/{consumer}", body={
            "allocations": {rp: {"resources": resources}}, "consumer_generation": None,
            "project_id": project, "user_id": user, "consumer_type": "INSTANCE"}, status=204)


def error(r):
    """The one error of a placement error body."""
    body = r.json()
    assert list(body) == ["errors"] and len(body["errors"]) == 1, body
    return body["errors"][0]


def message(r):
    """The {message} part of an error's detail ("{explanation}\\n\\n {message}  ")."""
    detail = error(r)["detail"]
    return detail.split("\n\n", 1)[1].strip() if "\n\n" in detail else detail


REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def noauth():
    """`stratus placement-api` with auth_strategy = noauth2 on a fresh SQLite database."""
    d = tempfile.mkdtemp(prefix="stratus-placement-noauth-")
    conf = os.path.join(d, "placement.conf")
    with open(conf, "w") as f:
        f.write(f"[placement_database]\nconnection = sqlite:///{d}/placement.db\n\n[api]\nauth_strategy = noauth2\n")
    run([STRATUS, "placement-manage", "--config-file", conf, "db", "sync"], env=clean_env())
    port = free_port()
    daemon = Process([STRATUS, "placement-api", "--config-file", conf, "--bind", f"127.0.0.1:{port}"], env=clean_env())
    try:
        daemon.wait_for("listening")
        yield Placement(f"http://127.0.0.1:{port}")
    finally:
        daemon.stop()
        shutil.rmtree(d, ignore_errors=True)


# --- noauth2: who the caller is -------------------------------------------------------------

def test_root_needs_no_token(noauth):
    r = noauth.call("GET", "/", mv=None, token=None)
    assert r.status_code == 200
    assert r.json() == {"versions": [{"id": "v1.0", "max_version": "1.39", "min_version": "1.0", "status": "CURRENT",
                                      "links": [{"rel": "self", "href": ""}]}]}
    assert r.headers["OpenStack-API-Version"] == "placement 1.0"
    assert REQUEST_ID.match(r.headers["x-openstack-request-id"])
    r = noauth.call("GET", "/", mv="latest", token=None)
    assert r.status_code == 200 and r.headers["OpenStack-API-Version"] == "placement 1.39"


def test_token_required(noauth):
    for method, path in [("GET", "/resource_providers"), ("GET", "/traits"), ("POST", "/resource_providers"),
                         ("GET", "/resource_classes"), ("GET", f"/allocations/{uuid.uuid4()}")]:
        r = noauth.call(method, path, token=None, body={"name": "x"} if method == "POST" else None)
        assert r.status_code == 401, (method, path, r.status_code)
        assert REQUEST_ID.match(r.headers["x-openstack-request-id"])
    assert noauth.call("GET", "/resource_providers", token="").status_code == 401


def test_noauth_401_is_webobs(noauth):
    """noauth2's 401 is WebOb's HTTPUnauthorized, raised before placement's error formatting and
    microversion handling: WebOb's JSON body and no version header."""
    r = noauth.call("GET", "/resource_providers", token=None)
    assert r.status_code == 401
    assert r.json() == {
        "message": "This server could not verify that you are authorized to access the document you requested. "
                   "Either you supplied the wrong credentials (e.g., bad password), or your browser does not "
                   "understand how to supply the credentials required.<br /><br />\n\n\n",
        "code": "401 Unauthorized", "title": "Unauthorized"}
    assert "OpenStack-API-Version" not in r.headers


def test_admin_token_is_admin(noauth):
    r = noauth.call("GET", "/resource_providers")
    assert r.status_code == 200 and "resource_providers" in r.json()
    made = noauth.ok("POST", "/resource_providers", body={"name": "made-by-admin"})
    assert made["name"] == "made-by-admin" and made["generation"] == 0


def test_user_without_roles_is_forbidden(noauth):
    rp = noauth.provider()
    for method, path, body, rule in [
        ("GET", "/resource_providers", None, "placement:resource_providers:list"),
        ("POST", "/resource_providers", {"name": "nope"}, "placement:resource_providers:create"),
        ("GET", f"/resource_providers/{rp}", None, "placement:resource_providers:show"),
        ("DELETE", f"/resource_providers/{rp}", None, "placement:resource_providers:delete"),
        ("GET", f"/resource_providers/{rp}/inventories", None, "placement:resource_providers:inventories:list"),
        ("GET", "/traits", None, "placement:traits:list"),
        ("GET", "/resource_classes", None, "placement:resource_classes:list"),
        ("GET", "/allocation_candidates?resources=VCPU:1", None, "placement:allocation_candidates:list"),
        ("GET", f"/allocations/{uuid.uuid4()}", None, "placement:allocations:list"),
        ("GET", "/usages?project_id=proj1", None, "placement:usages"),
    ]:
        r = noauth.call(method, path, body=body, token="user1:proj1")
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        e = error(r)
        assert (e["status"], e["title"]) == (403, "Forbidden")
        assert message(r) == f"Policy does not allow {rule} to be performed.", (method, path, e)
        assert REQUEST_ID.match(e["request_id"])
    assert noauth.call("GET", f"/resource_providers/{rp}").status_code == 200, "nothing was deleted"


def test_roles_header(noauth):
    list_rps = "/resource_providers"
    assert noauth.call("GET", list_rps, token="user1:proj1", headers={"X-Roles": "admin"}).status_code == 200
    assert noauth.call("GET", list_rps, token="user1:proj1", headers={"X-Roles": "service"}).status_code == 200
    assert noauth.call("GET", list_rps, token="user1:proj1", headers={"X-Roles": "member,reader"}).status_code == 403
    assert noauth.call("GET", list_rps, token="user1:proj1", headers={"X-Roles": "reader,admin"}).status_code == 200
    # X-Roles replaces the `admin` user's default role
    assert noauth.call("GET", list_rps, token="admin", headers={"X-Roles": "reader"}).status_code == 403


def test_project_reader_sees_its_projects_usages(noauth):
    """placement:usages is admin, service, or reader of the project asked about; the project is
    the token's part after ':' unless X-Project-Id says otherwise."""
    rp = noauth.provider(inventory={"VCPU": {"total": 8}})
    noauth.allocate(str(uuid.uuid4()), rp, {"VCPU": 3}, project="projA", user="userA")
    reader = {"X-Roles": "reader"}
    r = noauth.call("GET", "/usages?project_id=projA", mv="1.9", token="userA:projA", headers=reader)
    assert r.status_code == 200 and r.json() == {"usages": {"VCPU": 3}}, r.text
    r = noauth.call("GET", "/usages?project_id=projA", token="userA:projA", headers=reader)
    assert r.json() == {"usages": {"INSTANCE": {"VCPU": 3, "consumer_count": 1}}}
    r = noauth.call("GET", "/usages?project_id=projB", token="userA:projA", headers=reader)
    assert r.status_code == 403 and message(r) == "Policy does not allow placement:usages to be performed."
    # the user alone is the project when the token has no ':'
    assert noauth.call("GET", "/usages?project_id=projA", token="projA", headers=reader).status_code == 200
    # X-Project-Id moves the caller to another project
    moved = dict(reader, **{"X-Project-Id": "projB"})
    assert noauth.call("GET", "/usages?project_id=projB", token="userA:projA", headers=moved).status_code == 200
    assert noauth.call("GET", "/usages?project_id=projA", token="userA:projA", headers=moved).status_code == 403
    # a reader is still no admin
    assert noauth.call("GET", f"/resource_providers/{rp}/usages", token="userA:projA", headers=reader).status_code == 403
    assert noauth.call("GET", "/usages", token="admin").status_code == 400


def test_usages_policy_before_validation(noauth):
    """GET /usages checks the policy (target: the query's project_id) before the query: a caller
    the rule refuses gets 403 even without project_id."""
    r = noauth.call("GET", "/usages", token="userA:projA", headers={"X-Roles": "member"})
    assert r.status_code == 403, r.text
    assert message(r) == "Policy does not allow placement:usages to be performed."


def test_system_scoped_admin_is_forbidden(noauth):
    """Every placement rule is project-scoped: a system-scoped token fails all of them."""
    for path in ("/resource_providers", "/traits", "/resource_classes", "/usages?project_id=admin"):
        r = noauth.call("GET", path, headers={"OpenStack-System-Scope": "all"})
        assert r.status_code == 403, (path, r.status_code, r.text)
    assert noauth.call("GET", "/", headers={"OpenStack-System-Scope": "all"}).status_code == 200


def test_scope_failure_names_the_rule(noauth):
    """The 403 of a token of the wrong scope says only the rule's name (placement raises
    PolicyNotAuthorized(action) for oslo.policy's InvalidScope)."""
    r = noauth.call("GET", "/resource_providers", headers={"OpenStack-System-Scope": "all"})
    assert r.status_code == 403
    assert message(r) == "placement:resource_providers:list", error(r)["detail"]


def test_reshaper_is_for_the_service_role_only(noauth):
    rp = noauth.provider()
    body = {"inventories": {rp: {"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 2}}}}, "allocations": {}}
    r = noauth.call("POST", "/reshaper", body=body)
    assert r.status_code == 403 and message(r) == "Policy does not allow placement:reshaper:reshape to be performed."
    r = noauth.call("POST", "/reshaper", body=body, token="nova:service", headers={"X-Roles": "service"})
    assert r.status_code == 204, r.text
    assert noauth.ok("GET", f"/resource_providers/{rp}/inventories")["inventories"]["VCPU"]["total"] == 2


def test_reshaper_unknown_provider_is_400(noauth):
    missing = str(uuid.uuid4())
    r = noauth.call("POST", "/reshaper", token="nova:service", headers={"X-Roles": "service"}, body={
        "inventories": {missing: {"resource_provider_generation": 0, "inventories": {}}}, "allocations": {}})
    assert r.status_code == 400
    assert error(r)["code"] == "placement.resource_provider.not_found"
    assert message(r) == f"Resource provider {missing} in inventories not found: No resource provider with uuid {missing} found"


# --- error bodies and codes ------------------------------------------------------------------

def test_not_found_code_from_1_23(noauth):
    missing = str(uuid.uuid4())
    r = noauth.call("GET", f"/resource_providers/{missing}", mv="1.23")
    assert r.status_code == 404
    e = error(r)
    assert (e["status"], e["title"], e["code"]) == (404, "Not Found", "placement.undefined_code")
    assert e["detail"] == f"The resource could not be found.\n\n No resource provider with uuid {missing} found  "
    assert REQUEST_ID.match(e["request_id"]) and e["request_id"] == r.headers["x-openstack-request-id"]
    r = noauth.call("GET", f"/resource_providers/{missing}", mv="1.22")
    assert r.status_code == 404 and "code" not in error(r)
    assert message(r) == f"No resource provider with uuid {missing} found"
    assert "code" not in error(noauth.call("GET", f"/resource_providers/{missing}", mv=None))
    assert r.headers["Content-Type"].startswith("application/json")


def test_duplicate_name(noauth):
    name = "dup-" + uuid.uuid4().hex[:6]
    noauth.provider(name=name)
    r = noauth.call("POST", "/resource_providers", body={"name": name})
    assert r.status_code == 409
    assert (error(r)["code"], error(r)["title"]) == ("placement.duplicate_name", "Conflict")
    assert message(r) == f"Conflicting resource provider name: {name} already exists."
    r = noauth.call("POST", "/resource_providers", body={"name": name}, mv="1.22")
    assert r.status_code == 409 and "code" not in error(r)
    other = noauth.provider()
    r = noauth.call("PUT", f"/resource_providers/{other}", body={"name": name})
    assert r.status_code == 409 and error(r)["code"] == "placement.duplicate_name"


def test_duplicate_name_on_rename_message(noauth):
    """PUT's duplicate message has no 'name:' (ResourceProvider.save's text, not create's)."""
    name = "dup-" + uuid.uuid4().hex[:6]
    noauth.provider(name=name)
    other = noauth.provider()
    r = noauth.call("PUT", f"/resource_providers/{other}", body={"name": name})
    assert r.status_code == 409
    assert message(r) == f"Conflicting resource provider {name} already exists."


def test_stale_generations(noauth):
    rp = noauth.provider(inventory={"VCPU": {"total": 4}})
    r = noauth.call("PUT", f"/resource_providers/{rp}/inventories",
                    body={"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 8}}})
    assert r.status_code == 409 and error(r)["code"] == "placement.concurrent_update"
    assert message(r).startswith("resource provider generation conflict")
    r = noauth.call("PUT", f"/resource_providers/{rp}/inventories/VCPU", body={"resource_provider_generation": 7, "total": 8})
    assert r.status_code == 409 and error(r)["code"] == "placement.concurrent_update"
    r = noauth.call("PUT", f"/resource_providers/{rp}/traits", body={"resource_provider_generation": 0, "traits": []})
    assert r.status_code == 409 and error(r)["code"] == "placement.concurrent_update"
    assert message(r) == "Resource provider's generation already changed. Please update the generation and try again."
    r = noauth.call("PUT", f"/resource_providers/{rp}/aggregates", body={"resource_provider_generation": 0, "aggregates": []})
    assert r.status_code == 409 and error(r)["code"] == "placement.concurrent_update"
    consumer = str(uuid.uuid4())
    body = {"allocations": {rp: {"resources": {"VCPU": 1}}}, "consumer_generation": 5, "project_id": "p",
            "user_id": "u", "consumer_type": "INSTANCE"}
    r = noauth.call("PUT", f"/allocations/{consumer}", body=body)
    assert r.status_code == 409 and error(r)["code"] == "placement.concurrent_update"
    assert message(r) == "consumer generation conflict - expected null but got 5"
    noauth.ok("PUT", f"/allocations/{consumer}", body=dict(body, consumer_generation=None), status=204)
    r = noauth.call("PUT", f"/allocations/{consumer}", body=dict(body, consumer_generation=None))
    assert r.status_code == 409 and message(r) == "consumer generation conflict - expected 1 but got None"
    assert noauth.ok("GET", f"/allocations/{consumer}")["consumer_generation"] == 1


def test_delete_parent(noauth):
    parent = noauth.provider()
    child = noauth.provider(parent=parent)
    r = noauth.call("DELETE", f"/resource_providers/{parent}")
    assert r.status_code == 409, r.text
    assert error(r)["code"] == "placement.resource_provider.cannot_delete_parent", error(r)
    assert message(r) == f"Unable to delete parent resource provider {parent}: It has child resource providers."
    noauth.ok("DELETE", f"/resource_providers/{child}", status=204)
    noauth.ok("DELETE", f"/resource_providers/{parent}", status=204)


def test_delete_provider_with_allocations(noauth):
    rp = noauth.provider(inventory={"VCPU": {"total": 4}})
    consumer = str(uuid.uuid4())
    noauth.allocate(consumer, rp, {"VCPU": 1})
    r = noauth.call("DELETE", f"/resource_providers/{rp}")
    assert r.status_code == 409 and error(r)["code"] == "placement.resource_provider.inuse"
    assert message(r) == f"Unable to delete resource provider {rp}: Resource provider has allocations."
    r = noauth.call("DELETE", f"/resource_providers/{rp}", mv="1.22")
    assert r.status_code == 409 and "code" not in error(r)
    noauth.ok("DELETE", f"/allocations/{consumer}", status=204)
    noauth.ok("DELETE", f"/resource_providers/{rp}", status=204)
    r = noauth.call("DELETE", f"/resource_providers/{rp}")
    assert r.status_code == 404 and message(r) == f"No resource provider with uuid {rp} found for delete"


def test_delete_parent_with_allocations_checks_children_first(noauth):
    """placement's ResourceProvider._delete looks for children before allocations."""
    parent = noauth.provider(inventory={"VCPU": {"total": 4}})
    noauth.provider(parent=parent)
    noauth.allocate(str(uuid.uuid4()), parent, {"VCPU": 1})
    r = noauth.call("DELETE", f"/resource_providers/{parent}")
    assert r.status_code == 409
    assert error(r)["code"] == "placement.resource_provider.cannot_delete_parent", error(r)


def test_inventory_in_use(noauth):
    rp = noauth.provider(inventory={"VCPU": {"total": 4}, "MEMORY_MB": {"total": 1024}})
    noauth.allocate(str(uuid.uuid4()), rp, {"VCPU": 2})
    r = noauth.call("PUT", f"/resource_providers/{rp}/inventories",
                    body={"resource_provider_generation": 2, "inventories": {"MEMORY_MB": {"total": 1024}}})
    assert r.status_code == 409, r.text
    assert error(r)["code"] == "placement.inventory.inuse"
    r = noauth.call("DELETE", f"/resource_providers/{rp}/inventories")
    assert r.status_code == 409 and error(r)["code"] == "placement.inventory.inuse"
    assert message(r) == f"Inventory for 'VCPU' on resource provider '{rp}' in use."
    assert noauth.call("DELETE", f"/resource_providers/{rp}/inventories/VCPU").status_code == 409
    # lowering the total below the usage is allowed; the capacity check is for new allocations
    noauth.ok("PUT", f"/resource_providers/{rp}/inventories/VCPU", body={"resource_provider_generation": 2, "total": 1})
    assert noauth.ok("GET", f"/resource_providers/{rp}/usages")["usages"] == {"VCPU": 2, "MEMORY_MB": 0}


def test_delete_inventory_in_use_body(noauth):
    """DELETE …/inventories/{rc} in use: placement's handler says 'Unable to delete inventory of
    class {rc}: …' and tags it placement.concurrent_update (sic)."""
    rp = noauth.provider(inventory={"VCPU": {"total": 4}})
    noauth.allocate(str(uuid.uuid4()), rp, {"VCPU": 2})
    r = noauth.call("DELETE", f"/resource_providers/{rp}/inventories/VCPU")
    assert r.status_code == 409
    assert message(r) == f"Unable to delete inventory of class VCPU: Inventory for 'VCPU' on resource provider '{rp}' in use."
    assert error(r)["code"] == "placement.concurrent_update", error(r)


def test_inventory_replaced_in_use_message(noauth):
    """PUT …/inventories removing an allocated class: 'update conflict: ' + the InventoryInUse text."""
    rp = noauth.provider(inventory={"VCPU": {"total": 4}, "MEMORY_MB": {"total": 1024}})
    noauth.allocate(str(uuid.uuid4()), rp, {"VCPU": 2})
    r = noauth.call("PUT", f"/resource_providers/{rp}/inventories",
                    body={"resource_provider_generation": 2, "inventories": {"MEMORY_MB": {"total": 1024}}})
    assert r.status_code == 409
    assert message(r) == f"update conflict: Inventory for 'VCPU' on resource provider '{rp}' in use."


def test_provider_allocations_show_consumer_generation(noauth):
    """GET /resource_providers/{u}/allocations shows each consumer's generation from 1.28."""
    rp = noauth.provider(inventory={"VCPU": {"total": 4}})
    consumer = str(uuid.uuid4())
    noauth.allocate(consumer, rp, {"VCPU": 1})
    got = noauth.ok("GET", f"/resource_providers/{rp}/allocations", mv="1.27")
    assert got == {"allocations": {consumer: {"resources": {"VCPU": 1}}}, "resource_provider_generation": 2}
    got = noauth.ok("GET", f"/resource_providers/{rp}/allocations", mv="1.28")
    assert got == {"allocations": {consumer: {"resources": {"VCPU": 1}, "consumer_generation": 1}},
                   "resource_provider_generation": 2}


def test_capacity_and_constraint_conflicts(noauth):
    rp = noauth.provider(inventory={"VCPU": {"total": 4, "max_unit": 2}})
    r = noauth.call("PUT", f"/allocations/{uuid.uuid4()}", body={
        "allocations": {rp: {"resources": {"VCPU": 3}}}, "consumer_generation": None, "project_id": "p",
        "user_id": "u", "consumer_type": "INSTANCE"})
    assert r.status_code == 409 and error(r)["code"] == "placement.undefined_code"
    assert message(r) == (f"Unable to allocate inventory: Unable to create allocation for 'VCPU' on resource provider "
                          f"'{rp}'. The requested amount would violate inventory constraints.")
    for _ in range(2):
        noauth.allocate(str(uuid.uuid4()), rp, {"VCPU": 2})
    r = noauth.call("PUT", f"/allocations/{uuid.uuid4()}", body={
        "allocations": {rp: {"resources": {"VCPU": 1}}}, "consumer_generation": None, "project_id": "p",
        "user_id": "u", "consumer_type": "INSTANCE"})
    assert r.status_code == 409
    assert message(r) == (f"Unable to allocate inventory: Unable to create allocation for 'VCPU' on resource provider "
                          f"'{rp}'. The requested amount would exceed the capacity.")


def test_query_error_codes(noauth):
    r = noauth.call("GET", "/allocation_candidates?resources=VCPU:1&root_required=HW_CPU_X86_AVX&root_required=HW_CPU_X86_AVX2")
    assert r.status_code == 400 and error(r)["code"] == "placement.query.duplicate_key"
    assert message(r) == "Query parameter 'root_required' may be specified only once."
    r = noauth.call("GET", "/allocation_candidates?resources=VCPU:1&root_required=HW_CPU_X86_AVX,!HW_CPU_X86_AVX")
    assert r.status_code == 400 and error(r)["code"] == "placement.query.bad_value"
    r = noauth.call("GET", "/allocation_candidates?required_A=HW_CPU_X86_AVX&same_subtree=_A")
    assert r.status_code == 400 and error(r)["code"] == "placement.query.missing_value"
    assert message(r) == "There must be at least one resources or resources[$S] parameter."


# --- microversions and routing ---------------------------------------------------------------

def test_microversion_out_of_range(noauth):
    r = noauth.call("GET", "/resource_providers", mv="1.40")
    assert r.status_code == 406
    assert error(r)["status"] == 406 and error(r)["title"] == "Not Acceptable"
    assert "OpenStack-API-Version" not in r.headers
    assert noauth.call("GET", "/", mv="1.40", token=None).status_code == 406
    assert noauth.call("GET", "/resource_providers", mv="2.0").status_code == 406
    r = noauth.call("GET", "/resource_providers", mv="abc")
    assert r.status_code == 400
    # the tail is a Python exception's text upstream; the prefix is the contract
    assert message(r).startswith("Invalid microversion: ") and "abc" in message(r)


def test_microversion_406_body_tells_the_range(noauth):
    """osc-placement's negotiation reads errors[0].max_version of a 406 to fall back."""
    r = noauth.call("GET", "/resource_providers", mv="1.40")
    e = error(r)
    assert (e["max_version"], e["min_version"]) == ("1.39", "1.0"), e
    assert "code" not in e
    assert e["detail"] == ("The resource could not be generated that was acceptable to your browser (content of type "
                           "application/json. \n\n Invalid microversion: Unacceptable version header: 1.40")


def test_microversion_negotiation(noauth):
    r = noauth.call("GET", "/resource_providers", mv="latest")
    assert r.status_code == 200 and r.headers["OpenStack-API-Version"] == "placement 1.39"
    assert "OpenStack-API-Version" in r.headers.get("Vary", "") or "openstack-api-version" in r.headers.get("Vary", "").lower()
    r = noauth.call("GET", "/resource_providers", mv=None)
    assert r.status_code == 200 and r.headers["OpenStack-API-Version"] == "placement 1.0"
    r = noauth.call("GET", "/resource_providers", headers={"OpenStack-API-Version": "compute 2.1, placement 1.14"}, mv=None)
    assert r.headers["OpenStack-API-Version"] == "placement 1.14"
    assert "root_provider_uuid" in (r.json()["resource_providers"] or [{"root_provider_uuid": None}])[0]
    # a route answers 404 below its microversion
    r = noauth.call("GET", "/traits", mv="1.5")
    assert r.status_code == 404
    assert noauth.call("GET", "/traits", mv="1.6").status_code == 200
    assert noauth.call("GET", "/allocation_candidates?resources=VCPU:1", mv="1.9").status_code == 404
    assert noauth.call("POST", "/reshaper", mv="1.29", body={}).status_code == 404


def test_method_not_allowed(noauth):
    r = noauth.call("DELETE", "/resource_providers")
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, POST"
    assert message(r) == "The method specified is not allowed for this resource."
    r = noauth.call("PATCH", f"/resource_providers/{uuid.uuid4()}")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, DELETE, PUT"


# --- Keystone: the all-in-one cloud --------------------------------------------------------------

@pytest.fixture(scope="module")
def keystone_placement(cloud):
    """The cloud's placement, the admin's token, and a `member` of another project."""
    api = API(cloud)
    admin_token, _ = api.issue("admin", cloud.password, project="admin")
    project = api.call("POST", "/v3/projects", admin_token, json={"project": {"name": "placement-tenant", "domain_id": "default"}}).json()["project"]
    user = api.call("POST", "/v3/users", admin_token, json={"user": {"name": "placement-member", "domain_id": "default",
                                                                       "password": "member-secret"}}).json()["user"]
    member = next(r for r in api.call("GET", "/v3/roles?name=member", admin_token).json()["roles"])
    assert api.call("PUT", f"/v3/projects/{project['id']}/users/{user['id']}/roles/{member['id']}", admin_token).status_code == 204
    member_token, token = api.issue("placement-member", "member-secret", project="placement-tenant")
    assert sorted(r["name"] for r in token["roles"]) == ["member", "reader"]
    p = Placement(cloud.url("placement"), token=admin_token)
    p.member_token, p.project_id, p.admin_token = member_token, project["id"], admin_token
    p.api = api
    return p


@on_sqlite_cloud
def test_member_of_another_project_is_forbidden_everywhere(cloud, keystone_placement):
    p = keystone_placement
    rp = p.provider(inventory={"VCPU": {"total": 4}})
    consumer = str(uuid.uuid4())
    p.allocate(consumer, rp, {"VCPU": 1}, project=p.project_id)
    p.ok("PUT", "/traits/CUSTOM_KS_TRAIT", status=(201, 204))
    p.ok("POST", "/resource_classes", body={"name": "CUSTOM_KS_CLASS"}, status=201)
    alloc = {"allocations": {rp: {"resources": {"VCPU": 1}}}, "consumer_generation": None, "project_id": p.project_id,
             "user_id": "u", "consumer_type": "INSTANCE"}
    inv = {"total": 8, "resource_provider_generation": 2}
    routes = [
        ("GET", "/resource_classes", None), ("POST", "/resource_classes", {"name": "CUSTOM_KS_NEW"}),
        ("GET", "/resource_classes/CUSTOM_KS_CLASS", None), ("PUT", "/resource_classes/CUSTOM_KS_CLASS", None),
        ("DELETE", "/resource_classes/CUSTOM_KS_CLASS", None),
        ("GET", "/resource_providers", None), ("POST", "/resource_providers", {"name": "ks-new"}),
        ("GET", f"/resource_providers/{rp}", None), ("PUT", f"/resource_providers/{rp}", {"name": "ks-renamed"}),
        ("DELETE", f"/resource_providers/{rp}", None),
        ("GET", f"/resource_providers/{rp}/inventories", None),
        ("POST", f"/resource_providers/{rp}/inventories", {"resource_class": "DISK_GB", "total": 10}),
        ("PUT", f"/resource_providers/{rp}/inventories", {"resource_provider_generation": 2, "inventories": {}}),
        ("DELETE", f"/resource_providers/{rp}/inventories", None),
        ("GET", f"/resource_providers/{rp}/inventories/VCPU", None),
        ("PUT", f"/resource_providers/{rp}/inventories/VCPU", inv),
        ("DELETE", f"/resource_providers/{rp}/inventories/VCPU", None),
        ("GET", f"/resource_providers/{rp}/usages", None),
        ("GET", f"/resource_providers/{rp}/aggregates", None),
        ("PUT", f"/resource_providers/{rp}/aggregates", {"aggregates": [], "resource_provider_generation": 2}),
        ("GET", f"/resource_providers/{rp}/allocations", None),
        ("GET", f"/resource_providers/{rp}/traits", None),
        ("PUT", f"/resource_providers/{rp}/traits", {"traits": [], "resource_provider_generation": 2}),
        ("DELETE", f"/resource_providers/{rp}/traits", None),
        ("POST", "/allocations", {consumer: dict(alloc, consumer_generation=1)}),
        ("GET", f"/allocations/{consumer}", None), ("PUT", f"/allocations/{consumer}", alloc),
        ("DELETE", f"/allocations/{consumer}", None),
        ("GET", "/allocation_candidates?resources=VCPU:1", None),
        ("GET", "/traits", None), ("GET", "/traits/CUSTOM_KS_TRAIT", None), ("PUT", "/traits/CUSTOM_KS_TRAIT", None),
        ("DELETE", "/traits/CUSTOM_KS_TRAIT", None),
        ("GET", f"/usages?project_id={uuid.uuid4().hex}", None),
        ("POST", "/reshaper", {"inventories": {rp: {"resource_provider_generation": 2, "inventories": {}}}, "allocations": {}}),
    ]
    refused = []
    for method, path, body in routes:
        r = p.call(method, path, body=body, token=p.member_token)
        if r.status_code != 403 or error(r)["title"] != "Forbidden":
            refused.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
    assert not refused, "\n".join(refused)
    # nothing changed behind the 403s
    assert p.ok("GET", f"/resource_providers/{rp}")["name"] != "ks-renamed"
    assert p.ok("GET", f"/allocations/{consumer}")["allocations"][rp]["resources"] == {"VCPU": 1}
    assert p.call("GET", "/resource_classes/CUSTOM_KS_CLASS").status_code == 200
    # A member is a reader (keystone's implied roles): it may read its own project's usages.
    r = p.call("GET", f"/usages?project_id={p.project_id}", token=p.member_token)
    assert r.status_code == 200 and r.json() == {"usages": {"INSTANCE": {"VCPU": 1, "consumer_count": 1}}}
    assert p.call("GET", "/", token=p.member_token).status_code == 200


@on_sqlite_cloud
def test_keystone_tokens(cloud, keystone_placement):
    p = keystone_placement
    assert p.call("GET", "/resource_providers").status_code == 200
    assert p.call("GET", "/resource_providers", token="not-a-token").status_code == 401
    system_token, _ = p.api.issue("admin", cloud.password, system=True)
    r = p.call("GET", "/resource_providers", token=system_token)
    assert r.status_code == 403, r.text
    # the service user all-in-one registered (admin on project service) may do everything
    with open(os.path.join(cloud.data_dir, "placement-password")) as f:
        service_token, _ = p.api.issue("placement", f.read().strip(), project="service")
    assert p.call("GET", "/resource_providers", token=service_token).status_code == 200


@on_sqlite_cloud
def test_keystone_401_is_keystonemiddlewares(cloud, keystone_placement):
    """With auth_strategy = keystone, keystonemiddleware answers a missing/bad token: its own
    JSON body and a WWW-Authenticate header naming Keystone (what clients follow to get a token)."""
    p = keystone_placement
    r = p.call("GET", "/resource_providers", token=None)
    assert r.status_code == 401
    assert r.json() == {"error": {"code": 401, "title": "Unauthorized",
                                  "message": "The request you have made requires authentication."}}
    assert r.headers.get("WWW-Authenticate", "").startswith("Keystone uri="), dict(r.headers)
