"""End-to-end: the `orchestrator` command against the lab (real sshd hosts, fakenos devices,
ansible-runner) with SQLite and PostgreSQL — what a new user sees."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.app import App
from orchestrator.changes.model import ChangeDraft, ChangeType, Risk, Scope
from orchestrator.settings import load_settings
from tests.conftest import Lab

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "runbooks"
# The lab's change desk: "ops" runs runbooks, "lead" approves (ORCH_USER picks who acts).
SETTINGS = """\
allow_user_override = true
[roles]
ops = ["operator"]
lead = ["change-manager"]
"""


def orch_env(lab: Lab, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCH_")}
    settings = data_dir / "orchestrator.toml"
    if not settings.exists():
        settings.write_text(SETTINGS)
    env.update(
        ORCH_INVENTORY=str(lab.inventory),
        ORCH_KNOWN_HOSTS=str(lab.known_hosts),
        ORCH_DATA_DIR=str(data_dir),
        ORCH_RUNBOOKS=str(ROOT / "runbooks"),
        ORCH_CONFIG=str(settings),
        ORCH_USER="ops",
        COLUMNS="200",
    )
    env.update(extra)
    return env


def approve_template(env: dict[str, str], runbook: str, targets: str = "all") -> str:
    """Every run needs a change record: a standard template for a read-only runbook,
    requested by ops and approved by lead (as `orchestrator change template ...` would)."""
    settings = load_settings(Path(env["ORCH_CONFIG"]), env=env)
    ops = App(settings, operator="ops")
    draft = ChangeDraft(
        ChangeType.STANDARD,
        f"{Path(runbook).stem} (integration tests)",
        Scope((runbook,), targets),
        risk=Risk.LOW,
        purpose="lab integration tests",
    )
    change_id = ops.changes.create(draft, "ops").id
    ops.changes.submit(change_id, "ops", ops.change_plan(change_id))
    App(settings, operator="lead").changes.approve(change_id, "lead", "ok")
    return change_id


def orch(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_json(env: dict[str, str], run_id: str = "last") -> dict[str, Any]:
    proc = orch(env, "runs", "show", run_id, "--json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def hosts_by_name(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {h["host"]: h for h in record["hosts"]}


def checks_of(host: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for s in host["steps"] for c in s["checks"]}


def assert_daily_inspection(lab: Lab, record: dict[str, Any]) -> None:
    hosts = hosts_by_name(record)
    critical = {x["name"] for x in lab.hosts + lab.devices if x["criticality"] == "critical"}
    assert set(hosts) == critical
    assert len(hosts) >= 10
    for name, host in hosts.items():
        assert host["status"] in {"ok", "unreachable"}, (name, host["status"])
    for down in lab.hosts_in_state("unreachable"):
        assert hosts[down["name"]]["status"] == "unreachable"
        assert "refused" in hosts[down["name"]]["error"].lower()
    for full in lab.hosts_in_state("full_disk"):
        check = checks_of(hosts[full["name"]])["filesystem used /"]
        assert check["grade"] == "critical"
        assert check["value"] >= 90
    for stopped in lab.hosts_in_state("service_stopped"):
        assert checks_of(hosts[stopped["name"]])["process running cron"]["grade"] == "critical"
    healthy = [h["name"] for h in lab.hosts_in_state("healthy") if h["name"] in hosts]
    assert healthy
    for name in healthy:
        grades = {c["grade"] for c in checks_of(hosts[name]).values()}
        assert "critical" not in grades, (name, checks_of(hosts[name]))
    assert record["status"] == "failed"  # an unreachable host fails the run, as data


def test_daily_inspection_over_the_lab_sqlite(lab: Lab, tmp_path: Path) -> None:
    env = orch_env(lab, tmp_path)
    template = approve_template(env, "daily-inspection")
    proc = orch(env, "run", "daily-inspection")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "unreachable" in proc.stdout
    record = run_json(env)
    assert_daily_inspection(lab, record)
    assert record["change_id"] == template  # found by runbook and hosts, no --change needed
    # full output files exist and match their checksums; `runs output` verifies them
    step = hosts_by_name(record)["h3"]["steps"][2]
    path = tmp_path / "output" / step["output"]["path"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == step["output"]["sha256"]
    shown = orch(env, "runs", "output", "last", "h3", "3")
    assert shown.returncode == 0
    assert "Mounted on" in shown.stdout
    path.write_text(path.read_text() + "tampered\n")
    tampered = orch(env, "runs", "output", "last", "h3", "3")
    assert tampered.returncode == 2
    assert "altered" in tampered.stderr
    assert (tmp_path / "orchestrator.db").exists()


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    import sqlalchemy

    name = f"orch_it_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = sqlalchemy.make_url(postgres_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_daily_inspection_over_the_lab_postgresql(
    lab: Lab, tmp_path: Path, pg_database: str
) -> None:
    env = orch_env(lab, tmp_path, ORCH_DB_URL=pg_database)
    approve_template(env, "daily-inspection")
    proc = orch(env, "run", "daily-inspection")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_daily_inspection(lab, run_json(env))
    assert not (tmp_path / "orchestrator.db").exists()


def test_all_three_transports_in_one_run(lab: Lab, tmp_path: Path) -> None:
    env = orch_env(lab, tmp_path)
    approve_template(env, str(DATA / "lab" / "mixed-transports.yml"))
    proc = orch(env, "run", str(DATA / "lab" / "mixed-transports.yml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hosts = hosts_by_name(run_json(env))
    assert set(hosts) == {"h1", "h2", "sw1", "sw3", "sw4"}
    h1 = {s["name"]: s for s in hosts["h1"]["steps"]}
    assert h1["kernel"]["status"] == "ok"
    assert h1["ansible ping"]["status"] == "ok"
    assert "h1" in h1["ansible command"]["stdout"]
    assert h1["echo registered"]["stdout"].strip() == h1["kernel"]["stdout"].strip()
    assert h1["ios version"]["status"] == "skipped"
    sw1 = {s["name"]: s for s in hosts["sw1"]["steps"]}
    assert sw1["ios version"]["status"] == "ok"
    assert "Cisco" in sw1["ios version"]["stdout"]
    assert sw1["kernel"]["status"] == "skipped"  # command steps are for linux hosts
    sw4 = {s["name"]: s for s in hosts["sw4"]["steps"]}
    assert sw4["vrp version"]["status"] == "ok"
    assert "VRP" in sw4["vrp version"]["stdout"]


def test_step_timeout_is_recorded_and_the_host_goes_on(lab: Lab, tmp_path: Path) -> None:
    env = orch_env(lab, tmp_path)
    approve_template(env, str(DATA / "lab" / "timeouts.yml"))
    started = time.monotonic()
    proc = orch(env, "run", str(DATA / "lab" / "timeouts.yml"))
    assert time.monotonic() - started < 25
    assert proc.returncode == 1
    steps = hosts_by_name(run_json(env))["h1"]["steps"]
    assert [s["status"] for s in steps] == ["timeout", "ok"]
    assert steps[1]["stdout"].strip() == "after"


class Listener:
    """A TCP server on loopback that counts connection attempts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.mark.parametrize(
    ("runbook", "line", "fragment"),
    [
        ("bad-yaml.yml", ":5", "invalid YAML"),
        ("unknown-key.yml", ":7", "comand"),
        ("undefined-var.yml", ":7", "no_such_variable"),
        ("bad-threshold.yml", ":10", "crit"),
    ],
)
def test_invalid_runbook_is_refused_with_file_line_and_nothing_connects(
    lab: Lab, tmp_path: Path, runbook: str, line: str, fragment: str
) -> None:
    trap = Listener()
    try:
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(
            f"all:\n  hosts:\n    trap:\n      ansible_host: 127.0.0.1\n"
            f"      ansible_port: {trap.port}\n"
        )
        env = orch_env(lab, tmp_path, ORCH_INVENTORY=str(inventory))
        path = DATA / "lab-invalid" / runbook
        proc = orch(env, "run", str(path))
        time.sleep(0.3)
    finally:
        trap.close()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{path}{line}" in proc.stderr
    assert fragment in proc.stderr
    assert "nothing was run" in proc.stderr
    assert trap.accepted == 0
    assert orch(env, "runs", "list").stdout.count(runbook.removesuffix(".yml")) == 0


