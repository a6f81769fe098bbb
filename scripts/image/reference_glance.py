"""The reference glance-api (glance 33 from PyPI) for checking the Image contract: SQLite and the
file store in a temp dir, no keystone, served by gunicorn (glance 33 has no standalone server).

    python3 scripts/image/reference_glance.py [--port 9292] [--set SECTION.KEY=VALUE ...]

prints `http://127.0.0.1:PORT` and runs until killed. Venv: GLANCE_VENV (default
/work/refvenv-glance), made with
`python3 -m venv /work/refvenv-glance && /work/refvenv-glance/bin/pip install glance gunicorn`.

Auth without keystone, as glance's functional tests do it: `[paste_deploy] flavor` is unset,
and the `default` pipeline of the shipped glance-api-paste.ini is used with one change: its
`unauthenticated-context` filter (which makes every request an anonymous admin) is replaced
by `context` (ContextMiddleware), which builds the request context from headers. Every
request then needs `X-Identity-Status: Confirmed` (else 401) plus `X-Roles: admin` or
`reader,member`, `X-Tenant-Id` (or `X-Project-Id`) and `X-User-Id`. Everything else in the
pipeline (cors, http_proxy_to_wsgi, versionnegotiation, osprofiler) is as shipped.

`--set DEFAULT.image_size_cap=1024` (repeatable) adds options to glance-api.conf, e.g. to
check quotas or `image_format.require_image_format_match`. The database is synced with
`glance-manage db_sync` before gunicorn starts.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

VENV = os.environ.get("GLANCE_VENV", "/work/refvenv-glance")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(d, extra):
    sections = {"DEFAULT": {"debug": "False", "node_staging_uri": f"file://{d}/staging"},
                "database": {"connection": f"sqlite:///{d}/glance.sqlite"},
                "glance_store": {"stores": "file,http", "default_store": "file",
                                 "filesystem_store_datadir": f"{d}/images/"},
                "paste_deploy": {"config_file": f"{d}/glance-api-paste.ini"}}
    for item in extra:
        key, value = item.split("=", 1)
        section, name = key.rsplit(".", 1) if "." in key else ("DEFAULT", key)
        sections.setdefault(section, {})[name] = value
    with open(f"{d}/glance-api.conf", "w") as f:
        for section, opts in sections.items():
            f.write(f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in opts.items()))
    paste = open(f"{VENV}/etc/glance/glance-api-paste.ini").read()
    paste, n = re.subn(r"^(default = .*?)unauthenticated-context( rootapp)$", r"\1context\2", paste, flags=re.M)
    assert n == 1, "unexpected glance-api-paste.ini layout"
    with open(f"{d}/glance-api-paste.ini", "w") as f:
        f.write(paste)
    os.makedirs(f"{d}/staging")
    os.makedirs(f"{d}/images")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (log, db, files)")
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="glance-ref-")
    port = args.port or free_port()
    write_config(d, args.set)
    env = dict(os.environ, OS_GLANCE_CONFIG_DIR=d)
    subprocess.run([f"{VENV}/bin/glance-manage", "--config-file", f"{d}/glance-api.conf", "db_sync"],
                   env=env, check=True, capture_output=True, timeout=600)
    log = open(f"{d}/glance-api.log", "w")
    # One process (import tasks run in-process threads; SQLite), gthread so uploads can stream.
    proc = subprocess.Popen([f"{VENV}/bin/gunicorn", "-w", "1", "-k", "gthread", "--threads", "8",
                             "--no-control-socket", "-b", f"127.0.0.1:{port}", "--timeout", "600",
                             "glance.wsgi.api:application"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def forward(*_):  # gunicorn's master stops its worker; main() then cleans up
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if proc.poll() is not None:
            print(open(f"{d}/glance-api.log").read(), file=sys.stderr)
            shutil.rmtree(d, ignore_errors=True)
            raise SystemExit(f"gunicorn exited {proc.returncode}")
        try:
            urllib.request.urlopen(url + "/healthcheck", timeout=2).close()
            break
        except OSError:
            time.sleep(0.2)
    print(url, flush=True)
    print(f"# dir {d}", flush=True)
    try:
        proc.wait(timeout=None)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
