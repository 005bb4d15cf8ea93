"""The backup repository on real databases (SQLite file, PostgreSQL) and a real object
directory: dedup, change kinds, secret rotation, lookups, verify, prune, evidence."""

from __future__ import annotations

import io
import os
import tarfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orchestrator.backups.manifest import Manifest, archive_digests
from orchestrator.backups.objects import ObjectStore
from orchestrator.backups.retention import RetentionPolicy
from orchestrator.clock import ManualClock
from orchestrator.engine.artifacts import DATASET, FILE, OUTPUT, ArtifactOrigin, RestoreEvidence
from orchestrator.errors import NotFoundError, StoreError
from orchestrator.store.backup_maintenance import diff_versions, prune, verify
from orchestrator.store.backups import BackupStore
from orchestrator.store.db import Database

DATA = Path(__file__).resolve().parents[1] / "data" / "backups"
T0 = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    import sqlalchemy

    name = f"orch_backups_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield (
            sqlalchemy.make_url(postgres_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/orchestrator.db"
    else:
        url = request.getfixturevalue("pg_url")
    database = Database(url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def store(db: Database, tmp_path: Path, clock: ManualClock) -> BackupStore:
    return BackupStore(db, ObjectStore(tmp_path / "backups"), clock)


def origin(run: str, host: str = "sw1", step: int = 0) -> ArtifactOrigin:
    return ArtifactOrigin(run, host, step, "running config")


def config(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_unchanged_config_is_not_stored_again_but_versioned(
    store: BackupStore, clock: ManualClock
) -> None:
    first = store.save(origin("r1"), "running-config", OUTPUT, config("ios-a.cfg"))
    clock.advance(86400)
    second = store.save(origin("r2"), "running-config", OUTPUT, config("ios-a.cfg"))
    assert (first.change, first.stored_new) == ("new", True)
    assert (second.change, second.stored_new) == ("unchanged", False)
    assert second.previous == first.version
    assert first.digest == second.digest
    assert len(list(store.objects.digests())) == 1
    history = store.history("sw1", "running-config")
    assert [v.id for v in history] == [second.version, first.version]
    assert history[0].created == T0 + timedelta(days=1)


def test_a_change_is_a_masked_diff_and_a_rotation_is_named(
    store: BackupStore, clock: ManualClock
) -> None:
    store.save(origin("r1"), "running-config", OUTPUT, config("ios-a.cfg"))
    clock.advance(60)
    changed = store.save(origin("r2"), "running-config", OUTPUT, config("ios-changed.cfg"))
    assert changed.change == "changed"
    assert changed.added >= 1
    assert changed.rotated == ("snmp-community",)
    assert "+ description uplink to core-2" in changed.diff
    assert "<secret:key>" in changed.diff  # context lines are masked too
    store.save(origin("r1", "sw2"), "running-config", OUTPUT, config("ios-a.cfg"))
    clock.advance(60)
    rotated = store.save(origin("r3", "sw2"), "running-config", OUTPUT, config("ios-rotated.cfg"))
    assert (rotated.change, rotated.rotated, rotated.diff) == ("secret rotated", ("password",), "")
    newer, older = store.history("sw2", "running-config")
    assert diff_versions(store, older, newer).kind.value == "secret rotated"


def test_rotation_only_is_secret_rotated(store: BackupStore, clock: ManualClock) -> None:
    base = (
        b"hostname r1\nenable secret 5 $1$abcd$AAAAAAAAAAAAAAAAAAAAA.\n"
        b"snmp-server community pub RO\n"
    )
    again = base.replace(b"AAAAAAAAAAAAAAAAAAAAA.", b"BBBBBBBBBBBBBBBBBBBBB.")
    store.save(origin("r1", "r1"), "running-config", OUTPUT, base)
    clock.advance(1)
    rotated = store.save(origin("r2", "r1"), "running-config", OUTPUT, again)
    assert rotated.change == "secret rotated"
    assert rotated.rotated == ("cisco-secret",)
    assert rotated.stored_new  # the exact bytes are kept: restorable
    assert store.read(store.find("r1", "running-config")) == again  # type: ignore[arg-type]


def test_find_by_prefix_latest_and_ambiguity(store: BackupStore, clock: ManualClock) -> None:
    a = store.save(origin("r1"), "running-config", OUTPUT, b"hostname a\n")
    clock.advance(1)
    b = store.save(origin("r2"), "running-config", OUTPUT, b"hostname b\n")
    assert store.find("sw1", "running-config") is not None
    assert store.find("sw1", "running-config").id == b.version  # type: ignore[union-attr]
    assert store.find("sw1", "running-config", "latest").id == b.version  # type: ignore[union-attr]
    assert store.find("sw1", "running-config", a.version[:6]).id == a.version  # type: ignore[union-attr]
    assert store.find("sw1", "startup-config") is None
    assert store.get(a.version[:8]).digest == a.digest
    with pytest.raises(NotFoundError, match="no backup version"):
        store.get("zzzz")
    summaries = {(s.target, s.artifact): s for s in store.list()}
    assert summaries[("sw1", "running-config")].versions == 2
    assert summaries[("sw1", "running-config")].latest.id == b.version


def test_versions_of_a_run_and_before_change_marks(store: BackupStore) -> None:
    marked = ArtifactOrigin("r9", "h1", 0, "snapshot", before_change=True)
    store.save(marked, "/etc/nginx/nginx.conf", FILE, b"worker_processes 4;\n")
    store.save(marked, "packages", OUTPUT, b"nginx 1.22\n")
    versions = store.versions_of_run("r9")
    assert [v.artifact for v in versions] == ["/etc/nginx/nginx.conf", "packages"]
    assert all(v.meta["before_change"] for v in versions)


def test_verify_finds_altered_and_missing_objects(store: BackupStore) -> None:
    good = store.save(origin("r1", "sw1"), "running-config", OUTPUT, b"hostname sw1\n")
    bad = store.save(origin("r1", "sw2"), "running-config", OUTPUT, b"hostname sw2\n")
    gone = store.save(origin("r1", "sw3"), "running-config", OUTPUT, b"hostname sw3\n")
    assert verify(store).ok
    path = store.objects.path(bad.digest)
    os.chmod(path, 0o640)
    path.write_bytes(b"hostname sw2-tampered\n")
    store.objects.path(gone.digest).unlink()
    report = verify(store)
    assert not report.ok
    found = {p.version: p.reason for p in report.problems}
    assert set(found) == {bad.version, gone.version}
    assert "size" in found[bad.version] or "altered" in found[bad.version]
    assert "missing" in found[gone.version]
    assert good.version not in found
    with pytest.raises(StoreError, match=r"corrupt|missing"):
        store.read(store.get(bad.version))


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_verify_reads_archives_against_their_manifest(store: BackupStore) -> None:
    files = {"./a.txt": b"a", "./b.txt": b"b"}
    manifest = Manifest(archive_digests(tar_gz(files)))
    ok = store.save(
        origin("r1", "db1"), "appdata", DATASET, tar_gz(files), manifest=manifest.to_bytes()
    )
    short = store.save(
        origin("r2", "db2"),
        "appdata",
        DATASET,
        tar_gz({"./a.txt": b"a"}),
        manifest=manifest.to_bytes(),
    )
    report = verify(store)
    assert [p.version for p in report.problems] == [short.version]
    assert "missing from the archive: b.txt" in report.problems[0].reason
    assert verify(store, deep=False).ok
    assert ok.version not in {p.version for p in report.problems}


def test_prune_dry_run_then_for_real_keeps_policy_and_bytes_in_use(
    store: BackupStore, clock: ManualClock
) -> None:
    ids = []
    for day in range(10):  # one backup a day, each with different content
        clock.advance(86400)
        ids.append(
            store.save(origin(f"r{day}"), "running-config", OUTPUT, f"v{day}\n".encode()).version
        )
    shared = store.save(
        origin("x", "sw9"), "running-config", OUTPUT, b"v9\n"
    )  # same bytes as day 9
    policy = RetentionPolicy(keep_last=1, keep_daily=3, keep_weekly=0, keep_monthly=0)
    dry = prune(store, policy, SHANGHAI, dry_run=True)
    assert {v.id for v in dry.drop} == set(ids[:7])
    assert len(store.history("sw1", "running-config")) == 10  # nothing deleted
    real = prune(store, policy, SHANGHAI, dry_run=False, grace=0)
    assert {v.id for v in real.drop} == set(ids[:7])
    assert [v.id for v in store.history("sw1", "running-config")] == ids[:6:-1]
    assert len(real.objects_removed) == 7
    assert store.objects.exists(shared.digest)
    assert verify(store).ok


def test_prune_leaves_recent_unreferenced_objects_and_temp_files(store: BackupStore) -> None:
    kept = store.objects.put(b"written by a save that has not indexed its version yet")
    temp = store.objects.objects / "ab" / ".tmp-killed"
    temp.parent.mkdir(parents=True, exist_ok=True)
    temp.write_bytes(b"half")
    report = prune(store, RetentionPolicy(), SHANGHAI, dry_run=False)
    assert report.objects_removed == []
    assert report.temp_removed == []
    assert store.objects.exists(kept.digest)
    old = (T0 - timedelta(days=1)).timestamp()
    os.utime(temp, (old, old))
    os.utime(store.objects.path(kept.digest), (old, old))
    report = prune(store, RetentionPolicy(), SHANGHAI, dry_run=False)
    assert report.objects_removed == [kept.digest]
    assert report.temp_removed == [temp]


def test_restore_evidence_is_kept_with_the_version(store: BackupStore, clock: ManualClock) -> None:
    version = store.save(origin("r1", "db1"), "appdata", DATASET, b"archive")
    evidence = RestoreEvidence(
        version.version, "db1", "appdata", "r2", "h1", clock.now(), False,
        ("1 file(s) missing from the restored copy: a",), 1.5, 30.0, {"files": 2},
    )  # fmt: skip
    store.record_verification(evidence)
    [got] = store.verifications(version=version.version)
    assert got == evidence
