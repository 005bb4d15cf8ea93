"""Database URLs: bad ones are StoreErrors, passwords never appear in messages."""

from __future__ import annotations

import pytest

from orchestrator.errors import StoreError
from orchestrator.store.db import Database, mask_url
from orchestrator.store.models import RunRow


def test_password_is_masked() -> None:
    assert mask_url("postgresql://orch:s3cret@db.example:5432/orch") == (
        "postgresql://orch:***@db.example:5432/orch"
    )
    assert mask_url("not a url") == "<unparseable database URL>"


def test_bad_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        Database("not a url")


def test_unknown_dialect_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError, match=r"cannot use database nosuchdb://u:\*\*\*@h/d") as info:
        Database("nosuchdb://u:s3cret@h/d")
    assert "s3cret" not in str(info.value)
    assert "s3cret" not in repr(info.value)


def test_in_memory_sqlite_is_shared_between_sessions() -> None:
    db = Database("sqlite://")
    try:
        db.upgrade()
        with db.read_session() as s:
            assert s.query(RunRow).count() == 0
    finally:
        db.dispose()
