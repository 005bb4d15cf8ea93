"""A run whose process died is found by the next command and marked INTERRUPTED, honestly."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_builders import make_host, make_host_result, make_plan, make_step

from orchestrator.clock import ManualClock
from orchestrator.engine.results import RunResult, RunStatus, Status
from orchestrator.store.db import Database
from orchestrator.store.processes import pid_alive
from orchestrator.store.runs import RunStore

HERE = Path(__file__).resolve().parent


@pytest.fixture
def dead_pid() -> int:
    proc = subprocess.Popen(["sleep", "60"])
    proc.kill()
    proc.wait()
    return proc.pid


@pytest.fixture
def live_pid() -> Iterator[int]:
    proc = subprocess.Popen(["sleep", "60"])
    yield proc.pid
    proc.kill()
    proc.wait()


def _start(store: RunStore, run_id: str, pid: int, node: str) -> None:
    store.create_run(make_plan(run_id, ("web01", "web02")), pid=pid, node=node)
    store.host_started(run_id, make_host("web01"))
    store.finish_host(run_id, make_host_result("web01", [make_step(0, stdout="ok\n")]))
    store.host_started(run_id, make_host("web02"))


def test_pid_alive_tells_live_from_dead(dead_pid: int, live_pid: int) -> None:
    assert pid_alive(live_pid)
    assert not pid_alive(dead_pid)
    assert pid_alive(os.getpid())


def test_only_runs_of_dead_processes_on_this_node_are_marked(
    store: RunStore, clock: ManualClock, dead_pid: int, live_pid: int
) -> None:
    _start(store, "run-dead", dead_pid, "node-a")
    _start(store, "run-live", live_pid, "node-a")
    _start(store, "run-elsewhere", dead_pid, "node-b")  # another machine's pid means nothing here
    clock.advance(300)

    assert store.mark_interrupted("node-a", pid_alive) == ["run-dead"]

    dead = store.get("run-dead")
    assert dead.status is RunStatus.INTERRUPTED
    assert dead.result.reason == (
        f"process {dead_pid} died (killed or crashed) before the run finished"
    )
    assert dead.result.ended == clock.now()
    web01, web02 = dead.result.hosts
    assert (web01.status, web01.steps[0].stdout) == (Status.OK, "ok\n")
    assert web02.status is Status.INTERRUPTED
    assert web02.ended == clock.now()
    assert store.get("run-live").status is RunStatus.RUNNING
    assert store.get("run-elsewhere").status is RunStatus.RUNNING
    # Nothing left to mark the second time.
    assert store.mark_interrupted("node-a", pid_alive) == []


def test_finished_runs_are_left_alone(store: RunStore, dead_pid: int) -> None:
    store.create_run(make_plan("run-done", ("web01",)), pid=dead_pid, node="node-a")
    store.record_refused(make_plan("run-refused", allowed=False), pid=dead_pid, node="node-a")
    store.finish_run(RunResult("run-done", "daily-inspection", RunStatus.SUCCEEDED))
    assert store.mark_interrupted("node-a", pid_alive) == []
    assert store.get("run-done").status is RunStatus.SUCCEEDED
    assert store.get("run-refused").status is RunStatus.REFUSED


CHILD = """
import os, sys, time
from pathlib import Path
from store_builders import make_host, make_host_result, make_plan, make_step
from orchestrator.clock import SystemClock
from orchestrator.store.db import Database
from orchestrator.store.outputs import OutputStore
from orchestrator.store.runs import RunStore

url, root, run_id, node = sys.argv[1:5]
hosts = ("h1", "h2", "h3", "h4")
store = RunStore(Database(url), OutputStore(Path(root)), SystemClock())
store.create_run(make_plan(run_id, hosts), pid=os.getpid(), node=node)
for name in hosts[:3]:
    store.host_started(run_id, make_host(name))
    steps = [make_step(0, stdout=f"{name} disk 42\\n"), make_step(1, stdout="中文 ok\\n")]
    for step in steps:
        store.record_step(run_id, name, step)
    store.finish_host(run_id, make_host_result(name, steps))
store.host_started(run_id, make_host("h4"))
store.record_step(run_id, "h4", make_step(0, stdout="h4 disk 42\\n"))
print("ready", flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_a_killed_run_leaves_an_honest_partial_record(
    database: Database, db_url: str, output_root: Path, store: RunStore
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, str(output_root), "run-killed", "kill-node"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready, "child did not get ready within 60 s"
        line = child.stdout.readline() if child.stdout else ""
        assert line == "ready\n", child.stderr.read() if child.stderr else ""
        assert store.mark_interrupted("kill-node", pid_alive) == []  # still alive: untouched
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    assert store.mark_interrupted("kill-node", pid_alive) == ["run-killed"]

    record = store.get("run-killed")
    assert record.status is RunStatus.INTERRUPTED
    assert record.pid == child.pid
    assert f"process {child.pid} died" in record.result.reason
    finished = [h for h in record.result.hosts if h.status is not Status.INTERRUPTED]
    assert [h.host for h in finished] == ["h1", "h2", "h3"]
    assert all(h.status is Status.OK and len(h.steps) == 2 for h in finished)
    (h4,) = [h for h in record.result.hosts if h.status is Status.INTERRUPTED]
    assert h4.host == "h4"
    assert [s.stdout for s in h4.steps] == ["h4 disk 42\n"]  # its finished step is kept
    assert store.read_output("run-killed", "h2", 1) == "中文 ok\n"
