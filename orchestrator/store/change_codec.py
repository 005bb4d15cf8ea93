"""Change records ↔ rows, and the JSON form `change show --json` prints."""

from __future__ import annotations

from typing import Any

from orchestrator.changes.model import (
    ChangeRecord,
    ChangeState,
    ChangeType,
    CronWindow,
    Decision,
    FreezePeriod,
    Risk,
    Scope,
    Verdict,
    Window,
)
from orchestrator.changes.plan import plan_from_dict, plan_to_dict
from orchestrator.store.change_rows import ChangeRow, DecisionRow, FreezeRow


def record_from_row(row: ChangeRow) -> ChangeRecord:
    window = None
    if row.window_start is not None and row.window_end is not None:
        window = Window(row.window_start, row.window_end)
    cron = CronWindow(row.cron, row.cron_seconds or 0) if row.cron else None
    return ChangeRecord(
        id=row.id,
        type=ChangeType(row.type),
        state=ChangeState(row.state),
        title=row.title,
        requester=row.requester,
        scope=Scope(tuple(row.runbooks or ()), row.targets),
        created=row.created,
        updated=row.updated,
        risk=Risk(row.risk),
        purpose=row.purpose,
        content=row.content,
        impact=row.impact,
        implementation=row.implementation,
        rollback=row.rollback,
        verification=row.verification,
        window=window,
        cron=cron,
        emergency_reason=row.emergency_reason,
        plan=plan_from_dict(row.plan) if row.plan else None,
        decisions=tuple(
            Decision(d.approver, d.at, Verdict(d.verdict), d.comment) for d in row.decisions
        ),
        run_id=row.run_id,
        outcome=row.outcome,
        review=row.review,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
    )


def fill_row(row: ChangeRow, record: ChangeRecord) -> None:
    """Copy the record into the row; decisions are appended, never rewritten."""
    row.id = record.id
    row.type = record.type.value
    row.state = record.state.value
    row.risk = record.risk.value
    row.title = record.title
    row.purpose = record.purpose
    row.content = record.content
    row.impact = record.impact
    row.implementation = record.implementation
    row.rollback = record.rollback
    row.verification = record.verification
    row.requester = record.requester
    row.window_start = record.window.start if record.window else None
    row.window_end = record.window.end if record.window else None
    row.cron = record.cron.expression if record.cron else None
    row.cron_seconds = record.cron.seconds if record.cron else None
    row.runbooks = list(record.scope.runbooks)
    row.targets = record.scope.targets
    row.plan = plan_to_dict(record.plan) if record.plan else None
    row.emergency_reason = record.emergency_reason
    row.run_id = record.run_id
    row.outcome = record.outcome
    row.review = record.review
    row.reviewed_by = record.reviewed_by
    row.reviewed_at = record.reviewed_at
    row.created = record.created
    row.updated = record.updated
    for decision in record.decisions[len(row.decisions) :]:
        row.decisions.append(
            DecisionRow(
                approver=decision.by,
                verdict=decision.verdict.value,
                at=decision.at,
                comment=decision.comment,
            )
        )


def freeze_from_row(row: FreezeRow) -> FreezePeriod:
    return FreezePeriod(row.name, row.start, row.end, row.reason, row.id, row.created_by)


def change_to_dict(record: ChangeRecord) -> dict[str, Any]:
    window = record.window
    return {
        "id": record.id,
        "type": record.type.value,
        "state": record.state.value,
        "title": record.title,
        "risk": record.risk.value,
        "requester": record.requester,
        "purpose": record.purpose,
        "content": record.content,
        "impact": record.impact,
        "implementation": record.implementation,
        "rollback": record.rollback,
        "verification": record.verification,
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()}
        if window
        else None,
        "cron": {"expression": record.cron.expression, "seconds": record.cron.seconds}
        if record.cron
        else None,
        "scope": {"runbooks": list(record.scope.runbooks), "targets": record.scope.targets},
        "emergency_reason": record.emergency_reason,
        "plan": plan_to_dict(record.plan) if record.plan else None,
        "decisions": [
            {"by": d.by, "at": d.at.isoformat(), "verdict": d.verdict.value, "comment": d.comment}
            for d in record.decisions
        ],
        "run_id": record.run_id,
        "outcome": record.outcome,
        "review": record.review,
        "reviewed_by": record.reviewed_by,
        "reviewed_at": record.reviewed_at.isoformat() if record.reviewed_at else None,
        "created": record.created.isoformat(),
        "updated": record.updated.isoformat(),
    }
