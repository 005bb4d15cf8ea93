"""A run plan: everything decided before any connection opens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestrator.changes.gate import GateDecision
from orchestrator.engine.artifacts import ArtifactSink
from orchestrator.engine.locks import HostLocks
from orchestrator.engine.resume import ResumeState
from orchestrator.inventory.model import Host
from orchestrator.runbook.model import Runbook


@dataclass(frozen=True)
class RunPlan:
    run_id: str
    runbook: Runbook
    hosts: tuple[Host, ...]
    batches: tuple[tuple[Host, ...], ...]
    forks: int
    gate: GateDecision
    created: datetime
    operator: str = ""
    trigger: str = "cli"
    limit: str | None = None
    change_id: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    # Where backup steps store (the app sets it before executing); not part of the plan's data.
    artifacts: ArtifactSink | None = field(default=None, compare=False, repr=False)
    # Per-host leases shared by every run (the app sets them; None: no locking).
    locks: HostLocks | None = field(default=None, compare=False, repr=False)
    # ``run --resume``: what the earlier attempt of this run left (engine.resume).
    resume: ResumeState | None = field(default=None, compare=False, repr=False)

    @property
    def host_names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hosts)
