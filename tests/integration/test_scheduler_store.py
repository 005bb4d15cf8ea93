"""The scheduler's storage on SQLite and PostgreSQL: the leader lease (take, renew, expire,
take over, release) and the fire idempotency key (one claim per slot, however many
processes race for it), plus the APScheduler job table created by our migrations."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from orchestrator.scheduler.jobtable import JobTable
from orchestrator.store.db import Database
from orchestrator.store.leases import LeaseStore
from orchestrator.store.schedules import FireStatus, ScheduleSpec, ScheduleStore

T0 = datetime(2026, 6, 1, 1, 59, tzinfo=UTC)


@pytest.fixture(scope="session")
def scheduler_pg_url(postgres_url: str) -> Iterator[str]:
    """A throwaway PostgreSQL database for this session's scheduler tests."""
    name = f"orch_sched_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def fresh_pg(url: str) -> str:
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a fresh schema in the session's PostgreSQL DB."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/db/orchestrator.db"
    return fresh_pg(request.getfixturevalue("scheduler_pg_url"))


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    db.upgrade()
    yield db
    db.dispose()


def test_lease_is_taken_renewed_and_kept_from_others(database: Database) -> None:
    leases = LeaseStore(database)
    first = leases.acquire("scheduler", "a", node="n", pid=1, now=T0, ttl=30)
    assert first.taken
    assert first.held_by("a")
    assert first.previous is None
    # b stands by while a's lease is valid
    other = leases.acquire(
        "scheduler", "b", node="n", pid=2, now=T0 + timedelta(seconds=29), ttl=30
    )
    assert not other.taken
    assert other.held_by("a")
    # a renews only when less than two thirds are left (no write every poll)
    early = leases.acquire("scheduler", "a", node="n", pid=1, now=T0 + timedelta(seconds=5), ttl=30)
    assert early.lease.expires == T0 + timedelta(seconds=30)
    late = leases.acquire("scheduler", "a", node="n", pid=1, now=T0 + timedelta(seconds=20), ttl=30)
    assert late.lease.expires == T0 + timedelta(seconds=50)
    assert not late.taken


def test_an_expired_lease_is_taken_over_and_a_released_one_at_once(database: Database) -> None:
    leases = LeaseStore(database)
    leases.acquire("scheduler", "a", node="n", pid=1, now=T0, ttl=30)
    over = leases.acquire("scheduler", "b", node="m", pid=2, now=T0 + timedelta(seconds=30), ttl=30)
    assert over.taken
    assert over.held_by("b")
    assert over.previous is not None
    assert over.previous.holder == "a"
    # a comes back: b holds it now
    assert leases.acquire(
        "scheduler", "a", node="n", pid=1, now=T0 + timedelta(seconds=31), ttl=30
    ).held_by("b")
    assert leases.release("scheduler", "b", T0 + timedelta(seconds=32))
    assert not leases.release("scheduler", "a", T0 + timedelta(seconds=32))
    again = leases.acquire(
        "scheduler", "a", node="n", pid=1, now=T0 + timedelta(seconds=32), ttl=30
    )
    assert again.taken
    assert again.held_by("a")
    current = leases.current("scheduler")
    assert current is not None
    assert current.holder == "a"
    assert current.node == "n"


def test_racing_daemons_get_one_lease(database: Database) -> None:
    barrier = threading.Barrier(6)

    def race(i: int) -> bool:
        barrier.wait()
        got = LeaseStore(database).acquire("scheduler", f"d{i}", node="n", pid=i, now=T0, ttl=30)
        return got.held_by(f"d{i}")

    with ThreadPoolExecutor(6) as pool:
        winners = [w for w in pool.map(race, range(6)) if w]
    assert len(winners) == 1


def test_each_slot_is_claimed_once_however_many_race(database: Database) -> None:
    store = ScheduleStore(database)
    slot = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
    barrier = threading.Barrier(8)

    def claim(i: int) -> int | None:
        barrier.wait()
        return store.claim("daily", slot, holder=f"d{i}", now=T0)

    with ThreadPoolExecutor(8) as pool:
        ids = [i for i in pool.map(claim, range(8)) if i is not None]
    assert len(ids) == 1
    fire = store.fire_at("daily", slot)
    assert fire is not None
    assert fire.id == ids[0]
    assert fire.status is FireStatus.RUNNING
    # a missed/skipped record for a taken slot changes nothing
    assert store.record("daily", [slot], FireStatus.MISSED, now=T0) == []
    store.finish(ids[0], FireStatus.SUCCEEDED, T0 + timedelta(minutes=1), run_id="r1")
    done = store.fire_at("daily", slot)
    assert done is not None
    assert done.status is FireStatus.SUCCEEDED
    assert done.run_id == "r1"
    assert store.counts() == {"daily": {FireStatus.SUCCEEDED: 1}}


def test_interrupted_fires_of_a_dead_holder(database: Database) -> None:
    store = ScheduleStore(database)
    slot = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
    store.claim("daily", slot, holder="dead", now=T0)
    store.claim("daily", slot + timedelta(days=1), holder="alive", now=T0)
    gone = store.interrupt("dead", T0, "its scheduler died")
    assert [f.slot for f in gone] == [slot]
    assert store.last_fires()["daily"].holder == "alive"
    fire = store.fire_at("daily", slot)
    assert fire is not None
    assert fire.status is FireStatus.INTERRUPTED


def test_definitions_keep_their_pause_state_across_upserts(database: Database) -> None:
    store = ScheduleStore(database)
    spec = ScheduleSpec("daily", "daily-inspection", "0 2 * * *", "Asia/Shanghai", 3600)
    assert store.upsert(spec, T0) == "added"
    assert store.upsert(spec, T0) == "unchanged"
    store.set_paused("daily", True, "alice", T0)
    edited = ScheduleSpec("daily", "daily-inspection", "0 3 * * *", "Asia/Shanghai", 3600)
    assert store.upsert(edited, T0) == "updated"
    stored = store.require("daily")
    assert stored.paused
    assert stored.paused_by == "alice"
    assert stored.spec.cron == "0 3 * * *"
    assert not stored.active


def test_jobs_live_in_apschedulers_table_as_text_references(database: Database) -> None:
    jobs = JobTable(database.engine, "Asia/Shanghai")
    spec = ScheduleSpec("daily", "daily-inspection", "0 2 * * 0", "Asia/Shanghai", 600)
    first = datetime(2026, 6, 6, 18, 0, tzinfo=UTC)  # Sunday 02:00 in Shanghai
    jobs.put(spec, first)
    job = jobs.get("daily")
    assert job is not None
    assert job.func_ref == "orchestrator.scheduler.jobs:fire"
    assert job.args == ("daily",)
    assert (job.coalesce, job.max_instances, job.misfire_grace) == (True, 1, 600)
    assert job.next_run_time == first
    assert [j.name for j in jobs.due(first)] == ["daily"]
    assert jobs.due(first - timedelta(seconds=1)) == []
    jobs.set_next(job, None)  # paused: never due
    assert jobs.due(first + timedelta(days=30)) == []
    with database.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id, next_run_time FROM apscheduler_jobs").all()
    assert [tuple(r) for r in rows] == [("daily", None)]
    jobs.remove("daily")
    jobs.remove("daily")  # already gone: fine
    assert jobs.all() == []
