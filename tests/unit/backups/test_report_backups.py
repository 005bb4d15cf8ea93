"""The backups part of run reports (HTML and Markdown, en and zh), from the run's meta."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from orchestrator.engine.results import HostResult, RunResult, RunStatus, Status
from orchestrator.reports.backups_view import backups_view
from orchestrator.reports.i18n import Lang
from orchestrator.reports.model import ReportFormat, ReportInput
from orchestrator.reports.render import render_report

T0 = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
DIFF = (
    "--- a1\n+++ this backup\n@@ -1,2 +1,3 @@\n hostname sw2\n"
    "+snmp-server community <secret:snmp-community> RO"
)
META = {
    "backups": [
        {"host": "sw2", "artifact": "running-config", "change": "changed",
         "version": "b370f97fdec2", "added": 1, "removed": 0, "diff": DIFF, "stored_new": True},
        {"host": "edge1", "artifact": "/etc/router.cfg", "change": "secret rotated",
         "version": "c0ffee000001", "diff": "", "stored_new": True, "rotated": ["cisco-secret"]},
        {"host": "h1", "artifact": "/etc/hosts", "change": "unchanged", "version": "abc",
         "diff": "", "stored_new": False},
    ],
    "restore_verifications": [
        {"host": "h1", "source": "h2", "artifact": "appdata", "version": "6693b710b447",
         "ok": False, "reasons": ["1 file(s) missing from the restored copy: uploads/x.txt"],
         "files": 14, "verified": 13, "rto_s": 0.42, "newest_age_s": 7200, "max_age_s": 93600},
        {"host": "sw1", "source": "sw1", "artifact": "running-config", "version": "eca4e71bb0d0",
         "ok": True, "reasons": [],
         "plan": ["configure terminal", "no interface Loopback9", "end"]},
    ],
}  # fmt: skip


def report(fmt: ReportFormat, lang: Lang, meta: dict[str, object] = META) -> str:
    result = RunResult(
        "20261122-010000-abcd",
        "config-backup",
        RunStatus.SUCCEEDED,
        (HostResult("sw2", Status.OK, started=T0, ended=T0),),
        started=T0,
        ended=T0,
        meta=meta,
    )
    data = ReportInput(result=result, generated=T0, kind="backup")
    tz = ZoneInfo("Asia/Shanghai")
    return render_report(data, fmt=fmt, lang=lang, tz=tz, tz_name="Asia/Shanghai").text


def test_a_run_without_backups_has_no_backups_section() -> None:
    assert backups_view({}, Lang.EN) is None
    assert 'id="backups"' not in report(ReportFormat.HTML, Lang.EN, {})


def test_markdown_shows_changed_targets_with_their_diff_and_restores() -> None:
    text = report(ReportFormat.MD, Lang.EN)
    assert "3 artifact(s) on 3 target(s); 2 new object(s) stored, 1 unchanged; 2 changed" in text
    assert "### Changed targets (2)" in text
    assert "**sw2** running-config: changed +1 -0 (b370f97fdec2)" in text
    assert "```diff\n" + DIFF + "\n```" in text  # the diff verbatim, in a code block
    assert "secret rotated (masked; configuration otherwise unchanged)" in text
    assert "/etc/hosts" not in text  # unchanged targets are only counted
    assert "| h2 @ h1 | appdata 6693b710b447 | FAIL: 1 file(s) missing" in text
    assert "13/14 files, RTO 0.42 s, backup age 2.0 h, max 26.0 h" in text
    assert "Restore plan (dry run, not applied) — sw1:" in text
    assert "no interface Loopback9" in text


def test_html_escapes_the_diff_and_marks_verdicts() -> None:
    html = report(ReportFormat.HTML, Lang.EN)
    assert 'id="backups"' in html
    assert "&lt;secret:snmp-community&gt;" in html
    assert "<secret:" not in html
    assert 'class="changed" data-host="sw2" data-change="changed"' in html
    assert 'class="restore" data-ok="False"' in html
    assert 'class="restore" data-ok="True"' in html


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_chinese_labels(fmt: ReportFormat) -> None:
    text = report(fmt, Lang.ZH)
    for label in (
        "备份",
        "配置有变化的目标",
        "恢复验证",
        "未通过",
        "通过",
        "恢复方案（演练，未执行）",
    ):
        assert label in text
