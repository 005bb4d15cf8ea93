"""The schema comes from Alembic migrations, and the migrations match the models."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from orchestrator.errors import StoreError
from orchestrator.store.db import Database, alembic_config
from orchestrator.store.models import Base

TABLES = {
    "runs",
    "host_results",
    "step_results",
    "check_results",
    "change_records",
    "approvals",
    "freeze_periods",
    "audit_log",
    "backup_versions",
    "backup_verifications",
    "schedules",
    "schedule_fires",
    "scheduler_leases",
    "apscheduler_jobs",
    "host_locks",
}


def test_upgrade_creates_the_schema_on_an_empty_database(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert set(sqlalchemy.inspect(db.engine).get_table_names()) == set()
        db.upgrade()
        db.upgrade()  # already at head: nothing to do
        assert set(sqlalchemy.inspect(db.engine).get_table_names()) == TABLES | {"alembic_version"}
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
    finally:
        db.dispose()


def test_models_match_migrations(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_removes_the_tables(database: Database) -> None:
    config = alembic_config()
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(sqlalchemy.inspect(database.engine).get_table_names()) <= {"alembic_version"}


def test_sqlite_is_tuned_for_concurrent_writers(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/a/b/orchestrator.db")
    try:
        db.upgrade()
        assert (tmp_path / "a" / "b" / "orchestrator.db").exists()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        db.dispose()


def test_unwritable_sqlite_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the directory"):
        Database(f"sqlite:///{blocker}/sub/orchestrator.db")


def test_unopenable_sqlite_file_is_a_store_error(tmp_path: Path) -> None:
    # The database path is a directory: SQLite cannot open it (works even as root).
    (tmp_path / "orchestrator.db").mkdir()
    db = Database(f"sqlite:///{tmp_path}/orchestrator.db")
    with pytest.raises(StoreError, match=r"cannot migrate sqlite:///.*unable to open"):
        db.upgrade()
    db.dispose()


def test_unreachable_server_is_a_store_error_with_the_password_masked() -> None:
    db = Database("postgresql+psycopg2://orch:s3cret@127.0.0.1:1/orchestrator")
    with pytest.raises(StoreError) as info:
        db.upgrade()
    message = str(info.value)
    assert "postgresql+psycopg2://orch:***@127.0.0.1:1/orchestrator" in message
    assert "s3cret" not in message
    expected = r"database error on .*orch:\*\*\*@127\.0\.0\.1:1"
    with pytest.raises(StoreError, match=expected), db.session() as session:
        session.execute(sqlalchemy.text("SELECT 1"))
    db.dispose()


def test_processes_starting_together_migrate_once(db_url: str) -> None:
    databases = [Database(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(databases))

    def upgrade(db: Database) -> None:
        barrier.wait()
        db.upgrade()

    try:
        with ThreadPoolExecutor(len(databases)) as pool:
            for future in [pool.submit(upgrade, db) for db in databases]:
                future.result()
        assert set(sqlalchemy.inspect(databases[0].engine).get_table_names()) == TABLES | {
            "alembic_version"
        }
    finally:
        for db in databases:
            db.dispose()


def test_head_revision_constant_matches_alembic_head() -> None:
    from alembic.script import ScriptDirectory

    from orchestrator.store.db import HEAD_REVISION, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION
