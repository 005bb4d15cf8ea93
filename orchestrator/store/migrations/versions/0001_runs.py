"""runs, host results, step results, check results

Revision ID: 0001_runs
Revises:
Create Date: 2026-01-01 00:00:00

Written by hand to match ``orchestrator.store.models``; enum columns are plain
VARCHAR holding the enum value so the migration does not depend on Python enums.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_runs"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUM = 20


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_runs()
    _create_host_results()
    _create_step_results()
    _create_check_results()


def _create_runs() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("runbook", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(ENUM), nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("change_id", sa.String(64), nullable=True),
        sa.Column("limit_pattern", sa.Text(), nullable=True),
        sa.Column("forks", sa.Integer(), nullable=False),
        sa.Column("host_count", sa.Integer(), nullable=False),
        sa.Column("planned_hosts", sa.JSON(), nullable=False),
        sa.Column("created", _ts(), nullable=False),
        sa.Column("started", _ts(), nullable=True),
        sa.Column("ended", _ts(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("gate_policy", sa.Text(), nullable=False),
        sa.Column("gate_reason", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_created", "runs", ["created"])
    op.create_index("ix_runs_runbook_created", "runs", ["runbook", "created"])
    op.create_index("ix_runs_status_created", "runs", ["status", "created"])
    op.create_index("ix_runs_node_status", "runs", ["node", "status"])


def _create_host_results() -> None:
    op.create_table(
        "host_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("status", sa.String(ENUM), nullable=False),
        sa.Column("started", _ts(), nullable=True),
        sa.Column("ended", _ts(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("grade", sa.String(ENUM), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_host_results_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_host_results"),
        sa.UniqueConstraint("run_id", "host", name="uq_host_results_run_id_host"),
    )


def _create_step_results() -> None:
    op.create_table(
        "step_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host_result_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(ENUM), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("started", _ts(), nullable=True),
        sa.Column("ended", _ts(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("changed", sa.Boolean(), nullable=False),
        sa.Column("ignored", sa.Boolean(), nullable=False),
        sa.Column("stdout_excerpt", sa.Text(), nullable=False),
        sa.Column("stderr_excerpt", sa.Text(), nullable=False),
        sa.Column("output_path", sa.Text(), nullable=True),
        sa.Column("output_sha256", sa.String(64), nullable=True),
        sa.Column("output_bytes", sa.BigInteger(), nullable=True),
        sa.Column("parsed", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_result_id"],
            ["host_results.id"],
            name="fk_step_results_host_result_id_host_results",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_step_results"),
        sa.UniqueConstraint("host_result_id", "idx", name="uq_step_results_host_result_id_idx"),
    )


def _create_check_results() -> None:
    op.create_table(
        "check_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("step_result_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("grade", sa.String(ENUM), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("threshold", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["step_result_id"],
            ["step_results.id"],
            name="fk_check_results_step_result_id_step_results",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_check_results"),
    )
    op.create_index("ix_check_results_step_result_id", "check_results", ["step_result_id"])


def downgrade() -> None:
    op.drop_index("ix_check_results_step_result_id", table_name="check_results")
    op.drop_table("check_results")
    op.drop_table("step_results")
    op.drop_table("host_results")
    for index in (
        "ix_runs_node_status",
        "ix_runs_status_created",
        "ix_runs_runbook_created",
        "ix_runs_created",
    ):
        op.drop_index(index, table_name="runs")
    op.drop_table("runs")
