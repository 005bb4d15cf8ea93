"""Which backup versions a retention policy keeps (keep last N / daily / weekly / monthly).

Same semantics as restic's ``forget --keep-*``: versions newest first; for each
rule, walk them and keep the newest version of each distinct day (week, month)
until the rule has kept N periods. A version is kept if any rule keeps it; the
newest version is always kept. Periods are counted in the given timezone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo


@dataclass(frozen=True)
class RetentionPolicy:
    keep_last: int = 1
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_monthly: int = 12

    def __post_init__(self) -> None:
        for name in ("keep_last", "keep_daily", "keep_weekly", "keep_monthly"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


@dataclass(frozen=True)
class Version:
    id: str
    created: datetime  # timezone-aware


@dataclass(frozen=True)
class Decision:
    keep: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> rules that keep it
    drop: tuple[str, ...] = ()


_PERIODS: dict[str, Callable[[datetime], tuple[int, ...]]] = {
    "daily": lambda d: (d.year, d.month, d.day),
    "weekly": lambda d: tuple(d.isocalendar()[:2]),
    "monthly": lambda d: (d.year, d.month),
}


def apply_policy(versions: Sequence[Version], policy: RetentionPolicy, tz: tzinfo) -> Decision:
    ordered = sorted(versions, key=lambda v: v.created, reverse=True)
    reasons: dict[str, list[str]] = {v.id: [] for v in ordered}
    for version in ordered[: max(policy.keep_last, 1)]:
        reasons[version.id].append("last")
    for rule, period_of in _PERIODS.items():
        budget = getattr(policy, f"keep_{rule}")
        seen: set[tuple[int, ...]] = set()
        for version in ordered:
            if len(seen) >= budget:
                break
            period = period_of(version.created.astimezone(tz))
            if period not in seen:
                seen.add(period)
                reasons[version.id].append(rule)
    keep = {vid: tuple(why) for vid, why in reasons.items() if why}
    drop = tuple(v.id for v in ordered if v.id not in keep)
    return Decision(keep, drop)
