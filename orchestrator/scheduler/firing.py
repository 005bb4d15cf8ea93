"""Running one slot: claim it, plan and execute through the App, record, report, notify.

Scheduled runs go through exactly the path of `orchestrator run` (``App.plan`` then
``App.execute``, ``trigger="schedule"``): the engine's change gate decides — a
read-only schedule under a standard template, a mutating one only under an approved
change inside its window — and a refusal is recorded (refused run, audit entry) like
any other. Nothing here raises past a fire: every outcome becomes a fire status.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from orchestrator.app import App
from orchestrator.clock import Clock
from orchestrator.engine.results import RunStatus
from orchestrator.errors import ChangeGateError, ConfigError, OrchestratorError
from orchestrator.notify.dispatch import Delivery, Notifier
from orchestrator.notify.message import Notification
from orchestrator.scheduler.alerts import fire_notification, missed_notification
from orchestrator.scheduler.model import NotifyWhen
from orchestrator.store.audit import AuditLog
from orchestrator.store.records import RunRecord
from orchestrator.store.schedules import Fire, FireStatus, ScheduleSpec, ScheduleStore

log = logging.getLogger(__name__)

_BY_RUN = {
    RunStatus.SUCCEEDED: FireStatus.SUCCEEDED,
    RunStatus.FAILED: FireStatus.FAILED,
    RunStatus.ABORTED: FireStatus.ABORTED,
    RunStatus.REFUSED: FireStatus.REFUSED,
    RunStatus.INTERRUPTED: FireStatus.INTERRUPTED,
}


@dataclass(frozen=True)
class Identity:
    """Who claims slots: one daemon process (or one `schedule run-now`)."""

    holder: str
    node: str
    pid: int

    @classmethod
    def of_this_process(cls, role: str = "scheduler") -> Identity:
        node, pid = socket.gethostname(), os.getpid()
        return cls(f"{role}@{node}:{pid}:{secrets.token_hex(3)}", node, pid)


@dataclass(frozen=True)
class FireOutcome:
    fire_id: int
    schedule: str
    slot: datetime
    status: FireStatus
    run_id: str | None = None
    detail: str = ""
    report: Path | None = None
    deliveries: tuple[Delivery, ...] = ()


class Firing:
    def __init__(
        self,
        *,
        schedules: ScheduleStore,
        audit: AuditLog,
        clock: Clock,
        app_factory: Callable[[], App],
        notifier: Notifier,
        identity: Identity,
        tz: tzinfo,
        stop: threading.Event | None = None,
    ) -> None:
        self.schedules = schedules
        self.audit = audit
        self.clock = clock
        self.app_factory = app_factory
        self.notifier = notifier
        self.identity = identity
        self.tz = tz
        self.stop = stop or threading.Event()

    # --- claiming ----------------------------------------------------------------------------

    def claim(self, schedule: str, slot: datetime, trigger: str = "schedule") -> int | None:
        who = self.identity
        return self.schedules.claim(
            schedule,
            slot,
            trigger=trigger,
            holder=who.holder,
            node=who.node,
            pid=who.pid,
            now=self.clock.now(),
        )

    def run_slot(self, schedule: str, slot: datetime) -> FireOutcome | None:
        """The job function lands here: run the slot this identity claimed."""
        fire = self.schedules.fire_at(schedule, slot)
        if fire is None or fire.holder != self.identity.holder:
            log.warning("slot %s of %s is not ours to run; skipped", slot.isoformat(), schedule)
            return None
        return self.execute(fire)

    def run_now(self, schedule: str) -> FireOutcome:
        """Fire a schedule at once, in this process (`orchestrator schedule run-now`)."""
        self.schedules.require(schedule)
        slot = self.clock.now().replace(microsecond=0)
        if self.claim(schedule, slot, trigger="run-now") is None:
            raise ConfigError(f"{schedule} already fired at {slot.isoformat()}; try again")
        fire = self.schedules.fire_at(schedule, slot)
        assert fire is not None
        return self.execute(fire)

    # --- running -----------------------------------------------------------------------------

    def execute(self, fire: Fire) -> FireOutcome:
        stored = self.schedules.get(fire.schedule)
        if stored is None:
            detail = "the schedule was removed (schedule sync) before its slot ran"
            self.schedules.finish(fire.id, FireStatus.ERROR, self.clock.now(), detail=detail)
            return FireOutcome(fire.id, fire.schedule, fire.slot, FireStatus.ERROR, detail=detail)
        spec = stored.spec
        log.info("firing %s for slot %s (%s)", spec.name, fire.slot.isoformat(), fire.trigger)
        try:
            app = self.app_factory()
        except OrchestratorError as exc:
            outcome = FireOutcome(fire.id, spec.name, fire.slot, FireStatus.ERROR, detail=str(exc))
            return self._close(None, spec, outcome, fire.trigger)
        outcome = self._run(app, fire, spec)
        return self._close(app, spec, outcome, fire.trigger)

    def _run(self, app: App, fire: Fire, spec: ScheduleSpec) -> FireOutcome:
        run_id: str | None = None
        try:
            plan = app.plan(
                spec.runbook,
                limit=spec.limit,
                change_id=spec.change_id,
                trigger="schedule",
                options={"schedule": spec.name, "slot": fire.slot.isoformat()},
            )
            run_id = plan.run_id
            self.schedules.set_run(fire.id, run_id)
            result = app.execute(plan, stop=self.stop)
        except ChangeGateError as exc:
            status, detail = FireStatus.REFUSED, f"refused by the change gate: {exc.reason}"
        except OrchestratorError as exc:
            status, detail = FireStatus.ERROR, str(exc)
        except Exception as exc:  # a bug in one fire must not stop the scheduler
            log.exception("internal error firing %s", spec.name)
            status, detail = FireStatus.ERROR, f"internal error: {type(exc).__name__}: {exc}"
        else:
            status, detail = _BY_RUN.get(result.status, FireStatus.ERROR), result.reason
        return FireOutcome(fire.id, spec.name, fire.slot, status, run_id, detail)

    def _close(
        self, app: App | None, spec: ScheduleSpec, outcome: FireOutcome, trigger: str
    ) -> FireOutcome:
        """Record the outcome, write the report, notify, audit — in that order."""
        self.schedules.finish(
            outcome.fire_id,
            outcome.status,
            self.clock.now(),
            run_id=outcome.run_id,
            detail=outcome.detail,
        )
        record = _record(app, outcome.run_id)
        report = _write_report(app, record)
        outcome = replace(outcome, report=report)
        worst = record.result.grade_counts() if record is not None else {}
        worst_grade = max((g for g, n in worst.items() if n), key=lambda g: g.rank, default=None)
        if NotifyWhen(spec.notify).wants(outcome.status, worst_grade):
            note = fire_notification(
                spec,
                slot=outcome.slot,
                status=outcome.status,
                detail=outcome.detail,
                record=record,
                tz=self.tz,
                report=report,
            )
            outcome = replace(outcome, deliveries=tuple(self._notify(spec, note, outcome.run_id)))
        self._audit(
            "schedule.fire",
            spec.name,
            slot=outcome.slot.isoformat(),
            trigger=trigger,
            status=outcome.status.value,
            run_id=outcome.run_id,
            detail=outcome.detail,
            notified=[d.channel for d in outcome.deliveries if d.ok],
        )
        log.info("%s slot %s: %s", spec.name, outcome.slot.isoformat(), outcome.status.value)
        return outcome

    # --- missed slots and notifications ------------------------------------------------------

    def record_missed(
        self, spec: ScheduleSpec, slots: Sequence[datetime], more: bool, why: str
    ) -> list[datetime]:
        """Record slots that will not run and audit the newly recorded ones."""
        who = self.identity
        recorded = self.schedules.record(
            spec.name,
            slots,
            FireStatus.MISSED,
            holder=who.holder,
            node=who.node,
            pid=who.pid,
            now=self.clock.now(),
            detail=why,
        )
        if not recorded:
            return recorded
        log.warning("%s missed %d slot(s): %s", spec.name, len(recorded), why)
        self._audit(
            "schedule.missed",
            spec.name,
            slots=[s.isoformat() for s in recorded],
            more=more,
            detail=why,
        )
        return recorded

    def notify_missed(
        self, spec: ScheduleSpec, slots: Sequence[datetime], more: bool, why: str
    ) -> None:
        if slots and NotifyWhen(spec.notify).wants(FireStatus.MISSED, None):
            self._notify(spec, missed_notification(spec, slots, more, self.tz, why), None)

    def _notify(self, spec: ScheduleSpec, note: Notification, run_id: str | None) -> list[Delivery]:
        deliveries = self.notifier.send(note)
        for failed in (d for d in deliveries if not d.ok):
            self._audit(
                "notify.failed",
                spec.name,
                channel=failed.channel,
                target=failed.target,
                attempts=failed.attempts,
                error=failed.error,
                run_id=run_id,
            )
        return deliveries

    def _audit(self, action: str, schedule: str, **details: Any) -> None:
        try:
            self.audit.record(self.identity.holder, action, f"schedule:{schedule}", details)
        except OrchestratorError as exc:  # the fire is recorded; the audit gap is logged
            log.error("could not audit %s of %s: %s", action, schedule, exc)


def _record(app: App | None, run_id: str | None) -> RunRecord | None:
    if app is None or run_id is None:
        return None
    try:
        return app.runs.get(run_id)
    except OrchestratorError:
        return None  # planning failed before the run was recorded


def _write_report(app: App | None, record: RunRecord | None) -> Path | None:
    """The run's HTML report (settings language), as `orchestrator run` writes it."""
    if app is None or record is None or record.status is RunStatus.REFUSED:
        return None
    try:
        return app.write_report(app.report(record))
    except (OrchestratorError, OSError) as exc:
        log.warning("report of run %s not written: %s", record.run_id, exc)
        return None
