"""Change records end to end: every gate refusal exits 3, opens no connection (a trap
listener stands in for the targets) and leaves an audit entry; an approved change runs
on the lab and moves with its run; a window that closes mid-run stops it between
batches. Setup goes through the App (fast); what is under test goes through the CLI."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.app import App
from orchestrator.changes.model import ChangeDraft, ChangeType, Risk, Scope, Window
from orchestrator.clock import Clock, ManualClock
from orchestrator.settings import load_settings
from orchestrator.store.audit import AuditEntry
from tests.conftest import Lab
from tests.integration.test_run_lab import Listener, orch, orch_env

pytestmark = pytest.mark.lab

SETTINGS = """\
allow_user_override = true
[roles]
alice = ["operator"]
bob = ["change-manager"]
carol = ["change-manager"]
erin = ["operator", "change-manager"]
"""
TOUCH = """\
name: {name}
kind: custom
change: required
targets: all
strategy: {{batch: 1}}
steps:
  - name: change something
    command: "{command}"
"""


@dataclass
class Desk:
    """A change desk over a temporary store: users, settings, runbooks, an inventory."""

    env: dict[str, str]
    settings: Path

    def app(self, user: str, clock: Clock | None = None) -> App:
        return App(load_settings(self.settings, env=self.env), operator=user, clock=clock)

    def orch(self, user: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return orch({**self.env, "ORCH_USER": user}, *args, timeout=timeout)

    def change(
        self,
        *,
        kind: ChangeType = ChangeType.NORMAL,
        runbook: str = "touch-marker",
        targets: str = "all",
        risk: Risk = Risk.LOW,
        start: timedelta = timedelta(minutes=-1),
        end: timedelta = timedelta(hours=1),
        reason: str = "",
        approvers: tuple[str, ...] = ("bob",),
        requester: str = "alice",
        clock: Clock | None = None,
    ) -> str:
        """A submitted change, approved by ``approvers`` (times relative to the clock)."""
        app = self.app(requester, clock)
        now = app.clock.now()
        draft = ChangeDraft(
            type=kind,
            title=f"{runbook} on {targets}",
            scope=Scope((runbook,), targets),
            risk=risk,
            purpose="test",
            impact="none",
            rollback="none needed",
            verification="look",
            window=Window(now + start, now + end),
            emergency_reason=reason,
        )
        change_id = app.changes.create(draft, requester).id
        app.changes.submit(change_id, requester, app.change_plan(change_id))
        for user in approvers:
            self.app(user, clock).changes.approve(change_id, user, "ok")
        return change_id

    def audit(self, subject: str) -> list[AuditEntry]:
        return self.app("carol").audit.entries(subject=subject)

    def state(self, change_id: str) -> str:
        return self.app("carol").changes.get(change_id).state.value


def make_desk(lab: Lab, tmp_path: Path, inventory: Path | None = None) -> Desk:
    books = tmp_path / "books"
    books.mkdir(exist_ok=True)
    (books / "touch-marker.yml").write_text(TOUCH.format(name="touch-marker", command="true"))
    (books / "touch-other.yml").write_text(TOUCH.format(name="touch-other", command="true"))
    settings = tmp_path / "orchestrator.toml"
    settings.write_text(SETTINGS)
    env = orch_env(lab, tmp_path, ORCH_CONFIG=str(settings), ORCH_RUNBOOKS=str(books))
    if inventory is not None:
        env["ORCH_INVENTORY"] = str(inventory)
    return Desk(env, settings)


@pytest.fixture
def trap() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


@pytest.fixture
def desk(lab: Lab, tmp_path: Path, trap: Listener) -> Desk:
    """Targets trap1 and trap2 are the trap listener: any connection attempt is counted."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n"
        + "".join(
            f"    {name}:\n      ansible_host: 127.0.0.1\n      ansible_port: {trap.port}\n"
            for name in ("trap1", "trap2")
        )
    )
    return make_desk(lab, tmp_path, inventory)


def assert_refused(
    desk: Desk, trap: Listener, proc: subprocess.CompletedProcess[str], subject: str, why: str
) -> None:
    time.sleep(0.3)  # a connection attempt would have reached the trap by now
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert why in proc.stderr, proc.stderr
    assert trap.accepted == 0
    refusals = [e for e in desk.audit(subject) if e.action.endswith("refused")]
    assert refusals, desk.audit(subject)
    assert why in refusals[-1].details["reason"]


