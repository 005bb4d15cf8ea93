"""Cron expressions (as people write them) → APScheduler 3 cron triggers, and their slots.

The expression is parsed by ``changes.cron`` (the same reader as template windows) and
handed to APScheduler as explicit values: APScheduler 3 numbers weekdays from Monday =
0 (cron: Sunday = 0, apscheduler#286), so weekdays go over as names. Cron runs a job
when *either* restricted day field matches, APScheduler only when both do: such
expressions are refused rather than silently meaning something else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from orchestrator.changes.cron import parse_cron
from orchestrator.changes.moments import zone

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron numbering: 0 = Sunday
_TICK = timedelta(microseconds=1)

# trigger.get_next_fire_time: (previous fire or None, now) -> next fire at or after now
NextFire = Callable[[datetime | None, datetime], datetime | None]


def _values(numbers: frozenset[int]) -> str:
    return ",".join(str(n) for n in sorted(numbers))


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """The trigger for a five-field cron expression in ``timezone``; ValueError if invalid."""
    spec = parse_cron(expression)
    if not spec.any_day and not spec.any_weekday:
        raise ValueError(
            f"{expression!r} restricts both the day of month and the day of week; cron "
            "would run on either, so write two schedules (one per day field)"
        )
    return CronTrigger(
        minute=_values(spec.minutes),
        hour=_values(spec.hours),
        day="*" if spec.any_day else _values(spec.days),
        month=_values(spec.months),
        day_of_week="*"
        if spec.any_weekday
        else ",".join(_WEEKDAYS[d] for d in sorted(spec.weekdays)),
        timezone=zone(timezone),
    )


def first_at_or_after(next_fire: NextFire, moment: datetime) -> datetime | None:
    return next_fire(None, moment)


def first_after(next_fire: NextFire, moment: datetime) -> datetime | None:
    """The first slot strictly after ``moment`` (slots are whole seconds)."""
    return next_fire(None, moment + _TICK)


def slots_between(next_fire: NextFire, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every slot with start <= slot <= end, in order."""
    slot = first_at_or_after(next_fire, start)
    while slot is not None and slot <= end:
        yield slot
        slot = first_after(next_fire, slot)


def upcoming(next_fire: NextFire, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` slots strictly after ``after``."""
    found: list[datetime] = []
    slot = first_after(next_fire, after)
    while slot is not None and len(found) < count:
        found.append(slot)
        slot = first_after(next_fire, slot)
    return found
