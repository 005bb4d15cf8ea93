"""`orchestrator runbook list | show | validate`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from orchestrator.cli.state import console, err_console, state_of
from orchestrator.errors import Problem, RunbookError, ValidationError
from orchestrator.runbook.model import Runbook

app = typer.Typer(help="Runbooks in the runbooks directory.", no_args_is_help=True)


@app.command("list")
def list_runbooks(ctx: typer.Context) -> None:
    """Every runbook with its kind, change policy and targets (invalid ones flagged)."""
    app_ = state_of(ctx).app()
    table = Table("runbook", "kind", "change", "targets", "steps", "description")
    for name, book in app_.catalog.validate_all(known_vars=app_.known_vars()).items():
        if isinstance(book, RunbookError):
            table.add_row(
                name,
                "[red]invalid[/]",
                "",
                "",
                "",
                f"[red]{len(book.problems)} problem(s): run `orchestrator runbook "
                f"validate {name}`[/]",
            )
        else:
            table.add_row(
                name,
                book.kind.value,
                book.change.value,
                escape(book.targets),
                str(len(book.steps)),
                escape(book.description),
            )
    console.print(table)


@app.command("show")
def show_runbook(ctx: typer.Context, name: str) -> None:
    """The validated runbook: targets, policy, steps, checks."""
    book = state_of(ctx).app().runbook(name)
    _show(book)


def _show(book: Runbook) -> None:
    console.print(f"[bold]{book.name}[/] — {escape(book.description)}")
    console.print(
        f"file {book.path}\nkind {book.kind.value}, change {book.change.value}, "
        f"{'changes targets' if book.mutates else 'read-only'}, targets "
        f"{escape(book.targets)}, forks {book.strategy.forks or 'default'}"
    )
    if book.vars:
        console.print("vars: " + ", ".join(f"{k}={v!r}" for k, v in book.vars.items()))
    for i, step in enumerate(book.steps, 1):
        action = step.action if isinstance(step.action, str) else dict(step.action)
        console.print(
            f"{i}. [bold]{escape(step.name)}[/] ({step.kind.value}) {escape(str(action))}"
        )
        if step.when:
            console.print(f"   when {escape(step.when)}")
        for check in step.checks:
            console.print(
                f"   check {escape(check.name)}: warn {check.warn or '-'} "
                f"crit {check.crit or '-'} {escape(check.unit)}"
            )


@app.command("validate")
def validate(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="runbooks (default: all)")] = None,
) -> None:
    """Validate runbooks against the schema and the inventory; exit 2 on any problem."""
    app_ = state_of(ctx).app()
    known = app_.known_vars()
    problems: list[Problem] = []
    wanted = names or app_.catalog.names()
    for name in wanted:
        try:
            app_.catalog.load(name, known_vars=known)
            console.print(f"[green]ok[/] {name}")
        except ValidationError as exc:
            problems.extend(exc.problems)
            err_console.print(f"[red]invalid[/] {name}")
    if problems:
        raise RunbookError(problems)
