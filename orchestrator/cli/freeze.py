"""`orchestrator freeze add | list | remove`: freeze periods (封网期).

Normal changes whose window overlaps a freeze are refused at submit and at run;
emergency changes may run in one with a recorded reason; standard read-only runs
(inspections) go on. Freezes in orchestrator.toml are listed too (remove them there).
"""

from __future__ import annotations

from typing import Annotated

import typer

from orchestrator.changes.moments import parse_moment, show_moment
from orchestrator.cli import change_views as views
from orchestrator.cli.state import console, err_console, state_of

app = typer.Typer(
    help="Freeze periods (封网期): no normal changes inside them.", no_args_is_help=True
)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="e.g. 'year-end settlement'")],
    start: Annotated[str, typer.Option(help="ISO 8601, or local time in the settings zone")],
    end: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option()] = "",
) -> None:
    """Declare a freeze (change-managers, admins)."""
    app_ = state_of(ctx).app()
    tz, now = app_.settings.change_rules.tz, app_.clock.now()
    try:
        begin, finish = parse_moment(start, tz, now), parse_moment(end, tz, now)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--start/--end") from None
    period, notes = app_.changes.add_freeze(name, begin, finish, reason, app_.operator)
    console.print(
        f"freeze #{period.id} {period.name!r}: {show_moment(period.start, tz)} – "
        f"{show_moment(period.end, tz)}",
        markup=False,
    )
    for note in notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)


@app.command("list")
def list_freezes(ctx: typer.Context) -> None:
    """Every freeze period (settings and stored), by start."""
    app_ = state_of(ctx).app()
    views.show_freezes(console, app_.changes.freezes(), app_.settings.change_rules.tz)


@app.command("remove")
def remove(
    ctx: typer.Context,
    freeze_id: Annotated[int, typer.Argument(help="the #id shown by `freeze list`")],
    comment: Annotated[str, typer.Option("--comment", "-m")] = "",
) -> None:
    """Remove a stored freeze (change-managers, admins); audited."""
    app_ = state_of(ctx).app()
    period = app_.changes.remove_freeze(freeze_id, app_.operator, comment)
    console.print(f"removed freeze #{freeze_id} {period.name!r}", markup=False)
