"""What the store hands back: a run rebuilt from its rows, and one-line summaries.

Rows become the engine's own result dataclasses again (``RunResult`` and
friends), so reports and the CLI handle a stored run exactly like a fresh one.
A step's ``stdout``/``stderr`` here are the bounded excerpts; the full output is
behind ``RunStore.read_output``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestrator.engine.results import (
    CheckResult,
    HostResult,
    RunResult,
    RunStatus,
    Status,
    StepResult,
)
from orchestrator.runbook.model import Grade
from orchestrator.store.encoding import to_jsonable
from orchestrator.store.models import CheckRow, HostRow, RunRow, StepRow


@dataclass(frozen=True)
class OutputRef:
    """Where a step's full output file is (relative to the output root) and its checksum."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class RunRecord:
    """A stored run: its result plus what was decided before it started."""

    result: RunResult
    kind: str
    created: datetime
    operator: str = ""
    trigger: str = "cli"
    change_id: str | None = None
    limit: str | None = None
    forks: int = 0
    host_count: int = 0
    planned_hosts: tuple[str, ...] = ()  # target hosts in plan order
    gate_policy: str = ""
    gate_reason: str = ""
    node: str = ""
    pid: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[tuple[str, int], OutputRef] = field(default_factory=dict)  # (host, idx)

    @property
    def run_id(self) -> str:
        return self.result.run_id

    @property
    def runbook(self) -> str:
        return self.result.runbook

    @property
    def status(self) -> RunStatus:
        return self.result.status

    def output(self, host: str, step_index: int) -> OutputRef | None:
        return self.outputs.get((host, step_index))

    def to_json_dict(self) -> dict[str, Any]:
        """A stable, JSON-serialisable form (what ``runs show --json`` prints).

        Shape (datetimes ISO 8601 with offset or null, enums as their values)::

            {"id", "runbook", "kind", "status", "reason",
             "created", "started", "ended", "duration_s",
             "operator", "trigger", "change_id", "limit", "forks", "host_count",
             "planned_hosts": [<host>, ...], "gate": {"policy", "reason"},
             "node", "pid", "options", "meta",
             "summary": {"hosts": {<status>: n, ...}, "grades": {<grade>: n, ...}},
             "hosts": [{"host", "address", "status", "grade", "started", "ended",
                        "error", "steps": [{"index", "name", "status", "command",
                        "exit_code", "started", "ended", "duration_s", "attempts",
                        "error", "changed", "ignored", "grade", "stdout", "stderr", "parsed",
                        "output": {"path", "sha256", "bytes"} | null,
                        "checks": [{"name", "grade", "value", "unit",
                                    "threshold", "message"}]}]}]}

        ``summary.hosts`` and ``summary.grades`` list every status/grade, zeros included.
        """
        r = self.result
        return {
            "id": r.run_id,
            "runbook": r.runbook,
            "kind": self.kind,
            "status": r.status.value,
            "reason": r.reason,
            "created": _iso(self.created),
            "started": _iso(r.started),
            "ended": _iso(r.ended),
            "duration_s": _duration(r.started, r.ended),
            "operator": self.operator,
            "trigger": self.trigger,
            "change_id": self.change_id,
            "limit": self.limit,
            "forks": self.forks,
            "host_count": self.host_count,
            "planned_hosts": list(self.planned_hosts),
            "gate": {"policy": self.gate_policy, "reason": self.gate_reason},
            "node": self.node,
            "pid": self.pid,
            "options": to_jsonable(self.options),
            "meta": to_jsonable(r.meta),
            "summary": {
                "hosts": {s.value: r.count(s) for s in Status},
                "grades": {g.value: n for g, n in r.grade_counts().items()},
            },
            "hosts": [self._host_json(h) for h in r.hosts],
        }

    def _host_json(self, host: HostResult) -> dict[str, Any]:
        return {
            "host": host.host,
            "address": host.address,
            "status": host.status.value,
            "grade": host.grade.value if host.grade else None,
            "started": _iso(host.started),
            "ended": _iso(host.ended),
            "error": host.error,
            "steps": [self._step_json(host.host, s) for s in host.steps],
        }

    def _step_json(self, host: str, step: StepResult) -> dict[str, Any]:
        ref = self.output(host, step.index)
        return {
            "index": step.index,
            "name": step.name,
            "status": step.status.value,
            "command": step.command,
            "exit_code": step.exit_code,
            "started": _iso(step.started),
            "ended": _iso(step.ended),
            "duration_s": _duration(step.started, step.ended),
            "attempts": step.attempts,
            "error": step.error,
            "changed": step.changed,
            "ignored": step.ignored,
            "grade": step.grade.value if step.grade else None,
            "stdout": step.stdout,
            "stderr": step.stderr,
            "parsed": to_jsonable(step.parsed),
            "output": (
                None if ref is None else {"path": ref.path, "sha256": ref.sha256, "bytes": ref.size}
            ),
            "checks": [
                {
                    "name": c.name,
                    "grade": c.grade.value,
                    "value": to_jsonable(c.value),
                    "unit": c.unit,
                    "threshold": c.threshold,
                    "message": c.message,
                }
                for c in step.checks
            ],
        }


