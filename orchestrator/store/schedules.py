"""Schedules as synced from schedules.yml, and their fires (one row per slot).

A fire row is claimed *before* anything runs, with ``INSERT … ON CONFLICT DO NOTHING``
on the unique (schedule, slot) key: whoever inserts it runs the slot, everyone else
(a second daemon, a restarted one) sees that it is taken. Missed and skipped slots are
rows too, so every slot has exactly one outcome.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from orchestrator.errors import NotFoundError
from orchestrator.store.db import Database
from orchestrator.store.schedule_rows import FireRow, ScheduleRow


class FireStatus(Enum):
    RUNNING = "running"  # claimed; the run is going
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the run had failed hosts
    ABORTED = "aborted"  # stopped (shutdown, a later batch refused)
    REFUSED = "refused"  # the change gate said no; nothing ran
    ERROR = "error"  # could not start: bad runbook, no hosts, database …
    MISSED = "missed"  # not run: the daemon was down past the grace time, or coalesced
    SKIPPED = "skipped"  # not run: the previous fire was still running (max_instances=1)
    INTERRUPTED = "interrupted"  # the daemon running it died

    @property
    def ran(self) -> bool:
        return self in _RAN


_RAN = {FireStatus.RUNNING, FireStatus.SUCCEEDED, FireStatus.FAILED, FireStatus.ABORTED}


@dataclass(frozen=True)
class ScheduleSpec:
    """What schedules.yml says about one schedule (times in seconds, zone by name)."""

    name: str
    runbook: str
    cron: str
    timezone: str
    misfire_grace: int
    limit: str | None = None
    change_id: str | None = None
    enabled: bool = True
    notify: str = "critical"
    description: str = ""
    source: str = ""  # file:line, for messages

    def same_timing(self, other: ScheduleSpec) -> bool:
        return (self.cron, self.timezone) == (other.cron, other.timezone)


@dataclass(frozen=True)
class StoredSchedule:
    spec: ScheduleSpec
    paused: bool = False
    paused_by: str = ""
    paused_at: datetime | None = None
    updated: datetime | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def active(self) -> bool:
        return self.spec.enabled and not self.paused


@dataclass(frozen=True)
class Fire:
    id: int
    schedule: str
    slot: datetime
    trigger: str
    status: FireStatus
    holder: str
    node: str
    pid: int | None
    claimed: datetime
    ended: datetime | None
    run_id: str | None
    detail: str


_SPEC_COLUMNS = {
    "runbook": "runbook",
    "cron": "cron",
    "timezone": "timezone",
    "misfire_grace": "misfire_grace",
    "limit": "limit_pattern",
    "change_id": "change_id",
    "enabled": "enabled",
    "notify": "notify",
    "description": "description",
    "source": "source",
}


def _stored(row: ScheduleRow) -> StoredSchedule:
    values = {field: getattr(row, column) for field, column in _SPEC_COLUMNS.items()}
    return StoredSchedule(
        ScheduleSpec(name=row.name, **values), row.paused, row.paused_by, row.paused_at, row.updated
    )


def _fire(row: FireRow) -> Fire:
    return Fire(
        row.id,
        row.schedule,
        row.slot,
        row.trigger,
        FireStatus(row.status),
        row.holder,
        row.node,
        row.pid,
        row.claimed,
        row.ended,
        row.run_id,
        row.detail,
    )


class ScheduleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- definitions -----------------------------------------------------------------------

    def get(self, name: str) -> StoredSchedule | None:
        with self.db.read_session() as s:
            row = s.get(ScheduleRow, name)
            return _stored(row) if row is not None else None

    def require(self, name: str) -> StoredSchedule:
        found = self.get(name)
        if found is None:
            raise NotFoundError(
                f"no schedule {name!r} (see `orchestrator schedule list`; schedules come "
                "from schedules.yml via `orchestrator schedule sync`)"
            )
        return found

    def all(self) -> builtins.list[StoredSchedule]:
        with self.db.read_session() as s:
            return [_stored(r) for r in s.scalars(select(ScheduleRow).order_by(ScheduleRow.name))]

    def upsert(self, spec: ScheduleSpec, now: datetime) -> str:
        """Store a definition, keeping its pause state: "added", "updated" or "unchanged"."""
        with self.db.session() as s:
            row = s.get(ScheduleRow, spec.name)
            if row is None:
                row = ScheduleRow(name=spec.name, created=now, paused=False, paused_by="")
                s.add(row)
                outcome = "added"
            elif _stored(row).spec == spec:
                return "unchanged"
            else:
                outcome = "updated"
            for field, column in _SPEC_COLUMNS.items():
                setattr(row, column, getattr(spec, field))
            row.updated = now
            return outcome

    def remove(self, name: str) -> None:
        with self.db.session() as s:
            row = s.get(ScheduleRow, name)
            if row is not None:
                s.delete(row)

    def set_paused(self, name: str, paused: bool, user: str, now: datetime) -> StoredSchedule:
        with self.db.session() as s:
            row = s.get(ScheduleRow, name)
            if row is None:
                raise NotFoundError(f"no schedule {name!r} (see `orchestrator schedule list`)")
            row.paused, row.paused_by = paused, user if paused else ""
            row.paused_at = now if paused else None
            row.updated = now
            return _stored(row)

    # --- fires -----------------------------------------------------------------------------

    def claim(
        self,
        schedule: str,
        slot: datetime,
        *,
        status: FireStatus = FireStatus.RUNNING,
        trigger: str = "schedule",
        holder: str = "",
        node: str = "",
        pid: int | None = None,
        now: datetime,
        detail: str = "",
    ) -> int | None:
        """Take the slot; its fire id, or None when someone already has it."""
        values: dict[str, Any] = {
            "schedule": schedule,
            "slot": slot,
            "trigger": trigger,
            "status": status.value,
            "holder": holder,
            "node": node,
            "pid": pid,
            "claimed": now,
            "ended": None if status is FireStatus.RUNNING else now,
            "detail": detail,
        }
        with self.db.session() as s:
            return _insert_ignoring_conflict(s, values)

    def record(
        self, schedule: str, slots: Iterable[datetime], status: FireStatus, **fields: Any
    ) -> builtins.list[datetime]:
        """Record slots that will not run (missed, skipped); returns those not taken before."""
        return [
            slot
            for slot in slots
            if self.claim(schedule, slot, status=status, **fields) is not None
        ]

    def set_run(self, fire_id: int, run_id: str) -> None:
        with self.db.session() as s:
            s.execute(update(FireRow).where(FireRow.id == fire_id).values(run_id=run_id))

    def finish(
        self,
        fire_id: int,
        status: FireStatus,
        now: datetime,
        *,
        run_id: str | None = None,
        detail: str = "",
    ) -> None:
        values: dict[str, Any] = {"status": status.value, "ended": now, "detail": detail}
        if run_id is not None:
            values["run_id"] = run_id
        with self.db.session() as s:
            s.execute(update(FireRow).where(FireRow.id == fire_id).values(**values))

    def interrupt(self, holder: str, now: datetime, detail: str) -> builtins.list[Fire]:
        """Mark the fires a dead scheduler left running as interrupted."""
        with self.db.session() as s:
            rows = list(
                s.scalars(
                    select(FireRow).where(
                        FireRow.holder == holder, FireRow.status == FireStatus.RUNNING.value
                    )
                )
            )
            for row in rows:
                row.status, row.ended, row.detail = FireStatus.INTERRUPTED.value, now, detail
            return [_fire(r) for r in rows]

    def fire_at(self, schedule: str, slot: datetime) -> Fire | None:
        with self.db.read_session() as s:
            row = s.scalars(
                select(FireRow).where(FireRow.schedule == schedule, FireRow.slot == slot)
            ).first()
            return _fire(row) if row is not None else None

    def fires(
        self,
        schedule: str | None = None,
        *,
        statuses: Iterable[FireStatus] | None = None,
        limit: int | None = 50,
    ) -> builtins.list[Fire]:
        """Newest slot first."""
        query = select(FireRow).order_by(FireRow.slot.desc(), FireRow.id.desc())
        if schedule is not None:
            query = query.where(FireRow.schedule == schedule)
        if statuses is not None:
            query = query.where(FireRow.status.in_([s.value for s in statuses]))
        if limit is not None:
            query = query.limit(limit)
        with self.db.read_session() as s:
            return [_fire(r) for r in s.scalars(query)]

    def last_fires(self) -> dict[str, Fire]:
        """The newest fire of every schedule (by slot)."""
        newest = (
            select(FireRow.schedule, func.max(FireRow.slot).label("slot"))
            .group_by(FireRow.schedule)
            .subquery()
        )
        query = select(FireRow).join(
            newest, (FireRow.schedule == newest.c.schedule) & (FireRow.slot == newest.c.slot)
        )
        with self.db.read_session() as s:
            return {r.schedule: _fire(r) for r in s.scalars(query)}

    def counts(self, since: datetime | None = None) -> dict[str, dict[FireStatus, int]]:
        """Fires per schedule and status (slots from ``since`` on)."""
        query = select(FireRow.schedule, FireRow.status, func.count()).group_by(
            FireRow.schedule, FireRow.status
        )
        if since is not None:
            query = query.where(FireRow.slot >= since)
        result: dict[str, dict[FireStatus, int]] = {}
        with self.db.read_session() as s:
            for name, status, count in s.execute(query):
                result.setdefault(name, {})[FireStatus(status)] = int(count)
        return result


def _insert_ignoring_conflict(session: Session, values: dict[str, Any]) -> int | None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(FireRow)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["schedule", "slot"])
        .returning(FireRow.id)
    )
    fire_id = session.execute(statement).scalar_one_or_none()
    return None if fire_id is None else int(fire_id)
