"""Builders for plans and results used by the store tests (and the kill-test child)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.changes.gate import GateDecision
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import CheckResult, HostResult, Status, StepResult
from orchestrator.inventory.model import Host
from orchestrator.runbook.model import ChangePolicy, Grade, Runbook, RunbookKind, Step, StepKind

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def make_runbook(
    name: str = "daily-inspection", kind: RunbookKind = RunbookKind.INSPECTION
) -> Runbook:
    steps = (
        Step(name="root filesystem usage", kind=StepKind.COMMAND, action="df -P /"),
        Step(name="内核版本", kind=StepKind.COMMAND, action="uname -r"),
    )
    return Runbook(
        name=name,
        kind=kind,
        change=ChangePolicy.STANDARD,
        targets="linux",
        steps=steps,
        description="日常巡检",
    )


def make_host(name: str, address: str | None = None) -> Host:
    return Host(
        name=name, vars={"ansible_host": address or f"10.0.0.{sum(map(ord, name)) % 250 + 1}"}
    )


def make_plan(
    run_id: str,
    hosts: Sequence[str] = ("web01", "web02"),
    *,
    created: datetime = T0,
    runbook: Runbook | None = None,
    allowed: bool = True,
    gate_reason: str = "read-only runbook with change: standard",
    operator: str = "alice",
    change_id: str | None = "CHG-2026-0001",
    limit: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> RunPlan:
    host_objs = tuple(make_host(h) for h in hosts)
    return RunPlan(
        run_id=run_id,
        runbook=runbook or make_runbook(),
        hosts=host_objs,
        batches=(host_objs,),
        forks=10,
        gate=GateDecision(allowed, gate_reason, change_id, "test policy"),
        created=created,
        operator=operator,
        trigger="cli",
        limit=limit,
        change_id=change_id,
        options=dict(options or {}),
    )


def make_step(
    index: int,
    *,
    name: str | None = None,
    status: Status = Status.OK,
    stdout: str = "",
    stderr: str = "",
    started: datetime = T0,
    checks: Sequence[CheckResult] = (),
    parsed: Any = None,
    exit_code: int | None = 0,
) -> StepResult:
    return StepResult(
        name=name or f"step {index}",
        index=index,
        status=status,
        command=f"echo step {index}",
        stdout=stdout,
        stderr=stderr,
        exit_code=exit_code,
        started=started + timedelta(seconds=index),
        ended=started + timedelta(seconds=index, milliseconds=250),
        attempts=1,
        error="" if status is Status.OK else f"step {index} failed",
        changed=False,
        parsed=parsed,
        checks=tuple(checks),
    )


def usage_check(value: Any, grade: Grade = Grade.NORMAL) -> CheckResult:
    return CheckResult(
        name="filesystem use /",
        grade=grade,
        value=value,
        unit="%",
        threshold=">= 90" if grade is Grade.CRITICAL else "",
        message="",
    )


def make_host_result(
    host: str,
    steps: Sequence[StepResult],
    *,
    status: Status = Status.OK,
    started: datetime = T0,
    address: str = "",
    error: str = "",
) -> HostResult:
    return HostResult(
        host=host,
        status=status,
        steps=tuple(steps),
        started=started,
        ended=started + timedelta(seconds=30),
        error=error,
        address=address or make_host(host).address,
    )
