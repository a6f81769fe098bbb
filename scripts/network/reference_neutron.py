"""The reference neutron API (neutron 29.0.0 from PyPI) for benchmarks and contract checks: ML2 +
router, SQLite in a temp dir, no keystone (auth_strategy = noauth), no agents, fake transport,
served by gunicorn (neutron 29 has no neutron-server command any more; its API is the WSGI app
neutron.wsgi.api:application, run under uwsgi/mod_wsgi in production).

    python3 scripts/network/reference_neutron.py [--port 9696] [--workers 2] [--threads 1] [--set SECTION.KEY=VALUE ...]

prints `http://127.0.0.1:PORT` and runs until killed. Venv: NEUTRON_VENV (default
/work/refvenv-neutron), made with
`python3 -m venv /work/refvenv-neutron && /work/refvenv-neutron/bin/pip install neutron==29.0.0 gunicorn==27.0.1`
(installs neutron-lib 5.0.1, oslo.db 18.1.1, SQLAlchemy 2.1.9, pecan 1.8.0 on Python 3.11).

neutron.conf: core_plugin ml2, service_plugins router, transport_url fake://, [ml2] type_drivers
flat,vxlan, tenant_network_types vxlan, no mechanism drivers (ports stay unbound, DOWN),
extension_drivers port_security, vni_ranges 1:1000, [oslo_concurrency] lock_path.

The schema: `neutron-db-manage upgrade head` does not run on SQLite (alembic: "No support for
ALTER of constraints in SQLite dialect"), so the tables are made as neutron's own unit tests make
them, `neutron.db.migration.models.head.get_metadata().create_all(engine)`, then the one data
migration the API depends on is replayed (c33da356b165: the four security group rule templates
that make a default group's rules — without them default groups get no rules) and the database
is stamped `heads` (the expand and contract branches).

Auth: with noauth, requests WITHOUT X-Project-Id get an admin context of project
`fake_project_id` (NoauthFakeProjectId); requests with X-Project-Id get a plain admin context
with no project. Either way the caller is admin: give `project_id` in request bodies to create
resources in a project.

The gunicorn argv is hidden from neutron's oslo.config parser by a two-line wrapper module
(neutron parses sys.argv[1:] when the app is imported).

SQLite and concurrent writers: with 2 gunicorn workers (or threads) concurrent writes fail with
`sqlite3.OperationalError: database is locked` (a 500; 7 of 8 concurrent port creates failed):
neutron's transactions read then write, and SQLite refuses the second writer's lock upgrade at
once instead of waiting. Writes therefore need --workers 1; reads scale over workers. To measure
both, make the data with one worker and --keep, then serve the same dir with --dir and more workers.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

VENV = os.path.abspath(os.environ.get("NEUTRON_VENV", "/work/refvenv-neutron"))
VERSIONS = "neutron 29.0.0, neutron-lib 5.0.1, oslo.db 18.1.1, SQLAlchemy 2.1.9, gunicorn 27.0.1"

SCHEMA = r"""
import sys
import sqlalchemy as sa
from oslo_utils import uuidutils
from neutron.db.migration.models import head
engine = sa.create_engine(sys.argv[1])
head.get_metadata().create_all(engine)
# neutron/db/migration/alembic_migrations/versions/2023.2/expand/c33da356b165: rule templates.
templates = [("egress", "IPv4", None, True, True), ("egress", "IPv6", None, True, True),
             ("ingress", "IPv4", "PARENT", True, False), ("ingress", "IPv6", "PARENT", True, False)]
with engine.begin() as c:
    for direction, ethertype, remote, in_default, in_other in templates:
        what = "ingress" if direction == "ingress" else "egress"
        r = c.execute(sa.text("INSERT INTO standardattributes (resource_type, description, revision_number, created_at) "
                              "VALUES ('securitygroupdefaultrules', :d, 0, CURRENT_TIMESTAMP)"),
                      {"d": f"Legacy default SG rule for {what} traffic"})
        c.execute(sa.text("INSERT INTO securitygroupdefaultrules (id, standard_attr_id, remote_group_id, direction, "
                          "ethertype, used_in_default_sg, used_in_non_default_sg) VALUES (:id, :sa, :rg, :dir, :eth, :a, :b)"),
                  {"id": uuidutils.generate_uuid(), "sa": r.lastrowid, "rg": remote, "dir": direction, "eth": ethertype,
                   "a": in_default, "b": in_other})
