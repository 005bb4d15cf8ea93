"""Hand-built results for report tests: an inspection with every kind of finding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.engine.results import (
    CheckResult,
    HostResult,
    RunResult,
    RunStatus,
    Status,
    StepResult,
)
from orchestrator.reports.model import PastValue, ReportInput
from orchestrator.runbook.model import Grade

T0 = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
FS_HINT = "remove old logs and packages (journalctl --vacuum-size, apt-get clean) or grow it"
CRON_HINT = "the service is down; check its logs and restart it"


@dataclass(frozen=True)
class Past:
    run_id: str
    when: datetime
    value: Any


def check(
    name: str, grade: Grade, value: Any, unit: str = "%", threshold: str = "", message: str = ""
) -> CheckResult:
    return CheckResult(name, grade, value, unit, threshold, message)


def step(name: str, index: int, *checks: CheckResult, **kw: Any) -> StepResult:
    kw.setdefault("status", Status.OK)
    return StepResult(name, index, checks=checks, started=T0, ended=T0, **kw)


def healthy_host(name: str, address: str) -> HostResult:
    steps = (
        step("memory use", 0, check("memory used", Grade.NORMAL, 23.4, "%", "warn >= 85")),
        step("filesystem use", 1, check("filesystem used /", Grade.NORMAL, 41, "%", "warn >= 80")),
        step(
            "required processes",
            2,
            check("process running cron", Grade.NORMAL, 1, "", "crit < 1"),
        ),
    )
    return HostResult(name, Status.OK, steps, T0, T0 + timedelta(seconds=2), "", address)


def inspection_result(extra_hosts: Sequence[HostResult] = ()) -> RunResult:
    """h1 healthy, h3 full disk (critical) + /var warning, h4 cron stopped (critical),
    h5 clock unknown, h12 unreachable."""
    h3 = HostResult(
        "h3",
        Status.OK,
        (
            step("memory use", 0, check("memory used", Grade.NORMAL, 30.1, "%", "warn >= 85")),
            step(
                "filesystem use",
                1,
                check("filesystem used /", Grade.CRITICAL, 96, "%", ">= 90", FS_HINT),
                check("filesystem used /var", Grade.WARNING, 81, "%", ">= 80", FS_HINT),
            ),
        ),
        T0,
        T0 + timedelta(seconds=2),
        "",
        "10.98.0.12",
    )
    h4 = HostResult(
        "h4",
        Status.OK,
        (
            step(
                "required processes",
                0,
                check("process running cron", Grade.CRITICAL, 0, "", "< 1", CRON_HINT),
            ),
        ),
        T0,
        T0 + timedelta(seconds=2),
        "",
        "10.98.0.13",
    )
    h5 = HostResult(
        "h5",
        Status.OK,
        (
            step(
                "clock offset",
                0,
                check("clock offset", Grade.UNKNOWN, None, "s", "", "could not convert 'abc'"),
            ),
        ),
        T0,
        T0,
        "",
        "10.98.0.14",
    )
    h12 = HostResult(
        "h12",
        Status.UNREACHABLE,
        (),
        T0,
        T0,
        "cannot connect to h12 (10.98.0.21:22): Connection refused",
        "10.98.0.21",
    )
    hosts = (healthy_host("h1", "10.98.0.10"), h3, h4, h5, h12, *extra_hosts)
    return RunResult(
        "20261122-010000-abcd",
        "daily-inspection",
        RunStatus.FAILED,
        hosts,
        T0,
        T0 + timedelta(seconds=75),
        reason="1 host(s) failed",
    )


def history() -> Mapping[tuple[str, str], Sequence[PastValue]]:
    week = T0 - timedelta(days=7)
    return {
        ("h3", "filesystem used /var"): (Past("r-prev", week, 74), Past("r-old", week, 70)),
        ("h3", "filesystem used /"): (Past("r-prev", week, 96),),
        ("h1", "memory used"): (Past("r-prev", week, 25.0),),
        ("h4", "process running cron"): (Past("r-prev", week, 1),),
    }


def inspection_input(**overrides: Any) -> ReportInput:
    values: dict[str, Any] = {
        "result": inspection_result(),
        "generated": T0 + timedelta(minutes=5),
        "kind": "inspection",
        "description": "日常巡检 — critical hosts",
        "operator": "alice",
        "trigger": "cli",
        "change_policy": "standard",
        "gate_reason": "read-only runbook with change: standard",
        "planned_hosts": ("h1", "h3", "h4", "h5", "h12"),
        "history": history(),
        "tool_version": "0.1.0",
    }
    values.update(overrides)
    return ReportInput(**values)
