"""`orchestrator change ...`: change records for requesters, change-managers and auditors.

create → submit (the dry-run plan is attached, hosts resolved) → approve / reject →
the run (`orchestrator run RUNBOOK --change ID`) → review → close. Standard
templates (`change template ...`) are approved once and cover read-only runs.
Text options accept `@FILE` to read the text from a file.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.app import App
from orchestrator.changes.model import (
    ChangeDraft,
    ChangeRecord,
    ChangeState,
    ChangeType,
    CronWindow,
    Risk,
    Scope,
    Window,
)
from orchestrator.changes.moments import parse_moment
from orchestrator.changes.policy import approval_status
from orchestrator.cli import change_views as views
from orchestrator.cli.state import console, state_of
from orchestrator.runbook.durations import parse_duration
from orchestrator.store.change_codec import change_to_dict

app = typer.Typer(
    help="Change records (变更单): request, approve, run, review, close.", no_args_is_help=True
)
template_app = typer.Typer(
    help="Standard change templates: approved once, cover read-only runs.", no_args_is_help=True
)
app.add_typer(template_app, name="template")

# An emergency change without --start/--end may run from now for this long.
EMERGENCY_WINDOW = timedelta(hours=4)

Text = Annotated[str | None, typer.Option(help="text, or @FILE")]
Id = Annotated[str, typer.Argument(help="change id, e.g. CHG-20261130-001")]
Comment = Annotated[str, typer.Option("--comment", "-m", help="why (recorded)")]


def _text(value: str | None, option: str) -> str | None:
    if value is None or not value.startswith("@"):
        return value
    try:
        return Path(value[1:]).expanduser().read_text()
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot read {value[1:]}: {exc.strerror}", param_hint=option
        ) from None


def _moment(app_: App, value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_moment(value, app_.settings.change_rules.tz, app_.clock.now())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _window(app_: App, kind: ChangeType, start: str | None, end: str | None) -> Window | None:
    begin, finish = _moment(app_, start, "--start"), _moment(app_, end, "--end")
    if kind is ChangeType.EMERGENCY and begin is None and finish is None:
        begin = app_.clock.now()
        finish = begin + EMERGENCY_WINDOW
    if begin is None and finish is None:
        return None
    if begin is None or finish is None:
        raise typer.BadParameter("give both --start and --end", param_hint="--start/--end")
    try:
        return Window(begin, finish)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--end") from None


def _cron(expression: str | None, duration: str) -> CronWindow | None:
    if expression is None:
        return None
    try:
        seconds = int(parse_duration(duration))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--duration") from None
    return CronWindow(expression, seconds)


def _show_created(record: ChangeRecord) -> None:
    console.print(f"created {record.id} ({record.type.value}, {record.state.value})")


def _submit_and_report(app_: App, change_id: str) -> None:
    record = app_.changes.submit(change_id, app_.operator, app_.change_plan(change_id))
    rules = app_.settings.change_rules
    hosts = len(record.plan.hosts) if record.plan else 0
    console.print(
        f"submitted {record.id}: plan attached ({hosts} host(s)); "
        f"{approval_status(record, rules)} — a change-manager approves with "
        f"`orchestrator change approve {record.id}`"
    )


@app.command("create")
def create(
    ctx: typer.Context,
    title: Annotated[str, typer.Option(help="one line: what changes")],
    runbook: Annotated[list[str], typer.Option("--runbook", "-r", help="runbook in scope")],
    targets: Annotated[str, typer.Option(help="host pattern the change may touch")],
    kind: Annotated[ChangeType, typer.Option("--type")] = ChangeType.NORMAL,
    risk: Annotated[Risk, typer.Option()] = Risk.MEDIUM,
    start: Annotated[
        str | None, typer.Option(help="window start (ISO 8601, local, now, +1h)")
    ] = None,
    end: Annotated[str | None, typer.Option(help="window end")] = None,
    purpose: Text = None,
    content: Text = None,
    impact: Text = None,
    implementation: Text = None,
    rollback: Text = None,
    verification: Text = None,
    reason: Annotated[str | None, typer.Option(help="emergency: why it cannot wait")] = None,
    submit: Annotated[bool, typer.Option("--submit", help="submit right away")] = False,
) -> None:
    """Create a normal or emergency change (a draft until submitted)."""
    app_ = state_of(ctx).app()
    draft = ChangeDraft(
        type=kind,
        title=title,
        scope=Scope(tuple(runbook), targets),
        risk=risk,
        purpose=_text(purpose, "--purpose") or "",
        content=_text(content, "--content") or "",
        impact=_text(impact, "--impact") or "",
        implementation=_text(implementation, "--implementation") or "",
        rollback=_text(rollback, "--rollback") or "",
        verification=_text(verification, "--verification") or "",
        window=_window(app_, kind, start, end),
        emergency_reason=_text(reason, "--reason") or "",
    )
    record = app_.changes.create(draft, app_.operator)
    _show_created(record)
    if submit:
        _submit_and_report(app_, record.id)
    else:
        console.print(f"next: orchestrator change submit {record.id}")


@app.command("edit")
def edit(
    ctx: typer.Context,
    change_id: Id,
    title: Annotated[str | None, typer.Option()] = None,
    runbook: Annotated[list[str] | None, typer.Option("--runbook", "-r")] = None,
    targets: Annotated[str | None, typer.Option()] = None,
    risk: Annotated[Risk | None, typer.Option()] = None,
    start: Annotated[str | None, typer.Option()] = None,
    end: Annotated[str | None, typer.Option()] = None,
    purpose: Text = None,
    content: Text = None,
    impact: Text = None,
    implementation: Text = None,
    rollback: Text = None,
    verification: Text = None,
    reason: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Change fields of a draft (requester only)."""
    app_ = state_of(ctx).app()
    record = app_.changes.get(change_id)
    window = record.window
    if start is not None or end is not None:
        window = _window(
            app_,
            record.type,
            start or (window.start.isoformat() if window else None),
            end or (window.end.isoformat() if window else None),
        )
    draft = ChangeDraft(
        type=record.type,
        title=title or record.title,
        scope=Scope(
            tuple(runbook) if runbook else record.scope.runbooks, targets or record.scope.targets
        ),
        risk=risk or record.risk,
        purpose=_text(purpose, "--purpose") or record.purpose,
        content=_text(content, "--content") or record.content,
        impact=_text(impact, "--impact") or record.impact,
        implementation=_text(implementation, "--implementation") or record.implementation,
        rollback=_text(rollback, "--rollback") or record.rollback,
        verification=_text(verification, "--verification") or record.verification,
        window=window,
        cron=record.cron,
        emergency_reason=_text(reason, "--reason") or record.emergency_reason,
    )
    app_.changes.edit(change_id, app_.operator, draft)
    console.print(f"updated {change_id}")


