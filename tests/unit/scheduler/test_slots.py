"""Which slots of a due job run and which are missed: coalesce and misfire grace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrator.scheduler.cron import cron_trigger
from orchestrator.scheduler.slots import plan_slots

DAILY = cron_trigger("0 2 * * *", "UTC").get_next_fire_time
MINUTELY = cron_trigger("* * * * *", "UTC").get_next_fire_time
SLOT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_not_due_yet() -> None:
    plan = plan_slots(DAILY, SLOT, SLOT - timedelta(seconds=1), 3600)
    assert (plan.run, plan.missed, plan.next_run_time) == (None, (), SLOT)


def test_paused_job_has_nothing_to_do() -> None:
    plan = plan_slots(DAILY, None, SLOT, 3600)
    assert (plan.run, plan.missed, plan.next_run_time) == (None, (), None)


def test_on_time_runs_the_slot_and_moves_to_the_next() -> None:
    plan = plan_slots(DAILY, SLOT, SLOT + timedelta(seconds=1), 3600)
    assert plan.run == SLOT
    assert plan.missed == ()
    assert plan.next_run_time == SLOT + DAY


def test_late_within_grace_runs_once() -> None:
    plan = plan_slots(DAILY, SLOT, SLOT + timedelta(minutes=59), 3600)
    assert plan.run == SLOT
    assert not plan.late


def test_beyond_grace_is_missed() -> None:
    plan = plan_slots(DAILY, SLOT, SLOT + timedelta(minutes=61), 3600)
    assert plan.run is None
    assert plan.missed == (SLOT,)
    assert plan.next_run_time == SLOT + DAY


def test_after_an_outage_the_latest_slot_in_grace_runs_and_the_rest_are_coalesced() -> None:
    plan = plan_slots(DAILY, SLOT, SLOT + 3 * DAY + timedelta(minutes=30), 3600)
    assert plan.run == SLOT + 3 * DAY
    assert plan.missed == (SLOT, SLOT + DAY, SLOT + 2 * DAY)
    assert plan.next_run_time == SLOT + 4 * DAY


def test_a_long_outage_lists_at_most_the_cap() -> None:
    now = SLOT + timedelta(days=2)
    plan = plan_slots(MINUTELY, SLOT, now, 60, cap=100)
    assert plan.run == now
    assert len(plan.missed) == 100
    assert plan.more_missed
    assert plan.missed[0] == SLOT
    assert plan.next_run_time == now + timedelta(minutes=1)
