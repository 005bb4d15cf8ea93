"""Runbook model: what the loader produces after validation (DESIGN.md §3).

Everything here is already validated: a ``Runbook`` that exists can be run.
Templates are kept as source strings and rendered per host by ``template``.
``line`` fields point back into the YAML file so run-time errors can name it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


class RunbookKind(Enum):
    INSPECTION = "inspection"
    BACKUP = "backup"
    PATCH = "patch"
    RESTORE_VERIFY = "restore-verify"
    CUSTOM = "custom"


# Whether a runbook of this kind changes its targets, unless the runbook says otherwise.
MUTATES_BY_DEFAULT: Mapping[RunbookKind, bool] = {
    RunbookKind.INSPECTION: False,
    RunbookKind.BACKUP: False,
    RunbookKind.PATCH: True,
    RunbookKind.RESTORE_VERIFY: False,
    RunbookKind.CUSTOM: True,
}


class ChangePolicy(Enum):
    NONE = "none"  # no change record (read-only, only where settings allow it)
    STANDARD = "standard"  # a pre-approved standard change template covers it
    REQUIRED = "required"  # needs an approved normal/emergency change


class StepKind(Enum):
    COMMAND = "command"  # shell command over SSH (linux hosts)
    CLI = "cli"  # network device command via netmiko
    ANSIBLE = "ansible"  # module or playbook via ansible-runner
    # Backups (docs/backups.md): the value is a spec (mapping/list), not a command line.
    FETCH = "fetch"  # files read over SFTP on the host's SSH connection, stored as backups
    ARCHIVE = "archive"  # data sets: tar + per-file sha256 manifest, stored as backups
    RESTORE = "restore"  # restore verification (data set to scratch; config restore plan)
    BACKUP = "backup"  # "back up these now" before a change (configs or files)
    # Patch rollouts (docs/rollouts.md): reboot, then wait for SSH and a new boot id.
    REBOOT = "reboot"


# Step kinds whose value is a spec handled by ``engine.artifact_steps``.
ARTIFACT_KINDS = frozenset({StepKind.FETCH, StepKind.ARCHIVE, StepKind.RESTORE, StepKind.BACKUP})


class Grade(Enum):
    """Grade of one check item. Ordered: a worse grade compares greater."""

    NORMAL = "normal"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"  # the value could not be measured or compared

    @property
    def rank(self) -> int:
        return _GRADE_RANK[self]


_GRADE_RANK = {Grade.NORMAL: 0, Grade.UNKNOWN: 1, Grade.WARNING: 2, Grade.CRITICAL: 3}


def worst_grade(grades: list[Grade] | tuple[Grade, ...]) -> Grade | None:
    return max(grades, key=lambda g: g.rank) if grades else None


class Comparison(Enum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "=="
    NE = "!="


@dataclass(frozen=True)
class Threshold:
    """``value OP operand`` is true when the threshold is breached, e.g. ``>= 90``."""

    op: Comparison
    operand: float | str
    source: str  # as written, for messages and reports

    def __str__(self) -> str:
        return self.source


@dataclass(frozen=True)
class Check:
    """Grades a value measured by a step: crit if ``crit`` breached, else warn if ``warn``.

    ``value`` is a Jinja2 expression over the step's ``stdout``, ``rc``, ``parsed``
    (and, with ``loop``, ``item``); None means "stdout as a number".
    ``loop`` makes one check item per element (e.g. one per mount point);
    ``label`` names each item (an expression over ``item``).
    """

    name: str
    warn: Threshold | None = None
    crit: Threshold | None = None
    value: str | None = None
    unit: str = ""
    hint: str = ""  # remediation suggestion shown with a warning/critical grade
    loop: str | None = None
    label: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class CheckResult:
    """One graded check item (a step may give several, e.g. one per mount point)."""

    name: str  # item name, e.g. "filesystem use /var"
    grade: Grade
    value: Any = None  # the measured value (number or text), None when not measured
    unit: str = ""
    threshold: str = ""  # the threshold that decided the grade, e.g. ">= 90"
    message: str = ""  # why UNKNOWN, or the remediation hint for warning/critical


class ParseKind(Enum):
    REGEX = "regex"  # named groups; ``multi`` gives a list of dicts
    JSON = "json"
    TEXTFSM = "textfsm"  # a template file, or ntc-templates by platform + command


@dataclass(frozen=True)
class ParseSpec:
    kind: ParseKind
    pattern: str | None = None  # regex source, or a TextFSM template path
    multi: bool = False  # regex: every match (list) instead of the first (dict)
    ntc: bool = False  # textfsm: look the template up in ntc-templates


@dataclass(frozen=True)
class Step:
    name: str
    kind: StepKind
    # command/cli: the command template; ansible: {"module": ..., "args": ...} or {"playbook": ...}
    action: str | Mapping[str, Any]
    when: str | None = None  # Jinja2 expression; step is SKIPPED when false
    # Jinja2 expression over the step's output (stdout, rc, ...): whether it changed the host.
    # None = the transport says (ansible's changed, reboots); a command never does by itself.
    changed_when: str | None = None
    register: str | None = None  # later steps see this step's result under this name
    timeout: float | None = None  # seconds; None = the runbook/settings default
    retries: int = 0  # extra attempts after a failure (not after a timeout of the connection)
    retry_delay: float = 1.0
    parse: ParseSpec | None = None
    checks: tuple[Check, ...] = ()
    ignore_errors: bool = False  # a failure is recorded but the host goes on
    raw: bool = False  # command: do not shell-quote interpolated values
    save: str | None = None  # command/cli: store the output as this backup artifact
    line: int | None = None


class OnUnhealthy(Enum):
    """What a failed pre-check does to its host (docs/rollouts.md)."""

    FAIL = "fail"  # the host fails (counts against max_fail_percent), untouched
    SKIP = "skip"  # the host is skipped, untouched, and not counted


class RollbackScope(Enum):
    """Which hosts a host's failure rolls back (a tripped threshold rolls back all)."""

    HOST = "host"  # that host only; the threshold decides whether the rollout goes on
    ALL = "all"  # every host the run changed, and the rollout stops


