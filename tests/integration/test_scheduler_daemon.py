"""The scheduler daemon with an injected clock against a real database and the lab.

The scheduler's clock is a ManualClock the tests move (no real minutes pass); each fire
is a real run (App.plan + App.execute on the lab's sshd hosts, real clock) under a
standard template, recorded like `orchestrator run`. Slots fire at their time; paused
schedules do not; a slot missed while the daemon was down runs once on restart within
its misfire grace and is recorded as missed beyond it; a mutating schedule outside its
change window is refused by the gate (audited, no connection opened)."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrator.app import App
from orchestrator.changes.model import ChangeDraft, ChangeType, Risk, Scope, Window
from orchestrator.clock import ManualClock
from orchestrator.notify.dispatch import Notifier
from orchestrator.scheduler.daemon import Daemon
from orchestrator.scheduler.firing import Identity
from orchestrator.scheduler.service import SchedulerService
from orchestrator.settings import Settings, load_settings
from orchestrator.store.schedules import Fire, FireStatus
from tests.conftest import Lab
from tests.integration.test_run_lab import Listener

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI_2AM = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)  # 2026-06-02 02:00 Asia/Shanghai
SETTINGS = """\
allow_user_override = true
scheduler_lease = {lease}
scheduler_poll = {poll}
{extra}
[roles]
ops = ["operator"]
lead = ["change-manager"]
"""
UPTIME = """\
name: uptime-check
description: one read-only command (scheduler tests)
kind: inspection
change: standard
targets: linux
steps:
  - name: uptime
    command: cat /proc/uptime
"""
SLOW = UPTIME.replace("uptime-check", "slow-check").replace("cat /proc/uptime", "sleep 2")
TOUCH = """\
name: touch-marker
kind: custom
change: required
targets: all
steps:
  - name: change something
    command: "true"
"""
SCHEDULE = """\
  - name: {name}
    runbook: {runbook}
    cron: "{cron}"
    limit: {limit}
    misfire_grace: {grace}
    notify: {notify}
