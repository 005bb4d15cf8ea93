"""Two scheduler daemons — two real processes — against one database (SQLite, PostgreSQL):
each slot runs exactly once; kill -9 the leader and the standby takes over within the
lease time. And the real `orchestrator scheduler run` command: standby, clean SIGTERM
(lease released, so the standby takes over at once), bad schedules.yml refused.

The daemon processes use a clock that runs 30× faster than real time (both computed
from the same origin), so a cron slot every minute comes every two real seconds; runs
themselves use the real clock and the lab's h1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrator.app import App
from orchestrator.scheduler.service import SchedulerService
from orchestrator.settings import load_settings
from orchestrator.store.leases import Lease
from orchestrator.store.schedules import FireStatus
from tests.conftest import Lab
from tests.integration.test_scheduler_daemon import Bench, make_bench
from tests.integration.test_scheduler_store import db_url, scheduler_pg_url

pytestmark = [pytest.mark.lab, pytest.mark.slow]
__all__ = ["db_url", "scheduler_pg_url"]  # fixtures used here

ROOT = Path(__file__).resolve().parents[2]
FACTOR = 30.0  # simulated seconds per real second
LEASE = 90.0  # simulated: 3 real seconds
POLL = 3.0  # simulated: 0.1 real seconds
SIM_ORIGIN = datetime(2026, 6, 1, 17, 55, tzinfo=UTC)


class ScaledClock:
    """Real time sped up by ``factor`` from a shared origin (so two processes agree)."""

    def __init__(self, real_origin: float, sim_origin: datetime, factor: float) -> None:
        self.real_origin, self.sim_origin, self.factor = real_origin, sim_origin, factor

    def now(self) -> datetime:
        return self.sim_origin + timedelta(seconds=self.monotonic())

    def monotonic(self) -> float:
        return (time.time() - self.real_origin) * self.factor

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0) / self.factor)


def child(settings_path: str, real_origin: float) -> None:
    """A daemon process: the real SchedulerService and Daemon, on the scaled clock."""
    settings = load_settings(Path(settings_path))
    app = App(settings, operator="ops")
    clock = ScaledClock(real_origin, SIM_ORIGIN, FACTOR)
    service = SchedulerService(
        app,
        clock=clock,
        app_factory=lambda: App(settings, operator="ops", database=app.database),
    )
    daemon = service.daemon(workers=2)
    signal.signal(signal.SIGTERM, lambda *_: daemon.stop.set())
    daemon.run(pause=lambda seconds: daemon.stop.wait(seconds / FACTOR))


def settings_for(bench: Bench) -> Path:
    bench.lease, bench.poll = LEASE, POLL
    bench.settings()
    return bench.root / "orchestrator.toml"


def spawn(bench: Bench, settings: Path, real_origin: float, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **bench.env, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, __file__, str(settings), repr(real_origin)],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def lease_of(bench: Bench) -> Lease | None:
    return SchedulerService(bench.app()).status().lease


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_daemons_fire_each_slot_once_and_the_standby_takes_over(
    lab: Lab, tmp_path: Path, db_url: str
) -> None:
    bench = make_bench(lab, tmp_path, db_url if db_url.startswith("postgresql") else "")
    settings = settings_for(bench)
    bench.template("uptime-check")
    bench.write_schedules({"name": "minutely", "cron": "* * * * *", "grace": "2m"})
    origin = time.time()
    daemons = [spawn(bench, settings, origin, tmp_path / f"d{i}.log") for i in range(2)]
    try:
        first = wait_for(lambda: lease_of(bench), 30, "a leader")
        time.sleep(8)  # about four slots under the first leader
        leader = next(p for p in daemons if p.pid == first.pid)
        standby = next(p for p in daemons if p is not leader)
        leader.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        leader.wait(10)
        took = wait_for(
            lambda: (lease := lease_of(bench)) is not None and lease.pid == standby.pid,
            30,
            "the standby to take over",
        )
        takeover = time.monotonic() - killed
        assert took
        assert takeover <= LEASE / FACTOR + 1.0, takeover  # within the lease (+ poll, slack)
        time.sleep(8)  # about four slots under the new leader
        standby.send_signal(signal.SIGTERM)
        assert standby.wait(30) == 0
    finally:
        for process in daemons:
            if process.poll() is None:
                process.kill()
                process.wait()
    logs = "".join((tmp_path / f"d{i}.log").read_text() for i in range(2))
    check_each_slot_once(bench, first.holder, logs)


def check_each_slot_once(bench: Bench, first_holder: str, logs: str) -> None:
    service = SchedulerService(bench.app())
    fires = sorted(service.store.fires("minutely", limit=None), key=lambda f: f.slot)
    slots = [f.slot for f in fires]
    assert len(slots) >= 6, logs
    # every minute from the first slot to the last has exactly one outcome: no gap, no twin
    expected = [slots[0] + timedelta(minutes=i) for i in range(len(slots))]
    assert slots == expected, logs
    holders = {f.holder for f in fires}
    assert first_holder in holders
    assert len(holders) == 2, holders  # both daemons fired, one after the other
    runs = [r for r in bench.app().runs.list(limit=200) if r.runbook == "uptime-check"]
    per_slot = Counter(bench.app().runs.get(r.id).options["slot"] for r in runs)
    assert per_slot, logs
    assert max(per_slot.values()) == 1  # no slot ran twice
    ran = {f.slot.isoformat() for f in fires if f.run_id}
    assert set(per_slot) == ran
    statuses = Counter(f.status for f in fires)
    assert statuses[FireStatus.SUCCEEDED] >= 4, statuses
    assert set(statuses) <= {
        FireStatus.SUCCEEDED,
        FireStatus.MISSED,  # the slots coalesced during the takeover
        FireStatus.INTERRUPTED,  # a run the leader was killed in the middle of
        FireStatus.SKIPPED,  # a slow run still going at the next slot (max_instances=1)
        FireStatus.ABORTED,  # the run going on when the survivor got SIGTERM
    }, statuses
    leaders = [
        e for e in bench.app().audit.entries(subject="scheduler") if e.action == "scheduler.leader"
    ]
    assert leaders[-1].details["previous"] == first_holder


# --- the real command -----------------------------------------------------------------------


def orch_daemon(bench: Bench, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **bench.env, "ORCH_CONFIG": str(bench.root / "orchestrator.toml")}
    env["ORCH_USER"] = "ops"
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "scheduler", "run"],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def status_json(bench: Bench) -> dict[str, Any]:
    env = {**os.environ, **bench.env, "ORCH_CONFIG": str(bench.root / "orchestrator.toml")}
    env["ORCH_USER"] = "ops"
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "scheduler", "status", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_the_scheduler_command_stands_by_and_stops_cleanly(lab: Lab, tmp_path: Path) -> None:
    bench = make_bench(lab, tmp_path)
    bench.settings()  # writes orchestrator.toml (lease 30 s)
    bench.write_schedules({"name": "daily"})
    first = orch_daemon(bench, tmp_path / "a.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_for(
            lambda: (status_json(bench)["leader"] or {}).get("pid") == first.pid, 60, "A leads"
        )
        second = orch_daemon(bench, tmp_path / "b.log")
        time.sleep(2)
        status = status_json(bench)
        assert status["leader"]["pid"] == first.pid  # B stands by
        assert [s["name"] for s in status["schedules"]] == ["daily"]  # synced by the leader
        assert status["schedules"][0]["next"] is not None
        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0
        stopped = time.monotonic()
        # A released its lease: B takes over long before the 30 s lease would expire
        wait_for(lambda: (status_json(bench)["leader"] or {}).get("pid") == second.pid, 20, "B")
        assert time.monotonic() - stopped < 15
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    assert not status_json(bench)["leader"]["active"]
    log_a = (tmp_path / "a.log").read_text()
    assert "is the leader" in log_a
    assert "stopped" in log_a
    actions = [e.action for e in bench.app().audit.entries(subject="scheduler")]
    assert actions.count("scheduler.leader") == 2
    assert actions.count("scheduler.stop") == 2


def test_a_bad_schedules_file_stops_the_daemon_with_file_and_line(lab: Lab, tmp_path: Path) -> None:
    bench = make_bench(lab, tmp_path)
    bench.settings()
    bench.schedules_file.write_text(
        "schedules:\n  - name: daily\n    runbook: uptime-check\n    cron: '0 25 * * *'\n"
    )
    proc = orch_daemon(bench, tmp_path / "bad.log")
    assert proc.wait(60) == 2
    out = (tmp_path / "bad.log").read_text()
    assert f"{bench.schedules_file}:4: schedules[0].cron" in out


if __name__ == "__main__":
    child(sys.argv[1], float(sys.argv[2]))
