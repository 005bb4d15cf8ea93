"""Retention: restic-like keep-last/daily/weekly/monthly over a year of nightly backups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from orchestrator.backups.retention import RetentionPolicy, Version, apply_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")


def nightly(days: int, start: datetime) -> list[Version]:
    return [Version(f"v{i:03d}", start + timedelta(days=i)) for i in range(days)]


def test_year_of_nightlies() -> None:
    versions = nightly(365, datetime(2025, 1, 1, 17, 0, tzinfo=UTC))  # 01:00 in Shanghai
    decision = apply_policy(
        versions,
        RetentionPolicy(keep_last=1, keep_daily=7, keep_weekly=4, keep_monthly=12),
        SHANGHAI,
    )
    kept = set(decision.keep)
    assert "v364" in kept  # newest
    assert {f"v{i}" for i in range(358, 365)} <= kept  # last 7 days
    assert len(kept) <= 1 + 7 + 4 + 12
    assert len(kept) + len(decision.drop) == 365
    assert "daily" in decision.keep["v360"]
    months = {v.created.astimezone(SHANGHAI).strftime("%Y-%m") for v in versions if v.id in kept}
    assert len(months) == 12


def test_days_are_counted_in_the_given_timezone() -> None:
    # 23:30 and 00:30 UTC+8 fall on two days in Shanghai but one day in UTC
    a = Version("a", datetime(2026, 3, 1, 15, 30, tzinfo=UTC))
    b = Version("b", datetime(2026, 3, 1, 16, 30, tzinfo=UTC))
    policy = RetentionPolicy(keep_last=0, keep_daily=2, keep_weekly=0, keep_monthly=0)
    assert set(apply_policy([a, b], policy, SHANGHAI).keep) == {"a", "b"}
    assert set(apply_policy([a, b], policy, UTC).keep) == {"b"}


def test_newest_always_kept_and_negative_rejected() -> None:
    v = [Version("only", datetime(2026, 1, 1, tzinfo=UTC))]
    zero = RetentionPolicy(keep_last=0, keep_daily=0, keep_weekly=0, keep_monthly=0)
    assert apply_policy(v, zero, UTC).keep == {"only": ("last",)}
    with pytest.raises(ValueError, match="keep_daily"):
        RetentionPolicy(keep_daily=-1)
