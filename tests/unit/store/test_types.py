"""Column types: datetimes stored as UTC and read back aware; NUL-free text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from orchestrator.store.models import CleanText, UTCDateTime

CST = timezone(timedelta(hours=8))
SQLITE = sqlite.dialect()
PG = postgresql.dialect()


def test_sqlite_gets_naive_utc_and_gives_back_aware_utc() -> None:
    column = UTCDateTime()
    stored = column.process_bind_param(datetime(2026, 3, 1, 16, 0, tzinfo=CST), SQLITE)
    assert stored == datetime(2026, 3, 1, 8, 0)
    assert stored is not None
    assert stored.tzinfo is None
    back = column.process_result_value(stored, SQLITE)
    assert back == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert back is not None
    assert back.tzinfo is UTC


def test_postgresql_gets_aware_utc() -> None:
    column = UTCDateTime()
    stored = column.process_bind_param(datetime(2026, 3, 1, 16, 0, tzinfo=CST), PG)
    assert stored is not None
    assert stored.utcoffset() == timedelta(0)
    back = column.process_result_value(datetime(2026, 3, 1, 16, 0, tzinfo=CST), PG)
    assert back is not None
    assert back.tzinfo is UTC
    assert back == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_none_passes_and_naive_is_refused() -> None:
    column = UTCDateTime()
    assert column.process_bind_param(None, PG) is None
    assert column.process_result_value(None, PG) is None
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 1, 1), SQLITE)


def test_clean_text_replaces_nul() -> None:
    assert CleanText().process_bind_param("a\x00b", PG) == "a\ufffdb"
    assert CleanText().process_bind_param(None, PG) is None
