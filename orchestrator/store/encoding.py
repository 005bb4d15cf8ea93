"""Turning engine values into what a JSON column (and `runs show --json`) can hold.

Plan options, run meta, parsed step output and check values are ``Any`` in the
engine. The database needs plain JSON, and PostgreSQL's ``json`` type refuses
``NaN``/``Infinity`` and NUL characters, so values are normalised once, here,
before they reach a row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from pathlib import PurePath
from typing import Any

# PostgreSQL text and json cannot hold NUL; U+FFFD keeps the position visible.
NUL_REPLACEMENT = "\ufffd"


def clean_text(text: str) -> str:
    """A string any supported database accepts (NUL replaced)."""
    return text.replace("\x00", NUL_REPLACEMENT) if "\x00" in text else text


def to_jsonable(value: Any) -> Any:
    """A JSON-safe copy of ``value``: numbers stay numbers, the rest becomes text.

    Mappings become dicts with string keys, sequences and sets become lists,
    enums their value, datetimes ISO 8601, non-finite floats the strings
    ``"nan"``/``"inf"``/``"-inf"``; anything else its ``str()``.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        return {clean_text(str(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        # Sorted by text so the stored form does not depend on hash order.
        return [to_jsonable(v) for v in sorted(value, key=str)]
    if isinstance(value, bytes):
        return clean_text(value.decode("utf-8", errors="replace"))
    return clean_text(str(value))
