"""`orchestrator report run RUN_ID|last`: a run's report as HTML or Markdown, en or zh."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.state import console, state_of
from orchestrator.reports.i18n import Lang
from orchestrator.reports.model import ReportFormat

app = typer.Typer(help="Reports of recorded runs (HTML or Markdown, English or Chinese).")


# A callback keeps `report` a group: typer would otherwise fold its one command into it.
@app.callback(no_args_is_help=True)
def reports() -> None:
    """Reports of recorded runs (HTML or Markdown, English or Chinese)."""


@app.command("run")
def report_run(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="run id, a unique prefix of one, or 'last'")],
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="html or md")] = (
        ReportFormat.HTML
    ),
    lang: Annotated[
        Lang | None, typer.Option("--lang", help="en or zh (default: the report_lang setting)")
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="file to write, '-' for stdout (default: <data_dir>/reports/<run>.<lang>.<ext>)",
        ),
    ] = None,
) -> None:
    """Write one run's report: abnormal items first (by severity), then every host."""
    app = state_of(ctx).app()
    document = app.report(run_id, fmt=fmt, lang=lang)
    if output == "-":
        typer.echo(document.text, nl=False)
        return
    path = app.write_report(document, Path(output) if output else None)
    console.print(f"report: {path}", markup=False, soft_wrap=True)
