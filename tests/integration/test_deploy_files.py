"""The deployment files in deploy/ are what the tools accept: nginx -t on the site file (as
`make prod-smoke` renders it: only ports, paths and the host name replaced) and
systemd-analyze verify on every unit (paths pointed at this checkout). Skipped where the tool
is not installed (CI installs nginx-light; systemd-analyze comes with systemd)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from prodstack import (  # noqa: E402
    cpu_group,
    join_group,
    nginx_main_conf,
    remove_group,
    render_nginx_site,
    run_idle,
    unit_cpu_weight,
    unit_environment,
    unit_idle,
    unit_nice,
)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_the_site_file(tmp_path: Path) -> None:
    tls = tmp_path / "tls"
    tls.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(tls / "privkey.pem"), "-out", str(tls / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    for sub in ("logs", "static", "nginx-temp"):
        (tmp_path / sub).mkdir()
    site = tmp_path / "site.conf"
    site.write_text(
        render_nginx_site(
            https_port=44300,
            http_port=8080,
            app_port=8001,
            cert_dir=tls,
            static_root=tmp_path / "static",
            log_dir=tmp_path / "logs",
        )
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_main_conf(tmp_path, site, user_root=os.getuid() == 0))
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_site_file_refuses_a_changed_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prodstack

    changed = tmp_path / "qinghe.conf"
    changed.write_text(prodstack.NGINX_SITE.read_text().replace("listen 80;", "listen 81;"))
    monkeypatch.setattr(prodstack, "NGINX_SITE", changed)
    with pytest.raises(RuntimeError, match="listen 80;"):
        render_nginx_site(
            https_port=1,
            http_port=2,
            app_port=3,
            cert_dir=tmp_path,
            static_root=tmp_path,
            log_dir=tmp_path,
        )


def test_the_task_worker_runs_below_the_web_workers_priority(tmp_path: Path) -> None:
    """The unit's Nice= is what the production stack and the load test start the worker at."""
    assert unit_nice() == 10
    assert unit_nice(ROOT / "deploy" / "systemd" / "qinghe-web.service") == 0
    other = tmp_path / "other.service"
    other.write_text("[Service]\nNice=5\nExecStart=/bin/true\n")
    assert unit_nice(other) == 5


