"""The change rules a site configures in orchestrator.toml: roles, approvals, freezes.

```toml
allow_user_override = false        # honour ORCH_USER (service accounts, demos)
allow_unrecorded_readonly = false  # lab use: read-only runs without any record (audited)

[roles]                            # user -> roles
alice = ["operator"]
bob = ["change-manager"]

[approvals]                        # approvals needed by risk (normal changes, templates)
high = 2

[[freeze]]                         # 封网期, local times in `timezone`
name = "year-end settlement"
start = 2026-12-25T00:00:00
end = 2027-01-04T00:00:00
reason = "financial close"
```

These tables are read from the settings file only (never from ORCH_* variables):
an environment variable must not be able to grant itself an approver role.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from orchestrator.changes.model import ChangeRecord, ChangeType, FreezePeriod, Risk, Role
from orchestrator.changes.moments import MOMENT_HINT, localize, zone
from orchestrator.errors import Problem, SettingsError

DEFAULT_APPROVALS: Mapping[Risk, int] = {Risk.LOW: 1, Risk.MEDIUM: 1, Risk.HIGH: 2}
# Seeds: "important moments" are booked at least three weeks ahead.
FREEZE_NOTICE = timedelta(days=21)


@dataclass(frozen=True)
class ChangeRules:
    roles: Mapping[str, frozenset[Role]] = field(default_factory=dict)
    approvals: Mapping[Risk, int] = field(default_factory=lambda: dict(DEFAULT_APPROVALS))
    freezes: tuple[FreezePeriod, ...] = ()
    allow_unrecorded_readonly: bool = False
    timezone: str = "Asia/Shanghai"
    freeze_notice: timedelta = FREEZE_NOTICE

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def roles_of(self, user: str) -> frozenset[Role]:
        return self.roles.get(user, frozenset())

    def has_role(self, user: str, allowed: frozenset[Role]) -> bool:
        return bool(self.roles_of(user) & allowed)

    def approvals_needed(self, record: ChangeRecord) -> int:
        """Emergency: one change-manager. Normal changes and templates: by risk."""
        if record.type is ChangeType.EMERGENCY:
            return 1
        return self.approvals.get(record.risk, DEFAULT_APPROVALS[record.risk])


# --- parsing the settings tables ----------------------------------------------------------


def parse_roles(raw: Any, origin: str) -> dict[str, frozenset[Role]]:
    if not isinstance(raw, Mapping):
        raise _error(origin, "roles", "expected a table of user = [roles]", _roles_hint())
    roles: dict[str, frozenset[Role]] = {}
    problems: list[Problem] = []
    for user, value in raw.items():
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names:
            problems.append(_problem(origin, f"roles.{user}", "expected a list of roles"))
            continue
        try:
            roles[str(user)] = frozenset(Role(str(n)) for n in names)
        except ValueError:
            problems.append(
                _problem(origin, f"roles.{user}", f"unknown role in {names!r}", _roles_hint())
            )
    if problems:
        raise SettingsError(problems)
    return roles


def parse_approvals(raw: Any, origin: str) -> dict[Risk, int]:
    hint = "e.g. [approvals] low = 1, medium = 1, high = 2"
    if not isinstance(raw, Mapping):
        raise _error(origin, "approvals", "expected a table of risk = count", hint)
    approvals = dict(DEFAULT_APPROVALS)
    for name, count in raw.items():
        try:
            risk = Risk(str(name))
        except ValueError:
            raise _error(origin, f"approvals.{name}", "unknown risk", hint) from None
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 10:
            raise _error(origin, f"approvals.{name}", f"expected 1..10, got {count!r}", hint)
        approvals[risk] = count
    return approvals


def parse_freezes(raw: Any, origin: str, tz: ZoneInfo) -> tuple[FreezePeriod, ...]:
    hint = "[[freeze]] with name, start, end and (optional) reason"
    if not isinstance(raw, list):
        raise _error(origin, "freeze", "expected an array of tables", hint)
    periods = []
    for index, item in enumerate(raw):
        where = f"freeze[{index}]"
        if not isinstance(item, Mapping) or not {"name", "start", "end"} <= set(item):
            raise _error(origin, where, "needs name, start and end", hint)
        unknown = set(item) - {"name", "start", "end", "reason"}
        if unknown:
            raise _error(origin, where, f"unknown key(s) {sorted(unknown)}", hint)
        start = _moment(item["start"], origin, f"{where}.start", tz)
        end = _moment(item["end"], origin, f"{where}.end", tz)
        try:
            periods.append(FreezePeriod(str(item["name"]), start, end, str(item.get("reason", ""))))
        except ValueError as exc:
            raise _error(origin, where, str(exc), hint) from None
    return tuple(periods)


def _moment(value: Any, origin: str, where: str, tz: ZoneInfo) -> datetime:
    """A TOML date-time (or ISO text); local values are in the settings time zone."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value.strip())
    if isinstance(value, datetime | date):
        return localize(value, tz)
    raise _error(origin, where, f"expected a date-time, got {value!r}", MOMENT_HINT)


def _roles_hint() -> str:
    return "roles: " + ", ".join(r.value for r in Role) + ' (e.g. alice = ["operator"])'


def _problem(origin: str, where: str, message: str, hint: str | None = None) -> Problem:
    return Problem(message, file=origin, field=where, hint=hint)


def _error(origin: str, where: str, message: str, hint: str | None = None) -> SettingsError:
    return SettingsError([_problem(origin, where, message, hint)])
