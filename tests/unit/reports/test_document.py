"""Saving a report: default name, atomic replace, nothing left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.reports.document import ReportDocument
from orchestrator.reports.i18n import Lang
from orchestrator.reports.model import ReportFormat


def test_file_name() -> None:
    assert ReportDocument("20261122-1", ReportFormat.HTML, Lang.ZH, "").file_name == (
        "20261122-1.zh.html"
    )
    assert ReportDocument("a/b", ReportFormat.MD, Lang.EN, "").file_name == "a_b.en.md"


def test_write_creates_directories_and_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "deep" / "r.zh.html"
    ReportDocument("r", ReportFormat.HTML, Lang.ZH, "第一版").write(target)
    assert target.read_text(encoding="utf-8") == "第一版"
    ReportDocument("r", ReportFormat.HTML, Lang.ZH, "second").write(target)
    assert target.read_text(encoding="utf-8") == "second"
    assert os.listdir(target.parent) == ["r.zh.html"]  # no temp files left


def test_a_failed_write_leaves_the_old_report_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.en.md"
    target.write_text("old")

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space"):
        ReportDocument("r", ReportFormat.MD, Lang.EN, "new").write(target)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["r.en.md"]
