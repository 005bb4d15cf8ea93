"""The store listener's writer thread, group commits and the writer's shortcuts, on real
databases: what the fan-out path writes must read back exactly as the plain calls do."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from store_builders import make_host, make_host_result, make_plan, make_step, usage_check

from orchestrator.engine.results import RunResult, RunStatus, Status, StepResult
from orchestrator.errors import StoreError
from orchestrator.runbook.model import Grade
from orchestrator.store.db import Database
from orchestrator.store.listener import StoreListener
from orchestrator.store.runs import RunStore

HOSTS = [f"web{i:02d}" for i in range(12)]


def steps_of(host: str) -> list[StepResult]:
    """Two real steps with output and checks, around steps skipped on this host."""
    return [
        make_step(0, stdout=f"{host} load 0.1\n", checks=[usage_check(10)]),
        make_step(1, status=Status.SKIPPED, exit_code=None),
        make_step(2, status=Status.SKIPPED, exit_code=None),
        make_step(3, stdout=f"{host} disk 95%\n", checks=[usage_check(95, Grade.CRITICAL)]),
        make_step(4, status=Status.SKIPPED, exit_code=None),
    ]


class CountingStore(RunStore):
    """Counts the group commits the listener asked for."""

    groups = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.group_commit

        @contextmanager
        def counted() -> Iterator[None]:
            type(self).groups += 1
            with inner():
                yield

        self.group_commit = counted


def fan_out(listener: StoreListener, store: RunStore, run_id: str) -> RunResult:
    plan = make_plan(run_id, HOSTS)
    listener.run_started(plan)
    barrier = threading.Barrier(len(HOSTS))

    def one(name: str) -> Any:
        host = make_host(name)
        barrier.wait()
        listener.host_started(plan, host)
        steps = steps_of(name)
        for step in steps:
            listener.step_finished(plan, host, step)
        result = make_host_result(name, steps)
        listener.host_finished(plan, result)
        # host_finished returns once the host is committed: another reader sees it now.
        seen = {h.host: h.status for h in store.get(run_id).result.hosts}
        assert seen[name] is Status.OK
        return result

    with ThreadPoolExecutor(len(HOSTS)) as pool:
        hosts = list(pool.map(one, HOSTS))
    result = RunResult(run_id, "daily-inspection", RunStatus.SUCCEEDED, tuple(hosts))
    listener.run_finished(plan, result)
    return result


def test_a_fan_out_through_the_writer_reads_back_like_direct_writes(
    database: Database, store: RunStore, output_root: Any, clock: Any
) -> None:
    counting = CountingStore(database, store.outputs, clock)
    fan_out(StoreListener(counting, pid=os.getpid(), node="n"), counting, "run-fan")
    # The same results written call by call, without the listener.
    direct = RunStore(database, store.outputs, clock)
    direct.create_run(make_plan("run-direct", HOSTS), pid=os.getpid(), node="n")
    for name in HOSTS:
        direct.host_started("run-direct", make_host(name))
        for step in steps_of(name):
            direct.record_step("run-direct", name, step)
        direct.finish_host("run-direct", make_host_result(name, steps_of(name)))

    fanned, plain = store.get("run-fan"), store.get("run-direct")
    assert fanned.status is RunStatus.SUCCEEDED
    assert [h.host for h in fanned.result.hosts] == [h.host for h in plain.result.hosts]
    for a, b in zip(fanned.result.hosts, plain.result.hosts, strict=True):
        assert (a.status, a.grade, a.address) == (b.status, b.grade, b.address)
        assert [(s.index, s.status, s.stdout, s.checks) for s in a.steps] == [
            (s.index, s.status, s.stdout, s.checks) for s in b.steps
        ]
    assert fanned.result.hosts[0].grade is Grade.CRITICAL
    assert store.read_output("run-fan", "web07", 3) == "web07 disk 95%\n"
    assert CountingStore.groups > 0  # queued writes went in together


def test_a_failing_write_in_a_group_loses_only_itself(
    store: RunStore, caplog: pytest.LogCaptureFixture
) -> None:
    plan = make_plan("run-bad", ["web01"])
    listener = StoreListener(store, pid=os.getpid(), node="n")
    listener.run_started(plan)
    host = make_host("web01")
    gate = threading.Event()
    real = store.record_step

    def record(run_id: str, name: str, step: StepResult) -> None:
        gate.wait()  # hold the writer so the following writes queue up as one batch
        if step.index == 1:
            raise StoreError("disk full")
        real(run_id, name, step)

    store.record_step = record  # type: ignore[method-assign]
    listener.host_started(plan, host)
    for step in (make_step(0, stdout="a\n"), make_step(1, stdout="b\n"), make_step(2)):
        listener.step_finished(plan, host, step)
    gate.set()
    listener.host_finished(plan, make_host_result("web01", [make_step(0), make_step(2)]))
    listener.run_finished(plan, RunResult("run-bad", "daily-inspection", RunStatus.SUCCEEDED))

    (web01,) = store.get("run-bad").result.hosts
    assert [s.index for s in web01.steps] == [0, 2]
    assert web01.status is Status.OK
    assert "storing web01 step 1 failed: disk full" in caplog.text


def test_recording_a_step_again_in_one_group_replaces_it(store: RunStore) -> None:
    store.create_run(make_plan("run-again", ["web01"]), pid=os.getpid(), node="n")
    store.host_started("run-again", make_host("web01"))
    with store.group_commit():
        store.record_step("run-again", "web01", make_step(0, status=Status.SKIPPED))
        store.record_step("run-again", "web01", make_step(1, stdout="first\n"))
        store.record_step("run-again", "web01", make_step(0, stdout="again\n"))
        store.record_step("run-again", "web01", make_step(1, checks=[usage_check(1)]))
    (web01,) = store.get("run-again").result.hosts
    assert [(s.index, s.status, s.stdout) for s in web01.steps] == [
        (0, Status.OK, "again\n"),
        (1, Status.OK, ""),
    ]
    assert [c.value for c in web01.steps[1].checks] == [1]


def test_a_failed_group_keeps_nothing_and_the_store_goes_on(store: RunStore) -> None:
    store.create_run(make_plan("run-undo", ["web01"]), pid=os.getpid(), node="n")

    def group() -> None:
        with store.group_commit():
            store.host_started("run-undo", make_host("web01"))
            store.record_step("run-undo", "web01", make_step(0, status=Status.SKIPPED))
            store.record_step("no-such-run", "web01", make_step(0))

    with pytest.raises(StoreError, match="never recorded"):
        group()
    assert store.get("run-undo").result.hosts == ()
    # The writer forgot what the rolled-back group had inserted.
    store.host_started("run-undo", make_host("web01"))
    store.record_step("run-undo", "web01", make_step(0, stdout="ok\n"))
    (web01,) = store.get("run-undo").result.hosts
    assert [s.stdout for s in web01.steps] == ["ok\n"]


def test_steps_of_a_host_row_another_store_made_are_replaced_not_doubled(
    database: Database, store: RunStore, clock: Any
) -> None:
    store.create_run(make_plan("run-two", ["web01"]), pid=os.getpid(), node="n")
    other = RunStore(database, store.outputs, clock)
    other.host_started("run-two", make_host("web01"))
    other.record_step("run-two", "web01", make_step(0, stdout="other\n"))
    store.record_step("run-two", "web01", make_step(0, stdout="mine\n"))
    store.finish_host("run-two", make_host_result("web01", [make_step(0), make_step(1)]))
    (web01,) = store.get("run-two").result.hosts
    assert [(s.index, s.stdout) for s in web01.steps] == [(0, "mine\n"), (1, "")]