@app.command("submit")
def submit(ctx: typer.Context, change_id: Id) -> None:
    """Attach the dry-run plan (hosts resolved now) and ask for approval."""
    _submit_and_report(state_of(ctx).app(), change_id)


@app.command("approve")
def approve(ctx: typer.Context, change_id: Id, comment: Comment = "") -> None:
    """Approve (change-managers; not the requester). Approved once enough have approved."""
    app_ = state_of(ctx).app()
    record = app_.changes.approve(change_id, app_.operator, comment)
    status = approval_status(record, app_.settings.change_rules)
    console.print(f"{record.id} is {record.state.value}: {status}")


@app.command("reject")
def reject(ctx: typer.Context, change_id: Id, comment: Comment = "") -> None:
    """Reject (change-managers), saying why."""
    app_ = state_of(ctx).app()
    record = app_.changes.reject(change_id, app_.operator, comment)
    console.print(f"{record.id} is {record.state.value}")


@app.command("cancel")
def cancel(ctx: typer.Context, change_id: Id, comment: Comment = "") -> None:
    """Cancel a change that has not started (the requester, or a change-manager/admin)."""
    app_ = state_of(ctx).app()
    record = app_.changes.cancel(change_id, app_.operator, comment)
    console.print(f"{record.id} is {record.state.value}")


