"""The Image API (glance v2) of the all-in-one cloud, over raw HTTP with Keystone tokens.

What a user of glance notices: data in and out (large, streamed, ranged) with the hashes
glance computes, JSON-patch updates, visibility and sharing between projects, interoperable
import, protection, format inspection, list filters and paging, deactivation and the size
quotas. Several projects take part, each with a non-admin user holding `member` (which
Keystone's implied roles make a `reader` too). Expected answers are glance 33's
(docs/image-spec.md). SQLite only: none of this depends on the database.
"""
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
import requests

from framework.cloud import API, ROOT, Cloud

on_sqlite_cloud = pytest.mark.parametrize("cloud", ["sqlite"], indirect=True)

MIB = 1024 * 1024
PATCH = "application/openstack-images-v2.1-json-patch"
OCTET = "application/octet-stream"


class Glance:
    """Requests to the image endpoint with one user's token."""

    def __init__(self, base, token):
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"X-Auth-Token": token, "Accept": "application/json"})

    def call(self, method, path, **kw):
        return self.session.request(method, self.base + path, timeout=120, **kw)

    def create(self, status=201, **body):
        r = self.call("POST", "/v2/images", json=body)
        assert r.status_code == status, (body, r.status_code, r.text)
        return r.json() if status == 201 else r

    def get(self, image_id):
        r = self.call("GET", f"/v2/images/{image_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def upload(self, image_id, data, headers=None):
        h = {"Content-Type": OCTET}
        h.update(headers or {})
        return self.call("PUT", f"/v2/images/{image_id}/file", data=data, headers=h)

    def uploaded(self, data, **body):
        body.setdefault("disk_format", "raw")
        body.setdefault("container_format", "bare")
        image = self.create(**body)
        r = self.upload(image["id"], data)
        assert r.status_code == 204, r.text
        return self.get(image["id"])

    def patch(self, image_id, ops, content_type=PATCH):
        return self.call("PATCH", f"/v2/images/{image_id}", json=ops, headers={"Content-Type": content_type})

    def list(self, query=""):
        r = self.call("GET", "/v2/images" + query)
        assert r.status_code == 200, (query, r.text)
        return r.json()

    def ids(self, query=""):
        return [i["id"] for i in self.list(query)["images"]]

    def download(self, image_id, **kw):
        return self.call("GET", f"/v2/images/{image_id}/file", **kw)


class Project:
    def __init__(self, name, user, password, project_id, glance):
        self.name, self.user, self.password, self.id, self.glance = name, user, password, project_id, glance


def make_projects(cloud, names):
    """A project per name with a user holding `member` on it: {name: Project}."""
    api = API(cloud)
    admin_token, _ = api.issue("admin", cloud.password, project="admin")
    roles = {r["name"]: r["id"] for r in api.call("GET", "/v3/roles", admin_token).json()["roles"]}
    out = {}
    for name in names:
        pname, uname, password = f"img-{name}-{uuid.uuid4().hex[:6]}", f"img-{name}-{uuid.uuid4().hex[:6]}", "secret-" + name
        r = api.call("POST", "/v3/projects", admin_token, json={"project": {"name": pname, "domain_id": "default"}})
        assert r.status_code == 201, r.text
        pid = r.json()["project"]["id"]
        r = api.call("POST", "/v3/users", admin_token, json={"user": {"name": uname, "password": password, "domain_id": "default"}})
        assert r.status_code == 201, r.text
        uid = r.json()["user"]["id"]
        r = api.call("PUT", f"/v3/projects/{pid}/users/{uid}/roles/{roles['member']}", admin_token)
        assert r.status_code == 204, r.text
        token, body = api.issue(uname, password, project=pname)
        assert {"member", "reader"} <= {r["name"] for r in body["roles"]}
        assert "admin" not in {r["name"] for r in body["roles"]}
        out[name] = Project(pname, uname, password, pid, Glance(cloud.url("image"), token))
    return out


@pytest.fixture(scope="module")
def users(cloud):
    """Projects a, b, c (each with a member user) and the cloud admin."""
    p = make_projects(cloud, ["a", "b", "c", "lists"])
    token, _ = API(cloud).issue("admin", cloud.password, project="admin")
    p["admin"] = Project("admin", "admin", cloud.password, None, Glance(cloud.url("image"), token))
    return p


@pytest.fixture(scope="module")
def fixtures_dir():
    """The disk-image fixtures of scripts/image/format_fixtures.py."""
    d = tempfile.mkdtemp(prefix="stratus-image-fixtures-")
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "image", "format_fixtures.py"), d], check=True,
                   capture_output=True)
    yield d
    subprocess.run(["rm", "-rf", d])


