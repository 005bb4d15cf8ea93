"""`orchestrator audit verify | export | list`: the hash-chained audit log.

`verify` exits 0 when the whole chain recomputes, 1 when an entry was altered,
inserted or removed (naming the first bad one). Keep the printed head (seq + hash)
somewhere else too: it proves later that no entries were cut off the end.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.changes.moments import parse_moment
from orchestrator.cli import change_views as views
from orchestrator.cli.state import console, err_console, state_of

app = typer.Typer(help="The audit log: every decision, hash-chained.", no_args_is_help=True)


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Recompute the hash chain; name the first bad entry."""
    result = state_of(ctx).app().audit.verify()
    if result.ok:
        console.print(
            f"audit log intact: {result.entries} entries; head {result.head_seq} "
            f"{result.head_hash}",
            markup=False,
        )
        return
    err_console.print(f"[bold red]audit log broken:[/] {result.problem}", highlight=False)
    err_console.print(
        f"entries 1..{result.head_seq} verify (head hash {result.head_hash})", highlight=False
    )
    raise typer.Exit(1)


@app.command("export")
def export(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(help="from this time (ISO 8601 or local)")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file (default stdout)")
    ] = None,
) -> None:
    """Write entries as JSON Lines (with their hashes, so the chain can be re-checked)."""
    app_ = state_of(ctx).app()
    start = None
    if since is not None:
        try:
            start = parse_moment(since, app_.settings.change_rules.tz, app_.clock.now())
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--since") from None
    if output is None:
        count = app_.audit.export(sys.stdout, since=start)
    else:
        with output.open("w", encoding="utf-8") as out:
            count = app_.audit.export(out, since=start)
        err_console.print(f"{count} entries written to {output}", highlight=False)


@app.command("list")
def list_entries(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1)] = 30,
    subject: Annotated[str | None, typer.Option(help="e.g. a change id")] = None,
) -> None:
    """The newest entries."""
    app_ = state_of(ctx).app()
    entries = app_.audit.entries(subject=subject, limit=limit, newest_first=True)
    views.show_history(console, list(reversed(entries)), app_.settings.change_rules.tz)
