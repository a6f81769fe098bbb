#!/usr/bin/env bash
# make test: lint, build, unit tests, then the end-to-end suite with the real python-openstackclient
# and openstacksdk from PyPI. As root it also installs and starts Debian's PostgreSQL and runs
# the PostgreSQL variants (CI runs as root); otherwise those are skipped, loudly.
# The installs (apt, pip) run while Swift builds; every phase prints its time at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
E2E_ONLY=0
[ "${1:-}" = "--e2e-only" ] && E2E_ONLY=1

phases=()
phase_start=$SECONDS
# Records the time since the previous mark under a phase name.
mark() {
    phases+=("$(printf '%-28s %5ss' "$1" $((SECONDS - phase_start)))")
    phase_start=$SECONDS
}
report() {
    echo "== phase times"
    printf '   %s\n' "${phases[@]}"
}
trap report EXIT

logs=$(mktemp -d)
# Installs, in the background while Swift builds.
(
    if [ "$(id -u)" = 0 ]; then scripts/postgres.sh; fi
) >"$logs/postgres.log" 2>&1 &
postgres_pid=$!
(
    if [ ! -x .venv/bin/openstack ] || ! cmp -s Tests/e2e/requirements.txt .venv/requirements.txt; then
        python3 -m venv .venv
        .venv/bin/pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
        cp Tests/e2e/requirements.txt .venv/requirements.txt
    fi
) >"$logs/venv.log" 2>&1 &
venv_pid=$!

if [ "$E2E_ONLY" = 0 ]; then
    echo "== lint"
    make -s lint
    mark lint
fi

echo "== build"
swift build --build-tests
mark build

echo "== installs (PostgreSQL as root, Python venv)"
wait $venv_pid || { cat "$logs/venv.log"; exit 1; }
# In CI (.ci/run sets STRATUS_CI=1, not the generic CI=true other runners set) a skipped PostgreSQL or root-only test would mean coverage silently disappeared: the
# tests fail instead of skipping (conftest.py, StorageTests, test_keystone_guide.py).
if [ "${STRATUS_CI:-}" = 1 ]; then export STRATUS_TEST_REQUIRE_ALL=1; fi
if [ "$(id -u)" = 0 ]; then
    wait $postgres_pid || { cat "$logs/postgres.log"; exit 1; }
    export STRATUS_TEST_POSTGRES_URL=postgresql://stratus:stratus@127.0.0.1/stratus_test
    export STRATUS_TEST_POSTGRES_CA=/var/lib/postgresql/stratus-test-ssl/server.crt
else
    wait $postgres_pid || true
    echo "*** not root: PostgreSQL tests will be SKIPPED (CI runs them as root) ***" >&2
fi
mark "installs (after build)"

if [ "$E2E_ONLY" = 0 ]; then
    echo "== unit tests"
    swift test --skip-build
    mark "unit tests"
    if [ -n "${STRATUS_TEST_POSTGRES_URL:-}" ]; then
        echo "== store tests on PostgreSQL (a schema each)"
        STRATUS_TEST_STORE_POSTGRES_URL=$STRATUS_TEST_POSTGRES_URL swift test --skip-build --filter 'StoreTests'
        mark "store tests PostgreSQL"
    fi
fi

echo "== end-to-end tests (SQLite)"
cd Tests/e2e
# shellcheck disable=SC2086 # PYTEST_ARGS is a word list on purpose (e.g. "-k guide -x")
../../.venv/bin/python -m pytest -q -p no:cacheprovider --durations=25 -m "not postgresql" ${PYTEST_ARGS:-} .
mark "e2e SQLite"

if [ -n "${STRATUS_TEST_POSTGRES_URL:-}" ]; then
    echo "== end-to-end tests (PostgreSQL)"
    # shellcheck disable=SC2086
    ../../.venv/bin/python -m pytest -q -p no:cacheprovider --durations=25 -m postgresql ${PYTEST_ARGS:-} .
    mark "e2e PostgreSQL"
fi