def run(desk: Desk, user: str, *args: str) -> subprocess.CompletedProcess[str]:
    return desk.orch(user, "run", "touch-marker", *args)


# --- every refusal ------------------------------------------------------------------------


def test_refused_without_a_change_id(desk: Desk, trap: Listener) -> None:
    proc = run(desk, "alice")
    assert_refused(desk, trap, proc, "runbook:touch-marker", "no change id")
    listed = desk.orch("alice", "runs", "list").stdout
    assert "refused" in listed  # the refusal is a recorded run too


def test_refused_with_an_unknown_change_id(desk: Desk, trap: Listener) -> None:
    proc = run(desk, "alice", "--change", "CHG-20990101-001")
    assert_refused(desk, trap, proc, "CHG-20990101-001", "unknown change id")


def test_refused_when_not_approved(desk: Desk, trap: Listener) -> None:
    change_id = desk.change(approvers=())
    assert_refused(desk, trap, run(desk, "alice", "--change", change_id), change_id, "not approved")


def test_self_approval_is_refused(desk: Desk, trap: Listener) -> None:
    change_id = desk.change(requester="erin", approvers=())
    proc = desk.orch("erin", "change", "approve", change_id)
    assert_refused(desk, trap, proc, change_id, "requester ≠ approver")
    assert desk.state(change_id) == "submitted"
    proc = run(desk, "erin", "--change", change_id)
    assert_refused(desk, trap, proc, change_id, "not approved")


def test_too_few_approvals_for_high_risk(desk: Desk, trap: Listener) -> None:
    change_id = desk.change(risk=Risk.HIGH, approvers=())
    approve = desk.orch("bob", "change", "approve", change_id, "-m", "ok")
    assert approve.returncode == 0, approve.stderr
    assert "1 of 2 approval(s) (high risk)" in approve.stdout
    proc = run(desk, "alice", "--change", change_id)
    assert_refused(desk, trap, proc, change_id, "1 of 2 approval(s) (high risk)")


def test_refused_before_the_window(desk: Desk, trap: Listener) -> None:
    change_id = desk.change(start=timedelta(hours=1), end=timedelta(hours=2))
    assert_refused(desk, trap, run(desk, "alice", "--change", change_id), change_id, "window opens")


def test_refused_after_the_window(desk: Desk, trap: Listener) -> None:
    yesterday = ManualClock(datetime.now(UTC) - timedelta(days=1))
    change_id = desk.change(clock=yesterday)
    proc = run(desk, "alice", "--change", change_id)
    assert_refused(desk, trap, proc, change_id, "window closed")


def test_refused_for_a_host_outside_the_approved_list(desk: Desk, trap: Listener) -> None:
    change_id = desk.change(targets="trap1")
    proc = run(desk, "alice", "--change", change_id, "--limit", "trap1:trap2")
    assert_refused(desk, trap, proc, change_id, "outside the approved host list")
    assert "trap2" in proc.stderr


def test_refused_for_a_runbook_outside_the_scope(desk: Desk, trap: Listener) -> None:
    change_id = desk.change()
    proc = desk.orch("alice", "run", "touch-other", "--change", change_id)
    assert_refused(desk, trap, proc, change_id, "outside the scope")


def test_refused_in_a_freeze_at_submit_and_at_run(desk: Desk, trap: Listener) -> None:
    change_id = desk.change()  # window: now .. +1h
    late = desk.change(approvers=())
    freeze = desk.orch("bob", "freeze", "add", "cutover", "--start", "+30m", "--end", "+1d")
    assert freeze.returncode == 0, freeze.stderr
    assert "short notice" in freeze.stderr
    assert change_id in freeze.stderr  # it names the approved change it now blocks
    assert_refused(desk, trap, run(desk, "alice", "--change", change_id), change_id, "freeze")
    # a draft whose window overlaps the freeze is refused at submit
    app = desk.app("alice")
    draft_id = app.changes.create(
        ChangeDraft(
            ChangeType.NORMAL,
            "later",
            Scope(("touch-marker",), "all"),
            purpose="p",
            impact="i",
            rollback="r",
            verification="v",
            window=app.changes.get(late).window,
        ),
        "alice",
    ).id
    submit = desk.orch("alice", "change", "submit", draft_id)
    assert_refused(desk, trap, submit, draft_id, "overlaps freeze 'cutover'")


