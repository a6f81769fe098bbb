"""The real `openstack` command line, many commands in one long-lived Python process.

Each `openstack` process spends about a second of CPU importing the client before it sends a
request, so the placement chapter's few dozen commands per microversion and database would
cost minutes. `OSC` starts this file once as a worker in the venv's Python; the worker runs
every command through python-openstackclient's own entry point (`OpenStackShell().run(argv)`,
what the `openstack` script calls), with the command's OS_* environment, and hands back the
exit code, stdout and stderr the user would see. The guide's own commands still run as real
`openstack` processes (framework.cloud.run).
"""
import contextlib
import io
import json
import logging
import os
import subprocess
import sys


class OSCResult:
    def __init__(self, argv, rc, stdout, stderr):
        self.argv, self.returncode, self.stdout, self.stderr = argv, rc, stdout, stderr

    def json(self):
        assert self.returncode == 0, self
        return json.loads(self.stdout) if self.stdout.strip() else None

    def __repr__(self):
        return f"openstack {' '.join(self.argv)} → exit {self.returncode}\nstdout: {self.stdout}\nstderr: {self.stderr}"


class OSC:
    """A worker process running `openstack` commands; `env` is the OS_* environment of every call."""

    def __init__(self, env):
        self.env = env
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)
        self.count = 0

    def run(self, *argv, env=None, check=True):
        self.proc.stdin.write(json.dumps({"argv": list(argv), "env": env or self.env}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the openstack worker died running {argv}")
        answer = json.loads(line)
        self.count += 1
        result = OSCResult(list(argv), answer["rc"], answer["stdout"], answer["stderr"])
        if check and result.returncode != 0:
            raise AssertionError(f"command failed: {result!r}")
        return result

    def json(self, *argv, env=None):
        """`openstack ARGV -f json`, parsed."""
        return self.run(*argv, "-f", "json", env=env).json()

    def fails(self, *argv, env=None):
        """The stderr of a command that must fail (exit 1)."""
        result = self.run(*argv, env=env, check=False)
        assert result.returncode == 1, f"expected a failure: {result!r}"
        return result.stderr

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _forget_clients():
    """osc caches each API's client in a descriptor on the ClientManager class, so a second
    command in the same process would reuse the first one's session, region and microversion;
    a fresh `openstack` process starts without them."""
    from osc_lib.clientmanager import ClientCache
    from openstackclient.common.clientmanager import ClientManager
    for klass in ClientManager.__mro__:
        for attr in vars(klass).values():
            if isinstance(attr, ClientCache):
                attr._handle = None


def _serve():
    from openstackclient import shell
    real_stdout = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        _forget_clients()
        for key in [k for k in os.environ if k.startswith("OS_")]:
            del os.environ[key]
        os.environ.update(request["env"])
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = shell.OpenStackShell().run(request["argv"])
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else 1
            except Exception as e:  # noqa: BLE001 - reported to the test like a crash
                print(f"worker: {type(e).__name__}: {e}", file=err)
                rc = 99
        real_stdout.write(json.dumps({"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}) + "\n")
        real_stdout.flush()


if __name__ == "__main__":
    _serve()
