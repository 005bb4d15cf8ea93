"""Validation of the rollout parts of a runbook (docs/rollouts.md): the strategy keys (batches,
canary, pause, threshold, serial_by, policies), the ``evidence`` registers, and the spec of
``reboot:`` steps. The step lists themselves (``pre_checks``, ``post_checks``, ``rollback``)
are read like ``steps`` by the loader.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.runbook.durations import DURATION_HINT, parse_duration
from orchestrator.runbook.fields import Section
from orchestrator.runbook.model import (
    OnLocked,
    OnUnhealthy,
    RollbackScope,
    Step,
    StepKind,
    Strategy,
)
from orchestrator.runbook.template import is_template

# Run order of a runbook's step lists; a template may use registers of earlier lists.
STEP_LISTS = ("pre_checks", "steps", "post_checks", "rollback")
STRATEGY_KEYS = frozenset(
    {
        "forks",
        "batch",
        "canary",
        "pause",
        "max_fail_percent",
        "serial_by",
        "on_unhealthy",
        "rollback_scope",
        "on_locked",
        "lock_wait",
    }
)
EVIDENCE_KEYS = frozenset({"before", "after", "rolled_back", "boot_time"})
REBOOT_KEYS = frozenset({"command", "boot_id_file", "timeout", "poll", "boot_time_command"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BATCH_HINT = 'write e.g. `batch: 5` or `batch: "25%"`'

# (section, key, template source) -> records the template for the name check
UseTemplate = Callable[[Section, str, str], None]


def read_strategy(top: Section) -> Strategy:
    section = top.section("strategy")
    if section is None:
        return Strategy()
    section.only(STRATEGY_KEYS)
    batch, percent = _batch(section)
    pause = section.seconds("pause", allow_zero=True)
    lock_wait = section.seconds("lock_wait", allow_zero=True)
    return Strategy(
        forks=section.integer("forks", low=1, high=1000, default=None),
        batch=batch,
        batch_percent=percent,
        canary=section.integer("canary", low=0, high=1000, default=0) or 0,
        pause=pause or 0.0,
        max_fail_percent=_percent(section),
        serial_by=_serial_by(section),
        on_unhealthy=section.choice("on_unhealthy", OnUnhealthy, OnUnhealthy.FAIL),
        rollback_scope=section.choice("rollback_scope", RollbackScope, RollbackScope.HOST),
        on_locked=section.choice("on_locked", OnLocked, OnLocked.WAIT),
        lock_wait=300.0 if lock_wait is None else lock_wait,
    )


def _batch(section: Section) -> tuple[int | None, int | None]:
    batch = section.data.get("batch")
    if batch is None:
        return None, None
    if isinstance(batch, int) and not isinstance(batch, bool) and batch >= 1:
        return batch, None
    match = re.fullmatch(r"\s*(\d{1,3})\s*%\s*", batch) if isinstance(batch, str) else None
    if match and 1 <= int(match.group(1)) <= 100:
        return None, int(match.group(1))
    section.error(
        "batch", f"batch must be a host count (>= 1) or a percentage, got {batch!r}", _BATCH_HINT
    )
    return None, None


def _percent(section: Section) -> float | None:
    value = section.data.get("max_fail_percent")
    if value is None:
        return None
    if isinstance(value, str) and (match := re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", value)):
        value = float(match.group(1))
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100:
        return float(value)
    section.error(
        "max_fail_percent",
        f"max_fail_percent must be a number from 0 to 100, got {value!r}",
        "e.g. max_fail_percent: 10 (the run stops once more than 10% of the hosts it "
        "attempted failed; 0 = any failure stops it)",
    )
    return None


def _serial_by(section: Section) -> str | None:
    value = section.text("serial_by")
    if value is not None and not _IDENTIFIER.fullmatch(value):
        section.error(
            "serial_by",
            f"serial_by must name an inventory variable, got {value!r}",
            "e.g. serial_by: cluster (at most one host per cluster in each batch)",
        )
        return None
    return value


def read_evidence(top: Section, registers: Mapping[str, tuple[int, str]]) -> dict[str, str]:
    """``evidence: {before, after, rolled_back, boot_time}``: each a register that exists."""
    section = top.section("evidence")
    if section is None:
        return {}
    section.only(EVIDENCE_KEYS)
    found: dict[str, str] = {}
    for key in sorted(EVIDENCE_KEYS):
        name = section.text(key)
        if name is None:
            continue
        if name not in registers:
            known = ", ".join(sorted(registers)) or "none"
            section.error(
                key,
                f"evidence {key}: no step registers {name!r}",
                f"name the register of a step whose parse gives package versions (boot_time: "
                f"whose output is the boot time); registers: {known}",
            )
            continue
        found[key] = name
    return found


def check_lists(top: Section, lists: Mapping[str, tuple[Step, ...]], mutates: bool) -> None:
    """Rollout lists that cannot work: rollback without changes, reboots outside steps."""
    if lists.get("rollback") and not mutates:
        top.error(
            "rollback",
            "rollback steps in a runbook that changes nothing",
            "remove rollback:, or set mutates: true",
        )
    for key in ("pre_checks", "post_checks", "rollback"):
        if any(step.kind is StepKind.REBOOT for step in lists.get(key, ())):
            top.error(key, f"a reboot: step in {key}", "reboot in steps:, before the post_checks")


class RebootSpecReader:
    """``reboot: {command, boot_id_file, timeout, poll, boot_time_command}`` or ``reboot: true``
    (all defaults); strings may be templates (timeouts render to a duration)."""

    def __init__(self, section: Section, use: UseTemplate) -> None:
        self.section = section
        self.use = use

    def read(self) -> dict[str, Any] | None:
        value = self.section.data.get("reboot")
        if value is True:
            return {}
        spec = self.section.section("reboot") if not isinstance(value, bool) else None
        if spec is None:
            self.section.error(
                "reboot",
                f"reboot must be true or a mapping, got {value!r}",
                "e.g. reboot: {timeout: 10m, boot_id_file: /proc/sys/kernel/random/boot_id}",
            )
            return None
        spec.only(REBOOT_KEYS)
        found: dict[str, Any] = {}
        for key in sorted(REBOOT_KEYS):
            if spec.has(key):
                found[key] = self._value(spec, key)
        return None if any(v is None for v in found.values()) else found

    def _value(self, spec: Section, key: str) -> Any:
        value = spec.get(key, (str, int, float))
        if value is None:
            return None
        if isinstance(value, str) and is_template(value):
            self.use(spec, key, value)
            return value
        if key in ("timeout", "poll"):
            try:
                seconds = parse_duration(value)
            except ValueError as exc:
                spec.error(key, f"bad duration: {exc}", DURATION_HINT)
                return None
            return seconds
        if not isinstance(value, str) or not value.strip():
            spec.error(key, "must be non-empty text", "e.g. command: reboot")
            return None
        return value
