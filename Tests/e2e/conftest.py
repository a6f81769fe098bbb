import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from framework.cloud import Cloud  # noqa: E402


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cloud(request):
    """One all-in-one cloud per test module and database (admin password 'admin-secret',
    bcrypt cost 4); the PostgreSQL run is skipped, loudly, without STRATUS_TEST_POSTGRES_URL."""
    conf = "[security_compliance]\nlockout_failure_attempts = 3\nlockout_duration = 600\n"
    database = None
    if request.param == "postgresql":
        database = new_postgres_database(postgres_url_or_skip())
        conf += f"[database]\nconnection = {database}\n"
    c = Cloud(conf=conf, database=database).start()
    yield c
    c.destroy()


def new_postgres_database(base_url):
    """A fresh database on the test server (root only), owned by the test role."""
    import uuid
    from framework.cloud import run
    name = "stratus_" + uuid.uuid4().hex[:10]
    owner = base_url.split("//", 1)[1].split(":", 1)[0]
    run(["su", "postgres", "-c", f"createdb -O {owner} {name}"])
    return base_url.rsplit("/", 1)[0] + "/" + name


def postgres_url_or_skip():
    url = os.environ.get("STRATUS_TEST_POSTGRES_URL")
    if not url and os.environ.get("STRATUS_TEST_REQUIRE_ALL") == "1":
        pytest.fail("STRATUS_TEST_POSTGRES_URL is not set in CI: the PostgreSQL tests would have been skipped")
    if not url:
        print("\n*** SKIPPING PostgreSQL tests: STRATUS_TEST_POSTGRES_URL is not set (make test sets it when run as root) ***",
              file=sys.stderr)
        pytest.skip("PostgreSQL not available: run make test as root (CI does) to test against PostgreSQL")
    return url


def pytest_configure(config):
    config.addinivalue_line("markers", "postgresql: runs against PostgreSQL (scripts/test.sh runs these in their own phase)")


def pytest_collection_modifyitems(items):
    """Marks every PostgreSQL variant (the `cloud` fixture's postgresql param, or a test named
    for PostgreSQL) so `-m postgresql` / `-m "not postgresql"` split the suite by database."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("cloud") == "postgresql" or "postgres" in item.name:
            item.add_marker(pytest.mark.postgresql)
