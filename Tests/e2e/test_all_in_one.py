"""`stratus all-in-one`'s interface: addresses, ports and the admin password's origin."""
import os
import shutil
import tempfile

import yaml

from framework.cloud import API, STRATUS, Process, clean_env, free_offset, sourced


def start(data_dir, *args, env=None):
    offset = free_offset()
    p = Process([STRATUS, "all-in-one", "--data-dir", data_dir, "--port-offset", str(offset), *args], env=clean_env(env))
    p.wait_for("stratus: ready")
    return p, offset


def test_bind_address_and_port_offset_reach_the_client_files():
    d = tempfile.mkdtemp(prefix="stratus-bind-")
    try:
        p, offset = start(d, "--bind", "127.0.0.2", "--admin-password", "pw-bind")
        url = f"http://127.0.0.2:{5000 + offset}/v3"
        lines = p.output().split("stratus: ready", 1)[1].strip().splitlines()
        assert lines[0] == f"identity {url}"
        assert sourced(os.path.join(d, "admin-openrc"))["OS_AUTH_URL"] == url
        clouds = yaml.safe_load(open(os.path.join(d, "clouds.yaml")))["clouds"]
        assert clouds["stratus"]["auth"]["auth_url"] == url
        assert clouds["stratus"]["auth"]["project_name"] == "admin"
        assert clouds["stratus-system"]["auth"]["system_scope"] == "all"
        assert API(url).token("admin", "pw-bind", project="admin").status_code == 201
        p.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_admin_password_from_os_password_else_generated():
    d1, d2 = tempfile.mkdtemp(prefix="stratus-pw-"), tempfile.mkdtemp(prefix="stratus-pw-")
    try:
        p, _ = start(d1, env={"OS_PASSWORD": "from-env"})
        assert open(os.path.join(d1, "admin-password")).read().strip() == "from-env"
        assert sourced(os.path.join(d1, "admin-openrc"))["OS_PASSWORD"] == "from-env"
        p.stop()
        p, _ = start(d2)
        generated = open(os.path.join(d2, "admin-password")).read().strip()
        assert len(generated) >= 16
        assert oct(os.stat(os.path.join(d2, "admin-password")).st_mode & 0o777) == "0o600"
        assert sourced(os.path.join(d2, "admin-openrc"))["OS_PASSWORD"] == generated
        p.stop()
    finally:
        shutil.rmtree(d1, ignore_errors=True)
        shutil.rmtree(d2, ignore_errors=True)


def test_per_service_config_file_applies_to_that_service_only():
    """`--config-file SERVICE:FILE` reaches the named service (by project or service type); a
    file naming no service applies to all; an unknown option in either is a warning naming it."""
    d = tempfile.mkdtemp(prefix="stratus-svcconf-")
    try:
        with open(os.path.join(d, "identity.conf"), "w") as f:
            f.write("[token]\nexpiration = 120\n")
        with open(os.path.join(d, "shared.conf"), "w") as f:
            f.write("[DEFAULT]\nno_such_option = 1\n")
        p, offset = start(d, "--admin-password", "pw", "--config-file", os.path.join(d, "shared.conf"),
                          "--config-file", "identity:" + os.path.join(d, "identity.conf"))
        assert "no_such_option" in p.output() and "shared.conf" in p.output()
        body = API(f"http://127.0.0.1:{5000 + offset}/v3").token("admin", "pw", project="admin").json()["token"]
        from datetime import datetime
        issued, expires = (datetime.fromisoformat(body[k].replace("Z", "+00:00")) for k in ("issued_at", "expires_at"))
        assert abs((expires - issued).total_seconds() - 120) < 2
        p.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_modules_lists_every_service_with_its_port_and_programs():
    out = Process([STRATUS, "modules"])
    out.proc.wait(timeout=10)
    lines = [line.split() for line in out.output().splitlines()]
    assert ["keystone", "identity", "5000", "keystone", "keystone-manage"] in lines
