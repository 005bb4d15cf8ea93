"""RunRecord.to_json_dict: a stable, JSON-serialisable shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from orchestrator.engine.results import (
    CheckResult,
    HostResult,
    RunResult,
    RunStatus,
    Status,
    StepResult,
)
from orchestrator.runbook.model import Grade
from orchestrator.store.records import OutputRef, RunRecord, RunSummary

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _record() -> RunRecord:
    step = StepResult(
        "df",
        0,
        Status.OK,
        command="df -P /",
        stdout="91\n",
        exit_code=0,
        started=T0,
        ended=T0 + timedelta(seconds=2),
        parsed={"use": 91},
        checks=(CheckResult("fs /", Grade.CRITICAL, 91, "%", ">= 90", "clean up /var/log"),),
    )
    quiet = StepResult("noop", 1, Status.SKIPPED, error="when was false")
    host = HostResult(
        "web01", Status.OK, (step, quiet), T0, T0 + timedelta(seconds=3), "", "10.0.0.1"
    )
    result = RunResult(
        "r1", "daily", RunStatus.SUCCEEDED, (host,), T0, T0 + timedelta(seconds=5), meta={"k": 1}
    )
    return RunRecord(
        result=result,
        kind="inspection",
        created=T0 - timedelta(seconds=1),
        operator="alice",
        change_id="CHG-1",
        forks=5,
        host_count=1,
        gate_policy="interim",
        gate_reason="read-only",
        node="ops1",
        pid=42,
        options={"dry_run": False},
        outputs={("web01", 0): OutputRef("r1/web01/00-df.log", "ab" * 32, 3)},
    )


def test_json_dict_shape_and_values() -> None:
    doc = _record().to_json_dict()
    assert json.loads(json.dumps(doc)) == doc
    assert doc["id"] == "r1"
    assert doc["status"] == "succeeded"
    assert doc["created"] == "2026-03-01T07:59:59+00:00"
    assert doc["duration_s"] == 5.0
    assert doc["gate"] == {"policy": "interim", "reason": "read-only"}
    assert doc["summary"]["hosts"]["ok"] == 1
    assert doc["summary"]["hosts"]["failed"] == 0
    assert doc["summary"]["grades"] == {"normal": 0, "warning": 0, "critical": 1, "unknown": 0}
    host = doc["hosts"][0]
    assert (host["host"], host["address"], host["grade"]) == ("web01", "10.0.0.1", "critical")
    df, noop = host["steps"]
    assert df["output"] == {"path": "r1/web01/00-df.log", "sha256": "ab" * 32, "bytes": 3}
    assert df["checks"][0] == {
        "name": "fs /",
        "grade": "critical",
        "value": 91,
        "unit": "%",
        "threshold": ">= 90",
        "message": "clean up /var/log",
    }
    assert df["duration_s"] == 2.0
    assert noop["output"] is None
    assert noop["started"] is None
    assert noop["duration_s"] is None
    assert noop["grade"] is None


def test_record_exposes_result_fields() -> None:
    record = _record()
    assert (record.run_id, record.runbook, record.status) == ("r1", "daily", RunStatus.SUCCEEDED)
    assert record.output("web01", 1) is None
    assert record.output("web01", 0) == OutputRef("r1/web01/00-df.log", "ab" * 32, 3)


def test_summary_duration() -> None:
    summary = RunSummary("r1", "daily", RunStatus.RUNNING, T0, started=T0)
    assert summary.duration is None
    done = RunSummary("r1", "daily", RunStatus.FAILED, T0, started=T0, ended=T0 + timedelta(1))
    assert done.duration == 86400.0
