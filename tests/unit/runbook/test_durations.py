"""parse_duration: numbers are seconds; text takes h/m/s/ms units, largest first."""

from __future__ import annotations

import pytest

from orchestrator.runbook.durations import parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30.0),
        (2.5, 2.5),
        (0, 0.0),
        ("30", 30.0),
        ("1.5", 1.5),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1m30s", 90.0),
        ("1h30m", 5400.0),
        ("1h0m5s", 3605.0),
        ("250ms", 0.25),
        ("1s500ms", 1.5),
        (" 2M ", 120.0),
        ("1.5h", 5400.0),
    ],
)
def test_parse_duration(value: str | float, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5x", "'5x' is not a duration"),
        ("", "'' is not a duration"),
        ("m", "'m' is not a duration"),
        ("1m 30s", "is not a duration"),
        ("30s1m", "largest first"),
        ("1m1m", "each unit at most once"),
        ("-1s", "is not a duration"),
        (-1, "finite number of seconds >= 0"),
        ("nan", "finite number"),
        ("inf", "finite number"),
        (True, "expected a duration, got True"),
        ([1], "expected a duration, got list"),
    ],
)
def test_bad_durations(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(value)  # type: ignore[arg-type]
