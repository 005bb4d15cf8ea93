"""Make the stored schedules and their jobs match schedules.yml: add, update, remove.

Pause state survives a sync, and so does a pending slot: a job whose timing (cron and
time zone) did not change keeps its next run time, even one in the past that a
restarted daemon has still to fire or record as missed (edits and restarts must not
lose slots, rundeck#3473/#8008). Changed timing starts from the next slot after now.
A schedule whose runbook is absent or invalid, or that needs a change it does not
name, is skipped with the reason: not added, and an existing one is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from orchestrator.scheduler.cron import cron_trigger, first_after
from orchestrator.scheduler.jobtable import JobTable
from orchestrator.scheduler.loader import ScheduleFile
from orchestrator.store.schedules import ScheduleSpec, ScheduleStore, StoredSchedule

# A schedule → why it cannot be synced (None: fine).
Check = Callable[[ScheduleSpec], str | None]


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "skipped": [{"name": n, "why": w} for n, w in self.skipped],
        }


def sync_schedules(
    schedule_file: ScheduleFile,
    *,
    store: ScheduleStore,
    jobs: JobTable,
    check: Check,
    now: datetime,
) -> SyncReport:
    report = SyncReport()
    for spec in schedule_file.specs:
        problem = check(spec)
        if problem is not None:
            report.skipped.append((spec.name, problem))
            continue
        before = store.get(spec.name)
        outcome = store.upsert(spec, now)
        getattr(report, outcome).append(spec.name)
        _sync_job(spec, before, jobs, now, rewrite=outcome != "unchanged")
    kept = {s.name for s in schedule_file.specs}
    for stored in store.all():
        if stored.name not in kept:
            store.remove(stored.name)
            jobs.remove(stored.name)
            report.removed.append(stored.name)
    for job in jobs.all():  # jobs left behind by a crash between the two writes
        if job.name not in kept or store.get(job.name) is None:
            jobs.remove(job.name)
    return report


def _sync_job(
    spec: ScheduleSpec,
    before: StoredSchedule | None,
    jobs: JobTable,
    now: datetime,
    *,
    rewrite: bool,
) -> None:
    job = jobs.get(spec.name)
    active = spec.enabled and not (before is not None and before.paused)
    was_active = before is not None and before.active
    if job is not None and not rewrite:
        return
    keep = (
        job is not None
        and before is not None
        and before.spec.same_timing(spec)
        and active == was_active
    )
    if keep and job is not None and (job.next_run_time is not None or not active):
        next_run_time = job.next_run_time
    elif active:
        next_run_time = first_after(cron_trigger(spec.cron, spec.timezone).get_next_fire_time, now)
    else:
        next_run_time = None
    jobs.put(spec, next_run_time)
