"""The Identity persona matrix: every Identity route Stratus serves, sent as each persona,
with the status each one gets.

The same request sequence runs against Stratus (`test_identity_personas.py`, in make test)
and against the reference keystone 30 (`scripts/persona_matrix.py`, which writes the checked-in
`identity_persona_matrix.json`). Targets live in domain D1 and project P1; the "other_"
personas hold the same roles on D2 and P2. A request that could change what the next persona
sees gets a fresh target, made by the cloud admin just before it, so every cell is independent
of the order. Names come from a counter, so both clouds receive the same bodies.
"""
import requests

# (name, scope, role): scope is "system", "D1", "D2", "P1", "P2", "unscoped" or None (no token).
PERSONAS = [
    ("system_admin", "system", "admin"),
    ("system_reader", "system", "reader"),
    ("domain_admin", "D1", "admin"),
    ("domain_manager", "D1", "manager"),
    ("domain_reader", "D1", "reader"),
    ("other_domain_admin", "D2", "admin"),
    ("other_domain_manager", "D2", "manager"),
    ("other_domain_reader", "D2", "reader"),
    ("project_admin", "P1", "admin"),
    ("project_manager", "P1", "manager"),
    ("project_member", "P1", "member"),
    ("project_reader", "P1", "reader"),
    ("other_project_admin", "P2", "admin"),
    ("other_project_manager", "P2", "manager"),
    ("other_project_member", "P2", "member"),
    ("other_project_reader", "P2", "reader"),
    ("no_role", "unscoped", None),
    ("anonymous", None, None),
]


