"""The gate's decision, as a pure function: request + record + rules + now → allowed or not.

Every run is covered by a change record: read-only runbooks by an approved
standard template (named with --change, or found by runbook and hosts), anything
that changes a target by an approved normal or emergency change. Each check
below returns the reason for a refusal, or None; the first one that objects wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from orchestrator.changes.cron import next_start, parse_cron, window_start
from orchestrator.changes.model import ChangeRecord, ChangeState, ChangeType, FreezePeriod
from orchestrator.changes.moments import show_moment
from orchestrator.changes.plan import fingerprint
from orchestrator.changes.policy import (
    MAY_RUN,
    approval_status,
    describe_freeze,
    describe_roles,
    freezes_overlapping,
    has_quorum,
)
from orchestrator.changes.request import GateDecision, GateRequest
from orchestrator.changes.rules import ChangeRules
from orchestrator.runbook.model import ChangePolicy, Runbook

_SHOWN_HOSTS = 10
POLICY_NONE = "no change record"
POLICY_UNRECORDED = "unrecorded read-only (allow_unrecorded_readonly)"


@dataclass(frozen=True)
class GateContext:
    rules: ChangeRules
    freezes: tuple[FreezePeriod, ...]  # from settings and from the store
    resolve: Callable[[str], frozenset[str]]  # host pattern -> host names (templates)


Check = Callable[[GateRequest, ChangeRecord, GateContext], str | None]


def decide(
    request: GateRequest,
    record: ChangeRecord | None,
    templates: Sequence[ChangeRecord],
    ctx: GateContext,
) -> GateDecision:
    if request.change_id is None:
        return _without_change(request, templates, ctx)
    if record is None:
        return GateDecision(
            False,
            f"unknown change id {request.change_id}: there is no such change record "
            "(list them with `orchestrator change list`)",
            request.change_id,
            POLICY_NONE,
        )
    return _under_change(request, record, ctx)


def policy_of(record: ChangeRecord) -> str:
    if record.type is ChangeType.STANDARD:
        return "standard template"
    return f"{record.type.value} change"


def _under_change(request: GateRequest, record: ChangeRecord, ctx: GateContext) -> GateDecision:
    for check in _CHECKS:
        problem = check(request, record, ctx)
        if problem is not None:
            return GateDecision(False, problem, record.id, policy_of(record))
    return GateDecision(True, _allowed_reason(request, record, ctx), record.id, policy_of(record))


def _without_change(
    request: GateRequest, templates: Sequence[ChangeRecord], ctx: GateContext
) -> GateDecision:
    book = request.runbook
    if book.mutates or book.change is ChangePolicy.REQUIRED:
        why = "changes its targets" if book.mutates else "declares change: required"
        return GateDecision(
            False,
            f"no change id: runbook {book.name!r} {why} and needs an approved normal or "
            "emergency change — pass --change CHG-…",
            None,
            POLICY_NONE,
        )
    misses = []
    for template in templates:
        problem = next((p for c in _CHECKS if (p := c(request, template, ctx)) is not None), None)
        if problem is None:
            return GateDecision(
                True,
                f"covered by standard template {template.id} ({template.title})",
                template.id,
                policy_of(template),
            )
        misses.append(f"{template.id}: {problem}")
    if ctx.rules.allow_unrecorded_readonly:
        return GateDecision(
            True,
            "read-only run without a change record (allow_unrecorded_readonly is on; audited)",
            None,
            POLICY_UNRECORDED,
        )
    detail = "; ".join(misses) if misses else "no approved template lists this runbook"
    return GateDecision(
        False,
        f"no change id, and no approved standard template covers read-only runbook "
        f"{book.name!r} on these hosts ({detail}) — pass --change, or have one approved: "
        "orchestrator change template create",
        None,
        POLICY_NONE,
    )


# --- the checks, in order ----------------------------------------------------------------


def _role(request: GateRequest, record: ChangeRecord, ctx: GateContext) -> str | None:
    if ctx.rules.has_role(request.operator, MAY_RUN):
        return None
    return (
        f"{request.operator or 'this user'} may not run changes: it needs the "
        f"{describe_roles(MAY_RUN)} role (orchestrator.toml, [roles])"
    )


def _kind(request: GateRequest, record: ChangeRecord, ctx: GateContext) -> str | None:
    book = request.runbook
    if record.type is not ChangeType.STANDARD:
        return None
    if book.mutates:
        return (
            f"{record.id} is a standard template and runbook {book.name!r} changes its "
            "targets; that needs an approved normal or emergency change"
        )
    if book.change is ChangePolicy.REQUIRED:
        return (
            f"{record.id} is a standard template and runbook {book.name!r} declares change: "
            "required; that needs an approved normal or emergency change"
        )
    return None


def _state(request: GateRequest, record: ChangeRecord, ctx: GateContext) -> str | None:
    state = record.state
    if request.resumed and request.batch is None and record.type is not ChangeType.STANDARD:
        return _resumable(request, record)
    if record.type is ChangeType.STANDARD or request.batch is None:
        if state is ChangeState.APPROVED:
            return None
        if state is ChangeState.SUBMITTED:
            return f"{record.label} is not approved: it has {approval_status(record, ctx.rules)}"
        if state is ChangeState.IN_PROGRESS:
            return f"{record.label} is already in progress (run {record.run_id}); it covers one run"
        return f"{record.label} is {state.value}, not approved"
    if state is ChangeState.IN_PROGRESS and record.run_id == request.run_id:
        return None
    return f"{record.label} is {state.value} and no longer covers run {request.run_id}"


def _resumable(request: GateRequest, record: ChangeRecord) -> str | None:
    """`run --resume`: the change is still this run's — in progress, or failed by its stop."""
    if request.run_id is not None and record.run_id != request.run_id:  # None: a dry run
        return f"{record.label} covers run {record.run_id}, not run {request.run_id}"
    if record.state in (ChangeState.IN_PROGRESS, ChangeState.FAILED):
        return None
    return f"{record.label} is {record.state.value}; run {request.run_id} cannot resume under it"