def test_unknown_host_key_is_refused_unless_trusted(lab: Lab, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    env = orch_env(lab, tmp_path, ORCH_KNOWN_HOSTS=str(known))
    approve_template(env, "daily-inspection")
    proc = orch(env, "run", "daily-inspection", "--limit", "h1:h5")
    assert proc.returncode == 1
    hosts = hosts_by_name(run_json(env))
    for name in ("h1", "h5"):
        assert hosts[name]["status"] == "unreachable"
        assert "host key" in hosts[name]["error"].lower()
        assert "--trust-new-host-keys" in hosts[name]["error"]
    assert known.read_text() == ""

    proc = orch(env, "run", "daily-inspection", "--limit", "h1:h5", "--trust-new-host-keys")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    trusted = run_json(env)
    assert {h["status"] for h in trusted["hosts"]} == {"ok"}
    evidence = trusted["meta"]["trusted_host_keys"]
    assert sorted(e["host"] for e in evidence) == ["h1", "h5"]
    audit = App(load_settings(Path(env["ORCH_CONFIG"]), env=env), operator="lead").audit
    trusts = [e for e in audit.entries() if e.action == "hostkey.trust"]
    assert sorted(e.subject for e in trusts) == ["host:h1", "host:h5"]
    assert all(e.actor == "ops" and e.details["fingerprint"].startswith("SHA256:") for e in trusts)
    assert all(e["fingerprint"].startswith("SHA256:") for e in evidence)
    recorded = known.read_text()
    assert lab.host("h1")["address"] in recorded
    assert lab.host("h5")["address"] in recorded
    # now known: accepted without the flag
    assert orch(env, "run", "daily-inspection", "--limit", "h1").returncode == 0


def test_changed_host_key_is_refused_even_with_trust(lab: Lab, tmp_path: Path) -> None:
    lines = lab.known_hosts.read_text().splitlines()
    other = next(line for line in lines if line.startswith(lab.host("h2")["name"] + ","))
    wrong_key = " ".join(other.split()[1:])
    h1 = lab.host("h1")
    known = tmp_path / "known_hosts"
    known.write_text(f"{h1['name']},{h1['address']} {wrong_key}\n")
    env = orch_env(lab, tmp_path, ORCH_KNOWN_HOSTS=str(known))
    approve_template(env, "daily-inspection")
    proc = orch(env, "run", "daily-inspection", "--limit", "h1", "--trust-new-host-keys")
    assert proc.returncode == 1
    host = hosts_by_name(run_json(env))["h1"]
    assert host["status"] == "unreachable"
    assert "host key" in host["error"].lower()


def test_mutating_runbook_is_refused_by_the_gate_and_recorded(lab: Lab, tmp_path: Path) -> None:
    env = orch_env(lab, tmp_path)
    proc = orch(env, "run", str(DATA / "lab" / "patch-something.yml"))
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "no change id" in proc.stderr
    record = run_json(env)
    assert record["status"] == "refused"
    assert record["hosts"] == []
    marker = Path(lab.dir) / "hosts" / "h1" / "upper" / "tmp" / "changed-by-orchestrator"
    assert not marker.exists()


def test_dry_run_shows_plan_and_records_nothing(lab: Lab, tmp_path: Path) -> None:
    env = orch_env(lab, tmp_path)
    template = approve_template(env, "daily-inspection")
    proc = orch(env, "run", "daily-inspection", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["gate"]["allowed"] is True
    assert plan["gate"]["change_id"] == template
    assert len(plan["hosts"]) >= 10
    assert plan["batches"] == [[h["name"] for h in plan["hosts"]]]
    assert "daily-inspection" not in orch(env, "runs", "list").stdout


def _wait_for_finished_hosts(env: dict[str, str], count: int, deadline: float) -> str:
    while time.monotonic() < deadline:
        proc = orch(env, "runs", "show", "last", "--json")
        if proc.returncode == 0:
            record = json.loads(proc.stdout)
            done = [h for h in record["hosts"] if h["status"] not in ("running",)]
            if len(done) >= count:
                return str(record["id"])
        time.sleep(0.5)
    raise AssertionError(f"fewer than {count} hosts finished in time")


def test_sigkill_mid_run_leaves_an_interrupted_record_with_finished_hosts(
    lab: Lab, tmp_path: Path
) -> None:
    env = orch_env(lab, tmp_path)
    approve_template(env, str(DATA / "lab" / "slow-hosts.yml"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", str(DATA / "lab" / "slow-hosts.yml")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run_id = _wait_for_finished_hosts(env, 2, time.monotonic() + 60)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    record = run_json(env, run_id)
    assert record["status"] == "interrupted"
    assert "died" in record["reason"]
    statuses = [h["status"] for h in record["hosts"]]
    assert statuses.count("ok") >= 2
    assert set(statuses) <= {"ok", "interrupted"}
    finished = [h for h in record["hosts"] if h["status"] == "ok"]
    assert all(len(h["steps"]) == 2 for h in finished)
    listed = orch(env, "runs", "list").stdout
    assert run_id in listed
    assert "interrupted" in listed


def test_sigint_aborts_cleanly_with_exit_4(lab: Lab, tmp_path: Path) -> None:
    env = orch_env(lab, tmp_path)
    approve_template(env, str(DATA / "lab" / "slow-hosts.yml"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", str(DATA / "lab" / "slow-hosts.yml")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_finished_hosts(env, 1, time.monotonic() + 60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 4, out + err
    record = run_json(env)
    assert record["status"] == "aborted"
    statuses = {h["status"] for h in record["hosts"]}
    assert "ok" in statuses
    assert statuses <= {"ok", "skipped", "interrupted"}
