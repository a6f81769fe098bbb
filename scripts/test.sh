#!/usr/bin/env bash
# make test: build, unit tests, then the end-to-end suite with the real python-openstackclient
# and openstacksdk from PyPI. As root it also installs and starts Debian's PostgreSQL and runs
# the PostgreSQL variants (CI runs as root); otherwise those are skipped, loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
E2E_ONLY=0
[ "${1:-}" = "--e2e-only" ] && E2E_ONLY=1

if [ "$(id -u)" = 0 ]; then
    scripts/postgres.sh
    export STRATUS_TEST_POSTGRES_URL=postgresql://stratus:stratus@127.0.0.1/stratus_test
else
    echo "*** not root: PostgreSQL tests will be SKIPPED (CI runs them as root) ***" >&2
fi

echo "== build"
swift build --build-tests
if [ "$E2E_ONLY" = 0 ]; then
    echo "== unit tests"
    swift test --skip-build
fi

echo "== python venv for the e2e tests"
if [ ! -x .venv/bin/openstack ] || ! cmp -s Tests/e2e/requirements.txt .venv/requirements.txt; then
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
    cp Tests/e2e/requirements.txt .venv/requirements.txt
fi

echo "== end-to-end tests"
cd Tests/e2e
# shellcheck disable=SC2086 # PYTEST_ARGS is a word list on purpose (e.g. "-k guide -x")
exec ../../.venv/bin/python -m pytest -q -p no:cacheprovider ${PYTEST_ARGS:-} .
