"""Finding runs: by id, unique prefix, "last"; listing newest first with filters and counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_builders import T0, make_host_result, make_plan, make_runbook, make_step, usage_check

from orchestrator.engine.results import RunResult, RunStatus, Status
from orchestrator.errors import NotFoundError
from orchestrator.runbook.model import Grade
from orchestrator.store.runs import RunStore

RUNS = [  # id, runbook, minutes after T0, final status
    ("20260301-0800-ab12", "daily-inspection", 0, RunStatus.SUCCEEDED),
    ("20260301-0900-ab34", "nightly-backup", 60, RunStatus.FAILED),
    ("20260302-0800-cd56", "daily-inspection", 24 * 60, RunStatus.FAILED),
    ("2026_0303-x", "daily-inspection", 48 * 60, RunStatus.SUCCEEDED),
]


@pytest.fixture
def filled(store: RunStore) -> RunStore:
    for run_id, runbook, minutes, status in RUNS:
        created = T0 + timedelta(minutes=minutes)
        plan = make_plan(run_id, ("web01", "web02"), created=created, runbook=make_runbook(runbook))
        store.create_run(plan, pid=1, node="n")
        bad = Status.FAILED if status is RunStatus.FAILED else Status.OK
        hosts = (
            make_host_result(
                "web01", [make_step(0, checks=[usage_check(50), usage_check(91, Grade.CRITICAL)])]
            ),
            make_host_result("web02", [make_step(0, status=bad)], status=bad),
        )
        store.finish_run(RunResult(run_id, runbook, status, hosts=hosts, started=created))
    return store


def test_get_by_exact_id_prefix_and_last(filled: RunStore) -> None:
    assert filled.get("20260301-0900-ab34").run_id == "20260301-0900-ab34"
    assert filled.get("20260302").run_id == "20260302-0800-cd56"
    assert filled.get("  20260301-08 ").run_id == "20260301-0800-ab12"
    assert filled.get("last").run_id == "2026_0303-x"


def test_ambiguous_prefix_lists_the_candidates(filled: RunStore) -> None:
    with pytest.raises(NotFoundError, match="ambiguous") as info:
        filled.get("20260301")
    assert "20260301-0800-ab12" in str(info.value)
    assert "20260301-0900-ab34" in str(info.value)


def test_unknown_or_empty_ids_are_not_found(filled: RunStore) -> None:
    with pytest.raises(NotFoundError, match="no run 'zz'"):
        filled.get("zz")
    with pytest.raises(NotFoundError):
        filled.get("")
    # LIKE wildcards in a prefix are literal characters, not patterns.
    with pytest.raises(NotFoundError, match="no run"):
        filled.get("2026030_")
    assert filled.get("2026_").run_id == "2026_0303-x"


def test_last_on_an_empty_store(store: RunStore) -> None:
    with pytest.raises(NotFoundError, match="no runs recorded yet"):
        store.get("last")


def test_list_is_newest_first_and_limited(filled: RunStore) -> None:
    assert [r.id for r in filled.list()] == [r[0] for r in reversed(RUNS)]
    assert [r.id for r in filled.list(limit=2)] == ["2026_0303-x", "20260302-0800-cd56"]


def test_list_filters(filled: RunStore) -> None:
    assert [r.id for r in filled.list(runbook="nightly-backup")] == ["20260301-0900-ab34"]
    assert [r.id for r in filled.list(status=RunStatus.FAILED)] == [
        "20260302-0800-cd56",
        "20260301-0900-ab34",
    ]
    assert [r.id for r in filled.list(runbook="daily-inspection", status=RunStatus.FAILED)] == [
        "20260302-0800-cd56"
    ]
    assert filled.list(runbook="nope") == []


def test_list_counts_hosts_and_grades(filled: RunStore) -> None:
    summary = next(r for r in filled.list() if r.id == "20260301-0900-ab34")
    assert summary.status is RunStatus.FAILED
    assert summary.runbook == "nightly-backup"
    assert summary.host_count == 2
    assert summary.hosts[Status.OK] == 1
    assert summary.hosts[Status.FAILED] == 1
    assert summary.hosts[Status.RUNNING] == 0
    assert summary.grades == {
        Grade.NORMAL: 1,
        Grade.WARNING: 0,
        Grade.CRITICAL: 1,
        Grade.UNKNOWN: 0,
    }
    assert summary.created == T0 + timedelta(minutes=60)
    assert summary.started == T0 + timedelta(minutes=60)
