"""The batch loop of a run: before each batch the gate and the pause, then the host leases,
the fan-out, the health verdict and the rollback policy (docs/rollouts.md).

- The gate is asked before every batch after the first; a refusal stops the run there
  (ABORTED, the hosts of the remaining batches "not started").
- ``pause`` seconds pass between batches (the injected clock; Ctrl-C cuts it short).
- After a batch: a host that failed after the run changed it is rolled back at once
  (``rollback_scope: host``) or stops the rollout (``all``); then the canary gate and
  ``max_fail_percent`` (``rollout.judge_batch``). Once stopped, no further batch starts and
  every host the run changed is rolled back; the run ends ROLLED_BACK (FAILED if a
  rollback failed, ABORTED when there was nothing to roll back).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from orchestrator.changes.gate import GateDecision
from orchestrator.clock import Clock
from orchestrator.engine.events import RunListener
from orchestrator.engine.executor import HostWorker
from orchestrator.engine.locks import LockKeeper
from orchestrator.engine.phases import Phase, phase_of, touched, unhealthy
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import HostResult, RunStatus, Status
from orchestrator.engine.resume import left_to_run
from orchestrator.engine.rollback import Rollback
from orchestrator.engine.rollout import describe, judge_batch
from orchestrator.inventory.model import Host
from orchestrator.runbook.model import RollbackScope, Runbook

log = logging.getLogger(__name__)

AskGate = Callable[[int], GateDecision]  # batch index -> the gate's decision


@dataclass
class Tally:
    """What the run knows of its hosts so far (the earlier attempt's included on resume)."""

    book: Runbook
    results: dict[str, HostResult] = field(default_factory=dict)
    attempted: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)  # changed by the run, not rolled back

    def add(self, result: HostResult) -> None:
        self.results[result.host] = result
        if result.status is Status.SKIPPED:
            return
        self.attempted.add(result.host)
        if failed_host(self.book, result):
            self.failed.add(result.host)
        undone = result.status is Status.ROLLED_BACK
        if undone or (result.status.failed and _rollback_ran(self.book, result)):
            self.changed.discard(result.host)
        elif touched(self.book, result):
            self.changed.add(result.host)


def failed_host(book: Runbook, result: HostResult) -> bool:
    """Failed, or rolled back after a failure of its own (a rollback does not undo that)."""
    if result.status.failed:
        return True
    return result.status is Status.ROLLED_BACK and any(
        unhealthy(s) for s in result.steps if phase_of(book, s.index) is not Phase.ROLLBACK
    )


def _rollback_ran(book: Runbook, result: HostResult) -> bool:
    return any(phase_of(book, s.index) is Phase.ROLLBACK and s.attempts for s in result.steps)


@dataclass(frozen=True)
class LoopResult:
    hosts: tuple[HostResult, ...]
    status: RunStatus
    reason: str
    meta: dict[str, Any]


