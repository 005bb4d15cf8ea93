"""Cron windows of standard templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from orchestrator.changes.cron import next_start, parse_cron, window_start

SH = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.mark.parametrize(
    ("expression", "moment", "expected"),
    [
        ("0 1 * * *", local(2026, 12, 1, 1, 0), True),
        ("0 1 * * *", local(2026, 12, 1, 1, 1), False),
        ("*/15 * * * *", local(2026, 12, 1, 7, 45), True),
        ("0 9-17/4 * * 1-5", local(2026, 12, 1, 13, 0), True),  # a Tuesday
        ("0 9-17/4 * * 1-5", local(2026, 12, 6, 13, 0), False),  # a Sunday
        ("0 0 * * 0", local(2026, 12, 6, 0, 0), True),
        ("0 0 * * 7", local(2026, 12, 6, 0, 0), True),
        ("0 0 1 * 1", local(2026, 12, 1, 0, 0), True),  # day 1 or Monday (cron's "or")
        ("0 0 1 * 1", local(2026, 12, 7, 0, 0), True),
        ("0 0 1 * 1", local(2026, 12, 8, 0, 0), False),
        ("30 2 1,15 6,12 *", local(2026, 12, 15, 2, 30), True),
    ],
)
def test_matches(expression: str, moment: datetime, expected: bool) -> None:
    assert parse_cron(expression).matches(moment) is expected


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("0 1 * *", r"has 4 field\(s\)"),
        ("60 * * * *", "minute field '60' must lie in 0-59"),
        ("* 1-x * * *", "hour field"),
        ("*/0 * * * *", "must lie"),
    ],
)
def test_bad_expressions(expression: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_cron(expression)


def test_window_start_and_next_start_in_the_settings_zone() -> None:
    spec = parse_cron("0 1 * * *")
    inside = local(2026, 12, 1, 4, 59).astimezone(UTC)
    assert window_start(spec, 4 * 3600, inside, SH) == local(2026, 12, 1, 1, 0)
    after = inside + timedelta(minutes=1, seconds=1)
    assert window_start(spec, 4 * 3600, after, SH) is None
    assert next_start(spec, after, SH) == local(2026, 12, 2, 1, 0)
    assert next_start(parse_cron("0 0 29 2 *"), after, SH) is None  # not within 8 days
