"""schedules.yml validation: every problem with file, line, field and a hint."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orchestrator.scheduler.cron import cron_trigger, upcoming
from orchestrator.scheduler.loader import load_schedules
from orchestrator.scheduler.model import DEFAULT_GRACE, ScheduleError

ROOT = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedules.yml"
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ScheduleError) as info:
        load_schedules(path, "Asia/Shanghai")
    return [str(p) for p in info.value.problems]


def test_a_valid_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timezone: UTC\n"
        "schedules:\n"
        "  - name: nightly\n"
        "    runbook: config-backup\n"
        "    cron: '0  1 * * *'\n"
        "  - name: patch\n"
        "    runbook: patch-nginx\n"
        "    cron: '0 22 * * 3'\n"
        "    timezone: Asia/Shanghai\n"
        "    limit: web\n"
        "    change: CHG-20261130-001\n"
        "    misfire_grace: 90s\n"
        "    enabled: false\n"
        "    notify: always\n"
        "    description: 补丁\n",
    )
    nightly, patch = load_schedules(path, "Asia/Shanghai").specs
    assert (nightly.cron, nightly.timezone, nightly.misfire_grace) == (
        "0 1 * * *",
        "UTC",
        DEFAULT_GRACE,
    )
    assert (nightly.enabled, nightly.notify, nightly.limit, nightly.change_id) == (
        True,
        "critical",
        None,
        None,
    )
    assert nightly.source == f"{path}:3"
    assert patch.timezone == "Asia/Shanghai"
    assert (patch.limit, patch.change_id, patch.misfire_grace) == ("web", "CHG-20261130-001", 90)
    assert (patch.enabled, patch.notify, patch.description) == (False, "always", "补丁")


def test_the_settings_zone_is_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, "schedules:\n  - {name: a, runbook: b, cron: '0 2 * * *'}\n")
    (spec,) = load_schedules(path, "Europe/Berlin").specs
    assert spec.timezone == "Europe/Berlin"


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "schedules:\n"
        "  - name: daily\n"
        "    runbook: daily-inspection\n"
        "    cron: '0 25 * * *'\n"  # line 4
        "    timezone: Mars/Olympus\n"  # line 5
        "    notfy: critical\n"  # line 6
        "  - name: daily\n"  # line 7: duplicate
        "    runbook: daily-inspection\n"
        "    cron: '0 2 * * *'\n"
        "  - name: bad name!\n"  # line 10
        "    runbook: x\n"
        "    cron: '0 2 * * *'\n"
        "    change: 42-x\n"  # line 13
        "    misfire_grace: soon\n"  # line 14
        "    notify: loudly\n"  # line 15
        "    enabled: yes please\n",  # line 16
    )
    found = problems(path)
    expected = [
        (":4:", "schedules[0].cron", "hour"),
        (":5:", "schedules[0].timezone", "Mars/Olympus"),
        (":6:", "schedules[0].notfy", "did you mean 'notify'"),
        (":7:", "schedules[1].name", "duplicate schedule name 'daily' (first at line 2)"),
        (":10:", "schedules[2].name", "not a valid name"),
        (":13:", "schedules[2].change", "not a change id"),
        (":14:", "schedules[2].misfire_grace", "bad duration"),
        (":15:", "schedules[2].notify", "one of: never, failed, critical, warning, always"),
        (":16:", "schedules[2].enabled", "true/false"),
    ]
    for line, field, fragment in expected:
        assert any(f"{path}{line} {field}: " in p and fragment in p for p in found), (line, found)
    assert len(found) == len(expected)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "missing required key 'schedules'"),
        ("- a\n", "must be a mapping"),
        ("schedules: [42]\n", "must be a mapping"),
        ("schedules:\n  - name: a\n", "missing required key 'runbook'"),
        (
            "schedules:\n  - {name: a, runbook: b, cron: '0 2 * * *', misfire_grace: 200h}\n",
            "at most 7 days",
        ),
        ("schedules: {a: 1}\n", "must be a list"),
        ("schedules:\n  - name: a\n    runbook: b\n    cron: [0, 2]\n", "must be text"),
    ],
)
def test_structural_problems(tmp_path: Path, text: str, fragment: str) -> None:
    found = problems(write(tmp_path, text))
    assert any(fragment in p for p in found), found


def test_a_missing_file_names_itself(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path / "nope.yml")
    assert "nope.yml: schedules file not found" in problem


def test_the_shipped_schedules() -> None:
    specs = {s.name: s for s in load_schedules(ROOT / "schedules.yml", "Asia/Shanghai").specs}
    assert set(specs) == {
        "config-backup",
        "daily-inspection",
        "weekly-inspection",
        "restore-verify",
    }
    for spec in specs.values():
        assert spec.runbook == spec.name
        assert spec.timezone == "Asia/Shanghai"
        assert spec.enabled
    times = {
        name: upcoming(cron_trigger(s.cron, s.timezone).get_next_fire_time, _monday(), 2)
        for name, s in specs.items()
    }
    assert [t.strftime("%a %H:%M") for t in times["config-backup"]] == ["Mon 01:00", "Tue 01:00"]
    assert [t.strftime("%a %H:%M") for t in times["daily-inspection"]] == ["Mon 02:00", "Tue 02:00"]
    assert [t.strftime("%a %H:%M") for t in times["weekly-inspection"]] == [
        "Sun 03:00",
        "Sun 03:00",
    ]
    assert times["restore-verify"][1] - times["restore-verify"][0] == (
        times["weekly-inspection"][1] - times["weekly-inspection"][0]
    )  # weekly


def _monday() -> datetime:
    return datetime(2026, 11, 30, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
