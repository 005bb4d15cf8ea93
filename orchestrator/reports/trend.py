"""Trends: a check item's value against its most recent earlier measurement.

Only numbers have a trend ("81 ↑ from 74"); an item that is text ("active"),
unmeasured, or new has none. The earlier value is the newest one among the
earlier runs the store found (it looks back a bounded number of runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from orchestrator.reports.model import PastValue
from orchestrator.runbook.checks import to_number

# Differences smaller than this are "unchanged": float noise is not a trend.
_EPSILON = 1e-9


class Direction(Enum):
    UP = "↑"
    DOWN = "↓"
    SAME = "→"


@dataclass(frozen=True)
class Trend:
    current: int | float
    previous: int | float
    previous_when: datetime
    previous_run: str

    @property
    def direction(self) -> Direction:
        delta = self.current - self.previous
        if abs(delta) < _EPSILON:
            return Direction.SAME
        return Direction.UP if delta > 0 else Direction.DOWN


def compute_trend(value: Any, earlier: Sequence[PastValue]) -> Trend | None:
    """The trend of ``value`` against the newest numeric value in ``earlier`` (newest first)."""
    current = to_number(value)
    if current is None:
        return None
    for past in earlier:
        previous = to_number(past.value)
        if previous is not None:
            return Trend(current, previous, past.when, past.run_id)
    return None


def format_number(value: int | float) -> str:
    """A measured number as people read it: 81, 0.57, 12.5 (at most 3 decimals)."""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text
