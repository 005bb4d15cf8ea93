"""Change records in the database (SQLite and PostgreSQL): ids, the lifecycle with its
evidence, refusals audited, the run's claim, freezes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest

from orchestrator.changes.model import (
    ChangeDraft,
    ChangePlan,
    ChangeRefused,
    ChangeState,
    ChangeType,
    FreezePeriod,
    Risk,
    Role,
    Scope,
    Window,
)
from orchestrator.changes.plan import runbook_plan
from orchestrator.changes.rules import ChangeRules
from orchestrator.clock import ManualClock
from orchestrator.errors import NotFoundError
from orchestrator.runbook.model import ChangePolicy, Runbook, RunbookKind, Step, StepKind
from orchestrator.store.audit import AuditLog
from orchestrator.store.changes import ChangeStore
from orchestrator.store.db import Database

RULES = ChangeRules(
    roles={
        "alice": frozenset({Role.OPERATOR}),
        "bob": frozenset({Role.CHANGE_MANAGER}),
        "carol": frozenset({Role.CHANGE_MANAGER}),
    }
)
BOOK = Runbook(
    "patch-web",
    RunbookKind.PATCH,
    ChangePolicy.REQUIRED,
    "web",
    (Step("upgrade", StepKind.COMMAND, "apt-get -y upgrade"),),
    mutates=True,
)
INSPECT = Runbook(
    "daily-inspection",
    RunbookKind.INSPECTION,
    ChangePolicy.STANDARD,
    "all",
    (Step("df", StepKind.COMMAND, "df -P"),),
)


@pytest.fixture
def changes(database: Database, clock: ManualClock) -> ChangeStore:
    return ChangeStore(database, AuditLog(database, clock), clock, RULES)


def plan(clock: ManualClock, book: Runbook = BOOK) -> ChangePlan:
    hosts = ("web01", "web02")
    return ChangePlan((runbook_plan(book, hosts, [hosts]),), "hosts.yml", clock.now())


def draft(clock: ManualClock, **fields: object) -> ChangeDraft:
    values: dict[str, object] = {
        "type": ChangeType.NORMAL,
        "title": "upgrade web",
        "scope": Scope(("patch-web",), "web"),
        "risk": Risk.HIGH,
        "purpose": "fixes",
        "impact": "rolling restarts",
        "rollback": "downgrade",
        "verification": "inspection",
        "window": Window(clock.now(), clock.now() + timedelta(hours=2)),
    }
    values.update(fields)
    return ChangeDraft(**values)  # type: ignore[arg-type]


def test_ids_follow_the_local_date(changes: ChangeStore, clock: ManualClock) -> None:
    # clock: 2026-03-01 09:00 UTC = 17:00 in Asia/Shanghai
    assert changes.create(draft(clock), "alice").id == "CHG-20260301-001"
    assert changes.create(draft(clock), "alice").id == "CHG-20260301-002"
    clock.advance(7.5 * 3600)  # 00:30 on 2 March in Shanghai, still 1 March in UTC
    assert changes.create(draft(clock), "alice").id == "CHG-20260302-001"


def test_concurrent_creates_get_distinct_ids(changes: ChangeStore, clock: ManualClock) -> None:
    with ThreadPoolExecutor(6) as pool:
        ids = list(pool.map(lambda _: changes.create(draft(clock), "alice").id, range(12)))
    assert sorted(ids) == [f"CHG-20260301-{n:03d}" for n in range(1, 13)]
    assert changes.audit.verify().ok


def test_the_lifecycle_is_persisted_with_its_evidence(
    changes: ChangeStore, clock: ManualClock
) -> None:
    record = changes.create(draft(clock), "alice")
    changes.submit(record.id, "alice", plan(clock))
    clock.advance(60)
    changes.approve(record.id, "bob", "looks right")
    assert changes.get(record.id).state is ChangeState.SUBMITTED  # high risk: one more
    changes.approve(record.id, "carol", "ok")
    stored = changes.get(record.id)
    assert stored.state is ChangeState.APPROVED
    assert [(a.by, a.comment) for a in stored.approvals] == [
        ("bob", "looks right"),
        ("carol", "ok"),
    ]
    assert stored.hosts == ("web01", "web02")
    assert stored.plan is not None
    assert stored.plan.runbooks[0].steps[0].action == "apt-get -y upgrade"
    assert stored.window == record.window
    history = changes.history(record.id)
    assert [e.action for e in history] == [
        "change.create",
        "change.submit",
        "change.approve",
        "change.approve",
    ]
    assert history[-1].details["from"] == "submitted"
    assert history[-1].details["to"] == "approved"
    assert changes.list(states=[ChangeState.APPROVED])[0].id == record.id
    assert changes.list(states=[ChangeState.SUBMITTED]) == []


def test_a_refusal_is_audited_and_changes_nothing(changes: ChangeStore, clock: ManualClock) -> None:
    record = changes.create(draft(clock), "bob")  # bob: a change-manager requesting
    changes.submit(record.id, "bob", plan(clock))
    with pytest.raises(ChangeRefused, match="requester ≠ approver"):
        changes.approve(record.id, "bob")
    assert changes.get(record.id).decisions == ()
    last = changes.history(record.id)[-1]
    assert last.action == "change.refused"
    assert last.actor == "bob"
    assert last.details["operation"] == "approve"
    assert "requester" in last.details["reason"]


def test_unknown_ids(changes: ChangeStore) -> None:
    assert changes.find("CHG-20990101-001") is None
    with pytest.raises(NotFoundError, match="no change record"):
        changes.approve("CHG-20990101-001", "bob")


def test_one_run_claims_an_approved_change(changes: ChangeStore, clock: ManualClock) -> None:
    record = changes.create(draft(clock, risk=Risk.LOW), "alice")
    changes.submit(record.id, "alice", plan(clock))
    changes.approve(record.id, "bob")
    assert changes.claim(record.id, "run-1", "alice", clock.now()) is None
    second = changes.claim(record.id, "run-2", "alice", clock.now())
    assert second is not None
    assert "in_progress" in second
    stored = changes.get(record.id)
    assert (stored.state, stored.run_id) == (ChangeState.IN_PROGRESS, "run-1")

    changes.run_finished(
        run_id="run-1",
        change_id=record.id,
        state=ChangeState.FAILED,
        outcome="run run-1 aborted: gate refused batch 2: window closed",
        actor="alice",
        details={"status": "aborted"},
    )
    ended = changes.get(record.id)
    assert ended.state is ChangeState.FAILED
    assert "window closed" in ended.outcome
    actions = [e.action for e in changes.history(record.id)]
    assert actions[-4:] == ["change.start", "change.refused", "run.end", "change.finish"]


def test_an_interrupted_run_fails_its_change(changes: ChangeStore, clock: ManualClock) -> None:
    record = changes.create(draft(clock, risk=Risk.LOW), "alice")
    changes.submit(record.id, "alice", plan(clock))
    changes.approve(record.id, "bob")
    changes.claim(record.id, "run-9", "alice", clock.now())
    changes.run_interrupted("run-9", "alice", "its process is gone")
    ended = changes.get(record.id)
    assert ended.state is ChangeState.FAILED
    assert "interrupted" in ended.outcome


def test_templates_are_found_by_runbook_name_or_path(
    changes: ChangeStore, clock: ManualClock
) -> None:
    scope = Scope(("books/daily-inspection.yml",), "all")
    record = changes.create(
        draft(clock, type=ChangeType.STANDARD, scope=scope, window=None, risk=Risk.LOW), "alice"
    )
    assert changes.templates_for("daily-inspection") == []  # not approved yet
    changes.submit(record.id, "alice", plan(clock, INSPECT))
    changes.approve(record.id, "bob")
    assert [t.id for t in changes.templates_for("daily-inspection")] == [record.id]
    assert changes.templates_for("patch-web") == []
    changes.revoke(record.id, "bob", "retired")
    assert changes.templates_for("daily-inspection") == []


def test_freezes(changes: ChangeStore, clock: ManualClock) -> None:
    record = changes.create(draft(clock, risk=Risk.LOW), "alice")
    changes.submit(record.id, "alice", plan(clock))
    changes.approve(record.id, "bob")
    with pytest.raises(ChangeRefused, match="alice may not declare"):
        changes.add_freeze("x", clock.now(), clock.now() + timedelta(days=1), "", "alice")
    start = clock.now() + timedelta(hours=1)
    period, notes = changes.add_freeze(
        "cutover", start, start + timedelta(days=1), "核心割接", "bob"
    )
    assert period.id is not None
    assert any("short notice" in n for n in notes)
    assert any(record.id in n for n in notes)
    settings_freeze = FreezePeriod(
        "year-end", start + timedelta(days=30), start + timedelta(days=40)
    )
    with_settings = ChangeStore(
        changes.db, changes.audit, changes.clock, replace(RULES, freezes=(settings_freeze,))
    )
    assert [f.name for f in with_settings.freezes()] == ["cutover", "year-end"]
    removed = changes.remove_freeze(period.id, "bob", "postponed")
    assert removed.name == "cutover"
    assert changes.stored_freezes() == []
    with pytest.raises(NotFoundError):
        changes.remove_freeze(period.id, "bob")
    actions = [e.action for e in changes.audit.entries()]
    assert "freeze.add" in actions
    assert "freeze.remove" in actions
    assert changes.audit.verify().ok
