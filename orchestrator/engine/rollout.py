"""Rollout strategy, as pure functions: how a run's hosts are split into batches, and when
the failures seen so far stop a rollout (docs/rollouts.md gives the exact semantics).

- ``canary: N`` — the first N target hosts are batch 1, on their own; any failure there
  stops the rollout (the canary's health gate).
- ``batch`` — the hosts per later batch: a count, or a percentage of *all* target hosts
  (canary included), rounded up, at least 1.
- ``serial_by: VAR`` — a batch holds at most one host per value of the inventory variable
  VAR (e.g. one host per cluster); a host whose value is taken waits for the next batch,
  keeping its place. Hosts without the variable are not constrained.
- ``max_fail_percent: P`` — after every batch, over every host attempted so far in the run
  (not per batch, and counting the canary): the rollout stops when
  ``failed * 100 > P * attempted``. Attempted = a host the run started working on (its
  pre-checks ran or it was unreachable); skipped hosts (unhealthy with ``on_unhealthy:
  skip``, locked by another run, not started) are neither attempted nor failed.

Every batch is preceded by a gate check (a maintenance window may close between batches).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.inventory.model import Host
from orchestrator.runbook.model import Strategy


def batch_size(strategy: Strategy, total: int) -> int:
    """Hosts per batch for ``total`` targets (all of them when the runbook sets none)."""
    if strategy.batch is not None:
        return max(1, strategy.batch)
    if strategy.batch_percent is not None:
        return max(1, math.ceil(total * strategy.batch_percent / 100))
    return max(1, total)


def make_batches(hosts: Sequence[Host], strategy: Strategy) -> tuple[tuple[Host, ...], ...]:
    """The batches, in run order: the canary first, then batches of ``batch_size``."""
    waiting = list(hosts)
    batches: list[tuple[Host, ...]] = []
    if strategy.canary > 0 and waiting:
        batches.append(_take(waiting, strategy.canary, strategy.serial_by))
    size = batch_size(strategy, len(hosts))
    while waiting:
        batches.append(_take(waiting, size, strategy.serial_by))
    return tuple(batches)


def _take(waiting: list[Host], size: int, serial_by: str | None) -> tuple[Host, ...]:
    """Remove and return the next batch: up to ``size`` hosts in order, one per value."""
    batch: list[Host] = []
    values: set[str] = set()
    for host in waiting:
        if len(batch) == size:
            break
        value = _serial_value(host, serial_by)
        if value is not None and value in values:
            continue
        if value is not None:
            values.add(value)
        batch.append(host)
    for host in batch:
        waiting.remove(host)
    return tuple(batch)


def _serial_value(host: Host, serial_by: str | None) -> str | None:
    if serial_by is None or host.vars.get(serial_by) is None:
        return None
    return str(host.vars[serial_by])


def breached(failed: int, attempted: int, max_fail_percent: float | None) -> bool:
    """Whether ``failed`` of ``attempted`` hosts exceed the threshold (none set: never)."""
    if max_fail_percent is None or attempted == 0:
        return False
    return failed * 100 > max_fail_percent * attempted


@dataclass(frozen=True)
class Verdict:
    """What the rollout does after a batch."""

    stop: bool
    reason: str = ""


def judge_batch(
    *,
    canary: bool,
    batch_failed: Sequence[str],
    failed: int,
    attempted: int,
    strategy: Strategy,
    batch_attempted: int | None = None,
) -> Verdict:
    """After a batch: stop for a failed canary, a canary that tested nothing (its hosts were
    skipped: unhealthy or locked), or a breached threshold."""
    if canary and batch_failed:
        return Verdict(True, f"canary failed on {', '.join(batch_failed)}")
    if canary and batch_attempted == 0:
        return Verdict(True, "the canary tested nothing: every canary host was skipped")
    if breached(failed, attempted, strategy.max_fail_percent):
        share = failed * 100 / attempted
        return Verdict(
            True,
            f"{failed} of {attempted} attempted host(s) failed ({share:.1f}% > "
            f"max_fail_percent {strategy.max_fail_percent:g}%)",
        )
    return Verdict(False)


def describe(strategy: Strategy) -> str:
    """One line for plans: the rollout settings that are set."""
    parts = []
    if strategy.canary:
        parts.append(f"canary {strategy.canary}")
    if strategy.batch is not None:
        parts.append(f"batch {strategy.batch}")
    elif strategy.batch_percent is not None:
        parts.append(f"batch {strategy.batch_percent}%")
    if strategy.serial_by:
        parts.append(f"serial_by {strategy.serial_by}")
    if strategy.pause:
        parts.append(f"pause {strategy.pause:g}s")
    if strategy.max_fail_percent is not None:
        parts.append(f"max_fail_percent {strategy.max_fail_percent:g}")
    return ", ".join(parts)
