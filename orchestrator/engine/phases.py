"""Where each of a runbook's steps stands in a host's run: the phases of a rollout.

A host runs its pre-checks, then its steps, then its post-checks, as one sequence whose
positions are the step indexes stored with the results; rollback steps follow, numbered
after them, and run only when the rollout rolls the host back. Runbooks without rollout
lists have just their steps, numbered from 0 as always.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum

from orchestrator.engine.results import HostResult, Status, StepResult
from orchestrator.runbook.model import Grade, OnUnhealthy, Runbook, Step


class Phase(Enum):
    PRE_CHECK = "pre_check"
    STEP = "step"
    POST_CHECK = "post_check"
    ROLLBACK = "rollback"


# A health check is unhealthy when its step failed or one of its checks graded this bad.
UNHEALTHY_GRADES = frozenset({Grade.CRITICAL, Grade.UNKNOWN})


def host_sequence(book: Runbook) -> tuple[tuple[int, Phase, Step], ...]:
    """(index, phase, step) of what every host runs: pre-checks, steps, post-checks."""
    return tuple(_numbered(book)[: len(book.pre_checks) + len(book.steps) + len(book.post_checks)])


def rollback_sequence(book: Runbook) -> tuple[tuple[int, Phase, Step], ...]:
    """(index, phase, step) of the rollback steps, numbered after the host sequence."""
    return tuple(_numbered(book)[len(book.all_steps) - len(book.rollback) :])


def _numbered(book: Runbook) -> list[tuple[int, Phase, Step]]:
    lists = (
        (Phase.PRE_CHECK, book.pre_checks),
        (Phase.STEP, book.steps),
        (Phase.POST_CHECK, book.post_checks),
        (Phase.ROLLBACK, book.rollback),
    )
    steps = [(phase, step) for phase, group in lists for step in group]
    return [(index, phase, step) for index, (phase, step) in enumerate(steps)]


def phase_of(book: Runbook, index: int) -> Phase:
    bounds = (
        (len(book.pre_checks), Phase.PRE_CHECK),
        (len(book.pre_checks) + len(book.steps), Phase.STEP),
        (len(book.pre_checks) + len(book.steps) + len(book.post_checks), Phase.POST_CHECK),
    )
    return next((phase for end, phase in bounds if index < end), Phase.ROLLBACK)


def unhealthy(result: StepResult) -> bool:
    """A health check that did not pass: its step failed, or a check graded critical/unknown."""
    if result.status.failed and not result.ignored:
        return True
    return any(c.grade in UNHEALTHY_GRADES for c in result.checks)


def touched(book: Runbook, host: HostResult) -> bool:
    """Whether the run changed (or may have changed) the host: one of its steps ran."""
    return any(
        phase_of(book, s.index) is Phase.STEP
        and s.attempts > 0
        and s.status not in (Status.SKIPPED, Status.UNREACHABLE)
        for s in host.steps
    )


def failed_checks(book: Runbook, steps: Iterable[StepResult], phase: Phase) -> list[StepResult]:
    """The health checks of ``phase`` that did not pass."""
    return [s for s in steps if phase_of(book, s.index) is phase and unhealthy(s)]


def numbered(book: Runbook) -> tuple[tuple[int, Phase, Step], ...]:
    """(index, phase, step) of every step of the runbook, rollback included."""
    return tuple(_numbered(book))


def host_status(results: Sequence[StepResult]) -> Status:
    """A host's status from its steps: the worst unignored fault wins, else changed/ok."""
    for status in (Status.UNREACHABLE, Status.INTERRUPTED, Status.TIMEOUT, Status.FAILED):
        if any(r.status is status and not r.ignored for r in results):
            return status
    if any(r.changed for r in results):
        return Status.CHANGED
    return Status.OK


def host_outcome(book: Runbook, results: Sequence[StepResult]) -> tuple[Status, str]:
    """A host's status and error: its steps', then its health gates' verdict.

    A failed pre-check fails the host (``on_unhealthy: fail``) or skips it (``skip``), which
    the run never touched; a failed post-check fails a host whose steps went well.
    """
    status = host_status(results)
    error = next((r.error for r in results if r.status.failed and r.error), "")
    before = failed_checks(book, results, Phase.PRE_CHECK)
    if before:
        why = f"unhealthy before any change: {_describe(before)}"
        if book.strategy.on_unhealthy is OnUnhealthy.SKIP and status is not Status.UNREACHABLE:
            return Status.SKIPPED, f"{why}; skipped, not touched (on_unhealthy: skip)"
        return (status if status.failed else Status.FAILED), f"{why}; not touched"
    after = failed_checks(book, results, Phase.POST_CHECK)
    if after and not status.failed:
        return Status.FAILED, f"post-check failed: {_describe(after)}"
    return status, error


def _describe(checks: Sequence[StepResult]) -> str:
    parts = []
    for result in checks:
        bad = [c for c in result.checks if c.grade in UNHEALTHY_GRADES]
        if bad:
            parts.append(
                ", ".join(f"{c.name} {c.grade.value} ({c.value}{c.unit})" for c in bad[:3])
            )
        else:
            parts.append(f"{result.name}: {result.status.value} {result.error}".strip())
    return "; ".join(parts)
