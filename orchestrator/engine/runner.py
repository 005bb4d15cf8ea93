"""plan_run (decide everything, open nothing) and execute_run (gate, then fan out).

The gate is consulted inside ``execute_run`` before any connection opens, so no
caller (CLI, scheduler, API) can run around it. Host faults come back as data;
the run always ends with a status.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.changes.gate import Gate, GateDecision, GateRequest
from orchestrator.clock import Clock
from orchestrator.engine.batches import BatchLoop
from orchestrator.engine.events import RunListener
from orchestrator.engine.evidence import patch_evidence, wants_evidence
from orchestrator.engine.executor import HostWorker
from orchestrator.engine.locks import LOCK_TTL, LockKeeper
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import RunResult
from orchestrator.engine.resume import ResumeState
from orchestrator.engine.rollout import make_batches
from orchestrator.errors import ChangeGateError, ConfigError, Problem, RunbookError
from orchestrator.inventory.model import Host, Inventory
from orchestrator.inventory.select import limit_hosts, select_hosts
from orchestrator.runbook.loader import free_variables
from orchestrator.runbook.model import Runbook, StepKind
from orchestrator.transports.base import Connector

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRequest:
    """What a caller asks for; plan_run turns it into a RunPlan."""

    runbook: Runbook
    limit: str | None = None
    forks: int | None = None
    change_id: str | None = None
    operator: str = ""
    trigger: str = "cli"
    options: Mapping[str, Any] = field(default_factory=dict)
    # `run --resume`: the run's own id and what its earlier attempt left.
    run_id: str | None = None
    resume: ResumeState | None = None


@dataclass(frozen=True)
class EngineConfig:
    default_forks: int = 20
    connect_timeout: float = 10.0
    step_timeout: float = 60.0
    lock_ttl: float = LOCK_TTL  # seconds a host lease lives without renewal


def new_run_id(clock: Clock) -> str:
    """Sortable, short enough to type: 20261122-013015-3f9a (UTC)."""
    return f"{clock.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def resolve_targets(runbook: Runbook, inventory: Inventory, limit: str | None) -> list[Host]:
    hosts = select_hosts(inventory, runbook.targets)
    if limit:
        hosts = limit_hosts(inventory, hosts, limit)
    if not hosts:
        narrowed = f" narrowed by --limit {limit!r}" if limit else ""
        raise ConfigError(
            f"runbook {runbook.name!r} targets {runbook.targets!r}{narrowed}, which matches no "
            f"host in {inventory.source}; check the pattern with `orchestrator inventory list "
            f"'{runbook.targets}'`"
        )
    return hosts


def check_host_vars(runbook: Runbook, hosts: list[Host]) -> None:
    """Every variable the runbook needs from the inventory is defined for every target."""
    needed = free_variables(runbook)
    problems = [
        Problem(
            f"host {host.name} does not define variable {name!r}",
            file=runbook.path,
            field="vars",
            hint=f"define {name} in the inventory (group_vars/host_vars) or as a default "
            "under the runbook's vars:",
        )
        for host in hosts
        for name in sorted(needed - set(host.vars))
    ]
    if problems:
        raise RunbookError(problems)


def plan_run(
    request: RunRequest, inventory: Inventory, gate: Gate, clock: Clock, config: EngineConfig
) -> RunPlan:
    """Resolve targets, batches and the gate decision. Opens no connection."""
    book = request.runbook
    hosts = resolve_targets(book, inventory, request.limit)
    check_host_vars(book, hosts)
    forks = request.forks or book.strategy.forks or config.default_forks
    decision = gate.check(
        GateRequest(
            book,
            tuple(h.name for h in hosts),
            clock.now(),
            request.change_id,
            request.operator,
            request.trigger,
            resumed=request.resume is not None,
        )
    )
    return RunPlan(
        run_id=request.run_id or new_run_id(clock),
        runbook=book,
        hosts=tuple(hosts),
        batches=make_batches(hosts, book.strategy),
        forks=max(1, min(forks, len(hosts))),
        gate=decision,
        created=clock.now(),
        operator=request.operator,
        trigger=request.trigger,
        limit=request.limit,
        change_id=request.change_id,
        options=dict(request.options),
        resume=request.resume,
    )


def _ask_gate(gate: Gate, plan: RunPlan, clock: Clock, batch: int | None) -> GateDecision:
    return gate.check(
        GateRequest(
            plan.runbook,
            plan.host_names,
            clock.now(),
            plan.change_id,
            plan.operator,
            plan.trigger,
            batch=batch,
            run_id=plan.run_id,
            resumed=plan.resume is not None,
        )
    )


def execute_run(
    plan: RunPlan,
    connectors: Mapping[StepKind, Connector],
    listener: RunListener,
    gate: Gate,
    clock: Clock,
    config: EngineConfig,
    stop: threading.Event | None = None,
) -> RunResult:
    """Ask the gate, then run the batches, asking it again before each one.

    A refusal before the run raises ChangeGateError (nothing ran). A refusal before a
    later batch stops the run there: it ends ABORTED with the gate's reason, and the
    hosts of the remaining batches are recorded as not started. Rollouts (canary,
    threshold, health gates, rollback, host locks, resume) are in ``batches.BatchLoop``.
    """
    decision = _ask_gate(gate, plan, clock, None)
    if not decision.allowed:
        raise ChangeGateError(decision.reason, change_id=plan.change_id)
    stop = stop or threading.Event()
    started = clock.now()
    listener.run_started(plan)
    worker = HostWorker(
        plan,
        connectors,
        listener,
        clock,
        connect_timeout=config.connect_timeout,
        step_timeout=config.step_timeout,
        stop=stop,
    )
    keeper = LockKeeper(plan.locks, plan.run_id, plan.runbook, clock, stop, ttl=config.lock_ttl)
    keeper.start()
    try:
        loop = BatchLoop(
            plan,
            worker,
            listener,
            lambda index: _ask_gate(gate, plan, clock, index),
            clock,
            stop,
            keeper,
        ).run()
    finally:
        keeper.close()
    meta = loop.meta
    if wants_evidence(plan.runbook):
        meta["patch"] = patch_evidence(plan.runbook, loop.hosts)
    result = RunResult(
        plan.run_id,
        plan.runbook.name,
        loop.status,
        loop.hosts,
        plan.resume.started if plan.resume is not None and plan.resume.started else started,
        clock.now(),
        loop.reason,
        meta,
    )
    listener.run_finished(plan, result)
    return result
