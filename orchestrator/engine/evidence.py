"""Patch evidence: per host, the package versions before → after (→ after the rollback),
whether and when it rebooted, its health checks, its failures and the rollback actions.

Built from the host results when a rollout ends (previous attempts included on resume) and
stored on the run as ``meta.patch``; the change record's ``run.end`` audit entry carries it
too. Versions come from the registers the runbook names under ``evidence:`` (a step whose
``parse`` gives a list of ``{package, version}`` — or a ``{package: version}`` mapping).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.engine.phases import Phase, numbered, phase_of, touched
from orchestrator.engine.reboot import reboots_host
from orchestrator.engine.results import HostResult, Status, StepResult
from orchestrator.runbook.model import Runbook, StepKind


def wants_evidence(book: Runbook) -> bool:
    """Runbooks that roll out changes: evidence keys, health gates, rollback or reboots."""
    return bool(
        book.evidence
        or book.pre_checks
        or book.post_checks
        or book.rollback
        or any(s.kind is StepKind.REBOOT for s in book.steps)
    )


def patch_evidence(book: Runbook, hosts: Sequence[HostResult]) -> dict[str, Any]:
    """``meta.patch``: ``{"hosts": [...], "summary": {...}}``."""
    found = [_host(book, h) for h in hosts]
    return {
        "hosts": found,
        "summary": {
            "hosts": len(found),
            "changed": sum(1 for h in found if h["touched"]),
            "rebooted": sum(1 for h in found if h["rebooted"]),
            "rolled_back": sum(1 for h in found if h["rollback"]),
            "failed": sum(1 for h in found if h["failures"]),
        },
    }


def _host(book: Runbook, host: HostResult) -> dict[str, Any]:
    registers = _registers(book, host.steps)
    before = versions(_parsed(registers, book.evidence.get("before")))
    after = versions(_parsed(registers, book.evidence.get("after")))
    restored = versions(_parsed(registers, book.evidence.get("rolled_back")))
    reboot = _reboot(book, host.steps)
    boot = registers.get(book.evidence.get("boot_time", ""))
    return {
        "host": host.host,
        "status": host.status.value,
        "touched": touched(book, host),
        "packages": _changes(before, after, restored),
        "rebooted": bool(reboot.get("rebooted")),
        "boot_time": reboot.get("boot_time") or (boot.stdout.strip() if boot and reboot else ""),
        "reboot_waited_s": reboot.get("waited_s"),
        "checks": [_check(book, s) for s in host.steps if _is_check(book, s)],
        "failures": _failures(host),
        "rollback": [
            {"step": s.name, "status": s.status.value, "error": s.error}
            for s in host.steps
            if phase_of(book, s.index) is Phase.ROLLBACK
        ],
    }


def _failures(host: HostResult) -> list[str]:
    """Failed steps, or the host's error when it failed otherwise (unreachable, a check)."""
    found = [
        f"{s.name}: {s.status.value}" + (f" — {s.error}" if s.error else "")
        for s in host.steps
        if s.status.failed and not s.ignored
    ]
    if not found and host.failed and host.error:
        found.append(host.error)
    return found


def versions(parsed: Any) -> dict[str, str]:
    """{package: version} from a parsed list of {package|name, version}, or a mapping."""
    if isinstance(parsed, Mapping):
        return {str(k): str(v) for k, v in parsed.items()}
    found: dict[str, str] = {}
    if isinstance(parsed, list):
        for item in parsed:
            if isinstance(item, Mapping) and "version" in item:
                name = item.get("package", item.get("name"))
                if name is not None:
                    found[str(name)] = str(item["version"])
    return found


def _changes(
    before: Mapping[str, str], after: Mapping[str, str], restored: Mapping[str, str]
) -> list[dict[str, str]]:
    """Packages whose version the run changed (or the rollback touched), sorted by name."""
    # No "after" (the host stopped before its post-checks): only what the rollback moved.
    names = (
        {n for n in set(before) | set(after) if before.get(n) != after.get(n)} if after else set()
    )
    names |= {n for n in restored if restored[n] != after.get(n, before.get(n))} if after else set()
    names |= {n for n in restored if before and restored[n] != before.get(n)}
    rows = []
    for name in sorted(names):
        row = {"package": name, "before": before.get(name, ""), "after": after.get(name, "")}
        if restored:
            row["rolled_back"] = restored.get(name, "")
        rows.append(row)
    return rows


def _registers(book: Runbook, steps: Sequence[StepResult]) -> dict[str, StepResult]:
    names = {index: step.register for index, _, step in numbered(book) if step.register}
    return {names[s.index]: s for s in steps if s.index in names and s.attempts > 0}


def _parsed(registers: Mapping[str, StepResult], name: str | None) -> Any:
    found = registers.get(name or "")
    return found.parsed if found is not None else None


def _reboot(book: Runbook, steps: Sequence[StepResult]) -> Mapping[str, Any]:
    """What the host's reboot step found: a ``reboot:`` step's parsed result, or for an
    ansible ``reboot`` module step that it rebooted ({} when no reboot step ran)."""
    runbook_steps = numbered(book)
    for result in steps:
        if not 0 <= result.index < len(runbook_steps):
            continue
        step = runbook_steps[result.index][2]
        if step.kind is StepKind.REBOOT and isinstance(result.parsed, Mapping):
            return result.parsed
        if reboots_host(step) and result.status is Status.CHANGED:
            return {"rebooted": True}
    return {}


def _is_check(book: Runbook, result: StepResult) -> bool:
    return phase_of(book, result.index) in (Phase.PRE_CHECK, Phase.POST_CHECK)


def _check(book: Runbook, result: StepResult) -> dict[str, Any]:
    return {
        "phase": phase_of(book, result.index).value,
        "step": result.name,
        "status": result.status.value,
        "items": [
            {"name": c.name, "grade": c.grade.value, "value": c.value, "unit": c.unit}
            for c in result.checks
        ],
    }
