"""Tables and text the CLI prints: plans, run summaries, host details, run lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestrator.cli.backup_views import show_run_backups
from orchestrator.cli.rollout_views import rollout_json, show_batches, show_run_rollout
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import HostResult, Status, StepResult
from orchestrator.runbook.model import Grade
from orchestrator.store.records import RunRecord, RunSummary

STATUS_STYLE = {
    Status.OK: "green",
    Status.CHANGED: "yellow",
    Status.SKIPPED: "dim",
    Status.FAILED: "red",
    Status.UNREACHABLE: "red",
    Status.TIMEOUT: "red",
    Status.INTERRUPTED: "magenta",
    Status.RUNNING: "cyan",
    Status.ROLLED_BACK: "magenta",
}
GRADE_STYLE = {
    Grade.NORMAL: "green",
    Grade.WARNING: "yellow",
    Grade.CRITICAL: "bold red",
    Grade.UNKNOWN: "magenta",
}


def styled(status: Status) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{status.value}[/]"


def graded(grade: Grade | None) -> str:
    return "-" if grade is None else f"[{GRADE_STYLE[grade]}]{grade.value}[/]"


def when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


# --- plans ---------------------------------------------------------------------------------


def plan_json(plan: RunPlan) -> dict[str, Any]:
    return {
        "run_id": plan.run_id,
        "runbook": plan.runbook.name,
        "targets": plan.runbook.targets,
        "limit": plan.limit,
        "forks": plan.forks,
        "hosts": [{"name": h.name, "address": h.address, "kind": h.kind.value} for h in plan.hosts],
        "batches": [[h.name for h in batch] for batch in plan.batches],
        "gate": {
            "allowed": plan.gate.allowed,
            "reason": plan.gate.reason,
            "policy": plan.gate.policy,
            "change_id": plan.gate.change_id,
        },
        "steps": [{"name": s.name, "kind": s.kind.value} for s in plan.runbook.steps],
        "rollout": rollout_json(plan),
    }


def show_plan(console: Console, plan: RunPlan) -> None:
    book = plan.runbook
    console.print(
        f"[bold]plan[/] {book.name} ({book.kind.value}, "
        f"{'changes targets' if book.mutates else 'read-only'})  targets "
        f"{escape(book.targets)}" + (f"  limit {escape(plan.limit)}" if plan.limit else "")
    )
    hosts = Table(
        "host",
        "address",
        "kind",
        "groups",
        title=f"{len(plan.hosts)} host(s), {len(plan.batches)} batch(es), forks {plan.forks}",
    )
    for host in plan.hosts:
        hosts.add_row(
            host.name,
            f"{host.address}:{host.port}",
            host.kind.value,
            ",".join(g for g in host.groups if g != "all"),
        )
    console.print(hosts)
    steps = Table("#", "step", "kind", "when", title="steps")
    for i, step in enumerate(book.steps, 1):
        steps.add_row(str(i), escape(step.name), step.kind.value, escape(step.when or ""))
    console.print(steps)
    show_batches(console, plan)
    verdict = "[green]allowed[/]" if plan.gate.allowed else "[bold red]refused[/]"
    console.print(f"gate: {verdict} — {escape(plan.gate.reason)} [dim]({plan.gate.policy})[/]")
    console.print("[dim]dry run: nothing was connected to or changed[/]")


# --- runs ----------------------------------------------------------------------------------


def _host_counts(hosts: tuple[HostResult, ...]) -> str:
    counts: dict[Status, int] = {}
    for host in hosts:
        counts[host.status] = counts.get(host.status, 0) + 1
    return ", ".join(f"{n} {styled(s)}" for s, n in counts.items()) or "no hosts"


def show_run(console: Console, record: RunRecord) -> None:
    result = record.result
    console.print(
        f"[bold]run {result.run_id}[/] {result.runbook}  status {_run_status(record)}  "
        f"operator {escape(record.operator)}  trigger {record.trigger}"
        + (f"  change {record.change_id}" if record.change_id else "")
    )
    console.print(
        f"started {when(result.started)}  ended {when(result.ended)}  "
        f"hosts: {_host_counts(result.hosts)}"
    )
    if result.reason:
        console.print(f"reason: {escape(result.reason)}")
    grades = result.grade_counts()
    if any(grades.values()):
        console.print("checks: " + ", ".join(f"{n} {graded(g)}" for g, n in grades.items() if n))
    table = Table("host", "status", "steps", "grade", "duration", "error / findings")
    for host in result.hosts:
        table.add_row(
            host.host,
            styled(host.status),
            _step_counts(host.steps),
            graded(host.grade),
            seconds(_duration(host)),
            escape(_host_note(host)),
        )
    console.print(table)
    show_run_backups(console, result.meta)  # changed targets with masked diffs, restore checks
    show_run_rollout(console, result.meta)  # batches, patch evidence, host locks


def _run_status(record: RunRecord) -> str:
    status = record.result.status.value
    style = {
        "succeeded": "green",
        "failed": "red",
        "aborted": "magenta",
        "refused": "red",
        "interrupted": "magenta",
        "running": "cyan",
        "rolled_back": "magenta",
    }.get(status, "white")
    return f"[{style}]{status}[/]"


def _duration(host: HostResult) -> float | None:
    if host.started is None or host.ended is None:
        return None
    return (host.ended - host.started).total_seconds()


def _step_counts(steps: tuple[StepResult, ...]) -> str:
    ok = sum(1 for s in steps if s.status in (Status.OK, Status.CHANGED))
    return f"{ok}/{len(steps)} ok"


def _host_note(host: HostResult) -> str:
    if host.error:
        return host.error[:120]
    bad = [c for c in host.checks if c.grade in (Grade.WARNING, Grade.CRITICAL, Grade.UNKNOWN)]
    return "; ".join(f"{c.name}={c.value}{c.unit} ({c.grade.value})" for c in bad)[:160]


def show_host(console: Console, record: RunRecord, host_name: str) -> None:
    host = next((h for h in record.result.hosts if h.host == host_name), None)
    if host is None:
        names = ", ".join(h.host for h in record.result.hosts)
        raise LookupError(f"host {host_name!r} is not in run {record.run_id} (hosts: {names})")
    console.print(
        f"[bold]{host.host}[/] ({host.address}) {styled(host.status)} {escape(host.error)}"
    )
    for step in host.steps:
        console.print(
            f"\n[bold]{step.index + 1}. {escape(step.name)}[/] {styled(step.status)}"
            f" rc={step.exit_code} attempts={step.attempts} {seconds(step.duration)}"
            + (" [dim](ignored)[/]" if step.ignored else "")
        )
        if step.command:
            console.print(f"  $ {escape(step.command)}")
        if step.error:
            console.print(f"  [red]{escape(step.error)}[/]")
        for check in step.checks:
            console.print(
                f"  check {escape(check.name)}: {graded(check.grade)} "
                f"value={escape(str(check.value))}{escape(check.unit)} "
                f"threshold {escape(check.threshold)} {escape(check.message)}"
            )
        if step.stdout.strip():
            console.print("  [dim]" + escape(step.stdout.rstrip()[:2000]) + "[/]")
        ref = record.output(host.host, step.index)
        if ref is not None:
            console.print(
                f"  [dim]full output: {ref.path} ({ref.size} bytes, sha256 {ref.sha256[:12]}…)[/]"
            )


def show_runs(console: Console, runs: list[RunSummary]) -> None:
    table = Table(title=None if runs else "no runs recorded yet")
    table.add_column("run", no_wrap=True)  # ids are typed back: never truncate them
    for name in ("runbook", "status", "started", "duration", "hosts", "checks", "operator"):
        table.add_column(name)
    for run in runs:
        hosts = ", ".join(f"{n} {s.value}" for s, n in run.hosts.items() if n)
        checks = ", ".join(
            f"{n} {g.value}" for g, n in run.grades.items() if n and g is not Grade.NORMAL
        )
        table.add_row(
            run.id,
            run.runbook,
            run.status.value,
            when(run.started or run.created),
            seconds(run.duration),
            hosts or str(run.host_count),
            checks or "-",
            run.operator,
        )
    console.print(table)
