"""``orchestrator run --resume RUN_ID``: continue an aborted or interrupted run (docs/rollouts.md).

The resumed run keeps its id, its change and its batches. What its earlier attempt recorded
decides what is left: a host that finished — ok, changed, failed, unreachable, timed out or
rolled back — is done and never touched again (a failed host the run changed whose rollback
never ran is rolled back first); a host that was interrupted, skipped or never started runs
(from its first step). The failures of the earlier attempt still count against
``max_fail_percent``, and the hosts it changed are still rolled back if the rollout trips.
A run its rollout stopped (canary, threshold) is not resumable: that stop is a verdict.
The gate is asked again first: the change must still be valid (window, approvals, freeze,
the runbook unchanged since approval).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from orchestrator.engine.results import HostResult, RunResult, RunStatus, Status
from orchestrator.errors import ConfigError

RESUMABLE = frozenset({RunStatus.ABORTED, RunStatus.INTERRUPTED})
DONE = frozenset(
    {
        Status.OK,
        Status.CHANGED,
        Status.FAILED,
        Status.UNREACHABLE,
        Status.TIMEOUT,
        Status.ROLLED_BACK,
    }
)

T = TypeVar("T")


@dataclass(frozen=True)
class ResumeState:
    """What the earlier attempt of a run left behind."""

    previous: tuple[HostResult, ...]  # as recorded, in plan order
    meta: Mapping[str, Any] = field(default_factory=dict)
    started: datetime | None = None  # when the run first started

    @property
    def done(self) -> frozenset[str]:
        return frozenset(h.host for h in self.previous if h.status in DONE)

    def done_results(self) -> list[HostResult]:
        return [h for h in self.previous if h.status in DONE]


def resume_state(result: RunResult) -> ResumeState:
    """The state to resume from; ConfigError when the run cannot be resumed."""
    if result.status not in RESUMABLE:
        allowed = " or ".join(sorted(s.value for s in RESUMABLE))
        raise ConfigError(
            f"run {result.run_id} is {result.status.value}; only an {allowed} run can be "
            "resumed (start a new run under a new change instead)"
        )
    rollout = result.meta.get("rollout")
    stopped = rollout.get("stopped") if isinstance(rollout, Mapping) else ""
    if stopped:
        # A safety stop (canary, threshold) is a verdict, not an interruption: resuming
        # would run the next batches without the canary or past the threshold.
        raise ConfigError(
            f"run {result.run_id} was stopped by its rollout ({stopped}); it cannot be "
            "resumed: find the cause, then start a new run under an approved change"
        )
    return ResumeState(tuple(result.hosts), dict(result.meta), result.started)


def left_to_run(
    batches: Sequence[Sequence[T]], done: frozenset[str], name: Any
) -> list[tuple[int, tuple[T, ...]]]:
    """(batch index, hosts not done) of every batch with something left, in order."""
    left = []
    for index, batch in enumerate(batches):
        hosts = tuple(h for h in batch if name(h) not in done)
        if hosts:
            left.append((index, hosts))
    return left