@app.command("review")
def review(ctx: typer.Context, change_id: Id, comment: Comment = "") -> None:
    """Post-implementation review (change-managers; required to close an emergency change)."""
    app_ = state_of(ctx).app()
    record = app_.changes.review(change_id, app_.operator, comment)
    console.print(f"{record.id}: review recorded")


@app.command("close")
def close(ctx: typer.Context, change_id: Id, comment: Comment = "") -> None:
    """Close a change whose run ended (after verification)."""
    app_ = state_of(ctx).app()
    record = app_.changes.close(change_id, app_.operator, comment)
    console.print(f"{record.id} is {record.state.value}")


@app.command("show")
def show(
    ctx: typer.Context, change_id: Id, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """The record, the plan being approved (hosts, batches, steps), rollback plan, history."""
    app_ = state_of(ctx).app()
    record = app_.changes.get(change_id)
    history = app_.changes.history(record.id)
    if as_json:
        data = change_to_dict(record)
        data["history"] = [e.to_json_dict() for e in history]
        console.print_json(json.dumps(data))
        return
    views.show_change(console, record, app_.settings.change_rules, history)


@app.command("list")
def list_changes(
    ctx: typer.Context,
    pending: Annotated[bool, typer.Option("--pending", help="awaiting approval")] = False,
    state: Annotated[list[ChangeState] | None, typer.Option("--state")] = None,
    kind: Annotated[list[ChangeType] | None, typer.Option("--type")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Newest first."""
    app_ = state_of(ctx).app()
    states = [ChangeState.SUBMITTED] if pending else state
    records = app_.changes.list(states=states, types=kind, limit=limit)
    if as_json:
        console.print_json(json.dumps([change_to_dict(r) for r in records]))
        return
    views.show_changes(console, records, app_.settings.change_rules)


# --- standard templates -----------------------------------------------------------------


@template_app.command("create")
def template_create(
    ctx: typer.Context,
    title: Annotated[str, typer.Option()],
    runbook: Annotated[list[str], typer.Option("--runbook", "-r", help="read-only runbook")],
    targets: Annotated[str, typer.Option(help="host pattern (re-resolved at every run)")],
    purpose: Text = None,
    risk: Annotated[Risk, typer.Option()] = Risk.LOW,
    cron: Annotated[
        str | None, typer.Option(help="runs may start in windows from '0 1 * * *'")
    ] = None,
    duration: Annotated[str, typer.Option(help="length of each cron window")] = "4h",
    submit: Annotated[bool, typer.Option("--submit", help="submit right away")] = False,
) -> None:
    """Create a standard change template (approve it like any change)."""
    app_ = state_of(ctx).app()
    draft = ChangeDraft(
        type=ChangeType.STANDARD,
        title=title,
        scope=Scope(tuple(runbook), targets),
        risk=risk,
        purpose=_text(purpose, "--purpose") or "",
        cron=_cron(cron, duration),
    )
    record = app_.changes.create(draft, app_.operator)
    _show_created(record)
    if submit:
        _submit_and_report(app_, record.id)


@template_app.command("list")
def template_list(
    ctx: typer.Context,
    all_states: Annotated[bool, typer.Option("--all", help="also revoked and cancelled")] = False,
) -> None:
    """Standard templates (approved ones cover read-only runs)."""
    app_ = state_of(ctx).app()
    live = None if all_states else [ChangeState.DRAFT, ChangeState.SUBMITTED, ChangeState.APPROVED]
    records = app_.changes.list(states=live, types=[ChangeType.STANDARD], limit=500)
    views.show_changes(console, records, app_.settings.change_rules)


@template_app.command("revoke")
def template_revoke(ctx: typer.Context, change_id: Id, comment: Comment = "") -> None:
    """Withdraw an approved template: runs it covered are refused from now on."""
    app_ = state_of(ctx).app()
    record = app_.changes.revoke(change_id, app_.operator, comment)
    console.print(f"{record.id} is {record.state.value}")
