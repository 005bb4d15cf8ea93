"""Earlier values for trends (store.history) on SQLite and PostgreSQL, and App.report
end to end over a real database: stored runs in, a report with trends out."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.app import App
from orchestrator.changes.gate import GateDecision
from orchestrator.clock import ManualClock
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import (
    CheckResult,
    HostResult,
    RunResult,
    RunStatus,
    Status,
    StepResult,
)
from orchestrator.inventory.model import Host
from orchestrator.reports.i18n import Lang
from orchestrator.reports.model import ReportFormat
from orchestrator.runbook.model import ChangePolicy, Grade, Runbook, RunbookKind, Step, StepKind
from orchestrator.settings import Settings
from orchestrator.store.db import Database
from orchestrator.store.history import earlier_values
from orchestrator.store.outputs import OutputStore
from orchestrator.store.runs import RunStore

T0 = datetime(2026, 11, 1, 0, 30, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    import sqlalchemy

    name = f"orch_report_{uuid.uuid4().hex[:8]}"
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
    database.engine.dispose()


def runbook(name: str = "daily-inspection") -> Runbook:
    step = Step(name="filesystem use", kind=StepKind.COMMAND, action="df -P")
    return Runbook(
        name=name,
        kind=RunbookKind.INSPECTION,
        change=ChangePolicy.STANDARD,
        targets="linux",
        steps=(step,),
        description="日常巡检 — test",
    )


def record_run(
    store: RunStore,
    run_id: str,
    created: datetime,
    values: dict[str, object],
    *,
    book: Runbook | None = None,
    status: RunStatus = RunStatus.SUCCEEDED,
    hosts: Sequence[str] = ("web01",),
) -> None:
    """One finished run whose hosts each measured ``values`` (item name -> value)."""
    book = book or runbook()
    host_objs = tuple(Host(name=h, vars={"ansible_host": "10.0.0.1"}) for h in hosts)
    plan = RunPlan(
        run_id=run_id,
        runbook=book,
        hosts=host_objs,
        batches=(host_objs,),
        forks=5,
        gate=GateDecision(True, "read-only runbook with change: standard", None, "test"),
        created=created,
        operator="alice",
        trigger="cli",
    )
    if status is RunStatus.REFUSED:
        store.record_refused(plan)
        return
    store.create_run(plan, pid=1, node="n")
    checks = tuple(
        CheckResult(name, Grade.NORMAL, value, "%", ">= 90") for name, value in values.items()
    )
    step = StepResult("filesystem use", 0, Status.OK, stdout="x", checks=checks)
    results = tuple(
        HostResult(h, Status.OK, (step,), created, created + timedelta(seconds=5)) for h in hosts
    )
    if status is RunStatus.RUNNING:
        return
    store.finish_run(
        RunResult(run_id, book.name, status, results, created, created + timedelta(seconds=9))
    )


def test_earlier_values_bounded_newest_first_same_runbook_finished_only(db: Database) -> None:
    store = RunStore(db, OutputStore(Path("/nonexistent-outputs")), ManualClock(T0))
    for day in range(7):  # r0..r6, one per day, /var grows 70, 71, ... 76
        record_run(store, f"r{day}", T0 + day * DAY, {"fs /var": 70 + day, "fs /": None})
    record_run(store, "other", T0 + 6.5 * DAY, {"fs /var": 1}, book=runbook("weekly"))
    record_run(store, "refused", T0 + 6.6 * DAY, {}, status=RunStatus.REFUSED)
    record_run(store, "running", T0 + 6.7 * DAY, {"fs /var": 2}, status=RunStatus.RUNNING)
    record_run(store, "aborted", T0 + 6.8 * DAY, {"fs /var": 77}, status=RunStatus.ABORTED)
    record_run(store, "later", T0 + 9 * DAY, {"fs /var": 99})

    found = earlier_values(db, runbook="daily-inspection", before=T0 + 7 * DAY, runs=5)
    assert set(found) == {("web01", "fs /var")}  # unmeasured items (NULL) are left out
    values = found[("web01", "fs /var")]
    # the 5 newest finished runs of this runbook before the cut, newest first
    assert [v.run_id for v in values] == ["aborted", "r6", "r5", "r4", "r3"]
    assert [v.value for v in values] == [77, 76, 75, 74, 73]
    assert values[1].when == T0 + 6 * DAY
    assert values[1].when.tzinfo is not None

    excluded = earlier_values(
        db, runbook="daily-inspection", before=T0 + 7 * DAY, exclude_run="aborted", runs=2
    )
    assert [v.run_id for v in excluded[("web01", "fs /var")]] == ["r6", "r5"]
    assert earlier_values(db, runbook="daily-inspection", before=T0) == {}
    assert earlier_values(db, runbook="daily-inspection", before=T0 + 7 * DAY, runs=0) == {}


def test_app_report_shows_trends_from_the_store(tmp_path: Path) -> None:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "daily-inspection.yml").write_text(
        "name: daily-inspection\ndescription: 日常巡检 — from the file\nkind: inspection\n"
        "change: standard\ntargets: all\nsteps:\n  - name: df\n    command: df -P\n"
    )
    settings = Settings(data_dir=tmp_path / "var", runbooks=runbooks, timezone="Asia/Shanghai")
    app = App(settings, clock=ManualClock(T0 + 30 * DAY), operator="bob")
    record_run(app.runs, "r-week-1", T0, {"filesystem used /var": 74})
    record_run(app.runs, "r-now", T0 + 7 * DAY, {"filesystem used /var": 81})

    document = app.report("last", fmt=ReportFormat.MD, lang=Lang.EN)
    assert document.run_id == "r-now"
    assert "↑ from 74% (2026-11-01)" in document.text  # 00:30 UTC = 08:30 in Shanghai
    assert "日常巡检 — from the file" in document.text  # the runbook, looked up by name
    assert "2026-11-08 08:30:00" in document.text
    zh = app.report("r-now", lang=Lang.ZH)
    assert zh.fmt is ReportFormat.HTML
    assert "↑ 上次 74% (2026-11-01)" in zh.text
    path = app.write_report(zh)
    assert path == tmp_path / "var" / "reports" / "r-now.zh.html"
    assert path.read_text(encoding="utf-8") == zh.text
    # the oldest run has nothing earlier: no trend (and the default language is zh)
    oldest = app.report("r-week-1", fmt=ReportFormat.MD)
    assert "## 主机明细" in oldest.text
    assert "上次" not in oldest.text
