"""Rollback: the runbook's ``rollback:`` steps on hosts the run changed (docs/rollouts.md).

They run after the host's own steps — right after its batch for a host that failed
(``rollback_scope: host``), or on every host the run changed once the rollout stops
(threshold, canary, ``rollback_scope: all``). They see the host's registers as its steps left
them (from this process, or read back from the store on resume) and are recorded on the
same host, numbered after its post-checks. A host whose rollback steps all pass ends
``rolled_back``; one whose rollback fails ends ``failed``, saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from orchestrator.clock import Clock
from orchestrator.engine.events import RunListener
from orchestrator.engine.executor import HostWorker
from orchestrator.engine.phases import rollback_sequence, unhealthy
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import HostResult, Status, StepResult

log = logging.getLogger(__name__)


class Rollback:
    def __init__(
        self,
        plan: RunPlan,
        worker: HostWorker,
        listener: RunListener,
        clock: Clock,
    ) -> None:
        self.plan = plan
        self.worker = worker
        self.listener = listener
        self.clock = clock
        self.sequence = rollback_sequence(plan.runbook)
        self.hosts = {h.name: h for h in plan.hosts}

    @property
    def defined(self) -> bool:
        return bool(self.sequence)

    def run(self, targets: Sequence[HostResult], reason: str) -> list[HostResult]:
        """Roll these hosts back (at most ``forks`` at a time); their new results, in order."""
        if not targets or not self.defined:
            return list(targets)
        log.warning("rolling back %d host(s): %s", len(targets), reason)
        with ThreadPoolExecutor(
            max_workers=max(1, min(self.plan.forks, len(targets))), thread_name_prefix="rollback"
        ) as pool:
            return list(pool.map(lambda earlier: self._one(earlier, reason), targets))

    def _one(self, earlier: HostResult, reason: str) -> HostResult:
        host = self.hosts[earlier.host]
        self.listener.host_started(self.plan, host)
        try:
            steps = self.worker.run_more(host, earlier, self.sequence)
        except Exception as exc:  # a bug must not cost the other hosts their rollback
            log.exception("internal error rolling back %s", host.name)
            now = self.clock.now()
            steps = [
                StepResult(
                    "rollback",
                    self.sequence[0][0],
                    Status.FAILED,
                    started=now,
                    ended=now,
                    error=f"internal error: {type(exc).__name__}: {exc}",
                )
            ]
        result = _rolled_back(earlier, steps, reason, self.clock)
        self.listener.host_finished(self.plan, result)
        return result


def _rolled_back(
    earlier: HostResult, steps: Sequence[StepResult], reason: str, clock: Clock
) -> HostResult:
    bad = [s for s in steps if unhealthy(s)]
    before = f"{earlier.error}; " if earlier.error else ""
    if bad:
        why = "; ".join(f"{s.name}: {s.status.value} {s.error}".strip() for s in bad)
        status, error = Status.FAILED, f"{before}rollback failed: {why}"
    else:
        status, error = Status.ROLLED_BACK, f"{before}rolled back: {reason}"
    return replace(
        earlier,
        status=status,
        steps=(*earlier.steps, *steps),
        ended=clock.now(),
        error=error,
    )
