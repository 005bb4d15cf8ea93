"""Persists a run as it goes: the engine's events become store writes.

Registered by the app next to the progress listener. Refused runs never start,
so the app records them itself with ``RunStore.record_refused``.

Between ``run_started`` and ``run_finished`` the writes go to one writer thread,
in the order the events came: a host's next command does not wait for the
database (with 50 hosts at once, waiting for the write lock took longer than the
commands). What queued up meanwhile is written as one transaction when the store
offers ``group_commit``. ``host_finished`` still returns only once everything of
that host is committed, so a run killed at any moment keeps every host it
reported finished — and every step the writer got to, as before.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from orchestrator.engine.events import RunListener
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import HostResult, RunResult, StepResult
from orchestrator.inventory.model import Host
from orchestrator.store.runs import RunStore

log = logging.getLogger(__name__)

_BATCH_MAX = 500  # writes in one group commit


class _Write:
    """One store call queued for the writer thread."""

    def __init__(self, call: Callable[[], None], what: str, *, waited: bool = False) -> None:
        self.call = call
        self.what = what
        self.waited = waited  # the caller waits and sees the error itself
        self.done = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self.call()
        except Exception as exc:
            self.error = exc
        finally:
            self.done.set()


class StoreListener(RunListener):
    def __init__(self, runs: RunStore, *, pid: int, node: str) -> None:
        self.runs = runs
        self.pid = pid
        self.node = node
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None

    def run_started(self, plan: RunPlan) -> None:
        self.runs.create_run(plan, pid=self.pid, node=self.node)
        self._writer = threading.Thread(target=self._write_all, name="store-writer", daemon=True)
        self._writer.start()

    def host_started(self, plan: RunPlan, host: Host) -> None:
        self._submit(lambda: self.runs.host_started(plan.run_id, host), f"{host.name} started")

    def step_finished(self, plan: RunPlan, host: Host, result: StepResult) -> None:
        self._submit(
            lambda: self.runs.record_step(plan.run_id, host.name, result),
            f"{host.name} step {result.index}",
        )

    def host_finished(self, plan: RunPlan, result: HostResult) -> None:
        write = self._submit(
            lambda: self.runs.finish_host(plan.run_id, result),
            f"{result.host} finished",
            waited=True,
        )
        write.done.wait()
        if write.error is not None:
            raise write.error

    def run_finished(self, plan: RunPlan, result: RunResult) -> None:
        self._stop_writer()
        self.runs.finish_run(result)

    def _submit(self, call: Callable[[], None], what: str, *, waited: bool = False) -> _Write:
        write = _Write(call, what, waited=waited)
        if self._writer is None:  # outside run_started..run_finished: write at once
            write.run()
            if write.error is not None:
                raise write.error
        else:
            self._queue.put(write)
        return write

    def _write_all(self) -> None:
        group: Callable[[], AbstractContextManager[None]] | None
        group = getattr(self.runs, "group_commit", None)
        more = True
        while more:
            batch: list[_Write] = []
            next_write = self._queue.get()
            while next_write is not None:
                batch.append(next_write)
                if len(batch) >= _BATCH_MAX:
                    break
                try:
                    next_write = self._queue.get_nowait()
                except queue.Empty:
                    break
            more = next_write is not None
            if batch:
                self._write_batch(batch, group)

    def _write_batch(
        self, batch: list[_Write], group: Callable[[], AbstractContextManager[None]] | None
    ) -> None:
        if group is not None and len(batch) > 1:
            try:
                with group():
                    for write in batch:
                        write.call()
            except Exception:
                log.debug("group commit failed; writing one by one", exc_info=True)
            else:
                for write in batch:
                    write.done.set()
                return
        for write in batch:  # one transaction each: a failing write loses only itself
            write.run()
            if write.error is not None and not write.waited:
                # Nobody waits for this write: say here that it was lost.
                log.error("storing %s failed: %s", write.what, write.error)

    def _stop_writer(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None
