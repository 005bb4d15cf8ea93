"""What `change show | list`, `freeze list` and `audit list` print.

`change show` is what an approver reads before approving: the record, the exact
plan (hosts, batches, every step's command), the rollback plan and the history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestrator.changes.model import ChangeRecord, ChangeState, FreezePeriod, RunbookPlan
from orchestrator.changes.moments import show_moment
from orchestrator.changes.policy import approval_status
from orchestrator.changes.rules import ChangeRules
from orchestrator.store.audit import AuditEntry

STATE_STYLE = {
    ChangeState.DRAFT: "dim",
    ChangeState.SUBMITTED: "yellow",
    ChangeState.APPROVED: "green",
    ChangeState.REJECTED: "red",
    ChangeState.IN_PROGRESS: "cyan",
    ChangeState.COMPLETED: "green",
    ChangeState.FAILED: "red",
    ChangeState.ROLLED_BACK: "magenta",
    ChangeState.CLOSED: "dim",
    ChangeState.CANCELLED: "dim",
    ChangeState.REVOKED: "dim",
}
_SHOWN_HOSTS = 40
_SHOWN_HISTORY = 30  # a template's history grows with every run it covers


def styled_state(state: ChangeState) -> str:
    return f"[{STATE_STYLE[state]}]{state.value}[/]"


def when_text(record: ChangeRecord, tz: tzinfo) -> str:
    if record.window is not None:
        start, end = record.window.start, record.window.end
        return f"{show_moment(start, tz)} – {show_moment(end, tz)}"
    if record.cron is not None:
        return f"cron '{record.cron.expression}' for {record.cron.seconds // 60} min"
    return "any time"


def show_change(
    console: Console, record: ChangeRecord, rules: ChangeRules, history: Sequence[AuditEntry]
) -> None:
    tz = rules.tz
    console.print(
        f"[bold]{record.id}[/] {record.type.value} change  {styled_state(record.state)}  "
        f"risk {record.risk.value}  — {escape(record.title)}"
    )
    console.print(
        f"requester {escape(record.requester)}  created {show_moment(record.created, tz)}  "
        f"window {when_text(record, tz)}  ({rules.timezone})"
    )
    console.print(
        f"scope: runbooks {escape(', '.join(record.scope.runbooks))}  "
        f"targets {escape(record.scope.targets)}"
    )
    for label, text in (
        ("purpose", record.purpose),
        ("content", record.content),
        ("impact analysis", record.impact),
        ("implementation plan", record.implementation),
        ("rollback plan", record.rollback or "(none written)"),
        ("verification plan", record.verification),
        ("emergency reason", record.emergency_reason),
    ):
        if text:
            console.print(f"[bold]{label}:[/] {escape(text)}")
    _show_decisions(console, record, rules)
    if record.plan is None:
        console.print("[dim]no plan yet: it is attached at submit[/]")
    else:
        console.print(
            f"[bold]plan[/] attached {show_moment(record.plan.created, tz)} "
            f"({len(record.plan.hosts)} host(s), inventory {escape(record.plan.inventory)})"
        )
        for book in record.plan.runbooks:
            _show_runbook_plan(console, book)
    _show_outcome(console, record, tz)
    shown = history[-_SHOWN_HISTORY:]
    show_history(console, shown, tz, title="history", subject=False)
    if len(history) > len(shown):
        console.print(
            f"[dim]{len(history) - len(shown)} earlier entries: "
            f"orchestrator audit list --subject {record.id} -n {len(history)}[/]"
        )


def _show_decisions(console: Console, record: ChangeRecord, rules: ChangeRules) -> None:
    console.print(f"[bold]approvals:[/] {approval_status(record, rules)}")
    if not record.decisions:
        return
    table = Table("by", "at", "decision", "comment")
    for d in record.decisions:
        table.add_row(escape(d.by), show_moment(d.at, rules.tz), d.verdict.value, escape(d.comment))
    console.print(table)


def _show_runbook_plan(console: Console, book: RunbookPlan) -> None:
    effect = "changes targets" if book.mutates else "read-only"
    console.print(
        f"  runbook [bold]{escape(book.name)}[/] ({book.kind}, {effect}, "
        f"fingerprint {book.fingerprint[:12]}): {len(book.hosts)} host(s) in "
        f"{len(book.batches)} batch(es)"
    )
    for index, batch in enumerate(book.batches, 1):
        shown = ", ".join(batch[:_SHOWN_HOSTS]) + (" …" if len(batch) > _SHOWN_HOSTS else "")
        console.print(f"    batch {index}: {escape(shown)}")
    steps = Table("#", "step", "kind", "action", title=None, show_edge=False)
    for i, step in enumerate(book.steps, 1):
        steps.add_row(str(i), escape(step.name), step.kind, escape(step.action))
    console.print(steps)


def _show_outcome(console: Console, record: ChangeRecord, tz: tzinfo) -> None:
    if record.run_id:
        console.print(f"run: {record.run_id}  (orchestrator runs show {record.run_id})")
    if record.outcome:
        console.print(f"outcome: {escape(record.outcome)}")
    if record.review:
        console.print(
            f"review by {escape(record.reviewed_by)} {show_moment(record.reviewed_at, tz)}: "
            f"{escape(record.review)}"
        )


def show_changes(console: Console, records: Sequence[ChangeRecord], rules: ChangeRules) -> None:
    table = Table(title=None if records else "no change records")
    table.add_column("id", no_wrap=True)
    for name in ("type", "state", "risk", "title", "requester", "window", "approvals"):
        table.add_column(name)
    for r in records:
        table.add_row(
            r.id,
            r.type.value,
            styled_state(r.state),
            r.risk.value,
            escape(r.title),
            escape(r.requester),
            when_text(r, rules.tz),
            approval_status(r, rules),
        )
    console.print(table)


def show_freezes(console: Console, freezes: Sequence[FreezePeriod], tz: tzinfo) -> None:
    table = Table(title=None if freezes else "no freeze periods")
    for name in ("id", "name", "start", "end", "reason", "by"):
        table.add_column(name)
    for f in freezes:
        table.add_row(
            f.source,
            escape(f.name),
            show_moment(f.start, tz),
            show_moment(f.end, tz),
            escape(f.reason),
            escape(f.created_by or "orchestrator.toml"),
        )
    console.print(table)


def show_history(
    console: Console,
    entries: Sequence[AuditEntry],
    tz: tzinfo,
    *,
    title: str | None = None,
    subject: bool = True,
) -> None:
    table = Table(title=title if entries else f"{title or 'audit log'}: no entries")
    columns = ("seq", "time", "actor", "action", "subject", "details")
    for name in columns if subject else tuple(c for c in columns if c != "subject"):
        table.add_column(name, no_wrap=name in ("seq", "action"))
    for e in entries:
        cells = [str(e.seq), show_moment(e.ts, tz), escape(e.actor), e.action]
        cells += [escape(e.subject)] if subject else []
        table.add_row(*cells, escape(summarise(e.details)))
    console.print(table)


def summarise(details: Mapping[str, Any]) -> str:
    """The notable fields of an entry, on one line."""
    parts = []
    for key in ("phase", "from", "to", "run_id", "status", "operation", "reason", "text"):
        value = details.get(key)
        if value not in (None, "", []):
            parts.append(f"{key}={value}")
    return " ".join(parts)[:200]
