"""The persona matrix (issue 11, section 1): every Identity route as each of 18 personas, on
SQLite and PostgreSQL, against the table the reference keystone 30 produced
(identity_persona_matrix.json, written by scripts/persona_matrix.py). A cell may differ only
where docs/decisions.md says why; those cells are asserted here with Stratus's status."""
import json
import os

import pytest

from framework.personas import PERSONAS, Matrix, differences

TABLE = os.path.join(os.path.dirname(__file__), "identity_persona_matrix.json")

# (case, persona) -> (keystone 30's status, Stratus's status). docs/decisions.md, "Persona matrix".
DELIBERATE = {
    # keystone 30 creates an application credential from an unscoped token, with no project and
    # no roles: it can never authenticate. Stratus refuses it with 400.
    ("create_own_application_credential", "no_role"): (201, 400),
}


@pytest.fixture(scope="module")
def personas(cloud):
    return Matrix(cloud.auth_url.rsplit("/v3", 1)[0], cloud.password).build()


@pytest.fixture(scope="module")
def matrix(personas):
    return personas.run()


def test_every_cell_matches_keystone_30(matrix):
    with open(TABLE) as f:
        expected = json.load(f)
    for (case, persona), (keystone, stratus) in DELIBERATE.items():
        assert expected[case][persona] == keystone, f"the reference table changed for {case}/{persona}: revisit DELIBERATE"
        expected[case][persona] = stratus
    diff = differences(expected, matrix)
    report = "\n".join(f"{case} as {persona}: expected {e}, got {a}" for case, persona, e, a in diff)
    assert not diff, f"{len(diff)} cells differ from keystone 30's table:\n{report}"


def test_the_matrix_exercises_every_persona_and_outcome(matrix):
    """Guards the harness: each persona is refused somewhere, and everyone but the anonymous
    caller succeeds somewhere, so a broken fixture (every request 401 or 500) cannot match."""
    for persona, _, _ in PERSONAS:
        statuses = {row[persona] for row in matrix.values()}
        assert 401 in statuses if persona == "anonymous" else 403 in statuses, persona
        if persona != "anonymous":
            assert any(s < 300 for s in statuses), persona
    assert not any(s >= 500 for row in matrix.values() for s in row.values())


def test_a_domain_reader_sees_only_its_domain(personas):
    """The cells behind the 200s: a domain-scoped reader asking for another domain's users,
    projects, groups or role assignments gets an empty list, not the other domain's data."""
    m = personas
    i, reader = m.ids, m.tokens["other_domain_reader"]
    for path, key in ((f"/v3/users?domain_id={i['D1']}", "users"), (f"/v3/projects?domain_id={i['D1']}", "projects"),
                      (f"/v3/groups?domain_id={i['D1']}", "groups"), (f"/v3/role_assignments?scope.project.id={i['P1']}", "role_assignments")):
        r = m.call("GET", path, reader)
        assert r.status_code == 200 and r.json()[key] == [], (path, r.text)
    seen = m.call("GET", "/v3/role_assignments", reader).json()["role_assignments"]
    assert seen and all(a["scope"].get("domain", {}).get("id") == i["D2"] or a["scope"].get("project", {}).get("id") == i["P2"]
                        for a in seen), seen
    domains = m.call("GET", "/v3/domains", reader).json()["domains"]
    assert [d["id"] for d in domains] == [i["D2"]]
    users = m.call("GET", "/v3/users", m.tokens["domain_reader"]).json()["users"]
    assert users and {u["domain_id"] for u in users} == {i["D1"]}
