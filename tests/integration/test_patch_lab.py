"""Patch rollouts against real hosts: the shipped patch-packages runbooks over the patch lab
(13 healthy sshd hosts, a local apt repo with labapp 1.0-1.3, lab reboots with new boot ids).

The tests run in file order on one lab and build on each other's end state, as an operator's
successive maintenance windows would:
  ansible variant h1,h2 -> 1.1;  rolling patch all -> 1.2 (reboots);  1.3 fails on two hosts
  (threshold, rollback to 1.2);  1.3 again, killed after the canary, resumed;  a rollout
  holding its hosts while backups run.
Every run goes through the real gate under a normal change requested by ops, approved by lead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from orchestrator.app import App
from orchestrator.engine.results import RunStatus, Status
from orchestrator.settings import load_settings
from tests.conftest import Lab
from tests.integration import patch_lab
from tests.integration.patch_lab import apt_runs, boot_ids, labapp_versions, on_host
from tests.integration.test_run_lab import ROOT, approve_template

pytestmark = pytest.mark.lab

DONE = (Status.OK, Status.CHANGED)
SETTINGS = """\
allow_user_override = true
[roles]
ops = ["operator"]
lead = ["change-manager"]
"""


@dataclass
class Desk:
    """An operator's shell: the patch lab's inventory, a data dir, a runbook dir."""

    lab: Lab
    env: dict[str, str]
    books: Path
    started: list[subprocess.Popen[str]] = field(default_factory=list)

    def orch(
        self, *args: str, user: str = "ops", timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "orchestrator", *args],
            env={**self.env, "ORCH_USER": user},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        """A run in the background; killed when the test ends (a failed test must not leave
        a rollout patching the next test's hosts)."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestrator", *args],
            env={**self.env, "ORCH_USER": "ops"},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.started.append(proc)
        return proc

    def kill_started(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=30)
        self.started.clear()

    def book(self, shipped: str, packages: str, pause: str = "1s", name: str = "") -> str:
        """A copy of a shipped runbook with `packages` set (as the operator edits it before
        requesting the change) and a short pause; returns its name."""
        text = (ROOT / "runbooks" / f"{shipped}.yml").read_text()
        name = name or shipped
        edited = (
            text.replace("  packages: []", f"  packages: {packages}", 1)
            .replace("  pause: 10s", f"  pause: {pause}", 1)
            .replace(f"name: {shipped}\n", f"name: {name}\n", 1)
        )
        assert edited.count(f"packages: {packages}") == 1
        (self.books / f"{name}.yml").write_text(edited)
        return name

    def approved_change(self, runbook: str, title: str) -> str:
        created = self.orch(
            "change", "create", "--title", title, "-r", runbook, "--targets", "all",
            "--risk", "low", "--start", "now", "--end", "+2h",
            "--purpose", "patch the lab", "--impact", "labapp restarts; hosts may reboot",
            "--implementation", "rolling, canary first", "--rollback", "snapshot versions",
            "--verification", "post-checks", "--submit",
        )  # fmt: skip
        assert created.returncode == 0, created.stdout + created.stderr
        change_id = created.stdout.split()[1]
        approved = self.orch("change", "approve", change_id, "-m", "ok", user="lead")
        assert approved.returncode == 0, approved.stdout + approved.stderr
        return change_id

    def record(self, run_id: str = "last") -> dict[str, Any]:
        proc = self.orch("runs", "show", run_id, "--json")
        assert proc.returncode == 0, proc.stderr
        data: dict[str, Any] = json.loads(proc.stdout)
        return data

    def change_state(self, change_id: str) -> str:
        proc = self.orch("change", "list", "--json")
        assert proc.returncode == 0, proc.stderr
        return str(next(c["state"] for c in json.loads(proc.stdout) if c["id"] == change_id))


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip("the patch lab needs root (network namespaces)")
    yield from patch_lab.patch_lab()


@pytest.fixture(scope="module")
def desk(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Desk:
    home = tmp_path_factory.mktemp("patch-desk")
    (home / "books").mkdir()
    (home / "orchestrator.toml").write_text(SETTINGS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCH_")}
    env.update(
        ORCH_CONFIG=str(home / "orchestrator.toml"),
        ORCH_DATA_DIR=str(home / "data"),
        ORCH_RUNBOOKS=str(home / "books"),
        ORCH_INVENTORY=str(lab.inventory),
        ORCH_KNOWN_HOSTS=str(lab.known_hosts),
        COLUMNS="200",
    )
    return Desk(lab, env, home / "books")


@pytest.fixture(autouse=True)
def _no_stray_runs(desk: Desk) -> Iterator[None]:
    yield
    desk.kill_started()


def statuses(record: dict[str, Any]) -> dict[str, str]:
    return {h["host"]: h["status"] for h in record["hosts"]}


def evidence(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {h["host"]: h for h in record["meta"]["patch"]["hosts"]}


def test_ansible_variant_upgrades_through_the_apt_module(desk: Desk, lab: Lab) -> None:
    book = desk.book("patch-packages-ansible", '["labapp=1.1"]')
    change = desk.approved_change(book, "labapp 1.1 on h1, h2 (ansible)")
    proc = desk.orch("run", book, "--change", change, "--limit", "h1:h2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    record = desk.record()
    assert record["status"] == "succeeded"
    assert statuses(record) == {"h1": "changed", "h2": "changed"}
    versions = labapp_versions(lab)
    assert (versions["h1"], versions["h2"], versions["h3"]) == ("1.1", "1.1", "1.0")
    found = evidence(record)["h1"]
    assert {"package": "labapp", "before": "1.0", "after": "1.1"} in found["packages"], found
    assert found["failures"] == [], found
    assert found["checks"], found


def test_rolling_patch_canary_batches_reboots_and_evidence(desk: Desk, lab: Lab) -> None:
    book = desk.book("patch-packages", '["labapp=1.2"]')
    change = desk.approved_change(book, "labapp 1.2 everywhere")
    plan = json.loads(desk.orch("run", book, "--change", change, "--dry-run", "--json").stdout)
    sizes = [len(b) for b in plan["batches"]]
    assert sizes == [1, 4, 4, 4]  # canary 1, then 25% of 13 rounded up
    booted = boot_ids(lab)

    proc = desk.orch("run", book, "--change", change)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    record = desk.record()
    assert record["status"] == "succeeded"
    assert set(statuses(record).values()) == {"changed"}
    assert set(labapp_versions(lab).values()) == {"1.2"}  # dpkg on every host says so
    # labapp 1.2 asks for a reboot: every host really went down and came back
    after = boot_ids(lab)
    assert all(after[h] != booted[h] for h in booted), (booted, after)
    batches = record["meta"]["rollout"]["batches"]
    assert [b["hosts"] for b in batches] == plan["batches"]
    assert not record["meta"]["rollout"]["stopped"]
    for host, found in evidence(record).items():
        before = "1.1" if host in ("h1", "h2") else "1.0"
        assert {"package": "labapp", "before": before, "after": "1.2"} in found["packages"]
        assert found["rebooted"] is True, found
        assert found["boot_time"], found
    assert desk.change_state(change) == "completed"
    report = desk.orch("report", "run", "last", "--format", "md", "--lang", "en", "-o", "-")
    assert report.returncode == 0, report.stderr
    assert "labapp 1.0 → 1.2" in report.stdout
    assert "labapp 1.1 → 1.2" in report.stdout


def test_failing_package_trips_the_threshold_and_rolls_back(desk: Desk, lab: Lab) -> None:
    book = desk.book("patch-packages", '["labapp=1.3"]')
    change = desk.approved_change(book, "labapp 1.3 everywhere")
    plan = json.loads(desk.orch("run", book, "--change", change, "--dry-run", "--json").stdout)
    canary, second, *later = plan["batches"]
    broken = second[:2]  # labapp 1.3's postinst fails where /etc/labapp.broken exists
    for host in broken:
        on_host(lab, host, "touch /etc/labapp.broken")
    runs_before = apt_runs(lab)

    proc = desk.orch("run", book, "--change", change)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    record = desk.record()
    assert record["status"] == "rolled_back", record["reason"]
    assert "40.0% > max_fail_percent 10%" in record["reason"]
    hosts = statuses(record)
    changed = [canary[0], *second]
    assert all(hosts[h] == "rolled_back" for h in changed), hosts
    not_started = [h for batch in later for h in batch]
    assert all(hosts[h] == "skipped" for h in not_started), hosts
    # no further batch started: those hosts saw no apt run at all
    runs_after = apt_runs(lab)
    assert all(runs_after[h] == runs_before[h] for h in not_started)
    # every changed host is back at its snapshot version, dpkg consistent ("ii")
    assert set(labapp_versions(lab).values()) == {"1.2"}
    for host in changed:
        found = evidence(record)[host]
        assert found["rollback"]
        assert all(r["status"] != "failed" for r in found["rollback"])
        row = next(p for p in found["packages"] if p["package"] == "labapp")
        assert (row["before"], row["rolled_back"]) == ("1.2", "1.2"), row
    assert all(evidence(record)[h]["failures"] for h in broken)
    assert desk.change_state(change) == "rolled_back"
    for host in broken:
        on_host(lab, host, "rm /etc/labapp.broken")


def test_killed_rollout_resumes_without_touching_finished_hosts(desk: Desk, lab: Lab) -> None:
    book = desk.book("patch-packages", '["labapp=1.3"]', pause="8s")
    change = desk.approved_change(book, "labapp 1.3, second attempt")
    plan = json.loads(desk.orch("run", book, "--change", change, "--dry-run", "--json").stdout)
    canary = plan["batches"][0][0]
    proc = desk.start("run", book, "--change", change)
    run_id = _wait_for_finished_host(desk, canary, proc)
    proc.send_signal(signal.SIGKILL)  # during the pause after the canary
    proc.wait(timeout=10)
    killed = desk.record(run_id)
    finished = {h for h, s in statuses(killed).items() if s in ("ok", "changed")}
    assert finished == {canary}, statuses(killed)
    runs_before = apt_runs(lab)

    resumed = desk.orch("run", "--resume", run_id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    record = desk.record(run_id)
    assert record["status"] == "succeeded"
    assert set(labapp_versions(lab).values()) == {"1.3"}
    runs_after = apt_runs(lab)
    assert runs_after[canary] == runs_before[canary]  # not touched twice
    assert all(runs_after[h] > runs_before[h] for h in runs_before if h != canary)
    assert len(record["meta"]["rollout"]["resumed"]) == 1
    assert desk.change_state(change) == "completed"


def _wait_for_finished_host(desk: Desk, host: str, proc: subprocess.Popen[str]) -> str:
    """The id of the run ``proc`` started, once ``host`` has finished in it (read from the
    store in-process: a CLI call per poll would be slower than the pause we aim at)."""
    store = App(load_settings(Path(desk.env["ORCH_CONFIG"]), env=desk.env), operator="ops").runs
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        running = store.list(limit=1, status=RunStatus.RUNNING)
        if running:
            record = store.get(running[0].id)
            if any(h.host == host and h.status in DONE for h in record.result.hosts):
                return running[0].id
        time.sleep(0.2)
    raise AssertionError(f"{host} did not finish within 120 s")


def test_backups_skip_or_wait_for_hosts_a_rollout_holds(desk: Desk, lab: Lab) -> None:
    # A rollout that changes nothing (no security updates pending) but holds its hosts:
    # exclusive leases per batch, kept until the rollout ends.
    book = desk.book("patch-packages", "[]", pause="6s", name="patch-security")
    change = desk.approved_change(book, "security updates")
    backup = (ROOT / "runbooks" / "config-backup.yml").read_text()
    for mode in ("skip", "wait"):
        strategy = f"strategy:\n  forks: 20\n  on_locked: {mode}\n  lock_wait: 5m\n"
        text = backup.replace("strategy:\n  forks: 20\n", strategy, 1)
        text = text.replace("name: config-backup\n", f"name: backup-{mode}\n", 1)
        assert f"on_locked: {mode}" in text
        assert f"name: backup-{mode}" in text
        (desk.books / f"backup-{mode}.yml").write_text(text)
        approve_template(desk.env, f"backup-{mode}")
    plan = json.loads(desk.orch("run", book, "--change", change, "--dry-run", "--json").stdout)
    canary = plan["batches"][0][0]

    rollout = desk.start("run", book, "--change", change)
    _wait_for_finished_host(desk, canary, rollout)  # the canary is held; later batches not yet
    skipping = desk.orch("run", "backup-skip", "--limit", "linux")
    assert skipping.returncode == 0, skipping.stdout + skipping.stderr
    waiting = desk.start("run", "backup-wait", "--limit", canary)
    out, err = rollout.communicate(timeout=300)
    assert rollout.returncode == 0, out + err
    w_out, w_err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, w_out + w_err

    listed = reversed(json.loads(desk.orch("runs", "list", "--json").stdout))
    records = {r["runbook"]: r for r in listed}  # the newest run of each runbook
    skipped = desk.record(records["backup-skip"]["id"])
    held = statuses(skipped)
    assert held[canary] == "skipped", held
    why = next(h["error"] for h in skipped["hosts"] if h["host"] == canary)
    assert records["patch-security"]["id"] in why, why
    assert "patch-security" in why, why
    assert any(s == "ok" for s in held.values())  # hosts not yet in a batch were backed up
    waited = desk.record(records["backup-wait"]["id"])
    assert statuses(waited) == {canary: "ok"}
    assert waited["started"] < records["patch-security"]["ended"] < waited["ended"]
    assert waited["meta"]["host_locks"], waited["meta"]
