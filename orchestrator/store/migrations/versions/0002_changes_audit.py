"""change records, approvals, freeze periods, audit log (append-only)

Revision ID: 0002_changes_audit
Revises: 0001_runs
Create Date: 2026-01-15 00:00:00

Written by hand to match ``orchestrator.store.change_rows``. Triggers refuse
UPDATE and DELETE (and TRUNCATE on PostgreSQL) on ``audit_log`` for every
database user; on PostgreSQL the app's role should also lack those privileges
(README, "Audit log").
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_changes_audit"
down_revision: str | Sequence[str] | None = "0001_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUM = 20
USER = 200

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END",
)
_PG_TRIGGERS = (
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
    END $$""",
    "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_change_records()
    _create_approvals()
    _create_freeze_periods()
    _create_audit_log()


def _create_change_records() -> None:
    op.create_table(
        "change_records",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("type", sa.String(ENUM), nullable=False),
        sa.Column("state", sa.String(ENUM), nullable=False),
        sa.Column("risk", sa.String(ENUM), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("implementation", sa.Text(), nullable=False),
        sa.Column("rollback", sa.Text(), nullable=False),
        sa.Column("verification", sa.Text(), nullable=False),
        sa.Column("requester", sa.String(USER), nullable=False),
        sa.Column("window_start", _ts(), nullable=True),
        sa.Column("window_end", _ts(), nullable=True),
        sa.Column("cron", sa.String(100), nullable=True),
        sa.Column("cron_seconds", sa.Integer(), nullable=True),
        sa.Column("runbooks", sa.JSON(), nullable=False),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("emergency_reason", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("review", sa.Text(), nullable=False),
        sa.Column("reviewed_by", sa.String(USER), nullable=False),
        sa.Column("reviewed_at", _ts(), nullable=True),
        sa.Column("created", _ts(), nullable=False),
        sa.Column("updated", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_change_records"),
    )
    op.create_index("ix_change_records_state_type", "change_records", ["state", "type"])
    op.create_index("ix_change_records_run_id", "change_records", ["run_id"])


def _create_approvals() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("change_id", sa.String(32), nullable=False),
        sa.Column("approver", sa.String(USER), nullable=False),
        sa.Column("verdict", sa.String(ENUM), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["change_records.id"], name="fk_approvals_change_id_change_records"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_approvals"),
        sa.UniqueConstraint("change_id", "approver", name="uq_approvals_change_id_approver"),
    )


def _create_freeze_periods() -> None:
    op.create_table(
        "freeze_periods",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("start", _ts(), nullable=False),
        sa.Column("end", _ts(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(USER), nullable=False),
        sa.Column("created", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_freeze_periods"),
    )


def _create_audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ts", _ts(), nullable=False),
        sa.Column("actor", sa.String(USER), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_subject_seq", "audit_log", ["subject", "seq"])
    op.create_index("ix_audit_log_ts", "audit_log", ["ts"])
    statements = _PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    op.drop_index("ix_audit_log_ts", table_name="audit_log")
    op.drop_index("ix_audit_log_subject_seq", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("freeze_periods")
    op.drop_table("approvals")
    op.drop_index("ix_change_records_run_id", table_name="change_records")
    op.drop_index("ix_change_records_state_type", table_name="change_records")
    op.drop_table("change_records")
