"""ORM rows for the scheduler: schedule definitions, fires (one per slot), the leader lease,
and APScheduler's job table.

Same conventions as ``models``; migration ``0003_scheduler`` creates these tables.
``apscheduler_jobs`` is declared here with exactly the columns APScheduler 3's
``SQLAlchemyJobStore`` uses, so the schema comes from our migrations (and the grant
for the app role covers it) instead of being created behind Alembic's back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.store.models import ENUM_LENGTH, Base, CleanText, UTCDateTime

NAME_LENGTH = 100
USER_LENGTH = 200


class ScheduleRow(Base):
    """One schedule as last synced from schedules.yml, plus its pause state."""

    __tablename__ = "schedules"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    runbook: Mapped[str] = mapped_column(String(200))
    cron: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    limit_pattern: Mapped[str | None] = mapped_column(Text)
    change_id: Mapped[str | None] = mapped_column(String(32))
    misfire_grace: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    notify: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    description: Mapped[str] = mapped_column(CleanText, default="")
    source: Mapped[str] = mapped_column(Text, default="")  # file:line it was synced from
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_by: Mapped[str] = mapped_column(String(USER_LENGTH), default="")
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)


class FireRow(Base):
    """One slot of one schedule: run, missed or skipped. The unique key is the idempotency
    key: two daemons (or a restart) can never claim the same slot twice."""

    __tablename__ = "schedule_fires"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule: Mapped[str] = mapped_column(String(NAME_LENGTH))
    slot: Mapped[datetime] = mapped_column(UTCDateTime)
    trigger: Mapped[str] = mapped_column(String(ENUM_LENGTH))  # schedule | run-now
    status: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    holder: Mapped[str] = mapped_column(String(USER_LENGTH), default="")  # who claimed it
    node: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int | None] = mapped_column(Integer)
    claimed: Mapped[datetime] = mapped_column(UTCDateTime)
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(CleanText, default="")

    __table_args__ = (
        UniqueConstraint("schedule", "slot"),
        Index("ix_schedule_fires_status_claimed", "status", "claimed"),
    )


class LeaseRow(Base):
    """The leader lease: whoever holds an unexpired row is the one active scheduler."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(USER_LENGTH))
    node: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int | None] = mapped_column(Integer)
    acquired: Mapped[datetime] = mapped_column(UTCDateTime)
    renewed: Mapped[datetime] = mapped_column(UTCDateTime)
    expires: Mapped[datetime] = mapped_column(UTCDateTime)


class ApschedulerJobRow(Base):
    """APScheduler 3's job table (``SQLAlchemyJobStore``): a pickled job per schedule.

    Written only through APScheduler; each job holds a textual reference to the one job
    function (``orchestrator.scheduler.jobs:fire``) and the schedule name.
    """

    __tablename__ = "apscheduler_jobs"

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)
