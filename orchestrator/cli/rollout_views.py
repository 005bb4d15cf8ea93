"""What the CLI shows of rollouts: the batches of a plan (``run --dry-run``) and, for a run,
its batches, patch evidence and host-lock waits (``runs show``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestrator.engine.plan import RunPlan
from orchestrator.engine.rollout import describe

_SHOWN_PACKAGES = 4  # packages per host in the evidence table


def rollout_json(plan: RunPlan) -> dict[str, Any]:
    book, strategy = plan.runbook, plan.runbook.strategy
    return {
        "strategy": describe(strategy),
        "canary": strategy.canary,
        "pause_s": strategy.pause,
        "max_fail_percent": strategy.max_fail_percent,
        "serial_by": strategy.serial_by,
        "on_unhealthy": strategy.on_unhealthy.value,
        "rollback_scope": strategy.rollback_scope.value,
        "on_locked": strategy.on_locked.value,
        "lock_wait_s": strategy.lock_wait,
        "pre_checks": [s.name for s in book.pre_checks],
        "post_checks": [s.name for s in book.post_checks],
        "rollback": [s.name for s in book.rollback],
        "resume": None if plan.resume is None else {"done": sorted(plan.resume.done)},
    }


def show_batches(console: Console, plan: RunPlan) -> None:
    """The batches in run order (canary first), and the rollout's policies."""
    book, strategy = plan.runbook, plan.runbook.strategy
    done = plan.resume.done if plan.resume is not None else frozenset[str]()
    table = Table("batch", "hosts", title="batches")
    for index, batch in enumerate(plan.batches):
        label = f"{index + 1} (canary)" if index == 0 and strategy.canary else str(index + 1)
        names = [f"[dim]{h.name} (done)[/]" if h.name in done else h.name for h in batch]
        table.add_row(label, " ".join(names))
    console.print(table)
    if describe(strategy):
        console.print(f"rollout: {describe(strategy)}")
    for title, steps in (
        ("pre-checks", book.pre_checks),
        ("post-checks", book.post_checks),
        ("rollback", book.rollback),
    ):
        if steps:
            console.print(f"{title}: " + ", ".join(escape(s.name) for s in steps))
    if book.pre_checks or book.rollback:
        console.print(
            f"[dim]unhealthy before: {strategy.on_unhealthy.value}; rollback scope: "
            f"{strategy.rollback_scope.value}; locked hosts: {strategy.on_locked.value} "
            f"(up to {strategy.lock_wait:g}s)[/]"
        )
    if plan.resume is not None:
        console.print(f"resume: {len(done)} host(s) finished earlier are not touched again")


def show_run_rollout(console: Console, meta: Mapping[str, Any]) -> None:
    rollout = meta.get("rollout")
    if isinstance(rollout, Mapping) and rollout.get("batches"):
        _show_batches_run(console, rollout)
    locks = meta.get("host_locks")
    if isinstance(locks, list) and locks:
        for event in locks:
            console.print(
                f"host lock: {event['host']} {event['action']} after {event['waited_s']}s "
                f"— held by run {event['held_by']} ({event['runbook']})"
            )
    patch = meta.get("patch")
    if isinstance(patch, Mapping) and patch.get("hosts"):
        show_patch_evidence(console, patch["hosts"])


def _show_batches_run(console: Console, rollout: Mapping[str, Any]) -> None:
    parts = []
    for batch in rollout["batches"]:
        failed = f" ({len(batch['failed'])} failed)" if batch["failed"] else ""
        parts.append(f"{batch['batch']}: {len(batch['hosts'])} host(s){failed}")
    console.print(f"rollout ({escape(str(rollout.get('strategy', '')))}): " + "; ".join(parts))
    if rollout.get("stopped"):
        console.print(f"[magenta]rollout stopped:[/] {escape(str(rollout['stopped']))}")
    if rollout.get("resumed"):
        console.print(f"resumed: {', '.join(rollout['resumed'])}")


def show_patch_evidence(console: Console, hosts: Sequence[Mapping[str, Any]]) -> None:
    table = Table(
        "host", "packages (before → after)", "reboot", "checks", "rollback", title="patch evidence"
    )
    for host in hosts:
        table.add_row(
            host["host"],
            escape(package_changes(host["packages"])),
            f"yes, booted {host['boot_time']}" if host["rebooted"] else "no",
            _checks(host["checks"]),
            escape(", ".join(f"{r['step']} {r['status']}" for r in host["rollback"]) or "-"),
        )
    console.print(table)


def package_changes(packages: Sequence[Mapping[str, str]]) -> str:
    """``labapp 1.0 → 1.2 (→ 1.0)`` for each changed package (the first few)."""
    shown = []
    for p in packages[:_SHOWN_PACKAGES]:
        text = f"{p['package']} {p['before'] or '-'} → {p['after'] or '-'}"
        if "rolled_back" in p:
            text += f" (rolled back: {p['rolled_back'] or '-'})"
        shown.append(text)
    more = len(packages) - len(shown)
    return "; ".join(shown) + (f"; +{more} more" if more > 0 else "") if shown else "-"


def _checks(checks: Sequence[Mapping[str, Any]]) -> str:
    bad = [c for c in checks if c["status"] in ("failed", "timeout", "unreachable")]
    bad += [c for c in checks if any(i["grade"] in ("critical", "unknown") for i in c["items"])]
    if not checks:
        return "-"
    if not bad:
        return f"[green]{len(checks)} passed[/]"
    return "[red]" + escape(", ".join(sorted({c["step"] for c in bad}))) + "[/]"
