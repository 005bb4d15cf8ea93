"""scheduler: schedules, schedule fires (idempotency key), leader lease, APScheduler jobs

Revision ID: 0003_scheduler
Revises: 0002_changes_audit
Create Date: 2026-02-01 00:00:00

Written by hand to match ``orchestrator.store.schedule_rows``. ``apscheduler_jobs``
has the columns APScheduler 3's SQLAlchemyJobStore expects (it would otherwise create
the table itself, outside our migrations).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_scheduler"
down_revision: str | Sequence[str] | None = "0002_changes_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUM = 20
NAME = 100
USER = 200


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("runbook", sa.String(200), nullable=False),
        sa.Column("cron", sa.String(100), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("limit_pattern", sa.Text(), nullable=True),
        sa.Column("change_id", sa.String(32), nullable=True),
        sa.Column("misfire_grace", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("notify", sa.String(ENUM), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("paused_by", sa.String(USER), nullable=False),
        sa.Column("paused_at", _ts(), nullable=True),
        sa.Column("created", _ts(), nullable=False),
        sa.Column("updated", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_schedules"),
    )
    op.create_table(
        "schedule_fires",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule", sa.String(NAME), nullable=False),
        sa.Column("slot", _ts(), nullable=False),
        sa.Column("trigger", sa.String(ENUM), nullable=False),
        sa.Column("status", sa.String(ENUM), nullable=False),
        sa.Column("holder", sa.String(USER), nullable=False),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("claimed", _ts(), nullable=False),
        sa.Column("ended", _ts(), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_fires"),
        sa.UniqueConstraint("schedule", "slot", name="uq_schedule_fires_schedule_slot"),
    )
    op.create_index("ix_schedule_fires_status_claimed", "schedule_fires", ["status", "claimed"])
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(USER), nullable=False),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("acquired", _ts(), nullable=False),
        sa.Column("renewed", _ts(), nullable=False),
        sa.Column("expires", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_scheduler_leases"),
    )
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), nullable=False),
        sa.Column("next_run_time", sa.Float(25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_apscheduler_jobs"),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"])


def downgrade() -> None:
    op.drop_index("ix_apscheduler_jobs_next_run_time", table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")
    op.drop_table("scheduler_leases")
    op.drop_index("ix_schedule_fires_status_claimed", table_name="schedule_fires")
    op.drop_table("schedule_fires")
    op.drop_table("schedules")
