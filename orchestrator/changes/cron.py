"""Cron windows of standard templates: "runs may start within 4h of each `0 1 * * *`".

Five fields (minute hour day-of-month month day-of-week) with ``*``, lists,
ranges and steps; day-of-week 0 or 7 is Sunday; when both day fields are
restricted a day matching either one counts (as in cron). Evaluated in the
settings time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))
CRON_HINT = "five fields: minute hour day month weekday, e.g. '0 1 * * *' (01:00 daily)"
# A window may last at most a week: the search for its start looks back this far.
MAX_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class CronSpec:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    def matches(self, moment: datetime) -> bool:
        """Whether ``moment`` (already in the wanted time zone) is a start time."""
        if moment.minute not in self.minutes or moment.hour not in self.hours:
            return False
        if moment.month not in self.months:
            return False
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok


def parse_cron(expression: str) -> CronSpec:
    """A CronSpec, or ValueError naming the bad field."""
    parts = expression.split()
    if len(parts) != len(_FIELDS):
        raise ValueError(f"{expression!r} has {len(parts)} field(s); {CRON_HINT}")
    values = [_field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
    weekdays = frozenset(0 if d == 7 else d for d in values[4])
    return CronSpec(
        expression,
        values[0],
        values[1],
        values[2],
        values[3],
        weekdays,
        any_day=parts[2] == "*",
        any_weekday=parts[4] == "*",
    )


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    found: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base == "*":
                start, stop = low, high
            elif "-" in base:
                first, last = base.split("-", 1)
                start, stop = int(first), int(last)
            else:
                start = stop = int(base)
                if step_text:
                    stop = high
        except ValueError:
            raise ValueError(f"cron {name} field {text!r} is not valid; {CRON_HINT}") from None
        if step < 1 or not low <= start <= stop <= high:
            raise ValueError(f"cron {name} field {text!r} must lie in {low}-{high}; {CRON_HINT}")
        found.update(range(start, stop + 1, step))
    return frozenset(found)


def window_start(spec: CronSpec, seconds: int, now: datetime, tz: tzinfo) -> datetime | None:
    """The start of the cron window containing ``now``, or None when outside every window."""
    length = timedelta(seconds=min(seconds, int(MAX_WINDOW.total_seconds())))
    # Step in UTC (exact minutes even across DST changes); match in local time.
    candidate = now.astimezone(UTC).replace(second=0, microsecond=0)
    while now - candidate < length:
        if spec.matches(candidate.astimezone(tz)):
            return candidate
        candidate -= timedelta(minutes=1)
    return None


def next_start(spec: CronSpec, now: datetime, tz: tzinfo) -> datetime | None:
    """The next start after ``now`` within eight days (for messages), else None."""
    candidate = now.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(60 * 24 * 8):
        if spec.matches(candidate.astimezone(tz)):
            return candidate
        candidate += timedelta(minutes=1)
    return None
