#!/usr/bin/env bash
# Installs (Debian), starts and prepares PostgreSQL for the tests: role `stratus` (CREATEDB)
# owning database `stratus_test`, and max_connections raised to 300 (every all-in-one cloud
# opens a pool per service database; the default 100 runs out under the e2e suite).
# Root only; idempotent.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -n | tail -1)
wait_ready() { for _ in $(seq 1 100); do su postgres -c "pg_isready -q" && return 0; sleep 0.2; done; return 1; }
pg_ctlcluster "$version" main start 2>/dev/null || true
wait_ready
if [ "$(su postgres -c "psql -tAc 'SHOW max_connections'")" -lt 300 ]; then
    su postgres -c "psql -q -c 'ALTER SYSTEM SET max_connections = 300'"
    pg_ctlcluster "$version" main restart
    wait_ready
fi
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='stratus'\"" | grep -q 1 ||
    su postgres -c "psql -q -c \"CREATE ROLE stratus LOGIN CREATEDB PASSWORD 'stratus'\""
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='stratus_test'\"" | grep -q 1 ||
    su postgres -c "createdb -O stratus stratus_test"