def _quorum(request: GateRequest, record: ChangeRecord, ctx: GateContext) -> str | None:
    if has_quorum(record, ctx.rules):
        return None
    return f"{record.label} has {approval_status(record, ctx.rules)}; it is not approved"


def _scope(request: GateRequest, record: ChangeRecord, ctx: GateContext) -> str | None:
    name = request.runbook.name
    if name in record.scope.names:
        return None
    return (
        f"runbook {name!r} is outside the scope of {record.id} "
        f"(scope: {', '.join(record.scope.runbooks)})"
    )


def _pinned(request: GateRequest, record: ChangeRecord, ctx: GateContext) -> str | None:
    approved = record.plan.runbook(request.runbook.name) if record.plan else None
    if approved is None:
        return f"{record.id} has no approved plan for runbook {request.runbook.name!r}"
    if approved.fingerprint == fingerprint(request.runbook):
        return None
    return (
        f"runbook {request.runbook.name!r} was edited after {record.id} was approved (its "
        "steps, variables or targets differ from the approved plan); a new approval is needed"
    )


def _hosts(request: GateRequest, record: ChangeRecord, ctx: GateContext) -> str | None:
    approved = _approved_hosts(request.runbook, record, ctx)
    outside = [h for h in request.hosts if h not in approved]
    if not outside:
        return None
    shown = ", ".join(outside[:_SHOWN_HOSTS]) + (" …" if len(outside) > _SHOWN_HOSTS else "")
    return (
        f"{len(outside)} host(s) outside the approved host list of {record.id}: {shown} "
        f"({len(approved)} approved; narrow the run with --limit)"
    )


def _approved_hosts(book: Runbook, record: ChangeRecord, ctx: GateContext) -> frozenset[str]:
    if record.type is ChangeType.STANDARD:
        # Templates live for months: their pattern is resolved against today's inventory.
        return ctx.resolve(record.scope.targets)
    approved = record.plan.runbook(book.name) if record.plan else None
    return frozenset(approved.hosts) if approved else frozenset()


def _window(request: GateRequest, record: ChangeRecord, ctx: GateContext) -> str | None:
    now, tz = request.now, ctx.rules.tz
    if record.type is ChangeType.STANDARD:
        return _cron_window(request, record, ctx)
    window = record.window
    if window is None:
        return f"{record.label} has no maintenance window"
    if now < window.start:
        return (
            f"{record.label}: its window opens at {show_moment(window.start, tz)} "
            f"(now {show_moment(now, tz)})"
        )
    if now >= window.end:
        return (
            f"{record.label}: its window closed at {show_moment(window.end, tz)} "
            f"(now {show_moment(now, tz)})"
        )
    return None


def _cron_window(request: GateRequest, record: ChangeRecord, ctx: GateContext) -> str | None:
    if record.cron is None:
        return None
    spec = parse_cron(record.cron.expression)
    if window_start(spec, record.cron.seconds, request.now, ctx.rules.tz) is not None:
        return None
    upcoming = next_start(spec, request.now, ctx.rules.tz)
    when = f"; next opens {show_moment(upcoming, ctx.rules.tz)}" if upcoming else ""
    return (
        f"outside the cron window of {record.id} ('{record.cron.expression}' for "
        f"{record.cron.seconds // 60} min, {ctx.rules.timezone}){when}"
    )


def _freeze(request: GateRequest, record: ChangeRecord, ctx: GateContext) -> str | None:
    if record.type is ChangeType.STANDARD or record.window is None:
        return None
    hit = freezes_overlapping(ctx.freezes, record.window.start, record.window.end)
    if not hit:
        return None
    if record.type is ChangeType.NORMAL:
        return (
            f"{record.label}: its window overlaps {describe_freeze(hit[0])}; normal changes "
            "may not run in a freeze"
        )
    if record.emergency_reason.strip():
        return None
    return (
        f"{record.label}: its window overlaps {describe_freeze(hit[0])} and it records no "
        "reason; an emergency change runs in a freeze only with a recorded reason"
    )


_CHECKS: tuple[Check, ...] = (
    _role,
    _kind,
    _state,
    _quorum,
    _scope,
    _pinned,
    _hosts,
    _freeze,  # before the window: a freeze never lifts by waiting for the window
    _window,
)


def _allowed_reason(request: GateRequest, record: ChangeRecord, ctx: GateContext) -> str:
    tz = ctx.rules.tz
    if record.type is ChangeType.STANDARD:
        return f"covered by standard template {record.id} ({record.title})"
    window = record.window
    text = (
        f"{record.label} approved ({approval_status(record, ctx.rules)}), "
        f"window until {show_moment(window.end if window else None, tz)}, "
        f"{len(request.hosts)} host(s) in its approved list"
    )
    hit = freezes_overlapping(ctx.freezes, window.start, window.end) if window else []
    if hit:
        text += f"; runs in {describe_freeze(hit[0])} because: {record.emergency_reason}"
    return text
