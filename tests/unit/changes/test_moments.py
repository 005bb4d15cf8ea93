"""How windows and freezes are written: offsets, local times, now, relative."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from orchestrator.changes.model import FreezePeriod, Window
from orchestrator.changes.moments import parse_moment, show_moment

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-30T22:00+08:00", datetime(2026, 12, 30, 14, 0, tzinfo=UTC)),
        ("2026-12-30T22:00:00Z", datetime(2026, 12, 30, 22, 0, tzinfo=UTC)),
        ("2026-12-30 22:00", datetime(2026, 12, 30, 14, 0, tzinfo=UTC)),  # local: +08:00
        ("2026-12-30", datetime(2026, 12, 29, 16, 0, tzinfo=UTC)),
        ("now", NOW),
        ("+2h", NOW + timedelta(hours=2)),
        ("-30m", NOW - timedelta(minutes=30)),
        ("now+1h30m", NOW + timedelta(minutes=90)),
        ("+3d", NOW + timedelta(days=3)),
        ("+1d12h", NOW + timedelta(hours=36)),
    ],
)
def test_parse_moment(text: str, expected: datetime) -> None:
    assert parse_moment(text, SH, NOW) == expected


@pytest.mark.parametrize("text", ["tomorrow", "+2 weeks", "2026-13-01"])
def test_unreadable_moments_say_how_to_write_them(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601 with an offset"):
        parse_moment(text, SH, NOW)


def test_show_moment_in_the_settings_zone() -> None:
    assert show_moment(NOW, SH) == "2026-11-30 10:00+0800"
    assert show_moment(None, SH) == "-"


def test_windows_are_aware_and_ordered() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        Window(datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="before it starts"):
        Window(NOW, NOW)
    window = Window(NOW, NOW + timedelta(hours=1))
    assert window.contains(NOW)
    assert not window.contains(NOW + timedelta(hours=1))  # [start, end)
    freeze = FreezePeriod("f", NOW + timedelta(hours=1), NOW + timedelta(hours=2))
    assert not freeze.overlaps(window.start, window.end)  # touching is not overlapping
