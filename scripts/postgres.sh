#!/usr/bin/env bash
# Installs (Debian), starts and prepares PostgreSQL for the tests: role `stratus` (CREATEDB)
# owning database `stratus_test`, and max_connections raised to 300 (every all-in-one cloud
# opens a pool per service database; the default 100 runs out under the e2e suite).
# A server killed with the machine (a session that ends hard) restarts with crash recovery,
# which fsyncs every file of the data directory first: `recovery_init_sync_method = syncfs`
# makes that one call per file system, the wait below allows minutes, and the databases that
# earlier runs left behind (every all-in-one cloud creates one per service, every store test a
# schema) are dropped here.
# Root only; idempotent.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -n | tail -1)
wait_ready() {
    for _ in $(seq 1 1500); do su postgres -c "pg_isready -q" && return 0; sleep 0.2; done
    echo "PostgreSQL $version did not accept connections within 5 minutes:" >&2
    tail -20 "/var/log/postgresql/postgresql-$version-main.log" >&2
    return 1
}
pg_ctlcluster "$version" main start || true # "already running", or still recovering: wait_ready decides
wait_ready
if [ "$(su postgres -c "psql -tAc 'SHOW recovery_init_sync_method'")" != syncfs ]; then
    su postgres -c "psql -q -c 'ALTER SYSTEM SET recovery_init_sync_method = syncfs'"
    su postgres -c "psql -q -c 'SELECT pg_reload_conf()'" >/dev/null
fi
if [ "$(su postgres -c "psql -tAc 'SHOW max_connections'")" -lt 300 ]; then
    su postgres -c "psql -q -c 'ALTER SYSTEM SET max_connections = 300'"
    pg_ctlcluster "$version" main restart
    wait_ready
fi
# TLS with a self-signed certificate (localhost, 127.0.0.1), for the sslmode tests; the
# certificate is the CA they verify against (scripts/test.sh exports its path).
ssl_dir=/var/lib/postgresql/stratus-test-ssl
if [ ! -s "$ssl_dir/server.crt" ]; then
    mkdir -p "$ssl_dir"
    # openssl's progress goes to a log shown only when it fails
    if ! openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$ssl_dir/server.key" -out "$ssl_dir/server.crt" 2>"$ssl_dir/openssl.log"; then
        echo "postgres.sh: could not make the test server's certificate:" >&2
        cat "$ssl_dir/openssl.log" >&2
        rm -f "$ssl_dir/server.crt"
        exit 1
    fi
    chown -R postgres:postgres "$ssl_dir"
    chmod 600 "$ssl_dir/server.key"
    chmod 644 "$ssl_dir/server.crt"
    chmod 755 "$ssl_dir"
fi
if [ "$(su postgres -c "psql -tAc 'SHOW ssl'")" != on ] ||
    [ "$(su postgres -c "psql -tAc 'SHOW ssl_cert_file'")" != "$ssl_dir/server.crt" ]; then
    su postgres -c "psql -q -c \"ALTER SYSTEM SET ssl_cert_file = '$ssl_dir/server.crt'\""
    su postgres -c "psql -q -c \"ALTER SYSTEM SET ssl_key_file = '$ssl_dir/server.key'\""
    su postgres -c "psql -q -c 'ALTER SYSTEM SET ssl = on'"
    su postgres -c "psql -q -c 'SELECT pg_reload_conf()'" >/dev/null
fi
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='stratus'\"" | grep -q 1 ||
    su postgres -c "psql -q -c \"CREATE ROLE stratus LOGIN CREATEDB PASSWORD 'stratus'\""
# Leftovers of earlier runs (the store tests' schemas live in stratus_test): every database of
# the test role goes, then stratus_test comes back empty.
su postgres -c "psql -tAc \"SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
    WHERE r.rolname = 'stratus'\"" |
    while read -r name; do
        if [ -n "$name" ]; then su postgres -c "dropdb --force '$name'"; fi
    done
su postgres -c "createdb -O stratus stratus_test"