def test_emergency_in_a_freeze_needs_a_reason(desk: Desk, trap: Listener) -> None:
    change_id = desk.change(kind=ChangeType.EMERGENCY, risk=Risk.HIGH)  # one approval suffices
    assert desk.state(change_id) == "approved"
    added = desk.orch("bob", "freeze", "add", "incident", "--start", "now", "--end", "+1d")
    assert added.returncode == 0, added.stderr
    proc = run(desk, "alice", "--change", change_id)
    assert_refused(desk, trap, proc, change_id, "records no reason")


# --- the real flow on the lab -------------------------------------------------------------


def test_an_approved_change_runs_and_moves_with_its_run(lab: Lab, tmp_path: Path) -> None:
    desk = make_desk(lab, tmp_path)
    created = desk.orch(
        "alice", "change", "create", "--title", "touch web", "-r", "touch-marker",
        "--targets", "h1:h2", "--risk", "high", "--start", "-1m", "--end", "+1h",
        "--purpose", "demo", "--impact", "none", "--rollback", "none needed",
        "--verification", "exit 0", "--submit",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    change_id = created.stdout.split()[1]
    assert desk.orch("bob", "change", "approve", change_id, "-m", "ok").returncode == 0
    assert desk.orch("carol", "change", "approve", change_id, "-m", "ok").returncode == 0
    shown = desk.orch("alice", "change", "show", change_id)
    assert "batch 2: h2" in shown.stdout  # the plan the approvers approved
    assert "none needed" in shown.stdout  # with its rollback plan

    proc = run(desk, "alice", "--change", change_id)  # no --limit: the approved targets
    assert proc.returncode == 0, proc.stdout + proc.stderr
    record = json.loads(desk.orch("alice", "runs", "show", "last", "--json").stdout)
    assert record["change_id"] == change_id
    assert {h["host"]: h["status"] for h in record["hosts"]} == {"h1": "ok", "h2": "ok"}
    assert desk.state(change_id) == "completed"
    again = run(desk, "alice", "--change", change_id)
    assert again.returncode == 3
    assert "completed, not approved" in again.stderr
    assert desk.orch("alice", "change", "close", change_id).returncode == 0
    actions = [e.action for e in desk.audit(change_id)]
    for expected in ("change.start", "run.start", "run.end", "change.finish", "change.close"):
        assert expected in actions
    verify = desk.orch("carol", "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert "audit log intact" in verify.stdout


def test_a_window_closing_mid_run_stops_before_the_next_batch(lab: Lab, tmp_path: Path) -> None:
    desk = make_desk(lab, tmp_path)
    books = tmp_path / "books"
    (books / "slow-batches.yml").write_text(
        TOUCH.format(name="slow-batches", command="sleep 15").replace("all", "h1:h2:h5")
    )
    # The window closes about 10 s from now: inside batch 1 (h1 sleeps 15 s).
    change_id = desk.change(runbook="slow-batches", targets="h1:h2:h5", end=timedelta(seconds=10))
    started = time.monotonic()
    proc = desk.orch("alice", "run", "slow-batches", "--change", change_id)
    assert time.monotonic() - started < 60
    assert proc.returncode == 4, proc.stdout + proc.stderr
    record = json.loads(desk.orch("alice", "runs", "show", "last", "--json").stdout)
    assert record["status"] == "aborted"
    assert record["reason"].startswith("gate refused batch 2:")
    assert "window closed" in record["reason"]
    hosts = {h["host"]: h for h in record["hosts"]}
    assert hosts["h1"]["status"] == "ok"
    for name in ("h2", "h5"):
        assert hosts[name]["status"] == "skipped"
        assert hosts[name]["error"].startswith("not started: gate refused batch 2")
        assert hosts[name]["steps"] == []
    change = desk.app("carol").changes.get(change_id)
    assert change.state.value == "failed"
    assert "window closed" in change.outcome
    phases = [e.details.get("phase") for e in desk.audit(change_id) if e.action == "gate.refused"]
    assert phases == ["batch 2"]
