"""Many writers at once: worker threads and a second process, none failing on locks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from store_builders import make_host, make_host_result, make_plan, make_step, usage_check

from orchestrator.engine.results import RunStatus, StepResult
from orchestrator.store.runs import RunStore

HERE = Path(__file__).resolve().parent
THREADS = 20
STEPS = 10


def _steps(host: str) -> list[StepResult]:
    return [
        make_step(i, stdout=f"{host} step {i} 输出\n" * 20, checks=[usage_check(i * 1.5)])
        for i in range(STEPS)
    ]


def _record_host(store: RunStore, run_id: str, host: str, barrier: threading.Barrier) -> None:
    barrier.wait()  # every thread starts writing at the same moment
    store.host_started(run_id, make_host(host))
    steps = _steps(host)
    for step in steps:
        store.record_step(run_id, host, step)
    store.finish_host(run_id, make_host_result(host, steps))


def _read_while_writing(store: RunStore, stop: threading.Event) -> int:
    reads = 0
    while not stop.is_set():
        store.list(limit=5)
        store.get("run-threads")
        reads += 1
    return reads


def test_twenty_threads_record_steps_at_once(store: RunStore) -> None:
    hosts = [f"web{i:02d}" for i in range(THREADS)]
    store.create_run(make_plan("run-threads", hosts), pid=os.getpid(), node="n")
    barrier = threading.Barrier(THREADS)
    stop = threading.Event()
    with ThreadPoolExecutor(THREADS + 1) as pool:
        reader = pool.submit(_read_while_writing, store, stop)
        writers = [pool.submit(_record_host, store, "run-threads", h, barrier) for h in hosts]
        try:
            for future in writers:
                future.result()  # re-raises "database is locked" or any other error
        finally:
            stop.set()
        assert reader.result() > 0

    record = store.get("run-threads")
    assert sorted(h.host for h in record.result.hosts) == hosts
    for host in record.result.hosts:
        assert [s.index for s in host.steps] == list(range(STEPS))
        assert [c.value for s in host.steps for c in s.checks] == [i * 1.5 for i in range(STEPS)]
    assert store.read_output("run-threads", "web07", 9) == "web07 step 9 输出\n" * 20


CHILD = """
import sys
from pathlib import Path
from store_builders import make_step
from orchestrator.clock import SystemClock
from orchestrator.store.db import Database
from orchestrator.store.outputs import OutputStore
from orchestrator.store.runs import RunStore

url, root = sys.argv[1:3]
store = RunStore(Database(url), OutputStore(Path(root)), SystemClock())
print("go", flush=True)
for i in range(60):
    store.record_step("run-procs", "other-process", make_step(i, stdout=f"child {i}\\n"))
"""


@pytest.mark.slow
def test_a_second_process_writes_at_the_same_time(
    store: RunStore, db_url: str, output_root: Path
) -> None:
    hosts = [f"web{i:02d}" for i in range(8)]
    store.create_run(make_plan("run-procs", [*hosts, "other-process"]), pid=os.getpid(), node="n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, str(output_root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "go\n"
    barrier = threading.Barrier(len(hosts))
    with ThreadPoolExecutor(len(hosts)) as pool:
        for future in [pool.submit(_record_host, store, "run-procs", h, barrier) for h in hosts]:
            future.result()
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err

    record = store.get("run-procs")
    assert record.status is RunStatus.RUNNING
    by_host = {h.host: h for h in record.result.hosts}
    assert len(by_host["other-process"].steps) == 60
    assert all(len(by_host[h].steps) == STEPS for h in hosts)
