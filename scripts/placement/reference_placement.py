"""The reference placement (openstack-placement from PyPI) under gunicorn, for golden data and
benchmarks: SQLite in a temp dir, `[api] auth_strategy = noauth2` (token `admin` is an admin),
2 workers. Used by scripts/placement/golden_candidates.py and Benchmarks/placement_bench.py.

The database is synced once with `placement-manage db sync` before gunicorn starts, so the two
workers' `sync_on_startup` (left on, as the brief for these scripts asks) finds nothing to do and
cannot race on SQLite. The WSGI module is a two-line wrapper: oslo.config would otherwise parse
gunicorn's own command line as placement's.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

DEFAULT_VENV = os.environ.get("PLACEMENT_VENV", "/work/refvenv")

WRAPPER = """import sys
sys.argv = sys.argv[:1]
from placement.wsgi.api import application  # noqa: E402,F401
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReferencePlacement:
    """`with ReferencePlacement() as ref: ref.base` — gunicorn placement on a free port."""

    def __init__(self, venv=None, workers=2, log=None):
        self.venv = os.path.abspath(venv or DEFAULT_VENV)
        self.bin = os.path.join(self.venv, "bin")
        for program in ("gunicorn", "placement-manage"):
            if not os.access(os.path.join(self.bin, program), os.X_OK):
                raise RuntimeError(f"{self.bin}/{program} missing: create the venv with "
                                   f"`python3 -m venv {self.venv} && {self.bin}/pip install openstack-placement==16.0.0 gunicorn`")
        self.workers = workers
        self.dir = tempfile.mkdtemp(prefix="placement-ref-")
        self.port = free_port()
        self.log_path = log or os.path.join(self.dir, "gunicorn.log")
        with open(os.path.join(self.dir, "placement.conf"), "w") as f:
            f.write(f"""[DEFAULT]
debug = False
[placement_database]
connection = sqlite:///{self.dir}/placement.db
sync_on_startup = True
[api]
auth_strategy = noauth2
""")
        with open(os.path.join(self.dir, "wsgi_placement.py"), "w") as f:
            f.write(WRAPPER)
        self.env = dict(os.environ, OS_PLACEMENT_CONFIG_DIR=self.dir)
        self.proc = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=120):
        subprocess.run([os.path.join(self.bin, "placement-manage"), "--config-dir", self.dir, "db", "sync"],
                       env=self.env, check=True, capture_output=True, timeout=300)
        self.log = open(self.log_path, "w")
        gunicorn = os.path.join(self.bin, "gunicorn")
        extra = []
        # gunicorn >= 24 opens a control socket at one fixed path per user: off, so runs side by side don't share it.
        if "--no-control-socket" in subprocess.run([gunicorn, "--help"], capture_output=True, text=True).stdout:
            extra.append("--no-control-socket")
        self.proc = subprocess.Popen([gunicorn, "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}", *extra,
                                      "--chdir", self.dir, "--timeout", "600", "--keep-alive", "30", "wsgi_placement:application"],
                                     env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.proc.returncode}:\n{open(self.log_path).read()}")
            try:
                with urllib.request.urlopen(self.base + "/", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"placement did not answer within {timeout}s:\n{open(self.log_path).read()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            # gunicorn's master forwards SIGTERM to its workers; the group kill is the fallback.
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.destroy()
