"""Rollout strategy as pure functions: batches (canary, count/percent, serial_by) and the
exact threshold semantics of max_fail_percent (docs/rollouts.md)."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.engine.rollout import batch_size, breached, describe, judge_batch, make_batches
from orchestrator.inventory.model import Host
from orchestrator.runbook.model import Strategy


def hosts(n: int, **vars_of: dict[str, Any]) -> list[Host]:
    return [Host(f"h{i}", dict(vars_of.get(f"h{i}", {}))) for i in range(1, n + 1)]


def names(batches: tuple[tuple[Host, ...], ...]) -> list[list[str]]:
    return [[h.name for h in b] for b in batches]


def test_no_strategy_is_one_batch() -> None:
    assert names(make_batches(hosts(3), Strategy())) == [["h1", "h2", "h3"]]
    assert make_batches([], Strategy(canary=1, batch=2)) == ()


def test_canary_is_its_own_first_batch_then_percent_of_all_targets() -> None:
    # 25% of 12 targets (canary included) = 3 per batch, after a canary of 1.
    batches = make_batches(hosts(12), Strategy(canary=1, batch_percent=25))
    assert [len(b) for b in batches] == [1, 3, 3, 3, 2]
    assert names(batches)[0] == ["h1"]
    assert [h.name for b in batches for h in b] == [f"h{i}" for i in range(1, 13)]


@pytest.mark.parametrize(
    ("strategy", "total", "size"),
    [
        (Strategy(batch=5), 3, 5),
        (Strategy(batch_percent=25), 10, 3),  # rounded up
        (Strategy(batch_percent=1), 10, 1),  # at least one
        (Strategy(batch_percent=100), 7, 7),
        (Strategy(), 4, 4),
    ],
)
def test_batch_size(strategy: Strategy, total: int, size: int) -> None:
    assert batch_size(strategy, total) == size


def test_serial_by_puts_at_most_one_host_per_value_in_a_batch() -> None:
    inv = hosts(
        6,
        h1={"cluster": "a"},
        h2={"cluster": "a"},
        h3={"cluster": "b"},
        h4={"cluster": "b"},
        h5={},  # no value: not constrained
        h6={"cluster": "c"},
    )
    batches = make_batches(inv, Strategy(batch=3, serial_by="cluster"))
    # h2 waits (cluster a taken), keeps its place at the front of the queue.
    assert names(batches) == [["h1", "h3", "h5"], ["h2", "h4", "h6"]]
    for batch in batches:
        values = [h.vars["cluster"] for h in batch if "cluster" in h.vars]
        assert len(values) == len(set(values))


def test_serial_by_applies_to_the_canary_and_may_shrink_batches() -> None:
    inv = hosts(4, h1={"c": 1}, h2={"c": 1}, h3={"c": 1}, h4={"c": 2})
    batches = make_batches(inv, Strategy(canary=2, batch=2, serial_by="c"))
    assert names(batches) == [["h1", "h4"], ["h2"], ["h3"]]


@pytest.mark.parametrize(
    ("failed", "attempted", "limit", "trips"),
    [
        (1, 10, 10, False),  # exactly 10% is not more than 10%
        (2, 10, 10, True),
        (1, 4, 10, True),  # 25% after canary + one batch of 3
        (1, 12, 10, False),  # 8.3%
        (0, 12, 0, False),
        (1, 12, 0, True),  # 0: any failure stops the rollout
        (5, 5, 100, False),  # 100: never
        (3, 3, None, False),  # no threshold set
        (0, 0, 10, False),  # nothing attempted yet
    ],
)
def test_threshold_is_failed_over_attempted_so_far(
    failed: int, attempted: int, limit: float | None, trips: bool
) -> None:
    assert breached(failed, attempted, limit) is trips


def test_judge_batch_canary_gate_and_threshold() -> None:
    loose = Strategy(canary=1, max_fail_percent=50)
    canary = judge_batch(canary=True, batch_failed=["h1"], failed=1, attempted=1, strategy=loose)
    assert canary.stop
    assert "canary failed on h1" in canary.reason
    later = judge_batch(canary=False, batch_failed=["h3"], failed=1, attempted=4, strategy=loose)
    assert not later.stop
    tight = Strategy(max_fail_percent=10)
    verdict = judge_batch(canary=False, batch_failed=["h3"], failed=1, attempted=4, strategy=tight)
    assert verdict.stop
    assert verdict.reason == "1 of 4 attempted host(s) failed (25.0% > max_fail_percent 10%)"


def test_describe_names_what_is_set() -> None:
    text = describe(
        Strategy(canary=1, batch_percent=25, pause=30, max_fail_percent=10, serial_by="rack")
    )
    assert text == "canary 1, batch 25%, serial_by rack, pause 30s, max_fail_percent 10"
    assert describe(Strategy()) == ""
