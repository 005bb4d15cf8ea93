"""Store integration fixtures: every test runs on SQLite (a tmp file) and on PostgreSQL.

PostgreSQL tests use a throwaway database created for this test session (and
dropped after it), with a fresh schema per test, so parallel runs do not collide.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from orchestrator.clock import ManualClock
from orchestrator.store.db import Database
from orchestrator.store.outputs import OutputStore
from orchestrator.store.runs import RunStore

# pytest runs with --import-mode=importlib, which does not put test directories on
# sys.path; the tests (and the child processes they start) import store_builders.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def store_pg_url(postgres_url: str) -> Iterator[str]:
    name = f"orch_store_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _reset_pg_schema(url: str) -> None:
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file in a directory that does not exist yet, or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/data/orchestrator.db"
    url: str = request.getfixturevalue("store_pg_url")
    _reset_pg_schema(url)
    return url


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def output_root(tmp_path: Path) -> Path:
    return tmp_path / "outputs"


@pytest.fixture
def store(database: Database, output_root: Path, clock: ManualClock) -> RunStore:
    return RunStore(database, OutputStore(output_root), clock)
