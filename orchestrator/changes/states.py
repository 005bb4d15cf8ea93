"""The change state machine (DESIGN.md §4).

draft → submitted → approved | rejected; approved → in_progress → completed | failed |
rolled_back → closed; cancelled from any state before in_progress. A standard
template is never "in progress" (many runs use it); once approved it can only be
revoked. Anything else is an error that names the allowed moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from orchestrator.changes.model import ChangeRecord, ChangeRefused, ChangeState, ChangeType

S = ChangeState

_COMMON: Mapping[ChangeState, frozenset[ChangeState]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.FAILED, S.ROLLED_BACK}),
    S.COMPLETED: frozenset({S.CLOSED}),
    S.FAILED: frozenset({S.CLOSED}),
    S.ROLLED_BACK: frozenset({S.CLOSED}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.CLOSED: frozenset(),
    S.REVOKED: frozenset(),
}
_STANDARD_OVERRIDES: Mapping[ChangeState, frozenset[ChangeState]] = {
    S.APPROVED: frozenset({S.REVOKED}),
}
# States in which a change may still be cancelled, and the ones that count as finished.
OPEN = frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED})
ENDED = frozenset({S.COMPLETED, S.FAILED, S.ROLLED_BACK})
FINAL = frozenset({S.REJECTED, S.CANCELLED, S.CLOSED, S.REVOKED})
_ORDER = list(ChangeState)


def allowed_moves(change_type: ChangeType, state: ChangeState) -> tuple[ChangeState, ...]:
    """The states a record of this type may move to from ``state``, in a stable order."""
    moves = _COMMON[state]
    if change_type is ChangeType.STANDARD:
        moves = _STANDARD_OVERRIDES.get(state, moves)
    return tuple(sorted(moves, key=_ORDER.index))


def transition(
    record: ChangeRecord, target: ChangeState, now: datetime, *, operation: str = ""
) -> ChangeRecord:
    """The record in state ``target``; ChangeRefused naming the allowed moves otherwise."""
    moves = allowed_moves(record.type, record.state)
    if target not in moves:
        allowed = ", ".join(m.value for m in moves) or "none: it is final"
        raise ChangeRefused(
            f"{record.label} is {record.state.value}; it cannot become {target.value} "
            f"(allowed from {record.state.value}: {allowed})",
            change_id=record.id,
            operation=operation or target.value,
        )
    return replace(record, state=target, updated=now)