class Matrix:
    """Builds the fixture on one cloud (as its bootstrap admin) and runs every case as every persona."""

    def __init__(self, base, admin_password, admin_user="admin", admin_project="admin"):
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.counter = 0
        self.admin = self.login(admin_user, admin_password, "default", {"project": {"name": admin_project, "domain": {"id": "default"}}})
        self.ids = {}
        self.tokens = {}
        self.user_ids = {}

    # -- plumbing ---------------------------------------------------------------------------

    def call(self, method, path, token=None, body=None, headers=None):
        h = dict(headers or {})
        if token:
            h["X-Auth-Token"] = token
        return self.http.request(method, self.base + path, headers=h, json=body, timeout=60)

    def ok(self, method, path, body=None, headers=None):
        r = self.call(method, path, self.admin, body, headers)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    def login(self, name, password, domain_id, scope=None):
        auth = {"identity": {"methods": ["password"], "password": {
            "user": {"name": name, "domain": {"id": domain_id}, "password": password}}}}
        if scope:
            auth["scope"] = scope
        r = self.http.post(self.base + "/v3/auth/tokens", json={"auth": auth}, timeout=60)
        assert r.status_code == 201, (name, r.status_code, r.text)
        return r.headers["X-Subject-Token"]

    def name(self, prefix):
        self.counter += 1
        return f"pm-{prefix}-{self.counter}"

    def role_id(self, name):
        return self.ok("GET", f"/v3/roles?name={name}")["roles"][0]["id"]

    # -- fresh resources, made by the admin ---------------------------------------------------

    def user(self, domain="D1", password=None):
        body = {"name": self.name("user"), "domain_id": self.ids[domain]}
        if password:
            body["password"] = password
        return self.ok("POST", "/v3/users", {"user": body})["user"]["id"]

    def project(self, domain="D1"):
        return self.ok("POST", "/v3/projects", {"project": {"name": self.name("project"), "domain_id": self.ids[domain]}})["project"]["id"]

    def group(self, domain="D1"):
        return self.ok("POST", "/v3/groups", {"group": {"name": self.name("group"), "domain_id": self.ids[domain]}})["group"]["id"]

    def domain(self, enabled=True):
        return self.ok("POST", "/v3/domains", {"domain": {"name": self.name("domain"), "enabled": enabled}})["domain"]["id"]

    def role(self, domain=None):
        body = {"name": self.name("role")}
        if domain:
            body["domain_id"] = self.ids[domain]
        return self.ok("POST", "/v3/roles", {"role": body})["role"]["id"]

    def region(self):
        return self.ok("POST", "/v3/regions", {"region": {"id": self.name("region")}})["region"]["id"]

    def service(self):
        return self.ok("POST", "/v3/services", {"service": {"type": self.name("type"), "name": self.name("service")}})["service"]["id"]

    def endpoint(self):
        return self.ok("POST", "/v3/endpoints", {"endpoint": {
            "service_id": self.ids["S1"], "interface": "internal", "url": "http://pm.example:1/" + self.name("ep"), "region_id": "pm-region"}})["endpoint"]["id"]

    def credential(self, user="u1"):
        return self.ok("POST", "/v3/credentials", {"credential": {
            "user_id": self.ids[user], "type": "cert", "blob": self.name("blob")}})["credential"]["id"]

    def app_cred(self):
        r = self.call("POST", f"/v3/users/{self.ids['u1']}/application_credentials", self.tokens["u1"],
                      {"application_credential": {"name": self.name("appcred")}})
        assert r.status_code == 201, r.text
        return r.json()["application_credential"]["id"]

    def trust(self):
        """A trust from u1 (member on P1) to the fixture's trustee."""
        r = self.call("POST", "/v3/OS-TRUST/trusts", self.tokens["u1"], {"trust": {
            "trustor_user_id": self.ids["u1"], "trustee_user_id": self.ids["trustee"], "impersonation": False,
            "project_id": self.ids["P1"], "roles": [{"name": "member"}]}})
        assert r.status_code == 201, r.text
        return r.json()["trust"]["id"]

    def ec2(self):
        """A new EC2 key of u1 on P1; its access key."""
        r = self.call("POST", f"/v3/users/{self.ids['u1']}/credentials/OS-EC2", self.tokens["u1"], {"tenant_id": self.ids["P1"]})
        assert r.status_code == 201, r.text
        return r.json()["credential"]["access"]

    def access_rule(self):
        """A rule of u1 that no credential uses any more; its id."""
        r = self.call("POST", f"/v3/users/{self.ids['u1']}/application_credentials", self.tokens["u1"],
                      {"application_credential": {"name": self.name("ruled"), "access_rules": [
                          {"service": "identity", "method": "GET", "path": "/v3/" + self.name("rule")}]}})
        assert r.status_code == 201, r.text
        body = r.json()["application_credential"]
        gone = self.call("DELETE", f"/v3/users/{self.ids['u1']}/application_credentials/{body['id']}", self.tokens["u1"])
        assert gone.status_code == 204, gone.text
        return body["access_rules"][0]["id"]

    # -- the fixture --------------------------------------------------------------------------

    def build(self):
        ids = self.ids
        for d in ("D1", "D2"):
            ids[d] = self.ok("POST", "/v3/domains", {"domain": {"name": f"pm-{d.lower()}"}})["domain"]["id"]
        for p, d in (("P1", "D1"), ("P2", "D2")):
            ids[p] = self.ok("POST", "/v3/projects", {"project": {"name": f"pm-{p.lower()}", "domain_id": ids[d]}})["project"]["id"]
        for role in ("admin", "manager", "member", "reader"):
            ids[role] = self.role_id(role)
        ids["u1"] = self.ok("POST", "/v3/users", {"user": {"name": "pm-u1", "domain_id": ids["D1"], "password": "pm-u1-pw"}})["user"]["id"]
        self.ok("PUT", f"/v3/projects/{ids['P1']}/users/{ids['u1']}/roles/{ids['member']}")
        self.ok("PUT", f"/v3/domains/{ids['D1']}/users/{ids['u1']}/roles/{ids['reader']}")
        ids["g1"] = self.ok("POST", "/v3/groups", {"group": {"name": "pm-g1", "domain_id": ids["D1"]}})["group"]["id"]
        self.ok("PUT", f"/v3/groups/{ids['g1']}/users/{ids['u1']}")
        self.ok("PUT", f"/v3/projects/{ids['P1']}/groups/{ids['g1']}/roles/{ids['reader']}")
        self.ok("PUT", f"/v3/domains/{ids['D1']}/groups/{ids['g1']}/roles/{ids['reader']}")
        self.ok("PUT", f"/v3/OS-INHERIT/domains/{ids['D1']}/groups/{ids['g1']}/roles/{ids['reader']}/inherited_to_projects")
        ids["drole"] = self.ok("POST", "/v3/roles", {"role": {"name": "pm-drole", "domain_id": ids["D1"]}})["role"]["id"]
        self.ok("PUT", f"/v3/projects/{ids['P1']}/tags/pm-tag")
        self.ok("POST", "/v3/regions", {"region": {"id": "pm-region"}})
        ids["S1"] = self.ok("POST", "/v3/services", {"service": {"type": "pm-type", "name": "pm-service"}})["service"]["id"]
        ids["E1"] = self.endpoint()
        ids["c1"] = self.credential()
        self.tokens["u1"] = self.login("pm-u1", "pm-u1-pw", ids["D1"], {"project": {"id": ids["P1"]}})
        ids["a1"] = self.app_cred()
        ids["trustee"] = self.ok("POST", "/v3/users", {"user": {"name": "pm-trustee", "domain_id": ids["D1"]}})["user"]["id"]
        ids["t1"] = self.trust()
        ids["x1"] = self.ec2()
        r = self.call("POST", f"/v3/users/{ids['u1']}/application_credentials", self.tokens["u1"], {"application_credential": {
            "name": "pm-ruled", "access_rules": [{"service": "identity", "method": "GET", "path": "/v3/users/*"}]}})
        assert r.status_code == 201, r.text
        ids["r1"] = r.json()["application_credential"]["access_rules"][0]["id"]
        for persona, scope, role in PERSONAS:
            if scope is None:
                continue
            home = scope if scope in ("D1", "D2") else {"P1": "D1", "P2": "D2"}.get(scope, "D1")
            password = "pm-pw-" + persona
            uid = self.ok("POST", "/v3/users", {"user": {"name": "pm-" + persona, "domain_id": ids[home], "password": password}})["user"]["id"]
            self.user_ids[persona] = uid
            if scope == "system":
                self.ok("PUT", f"/v3/system/users/{uid}/roles/{ids[role]}")
                token_scope = {"system": {"all": True}}
            elif scope in ("D1", "D2"):
                self.ok("PUT", f"/v3/domains/{ids[scope]}/users/{uid}/roles/{ids[role]}")
                token_scope = {"domain": {"id": ids[scope]}}
            elif scope in ("P1", "P2"):
                self.ok("PUT", f"/v3/projects/{ids[scope]}/users/{uid}/roles/{ids[role]}")
                token_scope = {"project": {"id": ids[scope]}}
            else:
                token_scope = None
            self.tokens[persona] = self.login("pm-" + persona, password, ids[home], token_scope)
        return self

    # -- the cases ----------------------------------------------------------------------------

    def cases(self):
        """[(name, prepare)]: prepare(persona) -> (method, path, body, extra headers)."""
        i = self.ids
        m = self
        fixed = lambda method, path, body=None: (lambda persona: (method, path.format(**i), body, None))  # noqa: E731

        def self_id(persona):
            return m.user_ids.get(persona, i["u1"])

        def grant_target(kind, target):
            """PUT/DELETE of a grant to a fresh actor on P1 / D1 / the system."""
            def prepare(method):
                def run(persona):
                    actor = m.user() if kind == "users" else m.group()
                    role = i["reader"] if target == "system" else i["member"]
                    where = "system" if target == "system" else f"{target}s/{i['P1' if target == 'project' else 'D1']}"
                    path = f"/v3/{where}/{kind}/{actor}/roles/{role}"
                    if method == "DELETE":
                        m.ok("PUT", path)
                    return (method, path, None, None)
                return run
            return prepare

        def inherited(method, target):
            def run(persona):
                actor = m.user()
                where = f"projects/{i['P1']}" if target == "project" else f"domains/{i['D1']}"
                path = f"/v3/OS-INHERIT/{where}/users/{actor}/roles/{i['member']}/inherited_to_projects"
                if method == "DELETE":
                    m.ok("PUT", path)
                return (method, path, None, None)
            return run

        def subject(method, whose):
            def run(persona):
                if whose == "own":
                    token = m.tokens.get(persona) or m.tokens["u1"]
                else:
                    token = m.login("pm-u1", "pm-u1-pw", i["D1"], {"project": {"id": i["P1"]}})
                return (method, "/v3/auth/tokens", None, {"X-Subject-Token": token})
            return run

        def tag_delete(persona):
            tag = m.name("tag")
            m.ok("PUT", f"/v3/projects/{i['P1']}/tags/{tag}")
            return ("DELETE", f"/v3/projects/{i['P1']}/tags/{tag}", None, None)

        def tags_clear(persona):
            if "pm-tag" not in m.ok("GET", f"/v3/projects/{i['P1']}/tags")["tags"]:  # put back what the previous persona cleared
                m.ok("PUT", f"/v3/projects/{i['P1']}/tags/pm-tag")
            return ("DELETE", f"/v3/projects/{i['P1']}/tags", None, None)

        def member_delete(persona):
            u = m.user()
            m.ok("PUT", f"/v3/groups/{i['g1']}/users/{u}")
            return ("DELETE", f"/v3/groups/{i['g1']}/users/{u}", None, None)

        def implied(method):
            def run(persona):
                prior, implied_role = m.role(), m.role()
                if method == "DELETE":
                    m.ok("PUT", f"/v3/roles/{prior}/implies/{implied_role}")
                return (method, f"/v3/roles/{prior}/implies/{implied_role}", None, None)
            return run

        def change_password(persona):
            u = m.user(password="pm-old-pw")
            return ("POST", f"/v3/users/{u}/password", {"user": {"original_password": "pm-old-pw", "password": "pm-new-pw"}}, None)

        c = [
            # domains
            ("list_domains", fixed("GET", "/v3/domains")),
            ("get_domain", fixed("GET", "/v3/domains/{D1}")),
            ("create_domain", lambda p: ("POST", "/v3/domains", {"domain": {"name": m.name("domain")}}, None)),
            ("update_domain", fixed("PATCH", "/v3/domains/{D1}", {"domain": {"description": "pm"}})),
            ("delete_domain", lambda p: ("DELETE", f"/v3/domains/{m.domain(enabled=False)}", None, None)),
            # projects
            ("list_projects", fixed("GET", "/v3/projects")),
            ("list_projects_in_domain", fixed("GET", "/v3/projects?domain_id={D1}")),
            ("get_project", fixed("GET", "/v3/projects/{P1}")),
            ("create_project", lambda p: ("POST", "/v3/projects", {"project": {"name": m.name("project"), "domain_id": i["D1"]}}, None)),
            ("update_project", fixed("PATCH", "/v3/projects/{P1}", {"project": {"description": "pm"}})),
            ("delete_project", lambda p: ("DELETE", f"/v3/projects/{m.project()}", None, None)),
            ("list_project_tags", fixed("GET", "/v3/projects/{P1}/tags")),
            ("get_project_tag", fixed("GET", "/v3/projects/{P1}/tags/pm-tag")),
            ("create_project_tag", lambda p: ("PUT", f"/v3/projects/{i['P1']}/tags/{m.name('tag')}", None, None)),
            ("delete_project_tag", tag_delete),
            ("update_project_tags", fixed("PUT", "/v3/projects/{P1}/tags", {"tags": ["pm-tag"]})),
            ("delete_project_tags", tags_clear),
            ("list_user_projects", fixed("GET", "/v3/users/{u1}/projects")),
            # users
            ("list_users", fixed("GET", "/v3/users")),
            ("list_users_in_domain", fixed("GET", "/v3/users?domain_id={D1}")),
            ("get_user", fixed("GET", "/v3/users/{u1}")),
            ("get_own_user", lambda p: ("GET", f"/v3/users/{self_id(p)}", None, None)),
            ("create_user", lambda p: ("POST", "/v3/users", {"user": {"name": m.name("user"), "domain_id": i["D1"]}}, None)),
            ("update_user", lambda p: ("PATCH", f"/v3/users/{m.user()}", {"user": {"description": "pm"}}, None)),
            ("delete_user", lambda p: ("DELETE", f"/v3/users/{m.user()}", None, None)),
            ("change_password", change_password),
            ("list_groups_for_user", fixed("GET", "/v3/users/{u1}/groups")),
            # groups
            ("list_groups", fixed("GET", "/v3/groups")),
            ("list_groups_in_domain", fixed("GET", "/v3/groups?domain_id={D1}")),
            ("get_group", fixed("GET", "/v3/groups/{g1}")),
            ("create_group", lambda p: ("POST", "/v3/groups", {"group": {"name": m.name("group"), "domain_id": i["D1"]}}, None)),
            ("update_group", lambda p: ("PATCH", f"/v3/groups/{m.group()}", {"group": {"description": "pm"}}, None)),
            ("delete_group", lambda p: ("DELETE", f"/v3/groups/{m.group()}", None, None)),
            ("list_users_in_group", fixed("GET", "/v3/groups/{g1}/users")),
            ("check_user_in_group", fixed("HEAD", "/v3/groups/{g1}/users/{u1}")),
            ("add_user_to_group", lambda p: ("PUT", f"/v3/groups/{i['g1']}/users/{m.user()}", None, None)),
            ("remove_user_from_group", member_delete),
            # roles and implied roles
            ("list_roles", fixed("GET", "/v3/roles")),
            ("get_role", fixed("GET", "/v3/roles/{member}")),
            ("create_role", lambda p: ("POST", "/v3/roles", {"role": {"name": m.name("role")}}, None)),
            ("update_role", lambda p: ("PATCH", f"/v3/roles/{m.role()}", {"role": {"description": "pm"}}, None)),
            ("delete_role", lambda p: ("DELETE", f"/v3/roles/{m.role()}", None, None)),
            ("list_domain_roles", fixed("GET", "/v3/roles?domain_id={D1}")),
            ("get_domain_role", fixed("GET", "/v3/roles/{drole}")),
            ("create_domain_role", lambda p: ("POST", "/v3/roles", {"role": {"name": m.name("role"), "domain_id": i["D1"]}}, None)),
            ("update_domain_role", lambda p: ("PATCH", f"/v3/roles/{m.role('D1')}", {"role": {"description": "pm"}}, None)),
            ("delete_domain_role", lambda p: ("DELETE", f"/v3/roles/{m.role('D1')}", None, None)),
            ("list_implied_roles", fixed("GET", "/v3/roles/{admin}/implies")),
            ("check_implied_role", fixed("HEAD", "/v3/roles/{admin}/implies/{manager}")),
            ("get_implied_role", fixed("GET", "/v3/roles/{admin}/implies/{manager}")),
            ("list_role_inference_rules", fixed("GET", "/v3/role_inferences")),
            ("create_implied_role", implied("PUT")),
            ("delete_implied_role", implied("DELETE")),
            # grants
            ("list_project_user_grants", fixed("GET", "/v3/projects/{P1}/users/{u1}/roles")),
            ("check_project_user_grant", fixed("HEAD", "/v3/projects/{P1}/users/{u1}/roles/{member}")),
            ("create_project_user_grant", grant_target("users", "project")("PUT")),
            ("revoke_project_user_grant", grant_target("users", "project")("DELETE")),
            ("list_project_group_grants", fixed("GET", "/v3/projects/{P1}/groups/{g1}/roles")),
            ("check_project_group_grant", fixed("HEAD", "/v3/projects/{P1}/groups/{g1}/roles/{reader}")),
            ("create_project_group_grant", grant_target("groups", "project")("PUT")),
            ("revoke_project_group_grant", grant_target("groups", "project")("DELETE")),
            ("list_domain_user_grants", fixed("GET", "/v3/domains/{D1}/users/{u1}/roles")),
            ("check_domain_user_grant", fixed("HEAD", "/v3/domains/{D1}/users/{u1}/roles/{reader}")),
            ("create_domain_user_grant", grant_target("users", "domain")("PUT")),
            ("revoke_domain_user_grant", grant_target("users", "domain")("DELETE")),
            ("list_domain_group_grants", fixed("GET", "/v3/domains/{D1}/groups/{g1}/roles")),
            ("check_domain_group_grant", fixed("HEAD", "/v3/domains/{D1}/groups/{g1}/roles/{reader}")),
            ("create_domain_group_grant", grant_target("groups", "domain")("PUT")),
            ("revoke_domain_group_grant", grant_target("groups", "domain")("DELETE")),
            ("list_system_user_grants", fixed("GET", "/v3/system/users/{u1}/roles")),
            ("create_system_user_grant", grant_target("users", "system")("PUT")),
            ("revoke_system_user_grant", grant_target("users", "system")("DELETE")),
            ("list_system_group_grants", fixed("GET", "/v3/system/groups/{g1}/roles")),
            ("create_system_group_grant", grant_target("groups", "system")("PUT")),
            ("revoke_system_group_grant", grant_target("groups", "system")("DELETE")),
            ("create_inherited_domain_user_grant", inherited("PUT", "domain")),
            ("revoke_inherited_domain_user_grant", inherited("DELETE", "domain")),
            ("create_inherited_project_user_grant", inherited("PUT", "project")),
            ("revoke_inherited_project_user_grant", inherited("DELETE", "project")),
            ("check_inherited_domain_group_grant", fixed("HEAD", "/v3/OS-INHERIT/domains/{D1}/groups/{g1}/roles/{reader}/inherited_to_projects")),
            ("list_inherited_domain_group_grants", fixed("GET", "/v3/OS-INHERIT/domains/{D1}/groups/{g1}/roles/inherited_to_projects")),
            # role assignments
            ("list_role_assignments", fixed("GET", "/v3/role_assignments")),
            ("list_role_assignments_project", fixed("GET", "/v3/role_assignments?scope.project.id={P1}")),
            ("list_role_assignments_domain", fixed("GET", "/v3/role_assignments?scope.domain.id={D1}")),
            ("list_role_assignments_domain_none", fixed("GET", "/v3/role_assignments?scope.domain.id=None")),
            ("list_role_assignments_user", fixed("GET", "/v3/role_assignments?user.id={u1}")),
            ("list_role_assignments_effective", fixed("GET", "/v3/role_assignments?effective&scope.project.id={P1}")),
            ("list_role_assignments_system", fixed("GET", "/v3/role_assignments?scope.system=all")),
            ("list_role_assignments_subtree", fixed("GET", "/v3/role_assignments?scope.project.id={P1}&include_subtree=true")),
            # catalog
            ("list_regions", fixed("GET", "/v3/regions")),
            ("get_region", fixed("GET", "/v3/regions/pm-region")),
            ("create_region", lambda p: ("POST", "/v3/regions", {"region": {"id": m.name("region")}}, None)),
            ("create_region_with_id", lambda p: ("PUT", f"/v3/regions/{m.name('region')}", {"region": {}}, None)),
            ("update_region", lambda p: ("PATCH", f"/v3/regions/{m.region()}", {"region": {"description": "pm"}}, None)),
            ("delete_region", lambda p: ("DELETE", f"/v3/regions/{m.region()}", None, None)),
            ("list_services", fixed("GET", "/v3/services")),
            ("get_service", fixed("GET", "/v3/services/{S1}")),
            ("create_service", lambda p: ("POST", "/v3/services", {"service": {"type": m.name("type")}}, None)),
            ("update_service", lambda p: ("PATCH", f"/v3/services/{m.service()}", {"service": {"description": "pm"}}, None)),
            ("delete_service", lambda p: ("DELETE", f"/v3/services/{m.service()}", None, None)),
            ("list_endpoints", fixed("GET", "/v3/endpoints")),
            ("get_endpoint", fixed("GET", "/v3/endpoints/{E1}")),
            ("create_endpoint", lambda p: ("POST", "/v3/endpoints", {"endpoint": {
                "service_id": i["S1"], "interface": "public", "url": "http://pm.example:2/" + m.name("ep")}}, None)),
            ("update_endpoint", lambda p: ("PATCH", f"/v3/endpoints/{m.endpoint()}", {"endpoint": {"url": "http://pm.example:3/"}}, None)),
            ("delete_endpoint", lambda p: ("DELETE", f"/v3/endpoints/{m.endpoint()}", None, None)),
            # credentials
            ("list_credentials", fixed("GET", "/v3/credentials")),
            ("get_credential", fixed("GET", "/v3/credentials/{c1}")),
            ("create_credential", lambda p: ("POST", "/v3/credentials", {"credential": {"user_id": i["u1"], "type": "cert", "blob": m.name("blob")}}, None)),
            ("create_own_credential", lambda p: ("POST", "/v3/credentials", {"credential": {"user_id": self_id(p), "type": "cert", "blob": m.name("blob")}}, None)),
            ("update_credential", fixed("PATCH", "/v3/credentials/{c1}", {"credential": {"blob": "pm-updated"}})),
            ("delete_credential", lambda p: ("DELETE", f"/v3/credentials/{m.credential()}", None, None)),
            # application credentials
            ("list_application_credentials", fixed("GET", "/v3/users/{u1}/application_credentials")),
            ("get_application_credential", fixed("GET", "/v3/users/{u1}/application_credentials/{a1}")),
            ("create_application_credential", lambda p: ("POST", f"/v3/users/{i['u1']}/application_credentials",
                                                         {"application_credential": {"name": m.name("appcred")}}, None)),
            ("create_own_application_credential", lambda p: ("POST", f"/v3/users/{self_id(p)}/application_credentials",
                                                             {"application_credential": {"name": m.name("appcred")}}, None)),
            ("delete_application_credential", lambda p: ("DELETE", f"/v3/users/{i['u1']}/application_credentials/{m.app_cred()}", None, None)),
            ("list_revoke_events", fixed("GET", "/v3/OS-REVOKE/events")),
            # trusts
            ("list_trusts", fixed("GET", "/v3/OS-TRUST/trusts")),
            ("list_trusts_for_trustor", fixed("GET", "/v3/OS-TRUST/trusts?trustor_user_id={u1}")),
            ("list_own_trusts_as_trustor", lambda p: ("GET", f"/v3/OS-TRUST/trusts?trustor_user_id={self_id(p)}", None, None)),
            ("list_trusts_for_trustee", fixed("GET", "/v3/OS-TRUST/trusts?trustee_user_id={trustee}")),
            ("get_trust", fixed("GET", "/v3/OS-TRUST/trusts/{t1}")),
            ("list_roles_for_trust", fixed("GET", "/v3/OS-TRUST/trusts/{t1}/roles")),
            ("get_role_for_trust", fixed("GET", "/v3/OS-TRUST/trusts/{t1}/roles/{member}")),
            ("create_own_trust", lambda p: ("POST", "/v3/OS-TRUST/trusts", {"trust": {
                "trustor_user_id": self_id(p), "trustee_user_id": i["trustee"], "impersonation": False,
                "project_id": i["P1"], "roles": [{"name": "reader"}]}}, None)),
            ("delete_trust", lambda p: ("DELETE", f"/v3/OS-TRUST/trusts/{m.trust()}", None, None)),
            # EC2 credentials and tokens
            ("ec2_list_credentials", fixed("GET", "/v3/users/{u1}/credentials/OS-EC2")),
            ("ec2_get_credential", fixed("GET", "/v3/users/{u1}/credentials/OS-EC2/{x1}")),
            ("ec2_create_credential", fixed("POST", "/v3/users/{u1}/credentials/OS-EC2", {"tenant_id": i["P1"]})),
            ("ec2_create_own_credential", lambda p: ("POST", f"/v3/users/{self_id(p)}/credentials/OS-EC2", {"tenant_id": i["P1"]}, None)),
            ("ec2_delete_credential", lambda p: ("DELETE", f"/v3/users/{i['u1']}/credentials/OS-EC2/{m.ec2()}", None, None)),
            ("ec2tokens_validate", fixed("POST", "/v3/ec2tokens", {"credentials": {"access": "pm-no-such-key", "signature": "x"}})),
            ("s3tokens_validate", fixed("POST", "/v3/s3tokens", {"credentials": {"access": "pm-no-such-key", "signature": "x", "token": "eA=="}})),
            # access rules
            ("list_access_rules", fixed("GET", "/v3/users/{u1}/access_rules")),
            ("get_access_rule", fixed("GET", "/v3/users/{u1}/access_rules/{r1}")),
            ("delete_access_rule", lambda p: ("DELETE", f"/v3/users/{i['u1']}/access_rules/{m.access_rule()}", None, None)),
            # auth
            ("get_auth_catalog", fixed("GET", "/v3/auth/catalog")),
            ("get_auth_projects", fixed("GET", "/v3/auth/projects")),
            ("get_auth_domains", fixed("GET", "/v3/auth/domains")),
            ("get_auth_system", fixed("GET", "/v3/auth/system")),
            ("validate_own_token", subject("GET", "own")),
            ("check_own_token", subject("HEAD", "own")),
            ("validate_token", subject("GET", "other")),
            ("check_token", subject("HEAD", "other")),
            ("revoke_token", subject("DELETE", "other")),
        ]
        return c

    def run(self, progress=None, shapes=None):
        """{case: {persona: status}}; with a dict as `shapes`, also {case: {persona: shape(response)}} there."""
        table = {}
        for name, prepare in self.cases():
            row = {}
            for persona, _, _ in PERSONAS:
                method, path, body, headers = prepare(persona)
                r = self.call(method, path, self.tokens.get(persona), body, headers)
                row[persona] = r.status_code
                if shapes is not None:
                    shapes.setdefault(name, {})[persona] = shape(r)
            table[name] = row
            if progress:
                progress(name, row)
        return table


def shape(response):
    """What a client reads besides the status: the media type, the headers OpenStack clients
    use, and the body's keys — top level, and one level into each object or list of objects."""
    out = {"content-type": response.headers.get("Content-Type", "").split(";")[0].strip() if response.content else None,
           "headers": sorted(h for h in ("X-Subject-Token", "Location", "WWW-Authenticate") if h in response.headers)}
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = "<not json>"
    if isinstance(body, dict):
        keys = {}
        for k, v in body.items():
            if isinstance(v, dict):
                keys[k] = sorted(v)
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                keys[k] = sorted(set().union(*(x.keys() for x in v)))
            else:
                keys[k] = type(v).__name__
        out["body"] = keys
    else:
        out["body"] = body if body is None or body == "<not json>" else type(body).__name__
    return out


def differences(expected, actual):
    """[(case, persona, expected status, actual status)] for every cell that differs."""
    out = []
    for case in sorted(set(expected) | set(actual)):
        for persona, _, _ in PERSONAS:
            e = expected.get(case, {}).get(persona)
            a = actual.get(case, {}).get(persona)
            if e != a:
                out.append((case, persona, e, a))
    return out
