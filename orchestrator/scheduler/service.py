"""The scheduler as the CLI sees it: sync, list, next, pause, resume, run-now, status, and
the daemon itself — all wired from one ``App`` (its settings, database and audit log).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from orchestrator.app import App
from orchestrator.changes.moments import zone
from orchestrator.clock import Clock
from orchestrator.errors import ConfigError, OrchestratorError
from orchestrator.notify.dispatch import Notifier
from orchestrator.runbook.model import ChangePolicy
from orchestrator.scheduler.cron import cron_trigger, upcoming
from orchestrator.scheduler.daemon import Daemon
from orchestrator.scheduler.firing import FireOutcome, Firing, Identity
from orchestrator.scheduler.jobtable import JobTable
from orchestrator.scheduler.loader import ScheduleFile, load_schedules
from orchestrator.scheduler.model import LEASE_NAME
from orchestrator.scheduler.sync import SyncReport, sync_schedules
from orchestrator.store.leases import Lease, LeaseStore
from orchestrator.store.schedules import (
    Fire,
    FireStatus,
    ScheduleSpec,
    ScheduleStore,
    StoredSchedule,
)

log = logging.getLogger(__name__)

# `scheduler status` counts misfires over this period.
MISFIRE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class ScheduleView:
    stored: StoredSchedule
    next_run_time: datetime | None  # from the job store; None while paused
    last: Fire | None
    counts: dict[FireStatus, int] = field(default_factory=dict)  # within MISFIRE_WINDOW

    @property
    def state(self) -> str:
        if not self.stored.spec.enabled:
            return "disabled"
        return "paused" if self.stored.paused else "active"


@dataclass(frozen=True)
class SchedulerStatus:
    now: datetime
    lease: Lease | None
    schedules: list[ScheduleView]
    misfires: list[Fire]  # recent missed / skipped / interrupted slots, newest first

    @property
    def leader_alive(self) -> bool:
        return self.lease is not None and self.lease.valid_at(self.now)


class SchedulerService:
    def __init__(
        self,
        app: App,
        *,
        clock: Clock | None = None,
        identity: Identity | None = None,
        notifier: Notifier | None = None,
        app_factory: Callable[[], App] | None = None,
    ) -> None:
        self.app = app
        self.settings = app.settings
        self.clock = clock or app.clock
        self.identity = identity or Identity.of_this_process(app.operator)
        self.notifier = notifier or Notifier(self.settings.notify, self.clock)
        self.app_factory = app_factory or self._new_app
        self.store = ScheduleStore(app.database)
        self.leases = LeaseStore(app.database)

    @cached_property
    def jobs(self) -> JobTable:
        return JobTable(self.app.database.engine, self.settings.timezone)

    @cached_property
    def tz(self) -> ZoneInfo:
        return zone(self.settings.timezone)

    def _new_app(self) -> App:
        # One App per fire: the inventory and runbooks are read afresh for every run.
        return App(
            self.settings, clock=self.clock, operator=self.app.operator, database=self.app.database
        )

    def firing(self, stop: threading.Event | None = None) -> Firing:
        return Firing(
            schedules=self.store,
            audit=self.app.audit,
            clock=self.clock,
            app_factory=self.app_factory,
            notifier=self.notifier,
            identity=self.identity,
            tz=self.tz,
            stop=stop,
        )

    # --- schedules.yml -----------------------------------------------------------------------

    def load_file(self) -> ScheduleFile:
        return load_schedules(self.settings.schedules, self.settings.timezone)

    def check(self, spec: ScheduleSpec) -> str | None:
        """Why ``spec`` cannot be scheduled (its runbook), or None."""
        try:
            book = self.app.catalog.load(spec.runbook)
        except OrchestratorError as exc:
            first = str(exc).splitlines()[0]
            return f"runbook {spec.runbook!r} cannot be used: {first}"
        needs_change = book.mutates or book.change is ChangePolicy.REQUIRED
        if needs_change and spec.change_id is None:
            return (
                f"runbook {spec.runbook!r} changes its targets: the schedule needs "
                "`change: CHG-…` (an approved normal change; it fires only inside its window)"
            )
        return None

    def sync(self, schedule_file: ScheduleFile | None = None) -> SyncReport:
        schedule_file = schedule_file or self.load_file()
        report = sync_schedules(
            schedule_file, store=self.store, jobs=self.jobs, check=self.check, now=self.clock.now()
        )
        if report.changed:
            self.app.audit.record(
                self.app.operator,
                "schedule.sync",
                f"schedules:{schedule_file.path}",
                report.as_dict(),
            )
        return report

    # --- operator actions --------------------------------------------------------------------

    def pause(self, name: str) -> StoredSchedule:
        stored = self.store.set_paused(name, True, self.app.operator, self.clock.now())
        job = self.jobs.get(name)
        if job is not None:
            self.jobs.set_next(job, None)
        self.app.audit.record(self.app.operator, "schedule.pause", f"schedule:{name}", {})
        return stored

    def resume(self, name: str) -> StoredSchedule:
        current = self.store.require(name)
        if not current.spec.enabled:
            raise ConfigError(
                f"schedule {name} is disabled in {current.spec.source} (enabled: false); "
                "enable it there and run `orchestrator schedule sync`"
            )
        stored = self.store.set_paused(name, False, self.app.operator, self.clock.now())
        # Slots that fell while paused are not owed: resume from the next one.
        next_fire = cron_trigger(stored.spec.cron, stored.spec.timezone).get_next_fire_time
        upcoming_slots = upcoming(next_fire, self.clock.now(), 1)
        self.jobs.put(stored.spec, upcoming_slots[0] if upcoming_slots else None)
        self.app.audit.record(self.app.operator, "schedule.resume", f"schedule:{name}", {})
        return stored

    def run_now(self, name: str, stop: threading.Event | None = None) -> FireOutcome:
        return self.firing(stop).run_now(name)

    # --- views -------------------------------------------------------------------------------

    def views(self) -> list[ScheduleView]:
        jobs = {job.name: job for job in self.jobs.all()}
        last = self.store.last_fires()
        counts = self.store.counts(self.clock.now() - MISFIRE_WINDOW)
        return [
            ScheduleView(
                stored,
                jobs[stored.name].next_run_time if stored.name in jobs else None,
                last.get(stored.name),
                counts.get(stored.name, {}),
            )
            for stored in self.store.all()
        ]

    def next_fires(self, name: str | None, count: int) -> list[tuple[ScheduleView, list[datetime]]]:
        views = [v for v in self.views() if name is None or v.stored.name == name]
        if name is not None and not views:
            self.store.require(name)
        result = []
        for view in views:
            spec = view.stored.spec
            next_fire = cron_trigger(spec.cron, spec.timezone).get_next_fire_time
            start = view.next_run_time
            slots = [] if start is None else [start, *upcoming(next_fire, start, count - 1)]
            result.append((view, slots[:count]))
        return result

    def status(self) -> SchedulerStatus:
        trouble = (FireStatus.MISSED, FireStatus.SKIPPED, FireStatus.INTERRUPTED)
        return SchedulerStatus(
            now=self.clock.now(),
            lease=self.leases.current(LEASE_NAME),
            schedules=self.views(),
            misfires=self.store.fires(statuses=trouble, limit=20),
        )

    # --- the daemon --------------------------------------------------------------------------

    def daemon(self, *, workers: int = 4, sync_on_lead: bool = True) -> Daemon:
        firing = self.firing(threading.Event())
        return Daemon(
            firing=firing,
            jobs=self.jobs,
            leases=self.leases,
            audit=self.app.audit,
            clock=self.clock,
            lease_seconds=self.settings.scheduler_lease,
            poll_seconds=self.settings.scheduler_poll,
            workers=workers,
            on_leader=self._sync_on_lead if sync_on_lead else None,
        )

    def _sync_on_lead(self) -> None:
        report = self.sync()
        for name, why in report.skipped:
            log.warning("schedule %s skipped: %s", name, why)
        log.info(
            "schedules synced from %s: %d added, %d updated, %d removed, %d skipped",
            self.settings.schedules,
            len(report.added),
            len(report.updated),
            len(report.removed),
            len(report.skipped),
        )
