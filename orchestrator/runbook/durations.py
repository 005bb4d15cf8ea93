"""Durations as runbooks write them: a number of seconds, or "30s", "5m", "1h", "1m30s"."""

from __future__ import annotations

import math
import re

_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|h|m|s))+")

DURATION_HINT = 'write seconds as a number (30) or with units: "30s", "5m", "1h", "1m30s"'


def parse_duration(value: str | float) -> float:
    """Seconds in ``value``; raises ``ValueError`` with a precise message when malformed.

    Units must go from larger to smaller and appear once each ("1m30s", not "30s1m").
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_text(value.strip().lower())
    else:
        raise ValueError(f"expected a duration, got {type(value).__name__}")
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        raise ValueError(f"duration must be a finite number of seconds >= 0, got {value!r}")
    return seconds


def _parse_text(text: str) -> float:
    try:
        return float(text)  # "30" or "1.5": plain seconds
    except ValueError:
        pass
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"{text!r} is not a duration")
    parts = _PART.findall(text)
    units = [unit for _, unit in parts]
    order = list(_UNIT_SECONDS)
    if len(set(units)) != len(units) or units != sorted(units, key=order.index):
        raise ValueError(f"{text!r}: each unit at most once, largest first (e.g. 1h30m)")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