"""

WRAPPER = "import sys\nsys.argv = sys.argv[:1]\nfrom neutron.wsgi.api import application  # noqa: E402,F401\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(d, extra):
    sections = {
        "DEFAULT": {"auth_strategy": "noauth", "core_plugin": "ml2", "service_plugins": "router",
                    "transport_url": "fake://", "debug": "False", "state_path": d,
                    "api_paste_config": f"{VENV}/etc/neutron/api-paste.ini",
                    "notify_nova_on_port_status_changes": "False", "notify_nova_on_port_data_changes": "False"},
        "database": {"connection": f"sqlite:///{d}/neutron.db"},
        "ml2": {"type_drivers": "flat,vxlan", "tenant_network_types": "vxlan", "mechanism_drivers": "",
                "extension_drivers": "port_security"},
        "ml2_type_vxlan": {"vni_ranges": "1:1000"},
        "oslo_concurrency": {"lock_path": f"{d}/lock"},
    }
    for item in extra:
        key, value = item.split("=", 1)
        section, name = key.rsplit(".", 1) if "." in key else ("DEFAULT", key)
        sections.setdefault(section, {})[name] = value
    with open(f"{d}/neutron.conf", "w") as f:
        for section, opts in sections.items():
            f.write(f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in opts.items()))
    os.makedirs(f"{d}/lock")
    with open(f"{d}/neutron_ref_wsgi.py", "w") as f:
        f.write(WRAPPER)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (api_workers)")
    ap.add_argument("--threads", type=int, default=1, help="threads per worker (>1: gthread workers)")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (log, db)")
    ap.add_argument("--dir", help="serve this dir's neutron.conf and database (made by an earlier --keep run) "
                                  "instead of a new temp dir; kept")
    args = ap.parse_args()
    for tool in ("python", "gunicorn", "neutron-db-manage"):
        if not os.access(f"{VENV}/bin/{tool}", os.X_OK):
            raise SystemExit(f"no {tool} in {VENV} (pip install neutron==29.0.0 gunicorn there, or set NEUTRON_VENV)")
    port = args.port or free_port()
    quiet = dict(os.environ, PYTHONWARNINGS="ignore")
    if args.dir:
        d = os.path.abspath(args.dir)
        args.keep = True
        if not os.path.exists(f"{d}/neutron.conf"):
            raise SystemExit(f"no neutron.conf in {d}")
    else:
        d = tempfile.mkdtemp(prefix="neutron-ref-")
        write_config(d, args.set)
    conf = f"{d}/neutron.conf"
    if not args.dir:
        try:
            subprocess.run([f"{VENV}/bin/python", "-c", SCHEMA, f"sqlite:///{d}/neutron.db"], env=quiet, check=True,
                           capture_output=True, text=True, timeout=600)
            subprocess.run([f"{VENV}/bin/neutron-db-manage", "--config-file", conf, "stamp", "heads"], env=quiet,
                           check=True, capture_output=True, text=True, timeout=600)
        except subprocess.CalledProcessError as e:
            shutil.rmtree(d, ignore_errors=True)
            raise SystemExit(f"schema failed: {e.stderr[-2000:]}")
    env = dict(quiet, OS_NEUTRON_CONFIG_DIR=d, OS_NEUTRON_CONFIG_FILES="neutron.conf")
    log = open(f"{d}/neutron-api.log", "a")
    worker = ["-k", "gthread", "--threads", str(args.threads)] if args.threads > 1 else ["-k", "sync"]
    proc = subprocess.Popen([f"{VENV}/bin/gunicorn", "-w", str(args.workers), *worker, "--pythonpath", d,
                             "--no-control-socket", "-b", f"127.0.0.1:{port}", "--timeout", "600",
                             "neutron_ref_wsgi:application"],
                            env=env, cwd=d, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def forward(*_):  # gunicorn's master stops its workers; main() then cleans up
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    url = f"http://127.0.0.1:{port}"
    for _ in range(1500):
        if proc.poll() is not None:
            print(open(f"{d}/neutron-api.log", errors="replace").read()[-3000:], file=sys.stderr)
            if not args.keep:
                shutil.rmtree(d, ignore_errors=True)
            raise SystemExit(f"gunicorn exited {proc.returncode}")
        try:
            # Every worker imports neutron lazily: wait until a real API call answers.
            urllib.request.urlopen(url + "/v2.0/networks?limit=1", timeout=30).close()
            break
        except OSError:
            time.sleep(0.2)
    if args.workers > 1:
        time.sleep(5)  # the first worker answered; the others load neutron at the same time
    print(url, flush=True)
    print(f"# dir {d}", flush=True)
    print(f"# {VERSIONS}; gunicorn -w {args.workers} {' '.join(worker)}", flush=True)
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