def store_files(cloud, image_id=None):
    """Entries of the file store directory (those naming `image_id`, when given)."""
    names = os.listdir(os.path.join(cloud.data_dir, "images"))
    return [n for n in names if image_id is None or image_id in n]


def wait_status(glance, image_id, status, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        image = glance.get(image_id)
        if image["status"] == status:
            return image
        time.sleep(0.2)
    raise AssertionError(f"image {image_id} not {status} after {timeout}s: {image}")


class Messages:
    """glance's error texts, checked after the status codes: every difference is collected and
    reported at the end of the test, so that a wording difference does not hide the behaviour
    that follows it."""

    def __init__(self):
        self.missing = []

    def says(self, r, text):
        try:
            said = r.json().get("message", r.text)
        except ValueError:
            said = r.text
        if text not in said:
            self.missing.append(f"{r.request.method} {r.request.path_url} -> {r.status_code}: "
                                f"expected {text!r} in {r.text[:300]!r}")

    def done(self):
        assert not self.missing, "glance's messages differ:\n" + "\n".join(self.missing)


@pytest.fixture
def msgs():
    return Messages()


def digests(chunks):
    md5, sha = hashlib.md5(), hashlib.sha512()
    size = 0
    for c in chunks:
        md5.update(c)
        sha.update(c)
        size += len(c)
    return size, md5.hexdigest(), sha.hexdigest()


# --- authentication -----------------------------------------------------------------------------

@on_sqlite_cloud
def test_token_required(cloud, users):
    """Without a token (or with a bogus one) the API answers 401 and says where Keystone is."""
    base = cloud.url("image")
    for headers in ({}, {"X-Auth-Token": "bogus"}):
        r = requests.get(base + "/v2/images", headers=headers)
        assert r.status_code == 401, r.text
        challenge = r.headers.get("WWW-Authenticate", "")
        identity = cloud.auth_url.rsplit("/v3", 1)[0]
        assert challenge.startswith(f'Keystone uri="{identity}'), (challenge, identity)
    assert requests.get(base + "/").status_code == 300
    assert users["a"].glance.call("GET", "/v2/images").status_code == 200


# --- data -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big():
    data = os.urandom(64 * MIB)
    return data, hashlib.md5(data).hexdigest(), hashlib.sha512(data).hexdigest()


@on_sqlite_cloud
@pytest.mark.parametrize("mode", ["content-length", "chunked"])
def test_large_upload_and_download(cloud, users, big, mode):
    """64 MiB in (with Content-Length, or streamed chunked from a generator) and out again:
    the image records glance's md5 `checksum` and sha512 `os_hash_value` of the bytes."""
    data, md5, sha512 = big
    g = users["a"].glance
    image = g.create(name=f"big-{mode}", disk_format="raw", container_format="bare")
    assert image["status"] == "queued" and image["size"] is None
    if mode == "chunked":
        body = (data[i:i + MIB] for i in range(0, len(data), MIB))
    else:
        body = data
    r = g.upload(image["id"], body)
    assert r.status_code == 204, r.text
    got = g.get(image["id"])
    assert (got["status"], got["size"], got["virtual_size"]) == ("active", len(data), len(data))
    assert (got["checksum"], got["os_hash_algo"], got["os_hash_value"]) == (md5, "sha512", sha512)
    assert store_files(cloud, image["id"]) == [image["id"]]

    r = g.download(image["id"], stream=True)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == OCTET
    assert r.headers["Content-MD5"] == md5
    assert int(r.headers["Content-Length"]) == len(data)
    assert digests(r.iter_content(MIB)) == (len(data), md5, sha512)


@on_sqlite_cloud
def test_range_download(cloud, users, msgs):
    data = os.urandom(2048 + 7)
    g = users["a"].glance
    image = g.uploaded(data, name="ranged")
    size = len(data)
    r = g.download(image["id"], headers={"Range": "bytes=1000-1999"})
    assert r.status_code == 206, r.text
    assert r.headers["Content-Range"] == f"bytes 1000-1999/{size}"
    assert r.content == data[1000:2000] and r.headers["Content-Length"] == "1000"
    r = g.download(image["id"], headers={"Range": "bytes=-5"})
    assert (r.status_code, r.content, r.headers["Content-Range"]) == (206, data[-5:], f"bytes {size - 5}-{size - 1}/{size}")
    r = g.download(image["id"], headers={"Range": f"bytes=2000-{size + 5000}"})
    assert (r.status_code, r.content) == (206, data[2000:])
    r = g.download(image["id"], headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416, r.text
    msgs.says(r, f"Invalid start position in Range header. Start position MUST be in the inclusive range [0, {size - 1}].")
    r = g.download(image["id"], headers={"Range": "bytes=0-1,5-9"})
    assert r.status_code == 400, r.text
    msgs.says(r, "Requests with multiple ranges are not supported in Glance.")
    msgs.done()


@on_sqlite_cloud
def test_upload_twice_is_a_conflict(cloud, users, msgs):
    g = users["a"].glance
    first = os.urandom(5000)
    image = g.uploaded(first, name="twice")
    r = g.upload(image["id"], os.urandom(3000))
    assert r.status_code == 409, r.text
    msgs.says(r, "Image status transition from active to saving is not allowed")
    after = g.get(image["id"])
    assert (after["status"], after["size"], after["checksum"]) == ("active", 5000, hashlib.md5(first).hexdigest())
    assert g.download(image["id"]).content == first
    msgs.done()


@on_sqlite_cloud
def test_upload_content_type(cloud, users, msgs):
    g = users["a"].glance
    image = g.create(name="ctype", disk_format="raw", container_format="bare")
    r = g.call("PUT", f"/v2/images/{image['id']}/file", data=b"x" * 10, headers={"Content-Type": "application/json"})
    assert r.status_code == 415, r.text
    msgs.says(r, "Invalid content type application/json")
    assert g.get(image["id"])["status"] == "queued"
    r = g.download(image["id"])
    assert r.status_code == 204 and r.content == b""
    msgs.done()


# --- format inspection -----------------------------------------------------------------------------

@on_sqlite_cloud
def test_qcow2_is_inspected(cloud, users, fixtures_dir):
    g = users["a"].glance
    with open(os.path.join(fixtures_dir, "qcow2-v3.img"), "rb") as f:
        data = f.read()
    image = g.uploaded(data, name="qcow2", disk_format="qcow2")
    assert (image["status"], image["size"], image["virtual_size"]) == ("active", len(data), 1024 * MIB)


@on_sqlite_cloud
def test_qcow2_with_backing_file_is_refused(cloud, users, fixtures_dir):
    g = users["a"].glance
    with open(os.path.join(fixtures_dir, "qcow2-v3-backing.img"), "rb") as f:
        data = f.read()
    image = g.create(name="backing", disk_format="qcow2", container_format="bare")
    r = g.upload(image["id"], data)
    assert r.status_code == 415, r.text
    assert "Image failed safety checks" in r.text
    after = g.get(image["id"])
    assert (after["status"], after["size"], after["virtual_size"]) == ("queued", None, None)
    assert store_files(cloud, image["id"]) == []
    assert g.download(image["id"]).status_code == 204


@on_sqlite_cloud
def test_declared_qcow2_with_raw_content_is_refused(cloud, users):
    g = users["a"].glance
    image = g.create(name="not-qcow2", disk_format="qcow2", container_format="bare")
    r = g.upload(image["id"], os.urandom(200 * 1024))
    assert r.status_code == 415, r.text
    assert "Image disk_format qcow2 does not match stream data raw" in r.text
    after = g.get(image["id"])
    assert (after["status"], after["size"]) == ("queued", None)
    assert store_files(cloud, image["id"]) == []


# --- updates -----------------------------------------------------------------------------------------

@on_sqlite_cloud
def test_json_patch(cloud, users):
    g = users["a"].glance
    image = g.create(name="patchme", disk_format="raw", container_format="bare", foo="bar", gone="soon")
    iid = image["id"]
    r = g.patch(iid, [
        {"op": "add", "path": "/color", "value": "red"},
        {"op": "replace", "path": "/foo", "value": "baz"},
        {"op": "remove", "path": "/gone"},
        {"op": "replace", "path": "/name", "value": "patched"},
        {"op": "replace", "path": "/min_ram", "value": 512},
        {"op": "replace", "path": "/tags", "value": ["t1", "t2", "t1"]},
    ])
    assert r.status_code == 200, r.text
    for body in (r.json(), g.get(iid)):
        assert (body["color"], body["foo"], body["name"], body["min_ram"]) == ("red", "baz", "patched", 512)
        assert "gone" not in body
        assert sorted(body["tags"]) == ["t1", "t2"]

    def refused(ops, status, text):
        r = g.patch(iid, ops)
        assert r.status_code == status, (ops, r.status_code, r.text)
        assert text in r.text, (ops, r.text)

    refused([{"op": "remove", "path": "/name"}], 403, "Property name may not be removed.")
    refused([{"op": "replace", "path": "/nothere", "value": "x"}], 409, "Property nothere does not exist.")
    refused([{"op": "remove", "path": "/nothere"}], 409, "Property nothere does not exist.")
    refused([{"op": "replace", "path": "/status", "value": "active"}], 403, "Attribute 'status' is read-only.")
    refused([{"op": "replace", "path": "/checksum", "value": "0" * 32}], 403, "Attribute 'checksum' is read-only.")
    refused([{"op": "replace", "path": "/min_ram", "value": -1}], 400, "Cannot be a negative value")
    # an op list that fails part way changes nothing
    refused([{"op": "replace", "path": "/name", "value": "half"}, {"op": "replace", "path": "/nothere", "value": "x"}],
            409, "Property nothere does not exist.")
    r = g.patch(iid, [{"op": "replace", "path": "/name", "value": "x"}], content_type="application/json")
    assert r.status_code == 415, r.text
    accept = [v.strip() for v in r.headers.get("Accept-Patch", "").split(",")]
    assert sorted(accept) == ["application/openstack-images-v2.0-json-patch", "application/openstack-images-v2.1-json-patch"]
    after = g.get(iid)
    assert (after["name"], after["foo"], after["status"], after["min_ram"]) == ("patched", "baz", "queued", 512)


# --- visibility and sharing ----------------------------------------------------------------------------

@on_sqlite_cloud
def test_visibility_rules(cloud, users):
    a, b = users["a"].glance, users["b"].glance
    r = a.create(status=403, name="wants-public", visibility="public")
    assert "You are not authorized to complete publicize_image action." in r.text
    private = a.create(name="private-one", visibility="private")
    r = a.patch(private["id"], [{"op": "replace", "path": "/visibility", "value": "public"}])
    assert r.status_code == 403 and "publicize_image" in r.text, r.text
    assert a.get(private["id"])["visibility"] == "private"
    community = a.create(name="community-one", visibility="community")
    assert community["visibility"] == "community"
    # community images of another project: readable, listed only when asked for
    assert b.get(community["id"])["name"] == "community-one"
    assert community["id"] not in b.ids()
    assert community["id"] in b.ids("?visibility=community")
    made_public = users["admin"].glance.patch(private["id"], [{"op": "replace", "path": "/visibility", "value": "public"}])
    assert made_public.status_code == 200 and made_public.json()["visibility"] == "public"
    assert private["id"] in b.ids()
    # glance lists a project's own community images by default (only other projects' are left out)
    assert community["id"] in a.ids(), "the owner lists its own community images"


@on_sqlite_cloud
def test_sharing(cloud, users, msgs):
    A, B = users["a"], users["b"]
    a, b = A.glance, B.glance
    data = os.urandom(4096)
    image = a.uploaded(data, name="shared-one", visibility="shared")
    iid = image["id"]
    # before it is shared with B, B cannot even see it
    assert b.call("GET", f"/v2/images/{iid}").status_code == 404
    r = a.call("POST", f"/v2/images/{iid}/members", json={"member": B.id})
    assert r.status_code == 200, r.text
    member = r.json()
    assert (member["member_id"], member["image_id"], member["status"]) == (B.id, iid, "pending")
    r = a.call("POST", f"/v2/images/{iid}/members", json={"member": B.id})
    assert r.status_code == 409, r.text
    msgs.says(r, f"Member {B.id} is duplicated for image {iid}")
    assert [m["member_id"] for m in a.call("GET", f"/v2/images/{iid}/members").json()["members"]] == [B.id]

    # pending: B can read it but does not list it by default
    assert b.get(iid)["name"] == "shared-one"
    assert iid not in b.ids()
    assert iid in b.ids("?member_status=pending")
    assert iid in b.ids("?member_status=all")
    assert iid not in b.ids("?member_status=accepted")
    # the owner may not answer for B; B can
    r = a.call("PUT", f"/v2/images/{iid}/members/{B.id}", json={"status": "accepted"})
    assert r.status_code == 403, r.text
    msgs.says(r, "You are not authorized to complete modify_member action.")
    r = b.call("PUT", f"/v2/images/{iid}/members/{B.id}", json={"status": "accepted"})
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    assert iid in b.ids()
    assert b.download(iid).content == data
    # B sees only its own membership
    assert [m["member_id"] for m in b.call("GET", f"/v2/images/{iid}/members").json()["members"]] == [B.id]

    # B cannot change, re-upload, delete, or add members
    r = b.patch(iid, [{"op": "replace", "path": "/name", "value": "mine now"}])
    assert r.status_code == 403, r.text
    msgs.says(r, "You are not authorized to complete modify_image action.")
    r = b.call("DELETE", f"/v2/images/{iid}")
    assert r.status_code == 403, r.text
    msgs.says(r, "You are not authorized to complete delete_image action.")
    r = b.call("POST", f"/v2/images/{iid}/members", json={"member": users["c"].id})
    assert r.status_code == 403, r.text
    r = b.call("DELETE", f"/v2/images/{iid}/members/{B.id}")
    assert r.status_code == 403, r.text
    msgs.says(r, "You are not authorized to complete delete_member action.")
    after = a.get(iid)
    assert (after["name"], after["status"]) == ("shared-one", "active")

    # the owner removes the membership: B loses the image
    assert a.call("DELETE", f"/v2/images/{iid}/members/{B.id}").status_code == 204
    assert b.call("GET", f"/v2/images/{iid}").status_code == 404
    assert iid not in b.ids("?member_status=all")
    # members only for shared images
    private = a.create(name="private-no-members", visibility="private")
    r = a.call("POST", f"/v2/images/{private['id']}/members", json={"member": B.id})
    assert r.status_code == 403, r.text
    msgs.says(r, f"Not allowed to create members for image {private['id']}.")
    msgs.done()


@on_sqlite_cloud
def test_other_projects_private_image_is_invisible(cloud, users, msgs):
    a, c = users["a"].glance, users["c"].glance
    data = os.urandom(1000)
    image = a.uploaded(data, name="secret", visibility="private")
    iid = image["id"]
    r = c.call("GET", f"/v2/images/{iid}")
    assert r.status_code == 404, r.text
    msgs.says(r, f"No image found with ID {iid}")
    assert c.download(iid).status_code == 404
    assert c.patch(iid, [{"op": "replace", "path": "/name", "value": "stolen"}]).status_code == 404
    assert c.upload(iid, b"overwrite").status_code == 404
    r = c.call("DELETE", f"/v2/images/{iid}")
    assert r.status_code == 404, r.text
    msgs.says(r, f"Failed to find image {iid} to delete")
    assert iid not in c.ids() and iid not in c.ids("?visibility=all")
    assert c.list(f"?id={iid}")["images"] == []
    after = a.get(iid)
    assert (after["name"], after["status"]) == ("secret", "active")
    assert a.download(iid).content == data
    # the admin sees everything
    assert users["admin"].glance.get(iid)["owner"] == users["a"].id
    msgs.done()


# --- import ----------------------------------------------------------------------------------------------

@on_sqlite_cloud
def test_glance_direct_import(cloud, users):
    g = users["a"].glance
    r = g.call("GET", "/v2/info/import")
    assert r.status_code == 200 and "glance-direct" in r.json()["import-methods"]["value"]
    data = os.urandom(3 * MIB + 11)
    created = g.call("POST", "/v2/images", json={"name": "imported", "disk_format": "raw", "container_format": "bare"})
    assert created.status_code == 201
    assert "glance-direct" in created.headers.get("OpenStack-image-import-methods", "")
    iid = created.json()["id"]
    r = g.call("POST", f"/v2/images/{iid}/import", json={"method": {"name": "glance-direct"}})
    assert r.status_code == 409 and "Image needs to be staged before 'glance-direct' method can be used" in r.text, r.text
    assert users["c"].glance.call("PUT", f"/v2/images/{iid}/stage", data=b"x",
                                   headers={"Content-Type": OCTET}).status_code == 404
    r = g.call("PUT", f"/v2/images/{iid}/stage", data=data, headers={"Content-Type": OCTET})
    assert r.status_code == 204, r.text
    staged = g.get(iid)
    assert (staged["status"], staged["size"], staged["checksum"]) == ("uploading", len(data), None)
    r = g.call("PUT", f"/v2/images/{iid}/stage", data=b"again", headers={"Content-Type": OCTET})
    assert r.status_code == 409, r.text
    r = g.call("POST", f"/v2/images/{iid}/import", json={"method": {"name": "glance-direct"}})
    assert r.status_code == 202, r.text
    image = wait_status(g, iid, "active")
    assert (image["size"], image["checksum"], image["os_hash_value"]) == (
        len(data), hashlib.md5(data).hexdigest(), hashlib.sha512(data).hexdigest())
    assert image["os_glance_importing_to_stores"] == "" and image["os_glance_failed_import"] == ""
    assert g.download(iid).content == data
    tasks = g.call("GET", f"/v2/images/{iid}/tasks")
    assert tasks.status_code == 200, tasks.text
    assert [(t["type"], t["status"]) for t in tasks.json()["tasks"]] == [("api_image_import", "success")]
    r = g.call("POST", f"/v2/images/{iid}/import", json={"method": {"name": "glance-direct"}})
    assert r.status_code == 409 and "Image with status active cannot be target for import" in r.text
    assert store_files(cloud, iid) == [iid]
    assert not [n for n in os.listdir(os.path.join(cloud.data_dir, "image-staging")) if iid in n], "staged data removed"


@on_sqlite_cloud
def test_sdk_create_image_with_import(cloud, users):
    """`openstack image create --import`, through openstacksdk: stage, import, wait."""
    import openstack
    A = users["a"]
    conn = openstack.connect(auth_url=cloud.auth_url, username=A.user, password=A.password, project_name=A.name,
                             user_domain_name="Default", project_domain_name="Default", region_name="RegionOne")
    data = os.urandom(MIB + 3)
    with tempfile.NamedTemporaryFile(suffix=".img") as f:
        f.write(data)
        f.flush()
        image = conn.image.create_image(name="sdk-imported", filename=f.name, disk_format="raw", container_format="bare",
                                        use_import=True)
    # as `openstack image create --import`, create_image returns once the import is accepted
    image = conn.image.wait_for_status(image, status="active", failures=["killed", "queued"], interval=0.2, wait=60)
    image = conn.image.get_image(image.id)
    assert (image.status, image.size, image.checksum) == ("active", len(data), hashlib.md5(data).hexdigest())
    assert image.hash_value == hashlib.sha512(data).hexdigest()
    out = conn.image.download_image(image, stream=False)
    assert out.content == data
    conn.close()


# --- protection, deletion, deactivation --------------------------------------------------------------------

@on_sqlite_cloud
def test_protected_image(cloud, users):
    g = users["a"].glance
    image = g.uploaded(b"keep me", name="protected", protected=True)
    iid = image["id"]
    for who in (g, users["admin"].glance):
        r = who.call("DELETE", f"/v2/images/{iid}")
        assert r.status_code == 403 and f"Image {iid} is protected and cannot be deleted." in r.text, r.text
    assert g.get(iid)["status"] == "active"
    assert store_files(cloud, iid) == [iid]
    r = g.patch(iid, [{"op": "replace", "path": "/protected", "value": False}])
    assert r.status_code == 200 and r.json()["protected"] is False
    assert g.call("DELETE", f"/v2/images/{iid}").status_code == 204
    assert g.call("GET", f"/v2/images/{iid}").status_code == 404
    assert users["admin"].glance.call("GET", f"/v2/images/{iid}").status_code == 404
    assert g.call("DELETE", f"/v2/images/{iid}").status_code == 404
    assert store_files(cloud, iid) == [], "the data goes with the image"


@on_sqlite_cloud
def test_deactivate_and_reactivate(cloud, users):
    g, admin = users["a"].glance, users["admin"].glance
    data = os.urandom(777)
    iid = g.uploaded(data, name="deactivated")["id"]
    assert g.call("POST", f"/v2/images/{iid}/actions/deactivate").status_code == 204
    assert g.get(iid)["status"] == "deactivated"
    r = g.download(iid)
    assert r.status_code == 403, r.text
    assert "The requested image has been deactivated. Image data download is forbidden." in r.text
    r = admin.download(iid)
    assert (r.status_code, r.content) == (200, data)
    assert g.call("POST", f"/v2/images/{iid}/actions/reactivate").status_code == 204
    assert g.get(iid)["status"] == "active"
    assert g.download(iid).content == data
    queued = g.create(name="never-active")
    r = g.call("POST", f"/v2/images/{queued['id']}/actions/deactivate")
    assert r.status_code == 403 and "Not allowed to deactivate image in status 'queued'" in r.text, r.text


# --- list ------------------------------------------------------------------------------------------------

@on_sqlite_cloud
def test_list_filters_and_paging(cloud, users, msgs):
    g = users["lists"].glance
    made = []
    for i in range(12):
        if i == 6:
            time.sleep(1.1)  # two groups a second apart, for the created_at filters
        body = {"name": f"list-{i:02d}", "disk_format": "raw", "container_format": "bare",
                "tags": [t for t, m in (("even", 2), ("three", 3)) if i % m == 0]}
        if i < 4:
            body["flavor_hint"] = "big"
        if i == 11:
            body["os_hidden"] = True
        image = g.create(**body)
        assert g.upload(image["id"], b"z" * (10 * (i + 1))).status_code == 204
        made.append(g.get(image["id"]))
    by_name = {m["name"]: m["id"] for m in made}
    visible = [m for m in made if not m["os_hidden"]]

    ours = {m["id"] for m in made}

    def mine(query):
        """The ids the list answers, of this test's images (other projects' public images show too)."""
        return [i for i in g.ids(query) if i in ours]

    # the default order (created_at desc), walked five at a time through `next`
    seen, pages = [], 0
    path = "/v2/images?limit=5"
    while path:
        body = g.list(path[len("/v2/images"):])
        assert len(body["images"]) <= 5
        seen += body["images"]
        pages += 1
        path = body.get("next")
        assert pages <= 10
    ids = [i["id"] for i in seen]
    assert len(ids) == len(set(ids)), "every image exactly once"
    assert ids == g.ids("?limit=100")
    assert sorted(i for i in ids if i in ours) == sorted(m["id"] for m in visible)
    stamps = [i["created_at"] for i in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert g.ids("?limit=0") == [] and "next" not in g.list("?limit=0")

    names = [i["name"] for i in g.list("?sort=name:asc")["images"] if i["id"] in ours]
    assert names == [f"list-{i:02d}" for i in range(11)]
    names = [i["name"] for i in g.list("?sort_key=name&sort_dir=desc")["images"] if i["id"] in ours]
    assert names == [f"list-{i:02d}" for i in reversed(range(11))]
    assert sorted(g.ids("?name=in:list-01,list-02")) == sorted([by_name["list-01"], by_name["list-02"]])
    assert g.ids("?name=list-03") == [by_name["list-03"]]
    assert sorted(g.ids("?tag=even")) == sorted(by_name[f"list-{i:02d}"] for i in (0, 2, 4, 6, 8, 10))
    assert sorted(g.ids("?tag=even&tag=three")) == sorted(by_name[f"list-{i:02d}"] for i in (0, 6))
    assert sorted(mine("?size_min=50&size_max=70")) == sorted(by_name[f"list-{i:02d}"] for i in (4, 5, 6))
    assert sorted(g.ids("?flavor_hint=big")) == sorted(by_name[f"list-{i:02d}"] for i in range(4))
    assert mine("?os_hidden=true") == [by_name["list-11"]]
    assert by_name["list-11"] not in g.ids("?limit=100")
    split = made[6]["created_at"]
    assert sorted(mine(f"?created_at=gte:{split}")) == sorted(m["id"] for m in visible[6:])
    assert sorted(mine(f"?created_at=lt:{split}")) == sorted(m["id"] for m in visible[:6])

    def bad(query, text):
        r = g.call("GET", "/v2/images" + query)
        assert r.status_code == 400, (query, r.status_code, r.text)
        msgs.says(r, text)

    bad("?sort=bogus:asc", "Invalid sort key: bogus. It must be one of the following: name, status, container_format, "
                           "disk_format, size, id, created_at, updated_at.")
    bad("?sort_dir=sideways", "Invalid sort direction: sideways")
    bad("?limit=x", "limit param must be an integer")
    bad("?marker=" + str(uuid.uuid4()), "No image found with ID")
    bad("?size_min=big", "Unable to filter on a range with a non-numeric value.")
    bad("?created_at=gt:yesterday", 'Bad "created_at" query filter format. Use ISO 8601 DateTime notation.')
    bad("?created_at=around:2020-01-01T00:00:00Z", "Unable to filter on a unknown operator.")
    bad("?visibility=everyone", "Invalid visibility value: everyone")
    msgs.done()


# --- quotas ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def capped_cloud():
    """A second cloud whose glance has image_size_cap 2000000 and user_storage_quota 3000000."""
    c = Cloud()
    conf = os.path.join(c.data_dir, "glance-quotas.conf")
    with open(conf, "w") as f:
        f.write("[DEFAULT]\nimage_size_cap = 2000000\nuser_storage_quota = 3000000\n")
    c.start(extra_args=["--config-file", f"glance:{conf}"])
    yield c
    c.destroy()


@pytest.mark.parametrize("mode", ["content-length", "chunked"])
def test_image_size_cap(capped_cloud, mode):
    g = make_projects(capped_cloud, [f"cap-{mode}"])[f"cap-{mode}"].glance
    image = g.create(name="too-big", disk_format="raw", container_format="bare")
    data = os.urandom(2_500_000)
    body = data if mode == "content-length" else (data[i:i + 65536] for i in range(0, len(data), 65536))
    r = g.upload(image["id"], body)
    assert r.status_code == 413, r.text
    assert "The incoming image is too large: The provided image is too large." in r.text
    after = g.get(image["id"])
    assert (after["status"], after["size"], after["checksum"]) == ("queued", None, None)
    assert store_files(capped_cloud, image["id"]) == []
    # just under the cap is fine
    ok = g.uploaded(data[:2_000_000], name="at-cap")
    assert ok["size"] == 2_000_000


@pytest.mark.parametrize("mode", ["content-length", "chunked"])
def test_user_storage_quota(capped_cloud, mode):
    g = make_projects(capped_cloud, [f"quota-{mode}"])[f"quota-{mode}"].glance
    first = g.uploaded(os.urandom(1_500_000), name="first")
    image = g.create(name="over-quota", disk_format="raw", container_format="bare")
    data = os.urandom(1_600_000)
    body = data if mode == "content-length" else (data[i:i + 65536] for i in range(0, len(data), 65536))
    r = g.upload(image["id"], body)
    assert r.status_code == 413, r.text
    assert "Image exceeds the storage quota" in r.text and "1500000 bytes remaining" in r.text, r.text
    after = g.get(image["id"])
    assert (after["status"], after["size"]) == ("queued", None)
    assert store_files(capped_cloud, image["id"]) == []
    assert g.get(first["id"])["status"] == "active"
    # what fits still fits
    assert g.upload(image["id"], data[:1_500_000]).status_code == 204