@dataclass(frozen=True)
class RunSummary:
    """One line of ``runs list``."""

    id: str
    runbook: str
    status: RunStatus
    created: datetime
    operator: str = ""
    trigger: str = "cli"
    change_id: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    host_count: int = 0
    reason: str = ""
    hosts: Mapping[Status, int] = field(default_factory=dict)  # host rows per status
    grades: Mapping[Grade, int] = field(default_factory=dict)  # check items per grade

    @property
    def duration(self) -> float | None:
        return _duration(self.started, self.ended)

    def to_json_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "id": self.id,
            "runbook": self.runbook,
            "status": self.status.value,
            "reason": self.reason,
            "created": iso(self.created),
            "started": iso(self.started),
            "ended": iso(self.ended),
            "duration_s": self.duration,
            "operator": self.operator,
            "trigger": self.trigger,
            "change_id": self.change_id,
            "host_count": self.host_count,
            "hosts": {s.value: n for s, n in self.hosts.items() if n},
            "grades": {g.value: n for g, n in self.grades.items() if n},
        }


def record_from_row(row: RunRow) -> RunRecord:
    """Rebuild a run from its row with hosts, steps and checks loaded."""
    outputs: dict[tuple[str, int], OutputRef] = {}
    hosts = []
    for host_row in _plan_order(row):
        for step_row in host_row.steps:
            if step_row.output_path and step_row.output_sha256:
                outputs[(host_row.host, step_row.idx)] = OutputRef(
                    step_row.output_path, step_row.output_sha256, step_row.output_bytes or 0
                )
        hosts.append(host_from_row(host_row))
    result = RunResult(
        run_id=row.id,
        runbook=row.runbook,
        status=row.status,
        hosts=tuple(hosts),
        started=row.started,
        ended=row.ended,
        reason=row.reason,
        meta=dict(row.meta or {}),
    )
    return RunRecord(
        result=result,
        kind=row.kind,
        created=row.created,
        operator=row.operator,
        trigger=row.trigger,
        change_id=row.change_id,
        limit=row.limit_pattern,
        forks=row.forks,
        host_count=row.host_count,
        planned_hosts=tuple(row.planned_hosts or ()),
        gate_policy=row.gate_policy,
        gate_reason=row.gate_reason,
        node=row.node,
        pid=row.pid,
        options=dict(row.options or {}),
        outputs=outputs,
    )


def _plan_order(row: RunRow) -> list[HostRow]:
    # Hosts start in any order under forks; show them in plan order, like the live result.
    position = {name: i for i, name in enumerate(row.planned_hosts or ())}
    return sorted(row.hosts, key=lambda h: (position.get(h.host, len(position)), h.id))


def host_from_row(row: HostRow) -> HostResult:
    return HostResult(
        host=row.host,
        status=row.status,
        steps=tuple(step_from_row(s) for s in row.steps),
        started=row.started,
        ended=row.ended,
        error=row.error,
        address=row.address,
    )


def step_from_row(row: StepRow) -> StepResult:
    return StepResult(
        name=row.name,
        index=row.idx,
        status=row.status,
        command=row.command,
        stdout=row.stdout_excerpt,
        stderr=row.stderr_excerpt,
        exit_code=row.exit_code,
        started=row.started,
        ended=row.ended,
        attempts=row.attempts,
        error=row.error,
        changed=row.changed,
        ignored=row.ignored,
        parsed=row.parsed,
        checks=tuple(check_from_row(c) for c in row.checks),
    )


def check_from_row(row: CheckRow) -> CheckResult:
    return CheckResult(
        name=row.name,
        grade=row.grade,
        value=row.value,
        unit=row.unit,
        threshold=row.threshold,
        message=row.message,
    )


def summary_from_row(
    row: RunRow, hosts: Mapping[Status, int], grades: Mapping[Grade, int]
) -> RunSummary:
    """A summary from a run row and its counts (missing statuses/grades count 0)."""
    return RunSummary(
        id=row.id,
        runbook=row.runbook,
        status=row.status,
        created=row.created,
        operator=row.operator,
        trigger=row.trigger,
        change_id=row.change_id,
        started=row.started,
        ended=row.ended,
        host_count=row.host_count,
        reason=row.reason,
        hosts={s: hosts.get(s, 0) for s in Status},
        grades={g: grades.get(g, 0) for g in Grade},
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _duration(started: datetime | None, ended: datetime | None) -> float | None:
    if started is None or ended is None:
        return None
    return (ended - started).total_seconds()
