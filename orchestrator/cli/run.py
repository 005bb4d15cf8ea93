"""`orchestrator run RUNBOOK`: plan, gate, run with live progress, summarise, exit code."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from enum import StrEnum
from types import FrameType
from typing import Annotated, Any

import typer
from rich.markup import escape

from orchestrator.app import App
from orchestrator.cli import views
from orchestrator.cli.progress import ProgressListener
from orchestrator.cli.state import console, err_console, state_of
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import RunResult, RunStatus
from orchestrator.errors import OrchestratorError
from orchestrator.runbook.model import Grade


class FailOn(StrEnum):
    never = "never"
    warning = "warning"
    critical = "critical"


def run(
    ctx: typer.Context,
    runbook: Annotated[
        str | None,
        typer.Argument(help="runbook name (file stem in runbooks/) or path; none with --resume"),
    ] = None,
    limit: Annotated[
        str | None, typer.Option("--limit", "-l", help="narrow targets (host pattern)")
    ] = None,
    change: Annotated[str | None, typer.Option("--change", help="change record id")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show the plan; touch nothing")
    ] = False,
    forks: Annotated[int | None, typer.Option("--forks", "-f", min=1, max=1000)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the run record as JSON")] = False,
    trust_new_host_keys: Annotated[
        bool,
        typer.Option(
            "--trust-new-host-keys", help="accept and record unknown host keys (never changed ones)"
        ),
    ] = False,
    fail_on: Annotated[
        FailOn,
        typer.Option("--fail-on", help="also exit 1 when a check is graded this bad or worse"),
    ] = FailOn.never,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            metavar="RUN_ID",
            help="continue an aborted or interrupted run: hosts it finished are not touched "
            "again; the gate is asked again",
        ),
    ] = None,
) -> None:
    """Run a runbook over its targets (exit 0 ok, 1 failures, 2 bad input, 3 refused, 4 aborted)."""
    app = state_of(ctx).app()
    plan = _plan(app, runbook, resume, limit=limit, forks=forks, change=change)
    if dry_run:
        if as_json:
            console.print_json(json.dumps(views.plan_json(plan)))
        else:
            views.show_plan(console, plan)
        raise typer.Exit(0 if plan.gate.allowed else 3)

    stop = threading.Event()
    previous = _stop_on_interrupt(stop)
    progress = ProgressListener(err_console)
    try:
        result = app.execute(
            plan, listeners=[progress], stop=stop, trust_new_host_keys=trust_new_host_keys
        )
    finally:
        progress.stop()
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _show_result(app, result, as_json=as_json)
    _save_report(app, plan, result.run_id, as_json=as_json)
    raise typer.Exit(exit_code(result, fail_on))


def _plan(
    app: App,
    runbook: str | None,
    resume: str | None,
    *,
    limit: str | None,
    forks: int | None,
    change: str | None,
) -> RunPlan:
    if resume is None:
        if runbook is None:
            raise typer.BadParameter("give a runbook to run, or --resume RUN_ID")
        return app.plan(runbook, limit=limit, forks=forks, change_id=change)
    if limit is not None or change is not None:
        raise typer.BadParameter(
            "--resume keeps the run's own targets and change: leave out --limit and --change"
        )
    plan = app.plan_resume(resume, forks=forks)
    if runbook is not None and runbook not in (plan.runbook.name, str(plan.runbook.path)):
        raise typer.BadParameter(f"run {plan.run_id} is of runbook {plan.runbook.name!r}")
    return plan


def _show_result(app: App, result: RunResult, *, as_json: bool) -> None:
    record = app.runs.get(result.run_id)
    if as_json:
        console.print_json(json.dumps(record.to_json_dict()))
        return
    views.show_run(console, record)
    console.print(
        f"details: orchestrator runs show {result.run_id} [--host H]; "
        f"full output: orchestrator runs output {result.run_id} HOST"
    )


def _save_report(app: App, plan: RunPlan, run_id: str, *, as_json: bool) -> None:
    """Write the run's HTML report (settings language) and say where.

    The run is recorded already: a report that cannot be written is a warning, not a
    different exit code. With --json the path goes to stderr, keeping stdout JSON.
    """
    try:
        path = app.write_report(app.report(run_id, runbook=plan.runbook))
    except (OrchestratorError, OSError) as exc:
        err_console.print(f"[yellow]report not written:[/] {escape(str(exc))}")
        return
    (err_console if as_json else console).print(f"report: {path}", markup=False, soft_wrap=True)


def exit_code(result: RunResult, fail_on: FailOn) -> int:
    if result.status is RunStatus.ABORTED:
        return 4
    if result.failed:
        return 1
    if fail_on is not FailOn.never:
        floor = Grade(fail_on.value).rank
        counts = result.grade_counts()
        if any(
            n and grade.rank >= floor for grade, n in counts.items() if grade is not Grade.UNKNOWN
        ):
            return 1
    return 0


_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def _stop_on_interrupt(stop: threading.Event) -> _Handler:
    """First Ctrl-C: finish running steps, start nothing new. Second: hard stop."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err_console.print(
            "[yellow]stopping: running steps finish, nothing new starts (Ctrl-C again to kill)[/]"
        )

    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return previous
