"""The `orchestrator` (alias `orch`) command. Only cli/ prints or exits.

Exit codes (DESIGN.md §6): 0 ok, 1 the run had failures, 2 usage/config/validation,
3 refused by the change gate, 4 aborted.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.changes.model import ChangeRefused
from orchestrator.cli import audit as audit_cmd
from orchestrator.cli import backup as backup_cmd
from orchestrator.cli import change as change_cmd
from orchestrator.cli import freeze as freeze_cmd
from orchestrator.cli import inventory as inventory_cmd
from orchestrator.cli import report as report_cmd
from orchestrator.cli import run as run_cmd
from orchestrator.cli import runbook as runbook_cmd
from orchestrator.cli import runs as runs_cmd
from orchestrator.cli import schedule as schedule_cmd
from orchestrator.cli import scheduler as scheduler_cmd
from orchestrator.cli.state import State, err_console
from orchestrator.errors import OrchestratorError, ValidationError

app = typer.Typer(
    name="orchestrator",
    help="Runbook and patch orchestration: inspections, config backups, patch rollouts, "
    "restore verification — every run gated and recorded.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(inventory_cmd.app, name="inventory")
app.add_typer(runbook_cmd.app, name="runbook")
app.add_typer(runs_cmd.app, name="runs")
app.add_typer(change_cmd.app, name="change")
app.add_typer(freeze_cmd.app, name="freeze")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(backup_cmd.app, name="backup")
app.add_typer(report_cmd.app, name="report")
app.add_typer(schedule_cmd.app, name="schedule")
app.add_typer(scheduler_cmd.app, name="scheduler")
app.command("run")(run_cmd.run)


@app.callback()
def options(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="settings file (orchestrator.toml)")
    ] = None,
    inventory: Annotated[
        Path | None, typer.Option("--inventory", "-i", help="inventory file or directory")
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True)] = 0,
) -> None:
    logging.basicConfig(
        level=logging.WARNING - 10 * min(verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # paramiko logs every failed connect at ERROR; the results already say it.
    logging.getLogger("paramiko").setLevel(logging.CRITICAL if verbose < 2 else logging.DEBUG)
    ctx.obj = State(config_path=config, inventory_path=inventory)


def report_error(exc: OrchestratorError) -> None:
    if isinstance(exc, ValidationError):
        err_console.print(f"[bold red]error:[/] {len(exc.problems)} problem(s)", highlight=False)
        for problem in exc.problems:
            err_console.print(f"  {problem}", highlight=False, markup=False)
        err_console.print("nothing was run.", highlight=False)
        return
    label = {3: "refused by the change gate", 4: "aborted"}.get(exc.exit_code, "error")
    if isinstance(exc, ChangeRefused):
        label = "refused"
    err_console.print(f"[bold red]{label}:[/] ", end="", highlight=False)
    err_console.print(str(exc), highlight=False, markup=False)


def main() -> None:
    try:
        app()
    except OrchestratorError as exc:
        report_error(exc)
        sys.exit(exc.exit_code)
