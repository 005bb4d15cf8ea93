"""Which slots of a due job run, which are missed, and when it is due next (pure).

APScheduler's rules with the time supplied from outside: every slot from the job's
``next_run_time`` up to now is due; ``coalesce`` runs only the latest of them; a slot
may start at most ``misfire_grace`` seconds late. So after an outage the latest slot
runs once if it is within the grace time, and every other due slot is recorded as
missed (the earlier ones were coalesced, or all of them were too late).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from orchestrator.scheduler.cron import NextFire, first_after, slots_between
from orchestrator.scheduler.model import MISSED_CAP


@dataclass(frozen=True)
class SlotPlan:
    run: datetime | None  # the slot to run now
    missed: tuple[datetime, ...]  # slots that will not run, oldest first (at most the cap)
    more_missed: bool  # there were more missed slots than listed
    next_run_time: datetime | None  # the first slot after now

    @property
    def late(self) -> bool:
        return bool(self.missed)


def plan_slots(
    next_fire: NextFire,
    first: datetime | None,
    now: datetime,
    grace_seconds: float,
    *,
    cap: int = MISSED_CAP,
) -> SlotPlan:
    """The plan for a job whose next run time is ``first`` at ``now``."""
    if first is None or first > now:
        return SlotPlan(None, (), False, first)
    earliest_on_time = max(first, now - timedelta(seconds=grace_seconds))
    run = None
    for slot in slots_between(next_fire, earliest_on_time, now):
        run = slot  # the latest due slot within the grace time (coalesce)
    end = run - timedelta(microseconds=1) if run is not None else now
    missed = list(islice(slots_between(next_fire, first, end), cap + 1))
    return SlotPlan(run, tuple(missed[:cap]), len(missed) > cap, first_after(next_fire, now))
