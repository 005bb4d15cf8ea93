"""The schedules' jobs in APScheduler 3's SQLAlchemyJobStore, on the project's database.

Each job stores only a textual reference to the one job function
(``orchestrator.scheduler.jobs:fire``), the schedule name as its one plain-string
argument, the cron trigger, ``coalesce=True``, ``max_instances=1``, the schedule's own
``misfire_grace_time`` and the next run time (None while paused). APScheduler's own
scheduler loop reads the wall clock, so jobs are processed by ``daemon.Daemon`` with
an injected clock; this module only reads and writes the job store.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler

from orchestrator.changes.moments import zone
from orchestrator.scheduler.cron import NextFire, cron_trigger
from orchestrator.scheduler.model import JOB_FUNC
from orchestrator.store.schedules import ScheduleSpec

log = logging.getLogger(__name__)

TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class StoredJob:
    """A job as read from the store (APScheduler's Job, without its API surface)."""

    name: str
    func_ref: str
    args: tuple[str, ...]
    next_run_time: datetime | None
    misfire_grace: int
    coalesce: bool
    max_instances: int
    next_fire: NextFire
    job: Any  # the APScheduler Job, to call its function

    def call(self, slot: datetime) -> Any:
        """Call the stored function with the stored arguments and the slot (ISO 8601)."""
        return self.job.func(*self.args, slot.isoformat())


def _view(job: Any) -> StoredJob:
    return StoredJob(
        name=job.id,
        func_ref=job.func_ref,
        args=tuple(job.args),
        next_run_time=job.next_run_time,
        misfire_grace=job.misfire_grace_time,
        coalesce=job.coalesce,
        max_instances=job.max_instances,
        next_fire=job.trigger.get_next_fire_time,
        job=job,
    )


class JobTable:
    def __init__(self, engine: Any, timezone: str) -> None:
        # Jobs need a scheduler for their time zone; this one is never started.
        self._owner = BlockingScheduler(timezone=zone(timezone))
        self._store = SQLAlchemyJobStore(engine=engine, tablename=TABLE)
        self._store.start(self._owner, "default")

    def build(self, spec: ScheduleSpec, next_run_time: datetime | None) -> Any:
        return Job(
            self._owner,
            id=spec.name,
            name=spec.name,
            func=JOB_FUNC,
            args=[spec.name],
            kwargs={},
            trigger=cron_trigger(spec.cron, spec.timezone),
            executor="default",
            misfire_grace_time=spec.misfire_grace,
            coalesce=True,
            max_instances=1,
            next_run_time=next_run_time,
        )

    def get(self, name: str) -> StoredJob | None:
        job = self._store.lookup_job(name)
        return None if job is None else _view(job)

    def all(self) -> list[StoredJob]:
        return [_view(job) for job in self._store.get_all_jobs()]

    def due(self, now: datetime) -> list[StoredJob]:
        return [_view(job) for job in self._store.get_due_jobs(now)]

    def put(self, spec: ScheduleSpec, next_run_time: datetime | None) -> None:
        """Add or replace the job of ``spec``."""
        job = self.build(spec, next_run_time)
        if self._store.lookup_job(spec.name) is None:
            self._store.add_job(job)
        else:
            self._store.update_job(job)

    def set_next(self, stored: StoredJob, next_run_time: datetime | None) -> None:
        job = stored.job
        job.next_run_time = next_run_time
        try:
            self._store.update_job(job)
        except JobLookupError:
            log.info("job %s was removed meanwhile (schedule sync)", stored.name)

    def remove(self, name: str) -> None:
        with contextlib.suppress(JobLookupError):
            self._store.remove_job(name)
