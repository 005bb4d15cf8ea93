"""The hash-chained audit log on SQLite and PostgreSQL: appends, verification, tampering,
append-only enforcement, parallel writers, JSON Lines export."""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy

from orchestrator.clock import ManualClock
from orchestrator.errors import StoreError
from orchestrator.store.audit import GENESIS, AuditLog, entry_hash
from orchestrator.store.db import Database

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


@pytest.fixture
def audit(database: Database, clock: ManualClock) -> AuditLog:
    return AuditLog(database, clock)


def fill(audit: AuditLog, clock: ManualClock, n: int = 5) -> None:
    for i in range(n):
        audit.record(
            "alice", "change.approve", f"CHG-20260301-{i:03d}", {"i": i, "ratio": 0.1, "中": "文"}
        )
        clock.advance(1.5)


def raw(database: Database, sql: str) -> None:
    """Write around the app, as someone with direct database access would."""
    with database.engine.begin() as conn:
        if database.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
        else:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")  # no triggers
        conn.exec_driver_sql(sql)


def test_entries_chain_from_genesis(audit: AuditLog, clock: ManualClock) -> None:
    fill(audit, clock)
    entries = audit.entries()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    assert all(entry_hash(e) == e.hash for e in entries)
    assert entries[2].details == {"i": 2, "ratio": 0.1, "中": "文"}
    result = audit.verify()
    assert result.ok
    assert (result.entries, result.head_seq, result.head_hash) == (5, 5, entries[-1].hash)


def test_an_empty_log_verifies(audit: AuditLog) -> None:
    result = audit.verify()
    assert result.ok
    assert (result.entries, result.head_hash) == (0, GENESIS)


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", "entry 3 ("),
        ("UPDATE audit_log SET details = '{\"i\": 99}' WHERE seq = 3", "entry 3 ("),
        ("UPDATE audit_log SET subject = 'CHG-X' WHERE seq = 3", "entry 3 ("),
    ],
)
def test_editing_a_row_makes_verify_name_it(
    audit: AuditLog, clock: ManualClock, database: Database, sql: str, fragment: str
) -> None:
    fill(audit, clock)
    raw(database, sql)
    result = audit.verify()
    assert not result.ok
    assert result.bad_seq == 3
    assert fragment in result.problem
    assert "was altered" in result.problem
    assert result.head_seq == 2  # entries 1..2 still verify


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link(
    audit: AuditLog, clock: ManualClock, database: Database
) -> None:
    fill(audit, clock)
    forged = audit.entries()[2]
    forged = replace(forged, actor="mallory")
    new_hash = entry_hash(forged)
    raw(database, f"UPDATE audit_log SET actor = 'mallory', hash = '{new_hash}' WHERE seq = 3")
    result = audit.verify()
    assert not result.ok
    assert result.bad_seq == 4
    assert "does not link to entry 3" in result.problem


def test_a_deleted_row_is_named(audit: AuditLog, clock: ManualClock, database: Database) -> None:
    fill(audit, clock)
    raw(database, "DELETE FROM audit_log WHERE seq = 2")
    result = audit.verify()
    assert not result.ok
    assert "entry 2 missing" in result.problem


def test_the_log_refuses_update_and_delete_even_for_its_owner(
    audit: AuditLog, clock: ManualClock, database: Database
) -> None:
    fill(audit, clock, 2)
    for sql in ("UPDATE audit_log SET actor = 'x' WHERE seq = 1", "DELETE FROM audit_log"):
        with pytest.raises(StoreError, match="append-only"), database.session() as s:
            s.execute(sqlalchemy.text(sql))
    assert audit.verify().ok


def test_export_writes_json_lines_since(audit: AuditLog, clock: ManualClock) -> None:
    start = clock.now()
    fill(audit, clock, 4)
    out = io.StringIO()
    assert audit.export(out, since=start + timedelta(seconds=3)) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["seq"] for e in lines] == [3, 4]
    assert set(lines[0]) == {
        "seq",
        "ts",
        "actor",
        "action",
        "subject",
        "details",
        "prev_hash",
        "hash",
    }
    assert lines[1]["prev_hash"] == lines[0]["hash"]


WRITER = """
import sys
from orchestrator.clock import SystemClock
from orchestrator.store.audit import AuditLog
from orchestrator.store.db import Database
db = Database(sys.argv[1])
log = AuditLog(db, SystemClock())
for i in range(int(sys.argv[3])):
    log.record(sys.argv[2], "test.append", f"w{sys.argv[2]}", {"i": i})
db.dispose()
"""


def test_parallel_processes_never_fork_the_chain(
    audit: AuditLog, database: Database, db_url: str
) -> None:
    writers, each = 4, 25
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, db_url, str(w), str(each)], cwd=ROOT)
        for w in range(writers)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    result = audit.verify()
    assert result.ok, result.problem
    assert result.entries == writers * each


@pytest.mark.postgres
def test_a_restricted_database_role_cannot_update_or_delete_audit_rows(
    store_pg_url: str, clock: ManualClock
) -> None:
    """The grant documented in the README: the app's role gets INSERT/SELECT on audit_log only."""
    owner = Database(store_pg_url)
    role = "orch_app_test"
    try:
        owner.upgrade()
        with owner.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {role}")
            conn.exec_driver_sql(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
            )
            conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
            conn.exec_driver_sql(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {role}")
        app_url = sqlalchemy.make_url(store_pg_url).set(username=role, password=None)
        app_db = Database(app_url.render_as_string(hide_password=False))
        try:
            app_db.upgrade()  # at head already: nothing to do, no DDL needed
            log = AuditLog(app_db, clock)
            log.record("alice", "change.create", "CHG-1", {"ok": True})
            for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
                with pytest.raises(StoreError, match="permission denied"), app_db.session() as s:
                    s.execute(sqlalchemy.text(sql))
            assert log.verify().ok
        finally:
            app_db.dispose()
    finally:
        with owner.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        owner.dispose()
