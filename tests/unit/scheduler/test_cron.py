"""Cron expressions as people write them, evaluated by APScheduler 3 triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from orchestrator.scheduler.cron import cron_trigger, first_after, slots_between, upcoming

SH = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def nexts(expression: str, after: datetime, count: int = 3, tz: str = "Asia/Shanghai") -> list:
    return upcoming(cron_trigger(expression, tz).get_next_fire_time, after, count)


def test_daily_at_two_in_china_standard_time() -> None:
    got = nexts("0 2 * * *", local(2026, 6, 1, 1, 59))
    assert got == [local(2026, 6, d, 2, 0) for d in (1, 2, 3)]
    assert got[0].astimezone(UTC) == datetime(2026, 5, 31, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize("sunday", ["0", "7", "0,7"])
def test_weekday_zero_and_seven_are_sunday_as_in_cron(sunday: str) -> None:
    # APScheduler 3 alone would read 0 as Monday (apscheduler#286)
    got = nexts(f"0 3 * * {sunday}", local(2026, 12, 1, 0, 0), 2)
    assert got == [local(2026, 12, 6, 3, 0), local(2026, 12, 13, 3, 0)]
    assert all(g.isoweekday() == 7 for g in got)


def test_weekday_ranges_and_steps() -> None:
    got = nexts("30 9 * * 1-5", local(2026, 12, 4, 10, 0), 3)  # from Friday 10:00
    assert got == [local(2026, 12, 7, 9, 30), local(2026, 12, 8, 9, 30), local(2026, 12, 9, 9, 30)]
    assert nexts("*/20 * * * *", local(2026, 12, 1, 7, 50), 3) == [
        local(2026, 12, 1, 8, 0),
        local(2026, 12, 1, 8, 20),
        local(2026, 12, 1, 8, 40),
    ]


def test_the_time_zone_is_the_schedules() -> None:
    utc = nexts("0 2 * * *", datetime(2026, 6, 1, 0, 0, tzinfo=UTC), 1, tz="UTC")
    assert utc == [datetime(2026, 6, 1, 2, 0, tzinfo=UTC)]


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("0 2 * *", r"4 field\(s\)"),
        ("0 25 * * *", "hour"),
        ("61 * * * *", "minute"),
        ("0 0 1 * 1", "day of month and the day of week"),
    ],
)
def test_bad_expressions_are_refused(expression: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        cron_trigger(expression, "Asia/Shanghai")


def test_slots_between_is_inclusive_and_first_after_is_strict() -> None:
    next_fire = cron_trigger("0 * * * *", "UTC").get_next_fire_time
    start = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    got = list(slots_between(next_fire, start, start + timedelta(hours=2)))
    assert got == [start, start + timedelta(hours=1), start + timedelta(hours=2)]
    assert first_after(next_fire, start) == start + timedelta(hours=1)
