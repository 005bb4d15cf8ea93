"""The scheduler: schedules.yml → APScheduler 3 jobs on the project's database, fired by
one active daemon (leader lease), each slot once (idempotency key), through the engine's
change gate, with notifications. See docs/scheduler.md.

APScheduler lives here only (import-linter). Entry points: ``SchedulerService`` (the
CLI's facade), ``Daemon`` (the loop), ``jobs.fire`` (the one stored job function).
"""

from orchestrator.scheduler.daemon import Daemon
from orchestrator.scheduler.firing import FireOutcome, Firing, Identity
from orchestrator.scheduler.loader import ScheduleFile, load_schedules
from orchestrator.scheduler.model import NotifyWhen, ScheduleError
from orchestrator.scheduler.service import SchedulerService, SchedulerStatus, ScheduleView
from orchestrator.scheduler.sync import SyncReport

__all__ = [
    "Daemon",
    "FireOutcome",
    "Firing",
    "Identity",
    "NotifyWhen",
    "ScheduleError",
    "ScheduleFile",
    "ScheduleView",
    "SchedulerService",
    "SchedulerStatus",
    "SyncReport",
    "load_schedules",
]
