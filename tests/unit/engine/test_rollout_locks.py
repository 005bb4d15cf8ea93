"""Host locks in the engine (LockKeeper) with an in-memory lease table: wait, skip, give up,
shared vs exclusive, release per host or at the end. The real table (store.locks) is tested
against SQLite and PostgreSQL in tests/integration/test_patch_locks.py."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from orchestrator.clock import ManualClock
from orchestrator.engine.locks import HeldLock, LockHolder
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import RunStatus, Status
from orchestrator.runbook.model import OnLocked, Runbook, Strategy
from tests.unit.engine.test_rollout_loop import by_host, rollout_book, run, script
from tests.unit.engine.test_runner import FakeConnector, book, make_inventory, ok, step


@dataclass
class FakeLocks:
    """Leases by host: {host: {run_id: exclusive}}; ``other`` holds some hosts for a while."""

    held: dict[str, dict[str, bool]] = field(default_factory=dict)
    free_after: dict[str, int] = field(default_factory=dict)  # host -> attempts until freed
    released: list[tuple[str, tuple[str, ...] | None]] = field(default_factory=list)
    renewed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(
        self, hosts: Sequence[str], holder: LockHolder, *, now: datetime, ttl: float
    ) -> dict[str, HeldLock]:
        blocked = {}
        with self.lock:
            for host in hosts:
                if self.free_after.get(host, 0) > 0:
                    self.free_after[host] -= 1
                    if self.free_after[host] == 0:
                        self.held.get(host, {}).pop("other", None)
                others = {r: x for r, x in self.held.get(host, {}).items() if r != holder.run_id}
                if others and (holder.exclusive or any(others.values())):
                    run_id, exclusive = next(iter(others.items()))
                    blocked[host] = HeldLock(
                        host, run_id, "patch", exclusive, now + timedelta(seconds=ttl)
                    )
                    continue
                self.held.setdefault(host, {})[holder.run_id] = holder.exclusive
        return blocked

    def renew(self, run_id: str, *, now: datetime, ttl: float) -> None:
        self.renewed += 1

    def release(self, run_id: str, hosts: Sequence[str] | None = None) -> None:
        with self.lock:
            self.released.append((run_id, None if hosts is None else tuple(hosts)))
            for host, holders in self.held.items():
                if hosts is None or host in hosts:
                    holders.pop(run_id, None)


def with_locks(locks: FakeLocks) -> Callable[[RunPlan], RunPlan]:
    return lambda plan: replace(plan, locks=locks)


def reader(**strategy: Any) -> Runbook:
    return replace(book(step("look", "look")), strategy=Strategy(**strategy))


INV = make_inventory("h1", "h2", "h3")


def test_read_only_run_waits_for_a_patched_host_and_says_so() -> None:
    locks = FakeLocks(held={"h2": {"other": True}}, free_after={"h2": 3})
    clock = ManualClock()
    result = run(
        reader(lock_wait=60),
        INV,
        FakeConnector(lambda h, c: ok()),
        clock=clock,
        plan_hook=with_locks(locks),
    )
    assert result.status is RunStatus.SUCCEEDED
    assert [e["action"] for e in result.meta["host_locks"]] == ["waited"]
    event = result.meta["host_locks"][0]
    assert (event["host"], event["held_by"], event["exclusive"]) == ("h2", "other", True)
    assert event["waited_s"] > 0


def test_skip_policy_skips_a_held_host_at_once() -> None:
    locks = FakeLocks(held={"h2": {"other": True}})
    conn = FakeConnector(lambda h, c: ok())
    result = run(reader(on_locked=OnLocked.SKIP), INV, conn, plan_hook=with_locks(locks))
    h2 = by_host(result)["h2"]
    assert h2.status is Status.SKIPPED
    assert (
        h2.error
        == "not touched: locked by run other (patch, changing it); skipped (on_locked: skip)"
    )
    assert not any(line.startswith("h2:") for line in conn.log)
    assert result.status is RunStatus.SUCCEEDED  # a skipped host is not a failure


def test_waiting_gives_up_after_lock_wait() -> None:
    locks = FakeLocks(held={"h2": {"other": True}})
    clock = ManualClock()
    result = run(
        reader(lock_wait=10),
        INV,
        FakeConnector(lambda h, c: ok()),
        clock=clock,
        plan_hook=with_locks(locks),
    )
    h2 = by_host(result)["h2"]
    assert h2.status is Status.SKIPPED
    assert "still held after waiting 10s (lock_wait)" in h2.error
    assert result.meta["host_locks"][0]["action"] == "skipped"


def test_shared_leases_coexist_exclusive_ones_do_not() -> None:
    locks = FakeLocks(held={"h2": {"inspection": False}})
    result = run(
        reader(on_locked=OnLocked.SKIP),
        INV,
        FakeConnector(lambda h, c: ok()),
        plan_hook=with_locks(locks),
    )
    assert by_host(result)["h2"].status is Status.OK  # two readers share a host
    patch = replace(rollout_book(batch=3), strategy=Strategy(batch=3, on_locked=OnLocked.SKIP))
    result = run(patch, INV, FakeConnector(script()), plan_hook=with_locks(locks))
    assert by_host(result)["h2"].status is Status.SKIPPED  # a patch waits for the reader


def test_readers_release_each_host_when_done_writers_at_the_end() -> None:
    locks = FakeLocks()
    result = run(reader(), INV, FakeConnector(lambda h, c: ok()), plan_hook=with_locks(locks))
    per_host = sorted(h for run_id, hosts in locks.released if hosts for h in hosts)
    assert per_host == ["h1", "h2", "h3"]
    assert locks.released[-1] == (result.run_id, None)  # and everything at the end
    locks = FakeLocks()
    result = run(rollout_book(batch=1), INV, FakeConnector(script()), plan_hook=with_locks(locks))
    assert locks.released == [(result.run_id, None)]  # kept until the run ended


def test_no_lock_table_means_no_locking() -> None:
    result = run(reader(), INV, FakeConnector(lambda h, c: ok()))
    assert "host_locks" not in result.meta
