"""Moments as people write them for windows and freezes.

ISO 8601 with an offset is taken as is; a local time without one is in the
settings time zone (Asia/Shanghai by default); ``now`` and ``+2h`` / ``-30m``
(relative to now) are accepted for convenience. Everything returned is tz-aware.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.runbook.durations import parse_duration

MOMENT_HINT = (
    "write ISO 8601 with an offset (2026-12-30T22:00+08:00), a local time in the settings "
    "time zone (2026-12-30 22:00), 'now', or an offset from now (+2h, -30m, +3d)"
)
_RELATIVE = re.compile(r"^(?:now\s*)?([+-])\s*(\S+)$")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name like Asia/Shanghai)") from None


def localize(value: datetime | date, tz: tzinfo) -> datetime:
    """A tz-aware datetime: naive values and bare dates are read in ``tz``."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value


def parse_moment(text: str, tz: tzinfo, now: datetime) -> datetime:
    """A tz-aware moment from user text; ValueError with a hint when unreadable."""
    value = text.strip()
    if value.lower() == "now":
        return now
    relative = _RELATIVE.match(value.lower())
    if relative:
        sign, amount = relative.groups()
        days, _, rest = amount.rpartition("d") if "d" in amount else ("", "", amount)
        try:
            seconds = int(days or 0) * 86400 + (parse_duration(rest) if rest else 0)
        except ValueError:
            raise ValueError(f"{text!r} is not a time ({MOMENT_HINT})") from None
        return now + timedelta(seconds=seconds if sign == "+" else -seconds)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a time ({MOMENT_HINT})") from None
    return localize(parsed, tz)


def show_moment(moment: datetime | None, tz: tzinfo) -> str:
    """A moment in the settings time zone with its offset, to the minute (seconds if any)."""
    if moment is None:
        return "-"
    local = moment.astimezone(tz)
    spec = "%Y-%m-%d %H:%M:%S%z" if local.second else "%Y-%m-%d %H:%M%z"
    return local.strftime(spec)
