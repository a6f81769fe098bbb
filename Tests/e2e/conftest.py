import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from framework.cloud import Cloud  # noqa: E402


@pytest.fixture(scope="module")
def cloud():
    """One all-in-one cloud per test module (admin password 'admin-secret', bcrypt cost 4)."""
    c = Cloud(conf="[security_compliance]\nlockout_failure_attempts = 3\nlockout_duration = 600\n").start()
    yield c
    c.destroy()


def postgres_url_or_skip():
    url = os.environ.get("STRATUS_TEST_POSTGRES_URL")
    if not url:
        print("\n*** SKIPPING PostgreSQL tests: STRATUS_TEST_POSTGRES_URL is not set (make test sets it when run as root) ***",
              file=sys.stderr)
        pytest.skip("PostgreSQL not available: run make test as root (CI does) to test against PostgreSQL")
    return url
