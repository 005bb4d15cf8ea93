"""host locks: per-host leases across runs (patch rollouts vs backups and inspections)

Revision ID: 0005_host_locks
Revises: 0004_backups
Create Date: 2026-02-20 00:00:00

Written by hand to match ``orchestrator.store.locks.HostLockRow``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_host_locks"
down_revision: str | Sequence[str] | None = "0004_backups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "host_locks",
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("runbook", sa.String(200), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("acquired", _ts(), nullable=False),
        sa.Column("expires", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("host", "run_id", name=op.f("pk_host_locks")),
    )
    op.create_index("ix_host_locks_run_id", "host_locks", ["run_id"])


def downgrade() -> None:
    op.drop_table("host_locks")
