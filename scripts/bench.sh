#!/usr/bin/env bash
# make bench: release build of Stratus, the reference keystone from PyPI in its own venv,
# wrk for load; prints Stratus's figures and the ratios to keystone's.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else echo "bench needs wrk (apt-get install wrk)" >&2; exit 1; fi
fi
swift build -c release
if [ ! -x .venv-bench/bin/gunicorn ]; then
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install -q --disable-pip-version-check keystone gunicorn requests
fi
exec .venv-bench/bin/python Benchmarks/keystone_bench.py