class BatchLoop:
    def __init__(
        self,
        plan: RunPlan,
        worker: HostWorker,
        listener: RunListener,
        ask_gate: AskGate,
        clock: Clock,
        stop: threading.Event,
        keeper: LockKeeper,
    ) -> None:
        self.plan = plan
        self.book = plan.runbook
        self.worker = worker
        self.listener = listener
        self.ask_gate = ask_gate
        self.clock = clock
        self.stop = stop
        self.keeper = keeper
        self.rollback = Rollback(plan, worker, listener, clock)
        self.tally = Tally(plan.runbook)
        self.stopped = ""  # why the rollout stopped (threshold, canary, rollback_scope: all)
        self.refusal = ""  # why the gate refused a batch
        self.log: list[dict[str, Any]] = []
        self.touched_before: set[str] = set()  # hosts the earlier attempt (resume) changed

    def run(self) -> LoopResult:
        done = self._resume() if self.plan.resume is not None else frozenset[str]()
        ran = False
        for index, batch in left_to_run(self.plan.batches, done, lambda h: h.name):
            if ran and not self._blocker():
                self._pause()
            if ran or index > 0:  # after the pause: a window may close meanwhile
                self._ask(index)
            blocker = self._blocker()
            if blocker:
                for result in _not_started(batch, blocker, self.clock):
                    self.tally.add(result)
                continue
            ran = True
            self._batch(index, batch)
        self._roll_back_all()
        return self._outcome()

    def _resume(self) -> frozenset[str]:
        """Take up the earlier attempt: its finished hosts count; the hosts it changed are
        leased again (a rollback may still touch them); a failed host it changed whose
        rollback never ran (killed in between) is rolled back now, per policy."""
        assert self.plan.resume is not None
        earlier = self.plan.resume.done_results()
        for result in earlier:
            self.tally.add(result)
        self.touched_before = {h.host for h in self.plan.resume.previous if touched(self.book, h)}
        held = tuple(h for h in self.plan.hosts if h.name in self.tally.changed)
        if held:
            self.keeper.take(held)
        pending = [
            r for r in earlier if r.host in self.tally.changed and r.host in self.tally.failed
        ]
        self._host_rollbacks(pending, [r.host for r in pending])
        return self.plan.resume.done

    def _ask(self, index: int) -> None:
        if self._blocker():
            return
        decision = self.ask_gate(index)
        if not decision.allowed:
            self.refusal = f"gate refused batch {index + 1}: {decision.reason}"

    def _blocker(self) -> str:
        if self.refusal:
            return self.refusal
        if self.stopped:
            return f"rollout stopped: {self.stopped}"
        return "run aborted" if self.stop.is_set() else ""

    def _pause(self) -> None:
        left = self.book.strategy.pause
        if left > 0:
            log.info("pausing %gs before the next batch", left)
        while left > 0 and not self.stop.is_set():
            step = min(1.0, left)
            self.clock.sleep(step)
            left -= step

    def _batch(self, index: int, batch: tuple[Host, ...]) -> None:
        self.listener.batch_started(self.plan, index, batch)
        self.keeper.take(batch)
        results = [self._after_earlier(r) for r in self._fan_out(batch)]
        for result in results:
            self.tally.add(result)
            if result.host in self.touched_before and result.host in self.tally.failed:
                self.tally.changed.add(result.host)  # changed by the earlier attempt
        batch_failed = [r.host for r in results if failed_host(self.book, r)]
        if not self.stop.is_set():  # Ctrl-C / kill: no verdict, no rollback; resume goes on
            self._host_rollbacks(results, batch_failed)
            verdict = judge_batch(
                canary=index == 0 and self.book.strategy.canary > 0,
                batch_failed=batch_failed,
                failed=len(self.tally.failed),
                attempted=len(self.tally.attempted),
                strategy=self.book.strategy,
                batch_attempted=sum(r.status is not Status.SKIPPED for r in results),
            )
            if verdict.stop and not self.stopped:
                self.stopped = verdict.reason
        self.log.append(
            {
                "batch": index + 1,
                "hosts": [h.name for h in batch],
                "failed": batch_failed,
                "attempted_total": len(self.tally.attempted),
                "failed_total": len(self.tally.failed),
                "stopped": self.stopped,
            }
        )

    def _after_earlier(self, result: HostResult) -> HostResult:
        """A host the interrupted attempt had begun to change is not "unhealthy before any
        change" when its pre-checks fail now (say dpkg half-configured): it failed."""
        skipped_unhealthy = result.status is Status.SKIPPED and bool(result.steps)
        if not skipped_unhealthy or result.host not in self.touched_before:
            return result
        why = result.error.split("; skipped")[0].replace(" before any change", "")
        error = f"{why} after the interrupted attempt began to change it"
        return replace(result, status=Status.FAILED, error=error)

    def _host_rollbacks(self, results: Sequence[HostResult], batch_failed: list[str]) -> None:
        """Hosts the run changed and then failed: undone now, or the rollout stops."""
        if not self.rollback.defined:
            return
        targets = [r for r in results if r.host in batch_failed and r.host in self.tally.changed]
        if not targets:
            return
        if self.book.strategy.rollback_scope is RollbackScope.ALL:
            names = ", ".join(r.host for r in targets)
            self.stopped = self.stopped or f"{names} failed (rollback_scope: all)"
            return
        for result in self.rollback.run(targets, "it failed (rollback_scope: host)"):
            self.tally.add(result)

    def _roll_back_all(self) -> None:
        if not self.stopped or not self.rollback.defined or self.stop.is_set():
            return
        targets = [
            self.tally.results[h.name] for h in self.plan.hosts if h.name in self.tally.changed
        ]
        for result in self.rollback.run(targets, self.stopped):
            self.tally.add(result)

    def _fan_out(self, batch: tuple[Host, ...]) -> list[HostResult]:
        """Run the batch on at most ``forks`` hosts at a time; results in batch order."""
        with ThreadPoolExecutor(
            max_workers=max(1, self.plan.forks), thread_name_prefix="host"
        ) as pool:
            return list(pool.map(self._one, batch))

    def _one(self, host: Host) -> HostResult:
        if self.stop.is_set():
            return _skipped(host, "run aborted before this host started", self.clock)
        try:
            why = self.keeper.wait_for(host)
            if why:
                return _skipped(host, why, self.clock)
            try:
                return self.worker.run(host)
            finally:
                self.keeper.host_done(host)
        except Exception as exc:  # a bug must not lose the other hosts' results
            log.exception("internal error on host %s", host.name)
            now = self.clock.now()
            return HostResult(
                host.name,
                Status.FAILED,
                started=now,
                ended=now,
                error=f"internal error: {type(exc).__name__}: {exc}",
                address=host.address,
            )

    def _outcome(self) -> LoopResult:
        hosts = tuple(
            self.tally.results[h.name] for h in self.plan.hosts if h.name in self.tally.results
        )
        status, reason = self._status()
        return LoopResult(hosts, status, reason, self._meta())

    def _status(self) -> tuple[RunStatus, str]:
        if self.refusal:
            return RunStatus.ABORTED, self.refusal
        results = self.tally.results.values()
        undone = [r.host for r in results if r.status is Status.ROLLED_BACK]
        if self.stopped:
            broken = [r.host for r in results if r.failed and _rollback_ran(self.book, r)]
            if broken:
                return RunStatus.FAILED, f"{self.stopped}; rollback failed on {', '.join(broken)}"
            if undone:
                return RunStatus.ROLLED_BACK, f"{self.stopped}; rolled back {len(undone)} host(s)"
            return RunStatus.ABORTED, f"rollout stopped: {self.stopped}"
        if self.stop.is_set():
            return RunStatus.ABORTED, "stopped on request before every host finished"
        if self.tally.failed:
            extra = f" ({len(undone)} rolled back)" if undone else ""
            return RunStatus.FAILED, f"{len(self.tally.failed)} host(s) failed{extra}"
        return RunStatus.SUCCEEDED, ""

    def _meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        if self.keeper.events:
            meta["host_locks"] = list(self.keeper.events)
        if len(self.plan.batches) > 1 or self.rollback.defined or self.book.strategy.canary:
            earlier = self.plan.resume.meta.get("rollout", {}) if self.plan.resume else {}
            meta["rollout"] = {
                "strategy": describe(self.book.strategy),
                "batches": [*earlier.get("batches", []), *self.log],
                "stopped": self.stopped,
                "resumed": [*earlier.get("resumed", [])]
                + ([self.clock.now().isoformat()] if self.plan.resume else []),
            }
        return meta


def _skipped(host: Host, why: str, clock: Clock) -> HostResult:
    now = clock.now()
    return HostResult(
        host.name, Status.SKIPPED, started=now, ended=now, error=why, address=host.address
    )


def _not_started(batch: Sequence[Host], reason: str, clock: Clock) -> list[HostResult]:
    return [_skipped(h, f"not started: {reason}", clock) for h in batch]
