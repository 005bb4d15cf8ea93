"""Records, runbooks and rules for the change unit tests (plain values, no store)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.changes import workflow
from orchestrator.changes.model import (
    ChangeDraft,
    ChangePlan,
    ChangeRecord,
    ChangeType,
    FreezePeriod,
    Risk,
    Role,
    Scope,
    Window,
)
from orchestrator.changes.plan import runbook_plan
from orchestrator.changes.rules import ChangeRules
from orchestrator.runbook.model import ChangePolicy, Runbook, RunbookKind, Step, StepKind, Strategy

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
HOSTS = ("h1", "h2", "h3")

RULES = ChangeRules(
    roles={
        "alice": frozenset({Role.OPERATOR}),
        "dave": frozenset({Role.OPERATOR}),
        "bob": frozenset({Role.CHANGE_MANAGER}),
        "carol": frozenset({Role.CHANGE_MANAGER}),
        "erin": frozenset({Role.CHANGE_MANAGER, Role.OPERATOR}),
        "root": frozenset({Role.ADMIN}),
        "audrey": frozenset({Role.AUDITOR}),
    }
)


def book(
    name: str = "patch-web",
    *,
    mutates: bool = True,
    change: ChangePolicy = ChangePolicy.REQUIRED,
    command: str = "apt-get -y upgrade",
    batch: int | None = None,
) -> Runbook:
    kind = RunbookKind.PATCH if mutates else RunbookKind.INSPECTION
    return Runbook(
        name=name,
        kind=kind,
        change=change,
        targets="linux",
        steps=(Step(name="do", kind=StepKind.COMMAND, action=command, line=7),),
        mutates=mutates,
        strategy=Strategy(batch=batch),
    )


def inspection(name: str = "daily-inspection") -> Runbook:
    return book(name, mutates=False, change=ChangePolicy.STANDARD, command="df -P")


def plan_for(*books: Runbook, hosts: tuple[str, ...] = HOSTS) -> ChangePlan:
    return ChangePlan(
        tuple(runbook_plan(b, hosts, [[h] for h in hosts]) for b in books), "inv.yml", NOW
    )


def draft(kind: ChangeType = ChangeType.NORMAL, **fields: Any) -> ChangeDraft:
    values: dict[str, Any] = {
        "type": kind,
        "title": "upgrade web",
        "scope": Scope(("patch-web",), "web"),
        "risk": Risk.MEDIUM,
        "purpose": "security fixes",
        "impact": "web restarts one at a time",
        "rollback": "apt-get install the previous versions",
        "verification": "the daily inspection is clean",
        "window": None if kind is ChangeType.STANDARD else Window(NOW, NOW + timedelta(hours=2)),
    }
    values.update(fields)
    return ChangeDraft(**values)


def submitted(
    kind: ChangeType = ChangeType.NORMAL,
    *,
    runbooks: tuple[Runbook, ...] | None = None,
    freezes: tuple[FreezePeriod, ...] = (),
    **fields: Any,
) -> ChangeRecord:
    books = runbooks or ((inspection(),) if kind is ChangeType.STANDARD else (book(),))
    fields.setdefault("scope", Scope(tuple(b.name for b in books), "linux"))
    record = workflow.create("CHG-20261130-001", draft(kind, **fields), "alice", NOW, RULES)
    return workflow.submit(record, "alice", NOW, RULES, plan_for(*books), freezes)


def approved(kind: ChangeType = ChangeType.NORMAL, **fields: Any) -> ChangeRecord:
    record = submitted(kind, **fields)
    record = workflow.approve(record, "bob", NOW, RULES, "ok")
    if record.state.value != "approved":
        record = workflow.approve(record, "carol", NOW, RULES, "ok too")
    return record


def freeze(start_hours: float = 1, hours: float = 24, name: str = "year-end") -> FreezePeriod:
    start = NOW + timedelta(hours=start_hours)
    return FreezePeriod(name, start, start + timedelta(hours=hours), "settlement")


def with_state(record: ChangeRecord, **changes: Any) -> ChangeRecord:
    return replace(record, **changes)
