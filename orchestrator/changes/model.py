"""Change records (变更单): what authorises a run, and the periods nothing may change in.

A record carries the change plan the seeds ask for (purpose, content, impact
analysis, risk, implementation / rollback / verification plans), who asked, the
maintenance window, the scope (runbooks + target pattern) and, once submitted,
the dry-run plan the approvers approve. Records are immutable values: the
workflow returns a new record for every step, the store persists it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import PurePath

from orchestrator.errors import ChangeGateError


class ChangeType(Enum):
    STANDARD = "standard"  # a pre-approved template, used many times by read-only runs
    NORMAL = "normal"  # approvals by risk, a window, a scope; one run
    EMERGENCY = "emergency"  # one change-manager approval; may run in a freeze with a reason


class ChangeState(Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    REVOKED = "revoked"  # a standard template withdrawn after approval


class Risk(Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Role(Enum):
    OPERATOR = "operator"
    CHANGE_MANAGER = "change-manager"
    ADMIN = "admin"
    AUDITOR = "auditor"


class Verdict(Enum):
    APPROVE = "approve"
    REJECT = "reject"


class ChangeRefused(ChangeGateError):
    """The change process refused an operation (wrong role, wrong state, a freeze, ...).

    Exit code 3 like a gate refusal; the store audits it before it reaches the user.
    """

    def __init__(self, reason: str, *, change_id: str | None = None, operation: str = "") -> None:
        super().__init__(reason, change_id=change_id)
        self.operation = operation


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{moment.isoformat()} has no time zone")


@dataclass(frozen=True)
class Window:
    """A maintenance window [start, end): a batch may start at ``start``, not at ``end``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, self.end)
        if self.end <= self.start:
            raise ValueError(
                f"window ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})"
            )

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class CronWindow:
    """A recurring window of a standard template: starts at each cron match, lasts ``seconds``."""

    expression: str  # five fields, evaluated in the settings time zone
    seconds: int


@dataclass(frozen=True)
class FreezePeriod:
    """封网期: no normal change may have a window that overlaps it."""

    name: str
    start: datetime
    end: datetime
    reason: str = ""
    id: int | None = None  # None: declared in orchestrator.toml (not removable by the CLI)
    created_by: str = ""

    def __post_init__(self) -> None:
        _require_aware(self.start, self.end)
        if self.end <= self.start:
            raise ValueError(f"freeze {self.name!r} ends before it starts")

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end

    @property
    def source(self) -> str:
        return "settings" if self.id is None else f"#{self.id}"


@dataclass(frozen=True)
class Scope:
    runbooks: tuple[str, ...]  # names in the runbooks directory, or paths to runbook files
    targets: str  # host pattern; resolved to the approved host list at submit

    @property
    def names(self) -> frozenset[str]:
        """Runbook names (a path counts by its file stem, as the runbook's name must)."""
        return frozenset(
            PurePath(r).stem if PurePath(r).suffix in (".yml", ".yaml") else r
            for r in self.runbooks
        )


@dataclass(frozen=True)
class Decision:
    """One change-manager's approval or rejection."""

    by: str
    at: datetime
    verdict: Verdict
    comment: str = ""


@dataclass(frozen=True)
class StepPlan:
    name: str
    kind: str
    action: str  # the command / CLI text, or the ansible module/playbook as JSON


@dataclass(frozen=True)
class RunbookPlan:
    """What one runbook of the scope would do, as the approvers saw it."""

    name: str
    fingerprint: str  # of the validated runbook; an edited runbook is no longer approved
    kind: str
    mutates: bool
    change: str  # the runbook's own change policy: none | standard | required
    hosts: tuple[str, ...]
    batches: tuple[tuple[str, ...], ...]
    steps: tuple[StepPlan, ...]


@dataclass(frozen=True)
class ChangePlan:
    """The dry-run plan attached at submit; approval approves exactly this."""

    runbooks: tuple[RunbookPlan, ...]
    inventory: str
    created: datetime

    @property
    def hosts(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for book in self.runbooks:
            seen.update(dict.fromkeys(book.hosts))
        return tuple(seen)

    def runbook(self, name: str) -> RunbookPlan | None:
        return next((b for b in self.runbooks if b.name == name), None)


@dataclass(frozen=True)
class ChangeDraft:
    """What a requester writes; ``workflow.create`` turns it into a DRAFT record."""

    type: ChangeType
    title: str
    scope: Scope
    risk: Risk = Risk.MEDIUM
    purpose: str = ""
    content: str = ""
    impact: str = ""
    implementation: str = ""
    rollback: str = ""
    verification: str = ""
    window: Window | None = None
    cron: CronWindow | None = None
    emergency_reason: str = ""


@dataclass(frozen=True)
class ChangeRecord:
    id: str  # CHG-YYYYMMDD-NNN (date in the settings time zone)
    type: ChangeType
    state: ChangeState
    title: str
    requester: str
    scope: Scope
    created: datetime
    updated: datetime
    risk: Risk = Risk.MEDIUM
    purpose: str = ""
    content: str = ""
    impact: str = ""
    implementation: str = ""
    rollback: str = ""
    verification: str = ""
    window: Window | None = None
    cron: CronWindow | None = None
    emergency_reason: str = ""
    plan: ChangePlan | None = None
    decisions: tuple[Decision, ...] = ()
    run_id: str | None = None  # the run that implements a normal/emergency change
    outcome: str = ""  # how the run ended (the reason when it failed)
    review: str = ""  # post-implementation review (required to close an emergency change)
    reviewed_by: str = ""
    reviewed_at: datetime | None = None

    @property
    def approvals(self) -> tuple[Decision, ...]:
        """Approvals that count: by someone other than the requester, one per person."""
        seen: dict[str, Decision] = {}
        for d in self.decisions:
            if d.verdict is Verdict.APPROVE and d.by != self.requester:
                seen.setdefault(d.by, d)
        return tuple(seen.values())

    @property
    def hosts(self) -> tuple[str, ...]:
        return self.plan.hosts if self.plan else ()

    @property
    def label(self) -> str:
        return f"{self.type.value} change {self.id}"
