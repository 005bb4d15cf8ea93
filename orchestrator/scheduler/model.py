"""Scheduler vocabulary: when to notify, the job function reference, names and limits."""

from __future__ import annotations

from enum import Enum

from orchestrator.errors import ValidationError
from orchestrator.runbook.model import Grade
from orchestrator.store.schedules import FireStatus

# The one function every stored job references (APScheduler keeps this text, not code).
JOB_FUNC = "orchestrator.scheduler.jobs:fire"
# The row in scheduler_leases that the active daemon holds.
LEASE_NAME = "scheduler"
# A schedule without misfire_grace may start this late (seconds) and still run.
DEFAULT_GRACE = 3600
# Missed slots recorded one by one after an outage; beyond that they are counted.
MISSED_CAP = 100


class ScheduleError(ValidationError):
    """schedules.yml is invalid; every problem names file, line and field."""


class NotifyWhen(Enum):
    """When a schedule's fire sends a notification (e-mail and webhook, see [notify])."""

    NEVER = "never"
    FAILED = "failed"  # the run failed, was refused or aborted, could not start, or was missed
    CRITICAL = "critical"  # … or an inspection item was graded critical (the default)
    WARNING = "warning"  # … or warning
    ALWAYS = "always"  # every fire

    def wants(self, status: FireStatus, worst: Grade | None) -> bool:
        if self is NotifyWhen.NEVER:
            return False
        if self is NotifyWhen.ALWAYS or status in ALARMING:
            return True
        floor = {NotifyWhen.CRITICAL: Grade.CRITICAL, NotifyWhen.WARNING: Grade.WARNING}
        wanted = floor.get(self)
        return wanted is not None and worst is not None and worst.rank >= wanted.rank


# Fire outcomes that notify whenever the schedule notifies at all.
ALARMING = frozenset(
    {
        FireStatus.FAILED,
        FireStatus.ABORTED,
        FireStatus.REFUSED,
        FireStatus.ERROR,
        FireStatus.MISSED,
        FireStatus.INTERRUPTED,
    }
)
