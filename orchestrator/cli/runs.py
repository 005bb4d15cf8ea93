"""`orchestrator runs list | show`: the run history."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from orchestrator.cli import views
from orchestrator.cli.state import console, state_of
from orchestrator.engine.results import RunStatus
from orchestrator.errors import NotFoundError

app = typer.Typer(help="Recorded runs.", no_args_is_help=True)


@app.command("list")
def list_runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1)] = 20,
    runbook: Annotated[str | None, typer.Option("--runbook")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="|".join(s.value for s in RunStatus))
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Newest runs first."""
    wanted = None
    if status is not None:
        try:
            wanted = RunStatus(status)
        except ValueError:
            raise typer.BadParameter(
                f"one of {', '.join(s.value for s in RunStatus)}", param_hint="--status"
            ) from None
    runs = state_of(ctx).app().runs.list(limit=limit, runbook=runbook, status=wanted)
    if as_json:
        console.print_json(json.dumps([run.to_json_dict() for run in runs]))
    else:
        views.show_runs(console, runs)


@app.command("show")
def show_run(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="run id, a unique prefix of one, or 'last'")],
    host: Annotated[str | None, typer.Option("--host", help="one host's steps in detail")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One run: every host with its status (and with --host, every step)."""
    record = state_of(ctx).app().runs.get(run_id)
    if as_json:
        data = record.to_json_dict()
        if host is not None:
            data["hosts"] = [h for h in data["hosts"] if h["host"] == host]
        console.print_json(json.dumps(data))
    elif host is not None:
        try:
            views.show_host(console, record, host)
        except LookupError as exc:
            raise NotFoundError(str(exc)) from None
    else:
        views.show_run(console, record)


@app.command("output")
def show_output(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="run id, a unique prefix of one, or 'last'")],
    host: Annotated[str, typer.Argument()],
    step: Annotated[int | None, typer.Argument(help="step number (1-based); default: all")] = None,
) -> None:
    """The full, checksum-verified output of a host's steps (rows keep only an excerpt)."""
    runs = state_of(ctx).app().runs
    record = runs.get(run_id)
    result = next((h for h in record.result.hosts if h.host == host), None)
    if result is None:
        raise NotFoundError(f"host {host!r} is not in run {record.run_id}")
    for item in result.steps:
        if step is not None and item.index != step - 1:
            continue
        if record.output(host, item.index) is None:
            continue
        console.rule(f"{item.index + 1}. {item.name} ({item.status.value})")
        console.print(
            runs.read_output(record.run_id, host, item.index), markup=False, highlight=False, end=""
        )
