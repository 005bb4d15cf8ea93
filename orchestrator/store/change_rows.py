"""ORM rows for change records, their approvals, freeze periods and the audit log.

Same conventions as ``models`` (one ``Base``, UTC datetimes, enums as their
``.value`` text); migration ``0002_changes_audit`` creates these tables. The
audit log is append-only: triggers refuse UPDATE and DELETE on every backend,
and on PostgreSQL the app's role is not granted them (see README, Security).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from orchestrator.store.models import ENUM_LENGTH, Base, CleanText, UTCDateTime

USER_LENGTH = 200


class ChangeRow(Base):
    __tablename__ = "change_records"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    state: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    risk: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    title: Mapped[str] = mapped_column(CleanText)
    purpose: Mapped[str] = mapped_column(CleanText, default="")
    content: Mapped[str] = mapped_column(CleanText, default="")
    impact: Mapped[str] = mapped_column(CleanText, default="")
    implementation: Mapped[str] = mapped_column(CleanText, default="")
    rollback: Mapped[str] = mapped_column(CleanText, default="")
    verification: Mapped[str] = mapped_column(CleanText, default="")
    requester: Mapped[str] = mapped_column(String(USER_LENGTH))
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cron: Mapped[str | None] = mapped_column(String(100))
    cron_seconds: Mapped[int | None] = mapped_column(Integer)
    runbooks: Mapped[list[str]] = mapped_column(JSON, default=list)
    targets: Mapped[str] = mapped_column(Text)
    # The dry-run plan attached at submit (changes.plan.plan_to_dict), hosts included.
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    emergency_reason: Mapped[str] = mapped_column(CleanText, default="")
    run_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(CleanText, default="")
    review: Mapped[str] = mapped_column(CleanText, default="")
    reviewed_by: Mapped[str] = mapped_column(String(USER_LENGTH), default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)

    decisions: Mapped[list[DecisionRow]] = relationship(
        order_by="DecisionRow.id", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        Index("ix_change_records_state_type", "state", "type"),
        Index("ix_change_records_run_id", "run_id"),
    )


class DecisionRow(Base):
    """An approval or a rejection by one change-manager."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    change_id: Mapped[str] = mapped_column(ForeignKey("change_records.id"))
    approver: Mapped[str] = mapped_column(String(USER_LENGTH))
    verdict: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(CleanText, default="")

    __table_args__ = (UniqueConstraint("change_id", "approver"),)


class FreezeRow(Base):
    __tablename__ = "freeze_periods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(CleanText, default="")
    created_by: Mapped[str] = mapped_column(String(USER_LENGTH), default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """One hash-chained audit entry; ``seq`` is assigned under the chain lock (no gaps)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(USER_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_log_subject_seq", "subject", "seq"),
        Index("ix_audit_log_ts", "ts"),
    )
