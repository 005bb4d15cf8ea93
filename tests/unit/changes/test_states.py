"""The change state machine: legal moves, and errors that name the allowed ones."""

from __future__ import annotations

import pytest

from orchestrator.changes.model import ChangeRefused, ChangeState, ChangeType
from orchestrator.changes.states import allowed_moves, transition
from tests.unit.changes.builders import NOW, approved, submitted, with_state

S = ChangeState


@pytest.mark.parametrize(
    ("state", "moves"),
    [
        (S.DRAFT, (S.SUBMITTED, S.CANCELLED)),
        (S.SUBMITTED, (S.APPROVED, S.REJECTED, S.CANCELLED)),
        (S.APPROVED, (S.IN_PROGRESS, S.CANCELLED)),
        (S.IN_PROGRESS, (S.COMPLETED, S.FAILED, S.ROLLED_BACK)),
        (S.COMPLETED, (S.CLOSED,)),
        (S.FAILED, (S.CLOSED,)),
        (S.ROLLED_BACK, (S.CLOSED,)),
        (S.REJECTED, ()),
        (S.CANCELLED, ()),
        (S.CLOSED, ()),
    ],
)
def test_normal_change_moves(state: ChangeState, moves: tuple[ChangeState, ...]) -> None:
    assert allowed_moves(ChangeType.NORMAL, state) == moves
    assert allowed_moves(ChangeType.EMERGENCY, state) == moves


def test_an_approved_template_can_only_be_revoked() -> None:
    assert allowed_moves(ChangeType.STANDARD, S.APPROVED) == (S.REVOKED,)
    assert allowed_moves(ChangeType.STANDARD, S.SUBMITTED) == (S.APPROVED, S.REJECTED, S.CANCELLED)


def test_illegal_transition_names_the_allowed_ones() -> None:
    record = submitted()
    with pytest.raises(ChangeRefused) as info:
        transition(record, S.IN_PROGRESS, NOW)
    message = str(info.value)
    assert "submitted" in message
    assert "in_progress" in message
    assert "allowed from submitted: approved, rejected, cancelled" in message
    assert info.value.change_id == record.id
    assert info.value.exit_code == 3


def test_a_final_state_says_so() -> None:
    record = with_state(approved(), state=S.CLOSED)
    with pytest.raises(ChangeRefused, match="none: it is final"):
        transition(record, S.CANCELLED, NOW)


def test_transition_returns_a_new_record() -> None:
    record = approved()
    moved = transition(record, S.IN_PROGRESS, NOW)
    assert moved.state is S.IN_PROGRESS
    assert record.state is S.APPROVED
