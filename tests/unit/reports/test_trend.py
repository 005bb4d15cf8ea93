"""Trends: direction against the newest numeric earlier value; numbers only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestrator.reports.trend import Direction, compute_trend, format_number
from tests.unit.reports.samples import T0, Past

WEEK_AGO = T0 - timedelta(days=7)


@pytest.mark.parametrize(
    ("now", "before", "direction"),
    [
        (81, 74, Direction.UP),
        (70, 74, Direction.DOWN),
        (74, 74, Direction.SAME),
        (0.1 + 0.2, 0.3, Direction.SAME),  # float noise is not a change
        ("81", "74", Direction.UP),  # numeric text counts as a number
        (0, 1, Direction.DOWN),
    ],
)
def test_direction(now: object, before: object, direction: Direction) -> None:
    trend = compute_trend(now, [Past("r1", WEEK_AGO, before)])
    assert trend is not None
    assert trend.direction is direction
    assert trend.previous_run == "r1"
    assert trend.previous_when == WEEK_AGO


def test_the_newest_numeric_earlier_value_is_used() -> None:
    earlier = [
        Past("r3", T0 - timedelta(days=1), None),  # not measured
        Past("r2", T0 - timedelta(days=2), "active"),  # text
        Past("r1", T0 - timedelta(days=3), 60),
        Past("r0", T0 - timedelta(days=4), 99),
    ]
    trend = compute_trend(81, earlier)
    assert trend is not None
    assert (trend.previous, trend.previous_run) == (60, "r1")


@pytest.mark.parametrize("now", [None, "active", True, [1, 2], {"a": 1}])
def test_no_trend_for_values_that_are_not_numbers(now: object) -> None:
    assert compute_trend(now, [Past("r1", WEEK_AGO, 5)]) is None


def test_no_trend_without_earlier_numbers() -> None:
    assert compute_trend(81, []) is None
    assert compute_trend(81, [Past("r1", WEEK_AGO, "n/a"), Past("r0", WEEK_AGO, False)]) is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (81, "81"),
        (81.0, "81"),
        (0.57, "0.57"),
        (12.3456, "12.346"),
        (0.0001, "0"),
        (-0.0001, "0"),
        (1234567, "1234567"),
        (-2.5, "-2.5"),
    ],
)
def test_format_number(value: float, shown: str) -> None:
    assert format_number(value) == shown
