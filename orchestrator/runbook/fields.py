"""Reading typed fields out of loaded YAML while collecting every problem, not just the first.

Validation keeps going after a bad value so the user sees all problems at once:
readers record a ``Problem`` (file, line, field path, hint) and return None.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from orchestrator.errors import Problem
from orchestrator.runbook.durations import DURATION_HINT, parse_duration
from orchestrator.yamlfile import LineDict, LineList, line_of

E = TypeVar("E", bound=Enum)

_TYPE_NAMES = {
    bool: "true/false",
    int: "a whole number",
    float: "a number",
    str: "text",
    LineDict: "a mapping",
    dict: "a mapping",
    LineList: "a list",
    list: "a list",
    type(None): "nothing (null)",
}


# How to write a value of each expected type, for "must be ..." problems.
_TYPE_HINTS: dict[type, str] = {
    str: 'write text; quote it if it starts with a special character: "..."',
    bool: "write true or false (unquoted)",
    int: "write a whole number without quotes, e.g. 3",
    LineDict: "write key: value pairs, indented under this key",
    dict: "write key: value pairs, indented under this key",
    list: "write a list: one item per line, each starting with '- '",
}


def describe_type(value: Any) -> str:
    name = _TYPE_NAMES.get(type(value), type(value).__name__)
    if isinstance(value, bool | int | float | str) and len(repr(value)) <= 40:
        return f"{name} ({value!r})"
    return name


def suggest(word: str, choices: Collection[str]) -> str | None:
    """'did you mean ...?' for a near miss, else None."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


class Problems:
    """Problems found in one file, in the order they were found."""

    def __init__(self, file: Path | str) -> None:
        self.file = file
        self.items: list[Problem] = []

    def add(self, message: str, *, line: int | None, field: str | None, hint: str) -> None:
        self.items.append(Problem(message, file=self.file, line=line, field=field, hint=hint))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


class Section:
    """A YAML mapping at a field path (``steps[2].checks[0]``); typed readers report problems."""

    def __init__(self, problems: Problems, data: LineDict, path: str = "") -> None:
        self.problems = problems
        self.data = data
        self.path = path

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def line(self, key: str | None = None) -> int | None:
        return line_of(self.data, key)

    def error(self, key: str | None, message: str, hint: str) -> None:
        field = self.field(key) if key is not None else (self.path or None)
        self.problems.add(message, line=self.line(key), field=field, hint=hint)

    def has(self, key: str) -> bool:
        return key in self.data

    def only(self, allowed: Collection[str]) -> None:
        """Report every key not in ``allowed``, suggesting the nearest allowed one."""
        for key in self.data:
            if key in allowed:
                continue
            if not isinstance(key, str):
                self.problems.add(
                    f"key {key!r} is not text",
                    line=self.line(key),
                    field=self.path or None,
                    hint="keys are names such as name:, command:, checks:",
                )
                continue
            hint = suggest(key, allowed) or "allowed keys: " + ", ".join(sorted(allowed))
            self.error(key, f"unknown key {key!r}", hint)

    def get(
        self,
        key: str,
        expected: type | tuple[type, ...],
        *,
        required: bool = False,
        hint: str | None = None,
    ) -> Any:
        """The value if present and of the expected type; else None (and a problem).

        ``hint`` says how to write the value, for a missing or mistyped one.
        """
        if key not in self.data:
            if required:
                self.problems.add(
                    f"missing required key {key!r}",
                    line=self.line(),
                    field=self.field(key),
                    hint=hint or f"add '{key}:' to {self.path or 'the top level'}",
                )
            return None
        value = self.data[key]
        # bool is an int subclass in Python but never a number in a runbook.
        if isinstance(value, expected) and not (
            isinstance(value, bool) and bool not in _types(expected)
        ):
            return value
        wanted = " or ".join(
            dict.fromkeys(_TYPE_NAMES.get(t, t.__name__) for t in _types(expected))
        )
        type_hint = hint or _TYPE_HINTS.get(_types(expected)[0], "see docs/runbook-format.md")
        self.error(key, f"must be {wanted}, got {describe_type(value)}", type_hint)
        return None

    def text(self, key: str, *, required: bool = False, hint: str | None = None) -> str | None:
        value = self.get(key, str, required=required, hint=hint)
        if value is not None and not value.strip():
            self.error(key, "must not be empty", hint or "write a value or remove the key")
            return None
        return value  # type: ignore[no-any-return]

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key, bool)
        return default if value is None else bool(value)

    def integer(self, key: str, *, low: int, high: int, default: int | None) -> int | None:
        value = self.get(key, int)
        if value is None:
            return default
        if not low <= value <= high:
            self.error(
                key,
                f"must be between {low} and {high}, got {value}",
                f"use a whole number from {low} to {high}",
            )
            return default
        return int(value)

    def seconds(self, key: str, *, allow_zero: bool = False) -> float | None:
        if key not in self.data:
            return None
        try:
            seconds = parse_duration(self.data[key])
        except ValueError as exc:
            self.error(key, f"bad duration: {exc}", DURATION_HINT)
            return None
        if seconds == 0 and not allow_zero:
            self.error(key, "must be longer than 0 seconds", DURATION_HINT)
            return None
        return seconds

    def choice(self, key: str, enum: type[E], default: E) -> E:
        value = self.get(key, str)
        if value is None:
            return default
        values = [member.value for member in enum]
        try:
            return enum(value)
        except ValueError:
            hint = suggest(value, values) or "one of: " + ", ".join(values)
            self.error(key, f"unknown {key} {value!r}", hint)
            return default

    def section(self, key: str, *, required: bool = False) -> Section | None:
        value = self.get(key, LineDict, required=required)
        return None if value is None else Section(self.problems, value, self.field(key))


def _types(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def plain(value: Any) -> Any:
    """``value`` with LineDict/LineList turned into plain dicts/lists (for the model)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
