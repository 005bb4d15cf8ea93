"""Who may do what, and the rules about freezes and windows every check shares.

Pure functions over records and rules; ``workflow`` (people acting on records)
and ``decision`` (the gate) both use them so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from orchestrator.changes.model import ChangeRecord, ChangeRefused, FreezePeriod, Role
from orchestrator.changes.rules import ChangeRules

MAY_REQUEST = frozenset({Role.OPERATOR, Role.CHANGE_MANAGER, Role.ADMIN})
MAY_RUN = frozenset({Role.OPERATOR, Role.CHANGE_MANAGER, Role.ADMIN})
MAY_APPROVE = frozenset({Role.CHANGE_MANAGER})
MAY_REVIEW = frozenset({Role.CHANGE_MANAGER})
MAY_FREEZE = frozenset({Role.CHANGE_MANAGER, Role.ADMIN})
MAY_REVOKE = frozenset({Role.CHANGE_MANAGER, Role.ADMIN})


def describe_roles(roles: frozenset[Role]) -> str:
    return " or ".join(sorted(r.value for r in roles))


def require_role(
    rules: ChangeRules,
    user: str,
    allowed: frozenset[Role],
    doing: str,
    *,
    change_id: str | None = None,
    operation: str = "",
) -> None:
    if rules.has_role(user, allowed):
        return
    held = ", ".join(sorted(r.value for r in rules.roles_of(user))) or "no role"
    raise ChangeRefused(
        f"{user} may not {doing}: it needs the {describe_roles(allowed)} role and {user} has "
        f"{held} (roles are assigned in orchestrator.toml, [roles])",
        change_id=change_id,
        operation=operation,
    )


def freezes_overlapping(
    freezes: Iterable[FreezePeriod], start: datetime, end: datetime
) -> list[FreezePeriod]:
    return [f for f in freezes if f.overlaps(start, end)]


def describe_freeze(freeze: FreezePeriod) -> str:
    reason = f" ({freeze.reason})" if freeze.reason else ""
    return f"freeze {freeze.name!r}{reason} {freeze.start.isoformat()} – {freeze.end.isoformat()}"


def approval_status(record: ChangeRecord, rules: ChangeRules) -> str:
    """E.g. '1 of 2 approvals (high risk)'."""
    needed = rules.approvals_needed(record)
    why = "emergency" if record.type.value == "emergency" else f"{record.risk.value} risk"
    return f"{len(record.approvals)} of {needed} approval(s) ({why})"


def has_quorum(record: ChangeRecord, rules: ChangeRules) -> bool:
    """Enough approvals by people other than the requester (roles were checked on approval)."""
    return len(record.approvals) >= rules.approvals_needed(record)