"""


@dataclass
class Bench:
    """A lab-backed orchestrator setup (settings, runbooks, schedules.yml) and a clock."""

    root: Path
    lab: Lab
    clock: ManualClock
    db_url: str = ""
    extra_settings: str = ""  # e.g. a [notify] table
    lease: float = 30.0
    poll: float = 1.0
    env: dict[str, str] = field(default_factory=dict)

    @property
    def schedules_file(self) -> Path:
        return self.root / "schedules.yml"

    def settings(self) -> Settings:
        path = self.root / "orchestrator.toml"
        text = SETTINGS.format(lease=self.lease, poll=self.poll, extra=self.extra_settings)
        if not path.exists() or path.read_text() != text:  # daemon processes may be reading it
            path.with_suffix(".tmp").write_text(text)
            path.with_suffix(".tmp").replace(path)
        return load_settings(path, env=self.env)

    def app(self, user: str = "ops") -> App:
        return App(self.settings(), operator=user)

    def write_schedules(self, *entries: dict[str, Any]) -> None:
        body = "".join(
            SCHEDULE.format(
                **{
                    "runbook": "uptime-check",
                    "cron": "0 2 * * *",
                    "limit": "h1",
                    "grace": "1h",
                    "notify": "never",
                    **entry,
                }
            )
            + (f"    change: {entry['change']}\n" if "change" in entry else "")
            for entry in entries
        )
        self.schedules_file.write_text("timezone: Asia/Shanghai\nschedules:\n" + body)

    def template(self, runbook: str, targets: str = "all") -> str:
        ops = self.app("ops")
        draft = ChangeDraft(
            ChangeType.STANDARD,
            f"{runbook} (scheduler tests)",
            Scope((runbook,), targets),
            risk=Risk.LOW,
            purpose="scheduled runs",
        )
        change_id = ops.changes.create(draft, "ops").id
        ops.changes.submit(change_id, "ops", ops.change_plan(change_id))
        self.app("lead").changes.approve(change_id, "lead", "ok")
        return change_id

    def service(self, notifier: Notifier | None = None) -> SchedulerService:
        app = self.app()
        return SchedulerService(
            app,
            clock=self.clock,
            identity=Identity.of_this_process("ops"),
            notifier=notifier or Notifier(app.settings.notify, self.clock),
            app_factory=lambda: App(app.settings, operator="ops", database=app.database),
        )

    def daemon(self, notifier: Notifier | None = None) -> Daemon:
        return self.service(notifier).daemon(workers=0)

    def at(self, moment: datetime) -> None:
        self.clock.advance((moment - self.clock.now()).total_seconds())


def make_bench(lab: Lab, root: Path, db_url: str = "") -> Bench:
    books = root / "books"
    books.mkdir(parents=True, exist_ok=True)
    (books / "uptime-check.yml").write_text(UPTIME)
    (books / "touch-marker.yml").write_text(TOUCH)
    (books / "slow-check.yml").write_text(SLOW)
    shutil.copy(ROOT / "runbooks" / "daily-inspection.yml", books)
    env = {
        "ORCH_INVENTORY": str(lab.inventory),
        "ORCH_KNOWN_HOSTS": str(lab.known_hosts),
        "ORCH_DATA_DIR": str(root / "var"),
        "ORCH_RUNBOOKS": str(books),
        "ORCH_SCHEDULES": str(root / "schedules.yml"),
        "ORCH_REPORT_LANG": "en",
    }
    if db_url:
        env["ORCH_DB_URL"] = db_url
    return Bench(root, lab, ManualClock(SHANGHAI_2AM - timedelta(minutes=1)), db_url, env=env)


@pytest.fixture
def bench(lab: Lab, tmp_path: Path) -> Bench:
    made = make_bench(lab, tmp_path)
    made.template("uptime-check")
    return made


def fires(bench: Bench, name: str) -> list[Fire]:
    return list(reversed(bench.service().store.fires(name)))


def runs_of(bench: Bench, name: str) -> list[Any]:
    return [r for r in bench.app().runs.list(limit=100) if r.runbook == name]


def test_schedules_fire_at_their_slots_through_the_gate(bench: Bench) -> None:
    bench.write_schedules({"name": "uptime"})
    daemon = bench.daemon()
    assert daemon.step()  # leader; schedules.yml synced on taking the lead
    assert fires(bench, "uptime") == []
    bench.clock.advance(59)
    daemon.step()
    assert fires(bench, "uptime") == []  # 01:59:59: not yet
    bench.clock.advance(1)
    daemon.step()  # 02:00:00
    bench.clock.advance(30)
    daemon.step()  # the same slot is not fired twice
    bench.at(SHANGHAI_2AM + timedelta(days=1, seconds=5))
    daemon.step()
    got = fires(bench, "uptime")
    assert [f.slot for f in got] == [SHANGHAI_2AM, SHANGHAI_2AM + timedelta(days=1)]
    assert [f.status for f in got] == [FireStatus.SUCCEEDED] * 2
    record = bench.app().runs.get(got[0].run_id or "")
    assert record.trigger == "schedule"
    assert record.options["schedule"] == "uptime"
    assert record.options["slot"] == SHANGHAI_2AM.isoformat()
    assert record.gate_policy == "standard template"
    assert [h.host for h in record.result.hosts] == ["h1"]
    audit = bench.app().audit.entries(subject="schedule:uptime")
    assert [e.details["status"] for e in audit if e.action == "schedule.fire"] == ["succeeded"] * 2
    daemon.shutdown()


def test_paused_schedules_do_not_fire_and_resume_at_the_next_slot(bench: Bench) -> None:
    bench.write_schedules({"name": "a"}, {"name": "b"})
    daemon = bench.daemon()
    daemon.step()
    bench.service().pause("a")
    bench.service().sync()  # a sync does not undo a pause
    bench.at(SHANGHAI_2AM)
    daemon.step()
    assert fires(bench, "a") == []
    assert [f.status for f in fires(bench, "b")] == [FireStatus.SUCCEEDED]
    bench.at(SHANGHAI_2AM + timedelta(minutes=30))
    service = bench.service()
    service.resume("a")  # the 02:00 slot that fell while paused is not made up
    daemon.step()
    assert fires(bench, "a") == []
    assert service.next_fires("a", 1)[0][1] == [SHANGHAI_2AM + timedelta(days=1)]
    bench.at(SHANGHAI_2AM + timedelta(days=1))
    daemon.step()
    assert [f.slot for f in fires(bench, "a")] == [SHANGHAI_2AM + timedelta(days=1)]
    actions = [e.action for e in bench.app().audit.entries(subject="schedule:a")]
    assert actions[:2] == ["schedule.pause", "schedule.resume"]
    daemon.shutdown()


def test_a_slot_missed_while_down_runs_once_on_restart_within_grace(bench: Bench) -> None:
    bench.write_schedules({"name": "uptime", "grace": "1h"})
    first = bench.daemon()
    first.step()  # leads at 01:59, then dies without releasing its lease
    bench.at(SHANGHAI_2AM + timedelta(minutes=40))
    restarted = bench.daemon()
    assert restarted.step()  # the dead daemon's lease (30 s) has expired: taken over
    another = bench.daemon()
    assert not another.step()  # a third one stands by
    bench.clock.advance(60)
    restarted.step()
    got = fires(bench, "uptime")
    assert [(f.slot, f.status) for f in got] == [(SHANGHAI_2AM, FireStatus.SUCCEEDED)]
    assert got[0].holder == restarted.identity.holder
    assert len(runs_of(bench, "uptime-check")) == 1
    leaders = [
        e for e in bench.app().audit.entries(subject="scheduler") if e.action == "scheduler.leader"
    ]
    assert leaders[-1].details["previous"] == first.identity.holder
    restarted.shutdown()
    # after a clean shutdown the standby need not wait for the lease to expire
    assert another.step()
    another.shutdown()


@pytest.mark.parametrize(
    ("grace", "ran"),
    [("1h", None), ("2h", SHANGHAI_2AM + timedelta(days=2))],
)
def test_slots_missed_beyond_grace_are_recorded_as_missed(
    bench: Bench, grace: str, ran: datetime | None
) -> None:
    bench.write_schedules({"name": "uptime", "grace": grace})
    bench.daemon().step()  # leads at 01:59 of day 1, then dies
    bench.at(SHANGHAI_2AM + timedelta(days=2, minutes=90))  # day 3, 03:30
    daemon = bench.daemon()
    daemon.step()
    got = {f.slot: f for f in fires(bench, "uptime")}
    slots = [SHANGHAI_2AM + timedelta(days=d) for d in range(3)]
    assert sorted(got) == slots  # every slot has exactly one outcome
    for slot in slots:
        expected = FireStatus.SUCCEEDED if slot == ran else FireStatus.MISSED
        assert got[slot].status is expected, slot
    assert "misfire_grace" in got[slots[0]].detail
    assert len(runs_of(bench, "uptime-check")) == (1 if ran else 0)
    missed = [
        e
        for e in bench.app().audit.entries(subject="schedule:uptime")
        if e.action == "schedule.missed"
    ]
    assert len(missed) == 1
    job = bench.service().jobs.get("uptime")
    assert job is not None
    assert job.next_run_time == SHANGHAI_2AM + timedelta(days=3)
    daemon.shutdown()


def test_a_mutating_schedule_outside_its_window_is_refused_and_audited(
    lab: Lab, tmp_path: Path
) -> None:
    trap = Listener()
    try:
        bench = make_bench(lab, tmp_path)
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(
            f"all:\n  hosts:\n    trap1:\n      ansible_host: 127.0.0.1\n"
            f"      ansible_port: {trap.port}\n"
        )
        bench.env["ORCH_INVENTORY"] = str(inventory)
        change_id = normal_change(bench, start=timedelta(hours=2), end=timedelta(hours=3))
        bench.write_schedules(
            {"name": "touch", "runbook": "touch-marker", "limit": "all", "change": change_id}
        )
        daemon = bench.daemon()
        daemon.step()
        bench.at(SHANGHAI_2AM)
        daemon.step()
        daemon.shutdown()
    finally:
        trap.close()
    assert trap.accepted == 0  # no connection was opened
    (fire,) = fires(bench, "touch")
    assert fire.status is FireStatus.REFUSED
    assert "window opens" in fire.detail
    app = bench.app()
    record = app.runs.get(fire.run_id or "")
    assert record.status.value == "refused"
    assert record.trigger == "schedule"
    refusals = [e for e in app.audit.entries(subject=change_id) if e.action == "gate.refused"]
    assert refusals
    assert "window opens" in refusals[-1].details["reason"]
    (entry,) = [
        e for e in app.audit.entries(subject="schedule:touch") if e.action == "schedule.fire"
    ]
    assert entry.details["status"] == "refused"
    assert app.changes.get(change_id).state.value == "approved"  # not used up


def test_a_mutating_schedule_fires_inside_its_window_once(lab: Lab, tmp_path: Path) -> None:
    bench = make_bench(lab, tmp_path)
    change_id = normal_change(
        bench, start=timedelta(minutes=-1), end=timedelta(hours=1), targets="h1"
    )
    bench.write_schedules(
        {"name": "touch", "runbook": "touch-marker", "limit": "h1", "change": change_id}
    )
    daemon = bench.daemon()
    daemon.step()
    bench.at(SHANGHAI_2AM)
    daemon.step()
    bench.at(SHANGHAI_2AM + timedelta(days=1))
    daemon.step()
    daemon.shutdown()
    got = fires(bench, "touch")
    assert [f.status for f in got] == [FireStatus.SUCCEEDED, FireStatus.REFUSED]
    assert "completed" in got[1].detail  # one approval covers one run
    assert bench.app().changes.get(change_id).state.value == "completed"


def normal_change(bench: Bench, *, start: timedelta, end: timedelta, targets: str = "all") -> str:
    """An approved normal change for touch-marker; its window is relative to real time."""
    ops = bench.app("ops")
    now = datetime.now(UTC)
    draft = ChangeDraft(
        ChangeType.NORMAL,
        "scheduled touch",
        Scope(("touch-marker",), targets),
        risk=Risk.LOW,
        purpose="test",
        impact="none",
        rollback="none needed",
        verification="look",
        window=Window(now + start, now + end),
    )
    change_id = ops.changes.create(draft, "ops").id
    ops.changes.submit(change_id, "ops", ops.change_plan(change_id))
    bench.app("lead").changes.approve(change_id, "lead", "ok")
    return change_id


def test_sync_adds_updates_removes_and_keeps_pending_slots(bench: Bench) -> None:
    bench.write_schedules(
        {"name": "keep"},
        {"name": "edit"},
        {"name": "drop"},
        {"name": "ghost", "runbook": "no-such-book"},
    )
    service = bench.service()
    report = service.sync()
    assert sorted(report.added) == ["drop", "edit", "keep"]
    assert report.skipped[0][0] == "ghost"
    assert "no-such-book" in report.skipped[0][1]
    bench.at(SHANGHAI_2AM + timedelta(minutes=10))  # keep's 02:00 slot is due, not yet fired
    bench.write_schedules(
        {"name": "keep", "notify": "failed"},
        {"name": "edit", "cron": "30 3 * * *"},
        {"name": "touch", "runbook": "touch-marker"},  # mutating without a change: skipped
    )
    report = service.sync()
    assert (report.updated, report.removed) == (["keep", "edit"], ["drop"])
    assert report.skipped == [
        ("touch", report.skipped[0][1]),
    ]
    assert "needs `change: CHG-…`" in report.skipped[0][1]
    keep, edit = service.jobs.get("keep"), service.jobs.get("edit")
    assert keep is not None
    assert edit is not None
    assert keep.next_run_time == SHANGHAI_2AM  # still owed: an edit does not lose it
    assert edit.next_run_time == SHANGHAI_2AM + timedelta(hours=1, minutes=30)
    assert service.jobs.get("drop") is None
    assert service.store.get("drop") is None


def test_a_slot_due_while_its_previous_fire_runs_is_skipped_and_shutdown_aborts(
    bench: Bench,
) -> None:
    bench.template("slow-check")
    bench.write_schedules({"name": "slow", "runbook": "slow-check", "cron": "* * * * *"})
    daemon = bench.service().daemon(workers=2)
    daemon.step()
    bench.at(SHANGHAI_2AM)
    daemon.step()  # 02:00 starts in a worker and takes two seconds
    bench.clock.advance(60)
    daemon.step()  # 02:01 is due while 02:00 still runs: max_instances=1
    daemon.drain()
    bench.clock.advance(60)
    daemon.step()  # 02:02 starts ...
    deadline = time.monotonic() + 30  # (in a worker: wait until its run exists, else the
    while len(runs_of(bench, "slow-check")) < 2:  # shutdown cancels it before it started)
        assert time.monotonic() < deadline, "the 02:02 fire did not start"
        time.sleep(0.05)
    daemon.shutdown()  # ... and is stopped like `run` on Ctrl-C
    got = fires(bench, "slow")
    assert [f.status for f in got] == [
        FireStatus.SUCCEEDED,
        FireStatus.SKIPPED,
        FireStatus.ABORTED,
    ]
    assert "max_instances=1" in got[1].detail
    assert bench.app().runs.get(got[2].run_id or "").status.value == "aborted"
    lease = bench.service().leases.current("scheduler")
    assert lease is not None
    assert not lease.valid_at(bench.clock.now())  # released on shutdown
