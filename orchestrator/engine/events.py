"""Run events: listeners see a run as it goes (store persistence, progress bar, logs).

Listeners are called from worker threads and must be thread-safe. A listener
that raises is logged and skipped: a broken progress bar must not stop a run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import HostResult, RunResult, StepResult
from orchestrator.inventory.model import Host

log = logging.getLogger(__name__)


class RunListener:
    """Base listener: every hook is a no-op; override what you need."""

    def run_started(self, plan: RunPlan) -> None:
        """The gate allowed the run; no connection is open yet."""

    def batch_started(self, plan: RunPlan, index: int, hosts: tuple[Host, ...]) -> None:
        """A batch of hosts is about to start."""

    def host_started(self, plan: RunPlan, host: Host) -> None:
        """A worker picked up this host."""

    def step_finished(self, plan: RunPlan, host: Host, result: StepResult) -> None:
        """One step finished (any status) on one host."""

    def host_finished(self, plan: RunPlan, result: HostResult) -> None:
        """Every step of this host is done (or the host failed)."""

    def run_finished(self, plan: RunPlan, result: RunResult) -> None:
        """The run has its final status."""


class ListenerGroup(RunListener):
    """Fans each event out to several listeners, isolating their failures."""

    def __init__(self, listeners: Iterable[RunListener]) -> None:
        self.listeners = tuple(listeners)

    def _each(self, hook: str, *args: object) -> None:
        for listener in self.listeners:
            try:
                getattr(listener, hook)(*args)
            except Exception:
                log.exception("listener %s failed in %s", type(listener).__name__, hook)

    def run_started(self, plan: RunPlan) -> None:
        self._each("run_started", plan)

    def batch_started(self, plan: RunPlan, index: int, hosts: tuple[Host, ...]) -> None:
        self._each("batch_started", plan, index, hosts)

    def host_started(self, plan: RunPlan, host: Host) -> None:
        self._each("host_started", plan, host)

    def step_finished(self, plan: RunPlan, host: Host, result: StepResult) -> None:
        self._each("step_finished", plan, host, result)

    def host_finished(self, plan: RunPlan, result: HostResult) -> None:
        self._each("host_finished", plan, result)

    def run_finished(self, plan: RunPlan, result: RunResult) -> None:
        self._each("run_finished", plan, result)
