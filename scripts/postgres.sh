#!/usr/bin/env bash
# Installs (Debian), starts and prepares PostgreSQL for the tests: role `stratus` (CREATEDB)
# owning database `stratus_test`. Root only; idempotent.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -n | tail -1)
pg_ctlcluster "$version" main start 2>/dev/null || true
for _ in $(seq 1 50); do su postgres -c "pg_isready -q" && break; sleep 0.2; done
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='stratus'\"" | grep -q 1 ||
    su postgres -c "psql -q -c \"CREATE ROLE stratus LOGIN CREATEDB PASSWORD 'stratus'\""
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='stratus_test'\"" | grep -q 1 ||
    su postgres -c "createdb -O stratus stratus_test"