class OnLocked(Enum):
    """What a run does with a host another run holds (host locks, docs/rollouts.md)."""

    WAIT = "wait"  # wait up to lock_wait, then skip it
    SKIP = "skip"  # skip it at once


@dataclass(frozen=True)
class Strategy:
    forks: int | None = None  # None = settings default
    # Hosts per batch: a count, or a percentage of the targets (rounded up). The gate is
    # asked again before every batch, so a closed window stops a run between batches.
    batch: int | None = None
    batch_percent: int | None = None
    # Rollouts (docs/rollouts.md): the first ``canary`` hosts are a batch of their own that
    # must pass entirely; ``pause`` seconds between batches; after every batch the run stops
    # when failed * 100 > max_fail_percent * attempted (over all hosts so far); at most one
    # host per value of the inventory variable ``serial_by`` in a batch.
    canary: int = 0
    pause: float = 0.0
    max_fail_percent: float | None = None
    serial_by: str | None = None
    on_unhealthy: OnUnhealthy = OnUnhealthy.FAIL
    rollback_scope: RollbackScope = RollbackScope.HOST
    on_locked: OnLocked = OnLocked.WAIT
    lock_wait: float = 300.0  # seconds to wait for a host another run holds


@dataclass(frozen=True)
class Runbook:
    name: str
    kind: RunbookKind
    change: ChangePolicy
    targets: str
    steps: tuple[Step, ...]
    description: str = ""
    mutates: bool = False
    vars: Mapping[str, Any] = field(default_factory=dict)  # defaults; host vars override them
    strategy: Strategy = field(default_factory=Strategy)
    timeout: float | None = None  # default step timeout, seconds
    path: Path | None = None
    # Rollouts (docs/rollouts.md): health gates before and after a host's steps, the steps
    # that undo them, and which registers hold the package versions for the evidence.
    pre_checks: tuple[Step, ...] = ()
    post_checks: tuple[Step, ...] = ()
    rollback: tuple[Step, ...] = ()
    evidence: Mapping[str, str] = field(default_factory=dict)  # before/after/rolled_back

    @property
    def read_only(self) -> bool:
        return not self.mutates

    @property
    def all_steps(self) -> tuple[Step, ...]:
        """Every step in run order: pre-checks, steps, post-checks, rollback."""
        return (*self.pre_checks, *self.steps, *self.post_checks, *self.rollback)
