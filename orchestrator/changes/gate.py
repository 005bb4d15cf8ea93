"""The change gate, called by the engine before any connection opens and before every batch.

``ChangeGate`` fetches what the decision needs through a small ``ChangeSource``
(the store implements it), lets the pure ``decision.decide`` judge, and then:

- when a run starts under a normal or emergency change, *claims* it (approved →
  in_progress, atomically), so one approval never covers two runs;
- records every decision in the audit log (allowed or refused, with the phase:
  plan, start or batch N).

No caller can run around it: ``engine.execute_run`` asks it itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from orchestrator.changes.decision import GateContext, decide
from orchestrator.changes.model import ChangeRecord, ChangeType, FreezePeriod
from orchestrator.changes.request import Gate, GateDecision, GateRequest
from orchestrator.changes.rules import ChangeRules

__all__ = [
    "ChangeGate",
    "ChangeSource",
    "Gate",
    "GateDecision",
    "GateRequest",
]


class ChangeSource(Protocol):
    """What the gate reads and writes; implemented by ``store.changes.ChangeStore``."""

    def find(self, change_id: str) -> ChangeRecord | None: ...

    def templates_for(self, runbook: str) -> Sequence[ChangeRecord]:
        """Approved standard templates whose scope lists this runbook."""
        ...

    def stored_freezes(self) -> Sequence[FreezePeriod]: ...

    def claim(self, change_id: str, run_id: str, operator: str, now: datetime) -> str | None:
        """Move an approved change to in_progress for ``run_id``; the reason if it cannot."""
        ...

    def resume(self, change_id: str, run_id: str, operator: str, now: datetime) -> str | None:
        """Back to in_progress for ``run_id`` resuming (from failed, which its stop left it
        in); the reason if it cannot."""
        ...

    def record_decision(self, request: GateRequest, decision: GateDecision) -> None: ...


class ChangeGate:
    def __init__(
        self,
        source: ChangeSource,
        rules: ChangeRules,
        resolve_hosts: Callable[[str], frozenset[str]],
    ) -> None:
        self.source = source
        self.rules = rules
        self.resolve_hosts = resolve_hosts

    def check(self, request: GateRequest) -> GateDecision:
        record = self.source.find(request.change_id) if request.change_id else None
        templates: Sequence[ChangeRecord] = ()
        if request.change_id is None and request.runbook.read_only:
            templates = self.source.templates_for(request.runbook.name)
        context = GateContext(
            self.rules,
            (*self.rules.freezes, *self.source.stored_freezes()),
            self.resolve_hosts,
        )
        decision = decide(request, record, templates, context)
        run_id = request.run_id
        if decision.allowed and record is not None and run_id and _starts(request, record):
            take = self.source.resume if request.resumed else self.source.claim
            problem = take(record.id, run_id, request.operator, request.now)
            if problem is not None:
                decision = GateDecision(False, problem, record.id, decision.policy)
        self.source.record_decision(request, decision)
        return decision


def _starts(request: GateRequest, record: ChangeRecord) -> bool:
    """A run is starting (not planning, not a later batch) under a one-run change."""
    return record.type is not ChangeType.STANDARD and request.batch is None
