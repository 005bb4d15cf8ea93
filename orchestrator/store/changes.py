"""Change records, approvals and freeze periods in the database — and their audit trail.

Every write runs in one transaction that takes the audit chain lock first, applies
a pure ``changes.workflow`` step to the stored record, writes it back and appends
the audit entry: a record never moves without its evidence. A refusal
(``ChangeRefused``) rolls that back and is audited on its own before it reaches
the caller. ``ChangeStore`` is also the gate's ``ChangeSource``.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.changes import workflow
from orchestrator.changes.model import (
    ChangeDraft,
    ChangePlan,
    ChangeRecord,
    ChangeRefused,
    ChangeState,
    ChangeType,
    FreezePeriod,
)
from orchestrator.changes.policy import MAY_FREEZE, describe_freeze, require_role
from orchestrator.changes.request import GateDecision, GateRequest
from orchestrator.changes.rules import ChangeRules
from orchestrator.clock import Clock
from orchestrator.errors import NotFoundError, Problem
from orchestrator.store.audit import AuditEntry, AuditLog, lock_chain
from orchestrator.store.change_codec import fill_row, freeze_from_row, record_from_row
from orchestrator.store.change_rows import ChangeRow, FreezeRow
from orchestrator.store.db import Database

log = logging.getLogger(__name__)

Operation = Callable[[ChangeRecord], ChangeRecord]
# A person's step on a record: (record, actor, now, rules, comment) -> next record.
Step = Callable[[ChangeRecord, str, datetime, ChangeRules, str], ChangeRecord]


class ChangeStore:
    def __init__(self, db: Database, audit: AuditLog, clock: Clock, rules: ChangeRules) -> None:
        self.db = db
        self.audit = audit
        self.clock = clock
        self.rules = rules

    # --- reads ---------------------------------------------------------------------------

    def find(self, change_id: str) -> ChangeRecord | None:
        with self.db.read_session() as s:
            row = s.get(ChangeRow, change_id.strip())
            return record_from_row(row) if row is not None else None

    def get(self, change_id: str) -> ChangeRecord:
        record = self.find(change_id)
        if record is None:
            raise NotFoundError(f"no change record {change_id!r} (see `orchestrator change list`)")
        return record

    def list(
        self,
        *,
        states: Iterable[ChangeState] | None = None,
        types: Iterable[ChangeType] | None = None,
        limit: int = 50,
    ) -> builtins.list[ChangeRecord]:
        """Newest first."""
        query = select(ChangeRow).order_by(ChangeRow.created.desc(), ChangeRow.id.desc())
        if states is not None:
            query = query.where(ChangeRow.state.in_([s.value for s in states]))
        if types is not None:
            query = query.where(ChangeRow.type.in_([t.value for t in types]))
        with self.db.read_session() as s:
            return [record_from_row(r) for r in s.scalars(query.limit(limit))]

    def templates_for(self, runbook: str) -> builtins.list[ChangeRecord]:
        """Approved standard templates whose scope lists ``runbook``, oldest first."""
        query = (
            select(ChangeRow)
            .where(
                ChangeRow.type == ChangeType.STANDARD.value,
                ChangeRow.state == ChangeState.APPROVED.value,
            )
            .order_by(ChangeRow.created, ChangeRow.id)
        )
        with self.db.read_session() as s:
            records = [record_from_row(r) for r in s.scalars(query)]
        return [r for r in records if runbook in r.scope.names]

    def stored_freezes(self) -> builtins.list[FreezePeriod]:
        with self.db.read_session() as s:
            rows = s.scalars(select(FreezeRow).order_by(FreezeRow.start, FreezeRow.id))
            return [freeze_from_row(r) for r in rows]

    def freezes(self) -> builtins.list[FreezePeriod]:
        """Settings freezes and stored ones, by start."""
        return sorted([*self.rules.freezes, *self.stored_freezes()], key=lambda f: f.start)

    def history(self, change_id: str) -> builtins.list[AuditEntry]:
        return self.audit.entries(subject=change_id)

    # --- people acting on records -------------------------------------------------------

    def create(self, draft: ChangeDraft, actor: str) -> ChangeRecord:
        now = self.clock.now()
        try:
            with self.db.session() as s:
                lock_chain(s)
                change_id = self._next_id(s, now)
                record = workflow.create(change_id, draft, actor, now, self.rules)
                row = ChangeRow()
                fill_row(row, record)
                s.add(row)
                self.audit.append(s, actor, "change.create", change_id, _summary(record))
                return record
        except ChangeRefused as exc:
            self._refused(actor, "create", "change:new", exc)
            raise

    def _next_id(self, s: Session, now: datetime) -> str:
        prefix = f"CHG-{now.astimezone(self.rules.tz):%Y%m%d}-"
        ids = s.scalars(select(ChangeRow.id).where(ChangeRow.id.startswith(prefix)))
        numbers = [int(i[len(prefix) :]) for i in ids if i[len(prefix) :].isdigit()]
        return f"{prefix}{max(numbers, default=0) + 1:03d}"

    def edit(self, change_id: str, actor: str, draft: ChangeDraft) -> ChangeRecord:
        now = self.clock.now()
        return self._apply(change_id, actor, "edit", lambda r: workflow.amend(r, actor, now, draft))

    def submit(self, change_id: str, actor: str, plan: ChangePlan) -> ChangeRecord:
        now, freezes = self.clock.now(), self.freezes()
        return self._apply(
            change_id,
            actor,
            "submit",
            lambda r: workflow.submit(r, actor, now, self.rules, plan, freezes),
            {"hosts": list(plan.hosts), "runbooks": [b.name for b in plan.runbooks]},
        )

    def approve(self, change_id: str, actor: str, comment: str = "") -> ChangeRecord:
        return self._act(workflow.approve, "approve", change_id, actor, comment)

    def reject(self, change_id: str, actor: str, comment: str) -> ChangeRecord:
        return self._act(workflow.reject, "reject", change_id, actor, comment)

    def cancel(self, change_id: str, actor: str, comment: str = "") -> ChangeRecord:
        return self._act(workflow.cancel, "cancel", change_id, actor, comment)

    def revoke(self, change_id: str, actor: str, comment: str = "") -> ChangeRecord:
        return self._act(workflow.revoke, "revoke", change_id, actor, comment)

    def review(self, change_id: str, actor: str, text: str) -> ChangeRecord:
        return self._act(workflow.review, "review", change_id, actor, text)

    def close(self, change_id: str, actor: str, comment: str = "") -> ChangeRecord:
        return self._act(workflow.close, "close", change_id, actor, comment)

    def _act(self, step: Step, action: str, change_id: str, actor: str, text: str) -> ChangeRecord:
        now = self.clock.now()
        return self._apply(
            change_id,
            actor,
            action,
            lambda r: step(r, actor, now, self.rules, text),
            {"text": text},
        )

    def _apply(
        self,
        change_id: str,
        actor: str,
        action: str,
        operation: Operation,
        details: Mapping[str, Any] | None = None,
    ) -> ChangeRecord:
        try:
            with self.db.session() as s:
                lock_chain(s)
                row = s.get(ChangeRow, change_id.strip())
                if row is None:
                    raise NotFoundError(f"no change record {change_id!r}")
                before = record_from_row(row)
                after = operation(before)
                fill_row(row, after)
                moved = {"from": before.state.value, "to": after.state.value}
                self.audit.append(
                    s, actor, f"change.{action}", row.id, {**moved, **(details or {})}
                )
                return after
        except ChangeRefused as exc:
            self._refused(actor, action, change_id, exc)
            raise

    def _refused(self, actor: str, action: str, subject: str, exc: ChangeRefused) -> None:
        self.audit.record(
            actor, "change.refused", subject, {"operation": action, "reason": exc.reason}
        )
        log.info("refused %s of %s by %s: %s", action, subject, actor, exc.reason)

    # --- freeze periods -------------------------------------------------------------------

    def add_freeze(
        self, name: str, start: datetime, end: datetime, reason: str, actor: str
    ) -> tuple[FreezePeriod, builtins.list[str]]:
        """Store a freeze; also returns notes (short notice, changes it now blocks)."""
        try:
            require_role(
                self.rules, actor, MAY_FREEZE, "declare freeze periods", operation="freeze"
            )
        except ChangeRefused as exc:
            self._refused(actor, "freeze.add", "freeze", exc)
            raise
        try:
            FreezePeriod(name, start, end, reason)
        except ValueError as exc:
            raise workflow.ChangeInputError(
                [Problem(str(exc), field="end", hint="--end")]
            ) from None
        now = self.clock.now()
        with self.db.session() as s:
            lock_chain(s)
            row = FreezeRow(
                name=name, start=start, end=end, reason=reason, created_by=actor, created=now
            )
            s.add(row)
            s.flush()
            period = freeze_from_row(row)
            self.audit.append(s, actor, "freeze.add", f"freeze:{row.id}", _freeze_details(period))
        return period, self._freeze_notes(period, now)

    def _freeze_notes(self, period: FreezePeriod, now: datetime) -> builtins.list[str]:
        notes = []
        if period.start - now < self.rules.freeze_notice:
            notes.append(
                f"short notice: freezes should be announced {self.rules.freeze_notice.days} days "
                "ahead (seed rule: important moments are booked at least three weeks ahead)"
            )
        live = (ChangeState.SUBMITTED, ChangeState.APPROVED)
        for record in self.list(states=live, types=(ChangeType.NORMAL,), limit=1000):
            if record.window and period.overlaps(record.window.start, record.window.end):
                notes.append(f"{record.id} ({record.state.value}) overlaps it and cannot run")
        return notes

    def remove_freeze(self, freeze_id: int, actor: str, comment: str = "") -> FreezePeriod:
        try:
            require_role(self.rules, actor, MAY_FREEZE, "remove freeze periods", operation="freeze")
        except ChangeRefused as exc:
            self._refused(actor, "freeze.remove", f"freeze:{freeze_id}", exc)
            raise
        with self.db.session() as s:
            lock_chain(s)
            row = s.get(FreezeRow, freeze_id)
            if row is None:
                raise NotFoundError(
                    f"no stored freeze #{freeze_id} (freezes from orchestrator.toml are removed "
                    "by editing it)"
                )
            period = freeze_from_row(row)
            s.delete(row)
            details = {**_freeze_details(period), "comment": comment}
            self.audit.append(s, actor, "freeze.remove", f"freeze:{freeze_id}", details)
        return period

    # --- the gate and the run -------------------------------------------------------------

    def claim(self, change_id: str, run_id: str, operator: str, now: datetime) -> str | None:
        """Approved → in_progress for ``run_id``; the refusal reason if another run was first."""
        try:
            self._apply(
                change_id,
                operator,
                "start",
                lambda r: workflow.start(r, run_id, now),
                {"run_id": run_id},
            )
        except ChangeRefused as exc:
            return exc.reason
        return None

    def resume(self, change_id: str, run_id: str, operator: str, now: datetime) -> str | None:
        """Failed (or in_progress) → in_progress for ``run_id`` resuming; the reason if not."""
        try:
            self._apply(
                change_id,
                operator,
                "resume",
                lambda r: workflow.resume(r, run_id, now),
                {"run_id": run_id},
            )
        except ChangeRefused as exc:
            return exc.reason
        return None

    def record_decision(self, request: GateRequest, decision: GateDecision) -> None:
        subject = decision.change_id or request.change_id or f"runbook:{request.runbook.name}"
        self.audit.record(
            request.operator,
            "gate.allowed" if decision.allowed else "gate.refused",
            subject,
            {
                "phase": request.phase,
                "run_id": request.run_id,
                "runbook": request.runbook.name,
                "hosts": list(request.hosts),
                "trigger": request.trigger,
                "policy": decision.policy,
                "reason": decision.reason,
            },
        )

    def run_finished(
        self,
        *,
        run_id: str,
        change_id: str | None,
        state: ChangeState,
        outcome: str,
        actor: str,
        details: Mapping[str, Any],
    ) -> None:
        """Audit the run's end and move the change it implemented (in_progress → ``state``)."""
        now = self.clock.now()
        subject = change_id or f"run:{run_id}"
        with self.db.session() as s:
            lock_chain(s)
            self.audit.append(s, actor, "run.end", subject, {"run_id": run_id, **details})
            row = s.get(ChangeRow, change_id) if change_id else None
            if row is None or row.state != ChangeState.IN_PROGRESS.value or row.run_id != run_id:
                return
            before = record_from_row(row)
            after = workflow.finish(before, state, outcome, now)
            fill_row(row, after)
            moved = {"from": before.state.value, "to": after.state.value, "run_id": run_id}
            self.audit.append(s, actor, "change.finish", row.id, {**moved, "outcome": outcome})

    def run_interrupted(self, run_id: str, actor: str, reason: str) -> None:
        """A run died (SIGKILL, crash): the change it implemented has failed."""
        with self.db.read_session() as s:
            change_id = s.scalar(select(ChangeRow.id).where(ChangeRow.run_id == run_id))
        self.run_finished(
            run_id=run_id,
            change_id=change_id,
            state=ChangeState.FAILED,
            outcome=f"run {run_id} was interrupted: {reason}",
            actor=actor,
            details={"status": "interrupted", "reason": reason},
        )


def _summary(record: ChangeRecord) -> dict[str, Any]:
    return {
        "type": record.type.value,
        "title": record.title,
        "risk": record.risk.value,
        "runbooks": list(record.scope.runbooks),
        "targets": record.scope.targets,
        "window": [record.window.start, record.window.end] if record.window else None,
        "cron": record.cron.expression if record.cron else None,
    }


def _freeze_details(period: FreezePeriod) -> dict[str, Any]:
    return {
        "name": period.name,
        "start": period.start,
        "end": period.end,
        "reason": period.reason,
        "text": describe_freeze(period),
    }
