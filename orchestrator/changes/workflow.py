"""People acting on change records: create, submit, approve, reject, cancel, revoke,
review, close — and the run's own moves (start, finish).

Every function is pure: it takes a record and returns the next one, or raises
``ChangeRefused`` (exit 3: the process says no) or ``ChangeInputError`` (exit 2:
something is missing or malformed). The store persists the result and audits it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from orchestrator.changes.cron import MAX_WINDOW, parse_cron
from orchestrator.changes.model import (
    ChangeDraft,
    ChangePlan,
    ChangeRecord,
    ChangeRefused,
    ChangeState,
    ChangeType,
    Decision,
    FreezePeriod,
    Verdict,
)
from orchestrator.changes.policy import (
    MAY_APPROVE,
    MAY_REQUEST,
    MAY_REVIEW,
    MAY_REVOKE,
    describe_freeze,
    freezes_overlapping,
    has_quorum,
    require_role,
)
from orchestrator.changes.rules import ChangeRules
from orchestrator.changes.states import ENDED, transition
from orchestrator.errors import Problem, ValidationError


class ChangeInputError(ValidationError):
    """A change record is missing something or has a malformed field (exit 2)."""


def _missing(field: str, message: str, hint: str) -> Problem:
    return Problem(message, field=field, hint=hint)


def create(
    change_id: str, draft: ChangeDraft, requester: str, now: datetime, rules: ChangeRules
) -> ChangeRecord:
    require_role(rules, requester, MAY_REQUEST, "request changes", operation="create")
    problems = _draft_problems(draft)
    if problems:
        raise ChangeInputError(problems)
    return ChangeRecord(
        id=change_id,
        type=draft.type,
        state=ChangeState.DRAFT,
        title=draft.title.strip(),
        requester=requester,
        scope=draft.scope,
        created=now,
        updated=now,
        risk=draft.risk,
        purpose=draft.purpose,
        content=draft.content,
        impact=draft.impact,
        implementation=draft.implementation,
        rollback=draft.rollback,
        verification=draft.verification,
        window=draft.window,
        cron=draft.cron,
        emergency_reason=draft.emergency_reason,
    )


def _draft_problems(draft: ChangeDraft) -> list[Problem]:
    problems = []
    if not draft.title.strip():
        problems.append(_missing("title", "a change needs a title", "--title 'what changes'"))
    if not draft.scope.runbooks:
        problems.append(_missing("runbook", "the scope names no runbook", "--runbook NAME"))
    if not draft.scope.targets.strip():
        problems.append(_missing("targets", "the scope has no target pattern", "--targets web"))
    if draft.type is ChangeType.STANDARD:
        if draft.window is not None:
            problems.append(
                _missing("window", "a standard template has no one-off window", "use --cron")
            )
        problems.extend(_cron_problems(draft))
    elif draft.window is None:
        problems.append(
            _missing("window", f"a {draft.type.value} change needs a window", "--start and --end")
        )
    elif draft.cron is not None:
        problems.append(_missing("cron", "only standard templates have cron windows", "--start"))
    if draft.emergency_reason and draft.type is not ChangeType.EMERGENCY:
        problems.append(_missing("reason", "only emergency changes carry a reason", "--type"))
    return problems


def _cron_problems(draft: ChangeDraft) -> list[Problem]:
    if draft.cron is None:
        return []
    problems = []
    try:
        parse_cron(draft.cron.expression)
    except ValueError as exc:
        problems.append(_missing("cron", str(exc), "e.g. --cron '0 1 * * *' --duration 4h"))
    if not 0 < draft.cron.seconds <= MAX_WINDOW.total_seconds():
        problems.append(_missing("duration", "a cron window lasts 1s..7 days", "--duration 4h"))
    return problems


def amend(record: ChangeRecord, actor: str, now: datetime, draft: ChangeDraft) -> ChangeRecord:
    """Replace what the requester wrote; only the requester, only while a draft."""
    if actor != record.requester or record.state is not ChangeState.DRAFT:
        raise ChangeRefused(
            f"{record.label} is {record.state.value}, requested by {record.requester}; only the "
            "requester edits a change, and only while it is a draft",
            change_id=record.id,
            operation="edit",
        )
    problems = _draft_problems(draft)
    if problems:
        raise ChangeInputError(problems)
    return replace(
        record,
        type=draft.type,
        title=draft.title.strip(),
        scope=draft.scope,
        risk=draft.risk,
        purpose=draft.purpose,
        content=draft.content,
        impact=draft.impact,
        implementation=draft.implementation,
        rollback=draft.rollback,
        verification=draft.verification,
        window=draft.window,
        cron=draft.cron,
        emergency_reason=draft.emergency_reason,
        updated=now,
    )


def submit(
    record: ChangeRecord,
    actor: str,
    now: datetime,
    rules: ChangeRules,
    plan: ChangePlan,
    freezes: Iterable[FreezePeriod],
) -> ChangeRecord:
    """Attach the dry-run plan (hosts resolved now) and ask for approval."""
    if actor != record.requester:
        raise ChangeRefused(
            f"only the requester ({record.requester}) submits {record.id}",
            change_id=record.id,
            operation="submit",
        )
    problems = _submit_problems(record, plan, now)
    if problems:
        raise ChangeInputError(problems)
    _refuse_plan_kind(record, plan)
    _refuse_freezes(record, list(freezes), "submit")
    return replace(transition(record, ChangeState.SUBMITTED, now, operation="submit"), plan=plan)


def _submit_problems(record: ChangeRecord, plan: ChangePlan, now: datetime) -> list[Problem]:
    needs: list[tuple[str, str]] = [("purpose", record.purpose)]
    if record.type is not ChangeType.STANDARD:
        needs += [("impact", record.impact), ("verification", record.verification)]
        if any(b.mutates for b in plan.runbooks):
            needs.append(("rollback", record.rollback))
    edit = f"orchestrator change edit {record.id}"
    problems = [
        _missing(name, f"{record.id} has no {name} plan/analysis", f"{edit} --{name} ...")
        for name, value in needs
        if not value.strip()
    ]
    if record.window is not None and record.window.end <= now:
        problems.append(
            _missing("window", "the window has already ended", "create a change with a new window")
        )
    return problems


def _refuse_plan_kind(record: ChangeRecord, plan: ChangePlan) -> None:
    if record.type is not ChangeType.STANDARD:
        return
    bad = [b.name for b in plan.runbooks if b.mutates or b.change == "required"]
    if bad:
        raise ChangeRefused(
            f"standard templates cover read-only runbooks only; {', '.join(bad)} changes its "
            "targets or declares change: required — use a normal change",
            change_id=record.id,
            operation="submit",
        )


def _refuse_freezes(record: ChangeRecord, freezes: list[FreezePeriod], operation: str) -> None:
    if record.window is None or record.type is ChangeType.STANDARD:
        return
    hit = freezes_overlapping(freezes, record.window.start, record.window.end)
    if not hit:
        return
    if record.type is ChangeType.NORMAL:
        raise ChangeRefused(
            f"{record.label}: its window overlaps {describe_freeze(hit[0])}; normal changes "
            "may not run in a freeze — move the window",
            change_id=record.id,
            operation=operation,
        )
    if not record.emergency_reason.strip():
        raise ChangeRefused(
            f"{record.label}: its window overlaps {describe_freeze(hit[0])}; an emergency "
            "change may run in a freeze only with a recorded reason (--reason)",
            change_id=record.id,
            operation=operation,
        )


def approve(
    record: ChangeRecord, actor: str, now: datetime, rules: ChangeRules, comment: str = ""
) -> ChangeRecord:
    """Record one approval; the record becomes APPROVED when the quorum is reached."""
    _check_decider(record, actor, rules, "approve")
    decided = replace(
        record, decisions=(*record.decisions, Decision(actor, now, Verdict.APPROVE, comment))
    )
    if has_quorum(decided, rules):
        return transition(decided, ChangeState.APPROVED, now, operation="approve")
    return replace(decided, updated=now)


def reject(
    record: ChangeRecord, actor: str, now: datetime, rules: ChangeRules, comment: str
) -> ChangeRecord:
    if not comment.strip():
        raise ChangeInputError([_missing("comment", "say why it is rejected", "--comment ...")])
    _check_decider(record, actor, rules, "reject")
    decided = replace(
        record, decisions=(*record.decisions, Decision(actor, now, Verdict.REJECT, comment))
    )
    return transition(decided, ChangeState.REJECTED, now, operation="reject")


def _check_decider(record: ChangeRecord, actor: str, rules: ChangeRules, operation: str) -> None:
    require_role(
        rules, actor, MAY_APPROVE, f"{operation} changes", change_id=record.id, operation=operation
    )
    if record.state is not ChangeState.SUBMITTED:
        raise ChangeRefused(
            f"{record.label} is {record.state.value}; only submitted changes are approved or "
            "rejected",
            change_id=record.id,
            operation=operation,
        )
    if actor == record.requester:
        raise ChangeRefused(
            f"{actor} requested {record.id} and may not {operation} it (requester ≠ approver)",
            change_id=record.id,
            operation=operation,
        )
    if any(d.by == actor for d in record.decisions):
        raise ChangeRefused(
            f"{actor} has already decided on {record.id}; another change-manager must",
            change_id=record.id,
            operation=operation,
        )


def cancel(
    record: ChangeRecord, actor: str, now: datetime, rules: ChangeRules, comment: str = ""
) -> ChangeRecord:
    if actor != record.requester:
        require_role(rules, actor, MAY_REVOKE, "cancel others' changes", change_id=record.id)
    return replace(
        transition(record, ChangeState.CANCELLED, now, operation="cancel"), outcome=comment
    )


def revoke(
    record: ChangeRecord, actor: str, now: datetime, rules: ChangeRules, comment: str
) -> ChangeRecord:
    require_role(
        rules, actor, MAY_REVOKE, "revoke templates", change_id=record.id, operation="revoke"
    )
    if record.type is not ChangeType.STANDARD:
        raise ChangeRefused(
            f"{record.label} is not a standard template; cancel it instead",
            change_id=record.id,
            operation="revoke",
        )
    return replace(
        transition(record, ChangeState.REVOKED, now, operation="revoke"), outcome=comment
    )


def start(record: ChangeRecord, run_id: str, now: datetime) -> ChangeRecord:
    """The gate let a run start under this change: it is now in progress, by that run."""
    return replace(
        transition(record, ChangeState.IN_PROGRESS, now, operation="start"), run_id=run_id
    )


def resume(record: ChangeRecord, run_id: str, now: datetime) -> ChangeRecord:
    """`run --resume` continues the run that implements this change: back to in_progress.

    Only the change's own run may do it, from in_progress (its process died unnoticed) or
    failed (its stop or death failed the change); the gate has checked everything else.
    """
    if record.run_id != run_id or record.state not in (ChangeState.IN_PROGRESS, ChangeState.FAILED):
        raise ChangeRefused(
            f"{record.label} is {record.state.value} (run {record.run_id}); run {run_id} "
            "cannot resume under it",
            change_id=record.id,
            operation="resume",
        )
    return replace(record, state=ChangeState.IN_PROGRESS, outcome="", updated=now)


def finish(record: ChangeRecord, state: ChangeState, outcome: str, now: datetime) -> ChangeRecord:
    """The run ended: completed, failed or rolled back, with how it ended."""
    return replace(transition(record, state, now, operation="finish"), outcome=outcome)


def review(
    record: ChangeRecord, actor: str, now: datetime, rules: ChangeRules, text: str
) -> ChangeRecord:
    """The post-implementation review (required before an emergency change closes)."""
    require_role(
        rules, actor, MAY_REVIEW, "review changes", change_id=record.id, operation="review"
    )
    if record.state not in ENDED:
        raise ChangeRefused(
            f"{record.label} is {record.state.value}; it can be reviewed once its run ended",
            change_id=record.id,
            operation="review",
        )
    if not text.strip():
        raise ChangeInputError([_missing("comment", "the review is empty", "--comment ...")])
    return replace(record, review=text, reviewed_by=actor, reviewed_at=now, updated=now)


def close(
    record: ChangeRecord, actor: str, now: datetime, rules: ChangeRules, comment: str = ""
) -> ChangeRecord:
    if actor != record.requester:
        require_role(rules, actor, MAY_REVIEW, "close others' changes", change_id=record.id)
    if record.type is ChangeType.EMERGENCY and not record.review and record.state in ENDED:
        raise ChangeRefused(
            f"{record.label} needs its post-implementation review before it closes "
            f"(a change-manager: orchestrator change review {record.id} --comment ...)",
            change_id=record.id,
            operation="close",
        )
    return transition(record, ChangeState.CLOSED, now, operation="close")
