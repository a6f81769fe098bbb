#!/usr/bin/env bash
# make bench [SERVICE=keystone|placement|image|network|compute]: release build of Stratus, the reference service from
# PyPI in its own venv, wrk for load (curl and dd for image data); prints Stratus's figures and the
# ratios to the reference's.
# Arguments after the service go to its benchmark script (make bench SERVICE=placement BENCH_ARGS="--sizes 1000").
set -euo pipefail
cd "$(dirname "$0")/.."
SERVICE=${1:-keystone}
shift || true
case "$SERVICE" in
    keystone | placement | image | network | compute) ;;
    *) echo "bench: unknown SERVICE '$SERVICE' (keystone, placement, image, network, compute)" >&2; exit 2 ;;
esac
if [ "$SERVICE" != image ] && [ "$SERVICE" != compute ] && ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else echo "bench needs wrk (apt-get install wrk)" >&2; exit 1; fi
fi
swift build -c release
if [ "$SERVICE" = keystone ]; then
    # The bare-Hummingbird baseline (Benchmarks/BareHummingbird): built only here.
    STRATUS_BENCHMARKS=1 swift build -c release --product bare-hummingbird
fi
if [ "$SERVICE" = placement ]; then
    if [ ! -x .venv-bench-placement/bin/gunicorn ]; then
        python3 -m venv .venv-bench-placement
        .venv-bench-placement/bin/pip install -q --disable-pip-version-check openstack-placement==16.0.0 gunicorn requests
    fi
    exec .venv-bench-placement/bin/python Benchmarks/placement_bench.py "$@"
fi
if [ "$SERVICE" = image ]; then
    # The reference glance-api (scripts/image/reference_glance.py) runs from GLANCE_VENV.
    GLANCE_VENV=${GLANCE_VENV:-.venv-bench-image}
    if [ ! -x "$GLANCE_VENV/bin/gunicorn" ] || [ ! -x "$GLANCE_VENV/bin/glance-manage" ]; then
        python3 -m venv "$GLANCE_VENV"
        "$GLANCE_VENV/bin/pip" install -q --disable-pip-version-check glance==33.0.0 gunicorn requests
    fi
    export GLANCE_VENV
    exec "$GLANCE_VENV/bin/python" Benchmarks/image_bench.py "$@"
fi
if [ "$SERVICE" = network ]; then
    # The reference neutron API (scripts/network/reference_neutron.py) runs from NEUTRON_VENV; the
    # benchmark itself needs only the standard library. If the venv cannot be made, the benchmark
    # still runs Stratus and says why the reference is missing.
    NEUTRON_VENV=${NEUTRON_VENV:-.venv-bench-network}
    if [ ! -x "$NEUTRON_VENV/bin/gunicorn" ] || [ ! -x "$NEUTRON_VENV/bin/neutron-db-manage" ]; then
        python3 -m venv "$NEUTRON_VENV" \
            && "$NEUTRON_VENV/bin/pip" install -q --disable-pip-version-check neutron==29.0.0 gunicorn==27.0.1 \
            || echo "bench: could not install neutron 29.0.0 into $NEUTRON_VENV; Stratus alone" >&2
    fi
    export NEUTRON_VENV STRATUS_BIN=${STRATUS_BIN:-.build/release/stratus}
    exec python3 Benchmarks/network_bench.py "$@"
fi
if [ "$SERVICE" = compute ]; then
    # No reference runs: the figures are compared with published ones (the script's docstring).
    export STRATUS_BIN=${STRATUS_BIN:-.build/release/stratus}
    exec python3 Benchmarks/compute_bench.py "$@"
fi
if [ ! -x .venv-bench/bin/gunicorn ]; then
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install -q --disable-pip-version-check keystone gunicorn requests
fi
exec .venv-bench/bin/python Benchmarks/keystone_bench.py
