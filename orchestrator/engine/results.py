"""Results: frozen dataclasses with Enum statuses (DESIGN.md §6).

CommandResult (transports) -> StepResult -> HostResult -> RunResult.
A host failure is data here, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from orchestrator.engine.artifacts import Artifact
from orchestrator.runbook.model import CheckResult, Grade, worst_grade

__all__ = ["CheckResult", "HostResult", "RunResult", "RunStatus", "Status", "StepResult"]


class Status(Enum):
    """Outcome of a step or a host."""

    OK = "ok"
    CHANGED = "changed"  # ok, and the target was changed (ansible tells us)
    FAILED = "failed"  # ran and failed (non-zero exit, bad parse, ...)
    UNREACHABLE = "unreachable"  # no connection (refused, no route, auth, host key)
    TIMEOUT = "timeout"  # ran longer than its timeout
    SKIPPED = "skipped"  # `when` was false, or the step does not apply to this host
    RUNNING = "running"  # only in the store, while a run is going
    INTERRUPTED = "interrupted"  # the run was killed before this finished
    ROLLED_BACK = "rolled_back"  # a host the rollout changed, then undid (docs/rollouts.md)

    @property
    def failed(self) -> bool:
        return self in FAILED_STATUSES

    @property
    def done(self) -> bool:
        return self not in (Status.RUNNING,)


FAILED_STATUSES = frozenset({Status.FAILED, Status.UNREACHABLE, Status.TIMEOUT, Status.INTERRUPTED})


class RunStatus(Enum):
    SUCCEEDED = "succeeded"  # every host ok (findings may still be warning/critical)
    FAILED = "failed"  # at least one host failed/unreachable/timed out
    ABORTED = "aborted"  # stopped early on purpose (threshold, window, signal)
    REFUSED = "refused"  # the gate said no; nothing ran
    RUNNING = "running"
    INTERRUPTED = "interrupted"  # the process died; found by the next command
    ROLLED_BACK = "rolled_back"  # a rollout stopped and undid what it changed


@dataclass(frozen=True)
class StepResult:
    name: str
    index: int  # position in the runbook's steps
    status: Status
    command: str = ""  # the rendered command/action
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    started: datetime | None = None
    ended: datetime | None = None
    attempts: int = 1
    error: str = ""  # why it failed / was skipped
    changed: bool = False
    ignored: bool = False  # failed, but the runbook said `ignore_errors`: does not fail the host
    parsed: Any = None
    checks: tuple[CheckResult, ...] = ()
    artifacts: tuple[Artifact, ...] = ()  # backups this step stored (engine.artifacts)

    @property
    def duration(self) -> float:
        if self.started is None or self.ended is None:
            return 0.0
        return (self.ended - self.started).total_seconds()

    @property
    def grade(self) -> Grade | None:
        return worst_grade(tuple(c.grade for c in self.checks))


@dataclass(frozen=True)
class HostResult:
    host: str
    status: Status
    steps: tuple[StepResult, ...] = ()
    started: datetime | None = None
    ended: datetime | None = None
    error: str = ""
    address: str = ""

    @property
    def failed(self) -> bool:
        return self.status.failed

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.steps)

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for s in self.steps for c in s.checks)

    @property
    def grade(self) -> Grade | None:
        return worst_grade(tuple(c.grade for c in self.checks))


@dataclass(frozen=True)
class RunResult:
    run_id: str
    runbook: str
    status: RunStatus
    hosts: tuple[HostResult, ...] = ()
    started: datetime | None = None
    ended: datetime | None = None
    reason: str = ""  # why aborted/refused
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed_hosts(self) -> tuple[str, ...]:
        return tuple(h.host for h in self.hosts if h.failed)

    @property
    def changed_hosts(self) -> tuple[str, ...]:
        return tuple(h.host for h in self.hosts if h.changed)

    @property
    def failed(self) -> bool:
        return bool(self.failed_hosts) or self.status in (
            RunStatus.FAILED,
            RunStatus.ABORTED,
            RunStatus.ROLLED_BACK,
        )

    def count(self, status: Status) -> int:
        return sum(1 for h in self.hosts if h.status is status)

    def grade_counts(self) -> dict[Grade, int]:
        counts = dict.fromkeys(Grade, 0)
        for h in self.hosts:
            for c in h.checks:
                counts[c.grade] += 1
        return counts
