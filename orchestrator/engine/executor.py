"""Runs every step of a runbook on one host, over one reused connection per transport.

Failure policy (docs/runbook-format.md):
- cannot connect → the host is UNREACHABLE and no further step runs;
- a step fails or times out → read-only runbooks go on with the next step (an
  inspection reports every item it can); runbooks that change targets stop the
  host there, unless the step has ``ignore_errors``;
- the connection drops mid-command → the host FAILED, no further step runs.
Steps with ``checks`` are graded by them: a non-zero exit is not a failure on its
own (``rc`` is there to check), except 126/127 — the command could not run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestrator.clock import Clock
from orchestrator.engine import backup_kinds
from orchestrator.engine.context import build_context, registered
from orchestrator.engine.events import RunListener
from orchestrator.engine.phases import Phase, host_outcome, host_sequence, numbered, unhealthy
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.reboot import Rebooter, reboots_host
from orchestrator.engine.results import HostResult, Status, StepResult
from orchestrator.engine.step import StepRunner
from orchestrator.errors import ConnectionLost, HostUnreachable, TransportError
from orchestrator.inventory.model import Host, HostKind
from orchestrator.runbook.model import Step, StepKind
from orchestrator.transports.base import Connection, Connector

log = logging.getLogger(__name__)

# Which host kind each step kind applies to; other hosts skip the step.
STEP_HOST_KIND = {
    StepKind.COMMAND: HostKind.LINUX,
    StepKind.ANSIBLE: HostKind.LINUX,
    StepKind.CLI: HostKind.NETWORK,
    StepKind.FETCH: HostKind.LINUX,
    StepKind.ARCHIVE: HostKind.LINUX,
    StepKind.REBOOT: HostKind.LINUX,
}  # restore: and backup: apply to both kinds

# (index, phase, step): what a host runs, in order (engine.phases)
StepSequence = Sequence[tuple[int, Phase, Step]]


@dataclass
class _Connections:
    """Lazily opened connections of one host, one per transport, closed together."""

    host: Host
    connectors: Mapping[StepKind, Connector]
    timeout: float
    open: dict[str, Connection] = field(default_factory=dict)
    lost: bool = False  # a connection dropped mid-command: nothing more runs on this host

    def get(self, kind: StepKind) -> Connection:
        connector = self.connectors[kind]
        if connector.name not in self.open:
            self.open[connector.name] = connector.connect(self.host, timeout=self.timeout)
        return self.open[connector.name]

    def close(self) -> None:
        for name, conn in self.open.items():
            try:
                conn.close()
            except Exception:
                log.warning(
                    "closing %s connection to %s failed", name, self.host.name, exc_info=True
                )
        self.open.clear()


class HostWorker:
    """Runs one host's steps; never raises for a host fault."""

    def __init__(
        self,
        plan: RunPlan,
        connectors: Mapping[StepKind, Connector],
        listener: RunListener,
        clock: Clock,
        *,
        connect_timeout: float,
        step_timeout: float,
        stop: threading.Event,
    ) -> None:
        self.plan = plan
        self.connectors = connectors
        self.listener = listener
        self.clock = clock
        self.connect_timeout = connect_timeout
        self.stop = stop
        self.steps = StepRunner(plan.runbook, clock, default_timeout=step_timeout)
        self.rebooter = Rebooter(clock)
        # Pre-checks, steps, post-checks (rollback steps run apart: ``run_more``).
        self.sequence = host_sequence(plan.runbook)

    def run(self, host: Host) -> HostResult:
        started = self.clock.now()
        self.listener.host_started(self.plan, host)
        results = self._run_steps(host, self.sequence, build_context(self.plan, host))
        status, error = host_outcome(self.plan.runbook, results)
        result = HostResult(
            host=host.name,
            status=status,
            steps=tuple(results),
            started=started,
            ended=self.clock.now(),
            error=error,
            address=host.address,
        )
        self.listener.host_finished(self.plan, result)
        return result

    def run_more(self, host: Host, earlier: HostResult, sequence: StepSequence) -> list[StepResult]:
        """Run more steps (a rollback) on a host whose run ended; they see its registers as
        its steps left them (results of this process, or read back from the store)."""
        context = build_context(self.plan, host)
        steps = {index: step for index, _, step in numbered(self.plan.runbook)}
        for done in earlier.steps:
            step = steps.get(done.index)
            if step is not None and step.register:
                context[step.register] = registered(done)
        return self._run_steps(host, sequence, context)

    def _run_steps(
        self, host: Host, sequence: StepSequence, context: dict[str, Any]
    ) -> list[StepResult]:
        conns = _Connections(host, self.connectors, self.connect_timeout)
        results: list[StepResult] = []
        halt = ""  # set when no further step may run on this host
        soft = False  # a failed step halted the steps: the post-checks still run (evidence)
        try:
            for index, phase, step in sequence:
                if self.stop.is_set() and not halt:
                    result = self._not_run(
                        index, step, "run aborted before this step", status=Status.INTERRUPTED
                    )
                elif halt and not (soft and phase is Phase.POST_CHECK):
                    result = self._not_run(index, step, halt)
                else:
                    result = self._one_step(host, conns, index, step, context)
                    reason = self._halt_reason(phase, step, result, lost=conns.lost)
                    hard = result.status is Status.UNREACHABLE or conns.lost
                    if reason and (hard or not halt):
                        halt, soft = reason, phase is Phase.STEP and not hard
                if step.register:
                    context[step.register] = registered(result)
                results.append(result)
                self.listener.step_finished(self.plan, host, result)
        finally:
            conns.close()
        return results

    def _one_step(
        self, host: Host, conns: _Connections, index: int, step: Step, context: dict[str, Any]
    ) -> StepResult:
        wanted = STEP_HOST_KIND.get(step.kind, host.kind)
        if host.kind is not wanted:
            return self._not_run(
                index,
                step,
                f"{step.kind.value} steps run on {wanted.value} hosts; "
                f"{host.name} is {host.kind.value}",
                status=Status.SKIPPED,
            )
        if step.kind is StepKind.REBOOT:  # drops and reopens the host's connections
            return self.rebooter.run(index, step, conns, context)
        now = self.clock.now()
        try:
            connection = conns.get(backup_kinds.connection_kind(step.kind, host))
            connection = backup_kinds.connection_for(
                connection, self.plan, host, step, index, self.clock
            )
            result = self.steps.run(index, step, connection, context, host)
            if reboots_host(step):
                conns.close()  # an ansible reboot: the host's SSH connection went with it
            return backup_kinds.save_output(self.plan, host, step, result)
        except HostUnreachable as exc:  # at connect, or at run for lazy transports (ansible)
            return self._fault(step, index, now, Status.UNREACHABLE, str(exc))
        except ConnectionLost as exc:
            conns.lost = True
            return self._fault(step, index, now, Status.FAILED, f"connection lost: {exc}")
        except TransportError as exc:
            return self._fault(step, index, now, Status.FAILED, str(exc))

    def _fault(
        self, step: Step, index: int, started: datetime, status: Status, error: str
    ) -> StepResult:
        return StepResult(
            step.name, index, status, started=started, ended=self.clock.now(), error=error
        )

    def _halt_reason(self, phase: Phase, step: Step, result: StepResult, *, lost: bool) -> str:
        if result.status is Status.UNREACHABLE:
            return f"host unreachable: {result.error}"
        if lost:
            return "connection lost"
        if phase is Phase.PRE_CHECK and unhealthy(result):
            return f"not touched: pre-check {step.name!r} found the host unhealthy"
        if phase is Phase.POST_CHECK:  # every post-check runs: they are the evidence
            return ""
        if result.status.failed and self.plan.runbook.mutates and not step.ignore_errors:
            return (
                f"step {step.name!r} {result.status.value}; the runbook changes targets, "
                "so this host stops here"
            )
        return ""

    def _not_run(
        self, index: int, step: Step, reason: str, status: Status = Status.SKIPPED
    ) -> StepResult:
        now = self.clock.now()
        return StepResult(
            step.name, index, status, started=now, ended=now, error=reason, attempts=0
        )
