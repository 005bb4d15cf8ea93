"""`orchestrator schedule list | next | pause | resume | run-now | sync`.

Schedules come from schedules.yml (`schedule sync`, and the daemon syncs when it takes
the lead); pause and resume are operator actions that survive syncs and restarts.
`run-now` fires a schedule at once in this process, through the change gate like any
run (exit codes as `run`: 0 ok, 1 failures, 2 could not start, 3 refused, 4 aborted).
"""

from __future__ import annotations

import json
import signal
import threading
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from orchestrator.changes.moments import show_moment, zone
from orchestrator.cli.state import console, err_console, state_of
from orchestrator.scheduler.firing import FireOutcome
from orchestrator.scheduler.service import SchedulerService, ScheduleView
from orchestrator.store.schedules import Fire, FireStatus

app = typer.Typer(
    help="Schedules (schedules.yml): list, next fires, pause, resume, run now, sync.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="schedule name (see `orchestrator schedule list`)")]
STATUS_STYLE = {
    FireStatus.RUNNING: "cyan",
    FireStatus.SUCCEEDED: "green",
    FireStatus.FAILED: "red",
    FireStatus.ABORTED: "yellow",
    FireStatus.REFUSED: "red",
    FireStatus.ERROR: "red",
    FireStatus.MISSED: "magenta",
    FireStatus.SKIPPED: "yellow",
    FireStatus.INTERRUPTED: "magenta",
}
STATE_STYLE = {"active": "green", "paused": "yellow", "disabled": "dim"}
EXIT_CODES = {
    FireStatus.SUCCEEDED: 0,
    FireStatus.FAILED: 1,
    FireStatus.ERROR: 2,
    FireStatus.REFUSED: 3,
    FireStatus.ABORTED: 4,
    FireStatus.INTERRUPTED: 4,
}


def service_of(ctx: typer.Context) -> SchedulerService:
    return SchedulerService(state_of(ctx).app())


def when(moment: datetime | None, timezone: str) -> str:
    return show_moment(moment, zone(timezone))


def fire_text(fire: Fire | None, timezone: str) -> str:
    if fire is None:
        return "-"
    style = STATUS_STYLE[fire.status]
    run = f" {fire.run_id}" if fire.run_id else ""
    return f"{when(fire.slot, timezone)} [{style}]{fire.status.value}[/]{run}"


def fire_json(fire: Fire | None) -> dict[str, Any] | None:
    if fire is None:
        return None
    return {
        "slot": fire.slot.isoformat(),
        "status": fire.status.value,
        "trigger": fire.trigger,
        "run_id": fire.run_id,
        "holder": fire.holder,
        "claimed": fire.claimed.isoformat(),
        "ended": fire.ended.isoformat() if fire.ended else None,
        "detail": fire.detail,
    }


def view_json(view: ScheduleView) -> dict[str, Any]:
    spec = view.stored.spec
    return {
        "name": spec.name,
        "runbook": spec.runbook,
        "cron": spec.cron,
        "timezone": spec.timezone,
        "limit": spec.limit,
        "change": spec.change_id,
        "misfire_grace": spec.misfire_grace,
        "notify": spec.notify,
        "state": view.state,
        "paused_by": view.stored.paused_by or None,
        "next": view.next_run_time.isoformat() if view.next_run_time else None,
        "last": fire_json(view.last),
        "fires_7d": {s.value: n for s, n in view.counts.items()},
        "source": spec.source,
    }


@app.command("list")
def list_schedules(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Every synced schedule: state, next fire, last fire."""
    views = service_of(ctx).views()
    if as_json:
        console.print_json(json.dumps([view_json(v) for v in views]))
        return
    if not views:
        console.print("no schedules synced yet: `orchestrator schedule sync`")
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("schedule", "runbook", "cron", "state", "next", "last", "notify"):
        table.add_column(column)
    for view in views:
        spec = view.stored.spec
        scope = f" --limit {spec.limit}" if spec.limit else ""
        change = f" ({spec.change_id})" if spec.change_id else ""
        table.add_row(
            escape(spec.name),
            escape(spec.runbook + scope + change),
            escape(f"{spec.cron} {spec.timezone}"),
            f"[{STATE_STYLE[view.state]}]{view.state}[/]",
            when(view.next_run_time, spec.timezone),
            fire_text(view.last, spec.timezone),
            spec.notify,
        )
    console.print(table)


@app.command("next")
def next_fires(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="one schedule (default: all)")] = None,
    count: Annotated[int, typer.Option("--count", "-n", min=1, max=100)] = 5,
) -> None:
    """The next fire times, in each schedule's time zone."""
    for view, slots in service_of(ctx).next_fires(name, count):
        spec = view.stored.spec
        console.print(f"[bold]{escape(spec.name)}[/] ({escape(spec.cron)} {spec.timezone})")
        if not slots:
            console.print(f"  {view.state}: no fires until resumed")
        for slot in slots:
            console.print(f"  {when(slot, spec.timezone)}")


@app.command("pause")
def pause(ctx: typer.Context, name: Name) -> None:
    """Stop firing a schedule until `resume` (survives syncs and restarts; audited)."""
    stored = service_of(ctx).pause(name)
    console.print(f"paused {stored.name} (by {stored.paused_by})")


@app.command("resume")
def resume(ctx: typer.Context, name: Name) -> None:
    """Fire again from the next slot (slots that fell while paused are not made up)."""
    service = service_of(ctx)
    stored = service.resume(name)
    next_slots = service.next_fires(name, 1)
    nxt = next_slots[0][1][0] if next_slots and next_slots[0][1] else None
    console.print(f"resumed {stored.name}; next fire {when(nxt, stored.spec.timezone)}")


@app.command("run-now")
def run_now(
    ctx: typer.Context, name: Name, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Fire a schedule now, here (gated, recorded and notified like a scheduled fire)."""
    service = service_of(ctx)
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        outcome = service.run_now(name, stop)
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    show_outcome(outcome, service.settings.timezone, as_json=as_json)
    raise typer.Exit(EXIT_CODES.get(outcome.status, 1))


def show_outcome(outcome: FireOutcome, timezone: str, *, as_json: bool) -> None:
    deliveries = [
        {"channel": d.channel, "ok": d.ok, "attempts": d.attempts, "error": d.error}
        for d in outcome.deliveries
    ]
    if as_json:
        data = {
            "schedule": outcome.schedule,
            "slot": outcome.slot.isoformat(),
            "status": outcome.status.value,
            "run_id": outcome.run_id,
            "detail": outcome.detail,
            "report": str(outcome.report) if outcome.report else None,
            "notifications": deliveries,
        }
        console.print_json(json.dumps(data))
        return
    style = STATUS_STYLE[outcome.status]
    console.print(
        f"{escape(outcome.schedule)} {when(outcome.slot, timezone)}: "
        f"[{style}]{outcome.status.value}[/]" + (f" run {outcome.run_id}" if outcome.run_id else "")
    )
    if outcome.detail:
        console.print(f"  {outcome.detail}", markup=False)
    if outcome.report:
        console.print(f"report: {outcome.report}", markup=False, soft_wrap=True)
    for d in outcome.deliveries:
        state = "sent" if d.ok else f"FAILED after {d.attempts} attempt(s): {d.error}"
        console.print(f"notification ({d.channel}): {state}", markup=False)


@app.command("sync")
def sync(ctx: typer.Context) -> None:
    """Make the stored schedules match schedules.yml (add, update, remove; audited)."""
    service = service_of(ctx)
    schedule_file = service.load_file()
    report = service.sync(schedule_file)
    console.print(
        f"synced {schedule_file.path}: {len(report.added)} added, {len(report.updated)} "
        f"updated, {len(report.removed)} removed, {len(report.unchanged)} unchanged",
        markup=False,
    )
    for label, names in (("added", report.added), ("updated", report.updated)):
        for item in names:
            console.print(f"  {label}: {item}", markup=False)
    for item in report.removed:
        console.print(f"  removed: {item}", markup=False)
    for item, why in report.skipped:
        err_console.print(f"[yellow]skipped {escape(item)}:[/] {escape(why)}")
