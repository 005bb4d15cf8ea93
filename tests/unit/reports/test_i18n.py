"""Languages: zh-CN labels per the glossary, item names through one lookup."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.reports.i18n import (
    HINTS_ZH,
    ITEM_NAMES_ZH,
    Lang,
    hint_text,
    item_name,
    status_label,
    text,
)
from orchestrator.runbook.loader import load_runbook

RUNBOOKS = Path(__file__).resolve().parents[3] / "runbooks"


@pytest.mark.parametrize(
    ("name", "zh"),
    [
        ("filesystem used", "文件系统使用率"),
        ("filesystem used /var/log", "文件系统使用率 /var/log"),  # the label is kept
        ("process running cron", "进程运行 cron"),
        ("memory used", "内存使用率"),
        ("load average per CPU", "每核平均负载"),  # a step name
        ("not a known item", "not a known item"),
        ("filesystem usedX", "filesystem usedX"),  # a prefix must end at a space
    ],
)
def test_item_names_in_chinese(name: str, zh: str) -> None:
    assert item_name(name, Lang.ZH) == zh
    assert item_name(name, Lang.EN) == name


def test_overrides_win_and_the_longest_known_prefix_is_used() -> None:
    overrides = {"filesystem used /boot": "引导分区使用率", "process": "进程"}
    assert item_name("filesystem used /boot", Lang.ZH, overrides) == "引导分区使用率"
    assert item_name("process running sshd", Lang.ZH, overrides) == "进程运行 sshd"
    assert item_name("process list", Lang.ZH, overrides) == "进程 list"


def test_labels_and_statuses() -> None:
    assert text(Lang.ZH, "title.inspection") == "巡检报告"
    assert text(Lang.EN, "title.inspection") == "Inspection report"
    assert [text(Lang.ZH, f"grade.{g}") for g in ("normal", "warning", "critical", "unknown")] == [
        "正常",
        "警告",
        "严重",
        "未知",
    ]
    for key, zh in {
        "threshold": "阈值",
        "hint": "建议",
        "change": "变更单",
        "operator": "操作人",
        "host": "主机",
        "status": "状态",
    }.items():
        assert text(Lang.ZH, key) == zh
    assert status_label(Lang.ZH, "unreachable") == "不可达"
    assert status_label(Lang.EN, "unreachable") == "unreachable"
    assert status_label(Lang.EN, "not_started") == "not started"
    assert text(Lang.ZH, "no.such.key") == "no.such.key"


def test_every_label_exists_in_both_languages() -> None:
    from orchestrator.reports import i18n

    english = set(i18n._EN)
    chinese = {k for k in i18n._ZH if not k.startswith(("status.", "kind.", "trigger."))}
    assert english == chinese


def test_shipped_runbooks_items_and_hints_are_translated() -> None:
    for path in sorted(RUNBOOKS.glob("*.yml")):
        book = load_runbook(path)
        for step in book.steps:
            assert item_name(step.name, Lang.ZH) != step.name or step.name in ITEM_NAMES_ZH, (
                path.name,
                step.name,
            )
            for check in step.checks:
                assert check.name in ITEM_NAMES_ZH, (path.name, check.name)
                if check.hint:
                    assert check.hint in HINTS_ZH, (path.name, check.hint)
                    assert hint_text(check.hint, Lang.ZH) != check.hint
    assert hint_text("an unknown hint", Lang.ZH) == "an unknown hint"
    assert hint_text(next(iter(HINTS_ZH)), Lang.EN) == next(iter(HINTS_ZH))