def test_the_task_worker_runs_under_sched_idle(tmp_path: Path) -> None:
    """The unit's CPUSchedulingPolicy=idle is what the stack and the load test start it with."""
    assert unit_idle() is True
    assert unit_idle(ROOT / "deploy" / "systemd" / "qinghe-web.service") is False
    other = tmp_path / "other.service"
    other.write_text("[Service]\nCPUSchedulingPolicy=batch\nExecStart=/bin/true\n")
    assert unit_idle(other) is False
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.sched_getscheduler(0) == os.SCHED_IDLE)"],
        preexec_fn=run_idle,  # noqa: PLW1509
        capture_output=True,
        text=True,
        check=True,
    )
    assert child.stdout.strip() == "True"
    idle = subprocess.run(
        ["chrt", "--idle", "0", sys.executable, "-c", "import os; print(os.sched_getscheduler(0))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(idle.stdout) == os.SCHED_IDLE


def test_the_task_workers_database_backends_below_the_pages(tmp_path: Path) -> None:
    """The unit asks for its PostgreSQL backends at nice 19 (qinghe/core/dbpriority.py) and
    grants only the capability that needs; the stack and the load test pass the same
    environment."""
    unit = ROOT / "deploy" / "systemd" / "qinghe-worker.service"
    assert unit_environment() == {"QINGHE_DB_BACKEND_NICE": "19", "QINGHE_DB_BACKEND_IDLE": "1"}
    lines = unit.read_text().splitlines()
    assert "AmbientCapabilities=CAP_SYS_NICE" in lines
    assert "CapabilityBoundingSet=CAP_SYS_NICE" in lines
    assert "QINGHE_DB_BACKEND_NICE" not in unit_environment(
        ROOT / "deploy" / "systemd" / "qinghe-web.service"
    )
    scheduler = ROOT / "deploy" / "systemd" / "qinghe-scheduler.service"
    assert unit_environment(scheduler) == {"QINGHE_DB_BACKEND_NICE": "10"}
    assert (unit_nice(scheduler), unit_idle(scheduler)) == (10, False)
    assert "CapabilityBoundingSet=CAP_SYS_NICE" in scheduler.read_text().splitlines()
    other = tmp_path / "x.service"
    other.write_text("[Service]\nEnvironment=A=1\nEnvironment=DJANGO_SETTINGS_MODULE=x\n")
    assert unit_environment(other) == {"A": "1"}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is missing")
def test_systemd_units_verify(tmp_path: Path) -> None:
    venv = (ROOT / ".venv").resolve()
    units = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
    assert {u.name for u in units} == {
        "qinghe-web.service",
        "qinghe-worker.service",
        "qinghe-outbox.service",
        "qinghe-scheduler.service",
    }
    (tmp_path / "qinghe.env").write_text("")
    for unit in units:
        text = (
            unit.read_text()
            .replace("/srv/qinghe/.venv", str(venv))
            .replace("/srv/qinghe", str(ROOT))
            .replace("/etc/qinghe/qinghe.env", str(tmp_path / "qinghe.env"))
        )
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", *[str(tmp_path / u.name) for u in units]],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "qinghe" not in result.stderr, result.stderr


def test_the_background_services_give_way_as_whole_cgroups() -> None:
    """SCHED_IDLE and Nice= rank a process only inside its own group; the units also set the
    weight of their service's cgroup, which the stack and the load test stand in for."""
    systemd = ROOT / "deploy" / "systemd"
    assert unit_cpu_weight() == "idle"
    assert unit_cpu_weight(systemd / "qinghe-scheduler.service") == "10"
    assert unit_cpu_weight(systemd / "qinghe-web.service") == "400"
    assert unit_cpu_weight(systemd / "qinghe-outbox.service") is None


def test_cpu_group_writes_the_controllers_files(tmp_path: Path) -> None:
    """cgroup v1 first (shares out of 1024), then v2 (weight out of 100, only where the root
    hands the cpu controller down); None where neither is there."""
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir()
    v2.mkdir()
    (v2 / "cgroup.procs").write_text("")
    (v2 / "cgroup.subtree_control").write_text("memory pids\n")
    assert cpu_group("g", "idle", v1=v1, v2=v2) is None
    assert list(v1.iterdir()) == []
    assert sorted(p.name for p in v2.iterdir()) == ["cgroup.procs", "cgroup.subtree_control"]

    (v2 / "cgroup.subtree_control").write_text("cpu memory pids\n")
    group = cpu_group("g", "10", v1=v1, v2=v2)
    assert group == v2 / "g"
    assert (group / "cpu.weight").read_text() == "10"
    idle = cpu_group("h", "idle", v1=v1, v2=v2)
    assert idle == v2 / "h"
    assert (idle / "cpu.idle").read_text() == "1"

    (v1 / "cgroup.procs").write_text("")
    group = cpu_group("g", "10", v1=v1, v2=v2)
    assert group == v1 / "g"
    assert (group / "cpu.shares").read_text() == "102"
    assert (cpu_group("w", "1", v1=v1, v2=v2) / "cpu.shares").read_text() == "10"
    assert cpu_group("bad", "lots", v1=v1, v2=v2) is None
    assert not (v1 / "bad").exists()
    assert not (v2 / "bad").exists()


def test_a_child_runs_in_an_idle_cpu_group_from_its_start() -> None:
    """On this machine's kernel, where a cpu controller is writable (root): the child is in the
    group before it runs, the kernel marks the group idle, and the group goes once it is empty."""
    group = cpu_group(f"qinghe-test-{os.getpid()}", "idle")
    if group is None:
        pytest.skip("no writable cpu cgroup here")
    try:
        assert (group / "cpu.idle").read_text().strip() == "1"
        child = subprocess.run(
            [sys.executable, "-c", "print(open('/proc/self/cgroup').read())"],
            preexec_fn=lambda: join_group(group),  # noqa: PLW1509
            capture_output=True,
            text=True,
            check=True,
        )
        lines = [line for line in child.stdout.splitlines() if line.endswith(f"/{group.name}")]
        assert len(lines) == 1
        assert (group / "cgroup.procs").read_text() == ""
    finally:
        remove_group(group)
    assert not group.exists()
