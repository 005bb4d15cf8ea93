"""backup index: versions of backed-up artifacts, restore verification evidence

Revision ID: 0004_backups
Revises: 0003_scheduler
Create Date: 2026-02-15 00:00:00

Written by hand to match ``orchestrator.store.backup_rows``. The bytes themselves are
files in the backup directory (content-addressed objects), not rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_backups"
down_revision: str | Sequence[str] | None = "0003_scheduler"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUM = 20
TARGET = 255
ARTIFACT = 500


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "backup_versions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("target", sa.String(TARGET), nullable=False),
        sa.Column("artifact", sa.String(ARTIFACT), nullable=False),
        sa.Column("kind", sa.String(ENUM), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("manifest_digest", sa.String(64), nullable=True),
        sa.Column("created", _ts(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("step_index", sa.Integer(), nullable=True),
        sa.Column("step_name", sa.Text(), nullable=False),
        sa.Column("change", sa.String(ENUM), nullable=False),
        sa.Column("previous_id", sa.String(32), nullable=True),
        sa.Column("before_change", sa.Boolean(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_versions")),
    )
    op.create_index(
        "ix_backup_versions_target_artifact_created",
        "backup_versions",
        ["target", "artifact", "created"],
    )
    op.create_index("ix_backup_versions_run_id", "backup_versions", ["run_id"])
    op.create_index("ix_backup_versions_digest", "backup_versions", ["digest"])
    op.create_table(
        "backup_verifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("target", sa.String(TARGET), nullable=False),
        sa.Column("artifact", sa.String(ARTIFACT), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("host", sa.String(TARGET), nullable=False),
        sa.Column("verified", _ts(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("rto_s", sa.Float(), nullable=True),
        sa.Column("age_s", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_verifications")),
    )
    op.create_index("ix_backup_verifications_version_id", "backup_verifications", ["version_id"])
    op.create_index(
        "ix_backup_verifications_target_verified",
        "backup_verifications",
        ["target", "verified"],
    )


def downgrade() -> None:
    op.drop_table("backup_verifications")
    op.drop_table("backup_versions")
