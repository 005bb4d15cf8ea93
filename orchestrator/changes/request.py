"""What the engine asks the change gate, and what it answers (see ``gate``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from orchestrator.runbook.model import Runbook


@dataclass(frozen=True)
class GateRequest:
    runbook: Runbook
    hosts: tuple[str, ...]
    now: datetime
    change_id: str | None = None
    operator: str = ""
    trigger: str = "cli"  # cli | schedule | api
    batch: int | None = None  # None: before the run starts; N: before batch N (0-based)
    run_id: str | None = None  # None: planning only (dry run), nothing will start
    resumed: bool = False  # `run --resume`: the run started before and continues now

    @property
    def phase(self) -> str:
        """plan (dry run / planning), start (before any connection), resume, or batch N
        (1-based)."""
        if self.run_id is None:
            return "plan"
        if self.batch is None:
            return "resume" if self.resumed else "start"
        return f"batch {self.batch + 1}"


@dataclass(frozen=True)
class GateDecision:
    allowed: bool
    reason: str
    change_id: str | None = None
    policy: str = ""  # which rule decided, for the record


class Gate(Protocol):
    def check(self, request: GateRequest) -> GateDecision: ...
