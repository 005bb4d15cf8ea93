"""ORM rows for runs and their results (SQLAlchemy 2 typed declarative).

Rows mirror the engine's result dataclasses; ``records`` turns them back into
those dataclasses. Schema changes need an Alembic revision in ``migrations/``
(a test compares this metadata with the migrated schema on every backend).

Statuses and grades are stored as their Enum ``.value`` strings, datetimes as
UTC and always returned timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from orchestrator.engine.results import RunStatus, Status
from orchestrator.runbook.model import Grade
from orchestrator.store.encoding import clean_text

# Named constraints so later migrations can drop/alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
ENUM_LENGTH = 20


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as UTC and always read back timezone-aware.

    SQLite has no time zones: the value is stored as naive UTC text and the
    zone is put back on read. PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store a naive datetime ({value.isoformat()})")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class CleanText(TypeDecorator[str]):
    """Text that may come from command output: NUL is replaced (PostgreSQL refuses it)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else clean_text(value)


def _enum(enum_cls: type[Enum]) -> SqlEnum:
    # VARCHAR holding .value; no native PG enum, so adding a status needs no type migration.
    return SqlEnum(
        enum_cls,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        create_constraint=False,
        length=ENUM_LENGTH,
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    runbook: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus))
    operator: Mapped[str] = mapped_column(String(200), default="")
    trigger: Mapped[str] = mapped_column(String(32), default="cli")
    change_id: Mapped[str | None] = mapped_column(String(64))
    limit_pattern: Mapped[str | None] = mapped_column(Text)
    forks: Mapped[int] = mapped_column(Integer)
    host_count: Mapped[int] = mapped_column(Integer)
    # Target host names in plan order: orders host results, shows who was never reached.
    planned_hosts: Mapped[list[str]] = mapped_column(JSON, default=list)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    started: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(CleanText, default="")
    gate_policy: Mapped[str] = mapped_column(Text, default="")
    gate_reason: Mapped[str] = mapped_column(Text, default="")
    pid: Mapped[int | None] = mapped_column(Integer)
    node: Mapped[str] = mapped_column(String(255), default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    hosts: Mapped[list[HostRow]] = relationship(
        back_populates="run", order_by="HostRow.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_runs_created", "created"),
        Index("ix_runs_runbook_created", "runbook", "created"),
        Index("ix_runs_status_created", "status", "created"),
        Index("ix_runs_node_status", "node", "status"),
    )


class HostRow(Base):
    __tablename__ = "host_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[Status] = mapped_column(_enum(Status))
    started: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(CleanText, default="")
    grade: Mapped[Grade | None] = mapped_column(_enum(Grade))

    run: Mapped[RunRow] = relationship(back_populates="hosts")
    steps: Mapped[list[StepRow]] = relationship(
        back_populates="host_result", order_by="StepRow.idx", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("run_id", "host"),)


class StepRow(Base):
    __tablename__ = "step_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    host_result_id: Mapped[int] = mapped_column(ForeignKey("host_results.id", ondelete="CASCADE"))
    idx: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[Status] = mapped_column(_enum(Status))
    command: Mapped[str] = mapped_column(CleanText, default="")
    exit_code: Mapped[int | None] = mapped_column(Integer)
    started: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str] = mapped_column(CleanText, default="")
    changed: Mapped[bool] = mapped_column(Boolean, default=False)
    ignored: Mapped[bool] = mapped_column(Boolean, default=False)  # failed under ignore_errors
    stdout_excerpt: Mapped[str] = mapped_column(CleanText, default="")
    stderr_excerpt: Mapped[str] = mapped_column(CleanText, default="")
    output_path: Mapped[str | None] = mapped_column(Text)
    output_sha256: Mapped[str | None] = mapped_column(String(64))
    output_bytes: Mapped[int | None] = mapped_column(BigInteger)
    parsed: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)

    host_result: Mapped[HostRow] = relationship(back_populates="steps")
    checks: Mapped[list[CheckRow]] = relationship(
        back_populates="step", order_by="CheckRow.id", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("host_result_id", "idx"),)


class CheckRow(Base):
    __tablename__ = "check_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    step_result_id: Mapped[int] = mapped_column(
        ForeignKey("step_results.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    grade: Mapped[Grade] = mapped_column(_enum(Grade))
    # JSON so a measured 87.5 comes back as a number and "active" as text.
    value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    unit: Mapped[str] = mapped_column(String(64), default="")
    threshold: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(CleanText, default="")

    step: Mapped[StepRow] = relationship(back_populates="checks")
