"""What a fire's notification says: abnormal items first, as text and as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestrator.engine.results import HostResult, RunResult, RunStatus, Status, StepResult
from orchestrator.runbook.model import CheckResult, Grade
from orchestrator.scheduler.alerts import fire_notification, missed_notification
from orchestrator.store.records import RunRecord
from orchestrator.store.schedules import FireStatus, ScheduleSpec

SH = ZoneInfo("Asia/Shanghai")
SLOT = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
SPEC = ScheduleSpec("daily", "daily-inspection", "0 2 * * *", "Asia/Shanghai", 3600)


def record() -> RunRecord:
    disk = CheckResult("filesystem used /", Grade.CRITICAL, 96, "%", ">= 90", "grow it")
    fine = CheckResult("load per cpu", Grade.NORMAL, 0.1)
    hosts = (
        HostResult("h3", Status.OK, (StepResult("df", 0, Status.OK, checks=(disk, fine)),)),
        HostResult("h12", Status.UNREACHABLE, error="connection refused"),
    )
    result = RunResult(
        "20260602-020000-abcd",
        "daily-inspection",
        RunStatus.FAILED,
        hosts,
        reason="1 host(s) failed",
    )
    return RunRecord(
        result,
        "inspection",
        SLOT,
        change_id="CHG-20260601-001",
        gate_reason="covered by standard template",
    )


def test_a_fire_with_findings_and_failures(tmp_path: Path) -> None:
    report = tmp_path / "20260602-020000-abcd.zh.html"
    report.write_text("<html>巡检报告</html>")
    note = fire_notification(
        SPEC,
        slot=SLOT,
        status=FireStatus.FAILED,
        detail="1 host(s) failed",
        record=record(),
        tz=SH,
        report=report,
    )
    assert note.subject == "[orchestrator] daily: failed — 1 host(s) failed, 1 critical finding(s)"
    lines = note.text.splitlines()
    assert "Slot:      2026-06-02 02:00+0800" in lines
    assert "  h3  filesystem used /  96% (threshold >= 90) — grow it" in lines
    assert "  h12  unreachable: connection refused" in lines
    assert lines.index("Critical findings:") < lines.index("Failed hosts:")
    assert not any(line.startswith("Detail:") for line in lines)  # said in the run line
    assert note.data["critical"] == [
        {
            "host": "h3",
            "item": "filesystem used /",
            "value": 96,
            "unit": "%",
            "threshold": ">= 90",
            "hint": "grow it",
        }
    ]
    assert note.data["hosts"] == {"ok": 1, "unreachable": 1}
    assert note.data["grades"]["critical"] == 1
    (attached,) = note.attachments
    assert attached.name == report.name
    assert attached.content == report.read_bytes()


def test_a_fire_that_never_ran() -> None:
    note = fire_notification(
        SPEC,
        slot=SLOT,
        status=FireStatus.REFUSED,
        detail="refused by the change gate: window",
        record=None,
        tz=SH,
    )
    assert note.subject == "[orchestrator] daily: refused — refused by the change gate: window"
    assert "Detail:    refused by the change gate: window" in note.text
    assert note.data["run_id"] is None
    assert note.attachments == ()


def test_missed_slots() -> None:
    note = missed_notification(SPEC, [SLOT], True, SH, "down")
    assert note.subject == "[orchestrator] daily: missed 1+ slot(s)"
    assert "2026-06-02 02:00+0800" in note.text
    assert note.data["slots"] == [SLOT.isoformat()]
    assert note.data["more"] is True
