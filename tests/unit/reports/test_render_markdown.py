"""The Markdown report: shape (golden files), table integrity, escaping."""

from __future__ import annotations

import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orchestrator.engine.results import HostResult, Status, StepResult
from orchestrator.reports.i18n import Lang
from orchestrator.reports.model import ReportFormat, ReportInput
from orchestrator.reports.render import md_escape, render_report
from tests.unit.reports.samples import T0, inspection_input, inspection_result

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "reports"
REGENERATE = os.environ.get("ORCH_REGEN_GOLDEN") == "1"


def markdown(data: ReportInput, lang: Lang = Lang.EN) -> str:
    return render_report(
        data,
        fmt=ReportFormat.MD,
        lang=lang,
        tz=ZoneInfo("Asia/Shanghai"),
        tz_name="Asia/Shanghai",
    ).text


@pytest.mark.parametrize("lang", list(Lang))
def test_markdown_matches_the_golden_file(lang: Lang) -> None:
    text = markdown(inspection_input(), lang)
    golden = GOLDEN / f"inspection.{lang.value}.md"
    if REGENERATE:
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs; if the change is intended, regenerate with "
        "ORCH_REGEN_GOLDEN=1 pytest tests/unit/reports/test_render_markdown.py and review the diff"
    )


def _cells(row: str) -> int:
    """Number of cells in a table row: pipes not escaped with a backslash, minus one."""
    return len(re.findall(r"(?<!\\)\|", row)) - 1


@pytest.mark.parametrize("lang", list(Lang))
def test_markdown_order_and_tables(lang: Lang) -> None:
    hostile = HostResult(
        "h9",
        Status.FAILED,
        (StepResult("cat", 0, Status.FAILED, stdout="a | b\n<script>x</script>", exit_code=1),),
        T0,
        T0,
        "boom | <b>",
    )
    text = markdown(inspection_input(result=inspection_result([hostile])), lang)
    lines = text.splitlines()
    headings = [line for line in lines if line.startswith("#")]
    titles = {
        Lang.EN: ["Abnormal items", "### Critical", "### Warning", "### Unknown", "## Hosts"],
        Lang.ZH: ["异常项", "### 严重", "### 警告", "### 未知", "## 主机明细"],
    }[lang]
    positions = [next(i for i, h in enumerate(headings) if t in h) for t in titles]
    assert positions == sorted(positions)
    assert headings[0].startswith("# ")
    # each table: rows have as many cells as its header (escaped pipes do not split cells)
    table: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            widths = {_cells(row) for row in table}
            assert len(widths) == 1, table
            assert re.fullmatch(r"(\|---)+\|", table[1]), table[1]
        table = []
    assert not re.search(r"(?<!\\)<", text), "a raw < would let Markdown renderers see HTML"
    assert "\\<script>" in text
    assert "a \\| b ↵ \\<script>x\\</script>" in text
    assert "boom \\| \\<b>" in text


def test_md_escape() -> None:
    assert md_escape("plain 81% >= 80") == "plain 81% >= 80"
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("*x* _y_ `z` [l](u) ~~s~~ &amp; \\") == (
        "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) \\~\\~s\\~\\~ \\&amp; \\\\"
    )
    assert md_escape("<script>") == "\\<script>"
    assert md_escape("line 1\r\nline 2\n\n") == "line 1 ↵ line 2"
    assert md_escape(None) == ""
    assert md_escape(81) == "81"
