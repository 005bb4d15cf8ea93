"""Values going into JSON columns: numbers stay numbers, the rest becomes JSON-safe."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from types import MappingProxyType

from orchestrator.store.encoding import clean_text, to_jsonable


class Colour(Enum):
    RED = "red"


def test_numbers_and_plain_values_are_kept() -> None:
    assert to_jsonable({"a": 1, "b": 2.5, "c": True, "d": None, "e": "中文"}) == {
        "a": 1,
        "b": 2.5,
        "c": True,
        "d": None,
        "e": "中文",
    }


def test_other_values_become_json_safe() -> None:
    value = {
        1: (Colour.RED, datetime(2026, 1, 1, tzinfo=UTC)),
        "p": Path("/var/log"),
        "m": MappingProxyType({"k": {3, 1, 2}}),
        "b": b"\xffraw",
        "o": complex(1, 2),
    }
    out = to_jsonable(value)
    assert out == {
        "1": ["red", "2026-01-01T00:00:00+00:00"],
        "p": "/var/log",
        "m": {"k": [1, 2, 3]},
        "b": "\ufffdraw",
        "o": "(1+2j)",
    }
    json.dumps(out, allow_nan=False)


def test_non_finite_floats_and_nul_are_made_storable() -> None:
    out = to_jsonable([float("nan"), float("inf"), -float("inf"), "a\x00b"])
    assert out == ["nan", "inf", "-inf", "a\ufffdb"]
    json.dumps(out, allow_nan=False)
    assert clean_text("no nul") == "no nul"
