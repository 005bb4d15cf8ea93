"""The real gate inside the engine, with a ManualClock and an in-memory change source:
a refusal opens no connection; a window that closes between batches stops the run
before the next batch; one approval covers one run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from orchestrator.changes import workflow
from orchestrator.changes.gate import ChangeGate
from orchestrator.changes.model import (
    ChangeRecord,
    ChangeRefused,
    ChangeState,
    ChangeType,
    FreezePeriod,
)
from orchestrator.changes.request import GateDecision, GateRequest
from orchestrator.clock import ManualClock
from orchestrator.engine.events import RunListener
from orchestrator.engine.results import RunStatus, Status
from orchestrator.engine.runner import EngineConfig, RunRequest, execute_run, plan_run
from orchestrator.errors import ChangeGateError
from orchestrator.inventory.model import Group, Host, Inventory
from orchestrator.runbook.model import Runbook, StepKind
from orchestrator.transports.base import Action, CommandResult
from tests.unit.changes.builders import NOW, RULES, approved, book, inspection

CONFIG = EngineConfig(default_forks=4, connect_timeout=1, step_timeout=5)


@dataclass
class MemorySource:
    records: dict[str, ChangeRecord]
    decisions: list[tuple[str, bool, str]] = field(default_factory=list)
    freezes: list[FreezePeriod] = field(default_factory=list)

    def find(self, change_id: str) -> ChangeRecord | None:
        return self.records.get(change_id)

    def templates_for(self, runbook: str) -> Sequence[ChangeRecord]:
        return [
            r
            for r in self.records.values()
            if r.type is ChangeType.STANDARD
            and r.state is ChangeState.APPROVED
            and runbook in r.scope.names
        ]

    def stored_freezes(self) -> Sequence[FreezePeriod]:
        return self.freezes

    def claim(self, change_id: str, run_id: str, operator: str, now: datetime) -> str | None:
        try:
            self.records[change_id] = workflow.start(self.records[change_id], run_id, now)
        except ChangeRefused as exc:
            return exc.reason
        return None

    def record_decision(self, request: GateRequest, decision: GateDecision) -> None:
        self.decisions.append((request.phase, decision.allowed, decision.reason))


@dataclass
class SlowConnection:
    host: Host
    clock: ManualClock
    minutes: float

    def run(self, action: Action, *, timeout: float) -> CommandResult:
        self.clock.advance(self.minutes * 60)  # every step takes this long
        return CommandResult(command=str(action), stdout="ok", exit_code=0)

    def close(self) -> None:
        pass


@dataclass
class SlowConnector:
    clock: ManualClock
    minutes: float
    name: str = "fake"
    connects: list[str] = field(default_factory=list)

    def connect(self, host: Host, *, timeout: float) -> SlowConnection:
        self.connects.append(host.name)
        return SlowConnection(host, self.clock, self.minutes)


def inventory() -> Inventory:
    names = ("h1", "h2", "h3")
    hosts = {
        n: Host(n, {"ansible_host": f"10.0.0.{i}"}, ("all", "linux")) for i, n in enumerate(names)
    }
    return Inventory(hosts, {"all": Group("all", ("linux",)), "linux": Group("linux", names)})


def run(
    runbook: Runbook, source: MemorySource, connector: SlowConnector, change_id: str | None
) -> tuple[object, ...]:
    gate = ChangeGate(source, RULES, lambda pattern: frozenset({"h1", "h2", "h3"}))
    request = RunRequest(runbook, change_id=change_id, operator="alice")
    plan = plan_run(request, inventory(), gate, connector.clock, CONFIG)
    connectors = dict.fromkeys(StepKind, connector)
    result = execute_run(plan, connectors, RunListener(), gate, connector.clock, CONFIG)
    return plan, result


def test_window_closing_between_batches_stops_before_the_next_batch() -> None:
    record = approved(runbooks=(book(batch=1),))  # window NOW .. NOW+2h, hosts h1-h3
    source = MemorySource({record.id: record})
    clock = ManualClock(NOW + timedelta(minutes=5))
    connector = SlowConnector(clock, minutes=70)
    _, result = run(book(batch=1), source, connector, record.id)
    assert result.status is RunStatus.ABORTED  # type: ignore[attr-defined]
    assert connector.connects == ["h1", "h2"]  # batch 3 never connected
    statuses = {h.host: h.status for h in result.hosts}  # type: ignore[attr-defined]
    assert statuses == {"h1": Status.OK, "h2": Status.OK, "h3": Status.SKIPPED}
    reason = result.reason  # type: ignore[attr-defined]
    assert reason.startswith("gate refused batch 3: ")
    assert "its window closed at 2026-11-30 12:00+0800" in reason
    phases = [(p, allowed) for p, allowed, _ in source.decisions]
    assert phases == [("plan", True), ("start", True), ("batch 2", True), ("batch 3", False)]
    assert source.records[record.id].state is ChangeState.IN_PROGRESS  # the listener ends it


def test_a_refusal_opens_no_connection_and_is_recorded() -> None:
    record = approved(runbooks=(book(batch=1),))
    source = MemorySource({record.id: record})
    connector = SlowConnector(ManualClock(NOW + timedelta(hours=3)), minutes=1)
    with pytest.raises(ChangeGateError, match="window closed"):
        run(book(batch=1), source, connector, record.id)
    assert connector.connects == []
    assert [(p, a) for p, a, _ in source.decisions] == [("plan", False), ("start", False)]
    assert source.records[record.id].state is ChangeState.APPROVED


def test_one_approval_covers_one_run() -> None:
    record = approved()
    source = MemorySource({record.id: record})
    connector = SlowConnector(ManualClock(NOW + timedelta(minutes=1)), minutes=1)
    _, first = run(book(), source, connector, record.id)
    assert first.status is RunStatus.SUCCEEDED  # type: ignore[attr-defined]
    assert source.records[record.id].run_id == first.run_id  # type: ignore[attr-defined]
    with pytest.raises(ChangeGateError, match="already in progress"):
        run(book(), source, connector, record.id)
    assert connector.connects == ["h1", "h2", "h3"]


def test_a_template_covers_read_only_runs_without_an_id() -> None:
    template = approved(ChangeType.STANDARD)
    source = MemorySource({template.id: template})
    connector = SlowConnector(ManualClock(NOW), minutes=1)
    plan, result = run(inspection(), source, connector, None)
    assert plan.gate.change_id == template.id  # type: ignore[attr-defined]
    assert result.status is RunStatus.SUCCEEDED  # type: ignore[attr-defined]
    assert source.records[template.id].state is ChangeState.APPROVED  # templates do not move
