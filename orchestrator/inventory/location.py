"""Where a piece of inventory came from (file and line), so errors can point at it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.errors import InventoryError, Problem


@dataclass(frozen=True)
class Where:
    """A file and (when known) a 1-based line in it."""

    file: Path
    line: int | None = None

    def at(self, line: int | None) -> Where:
        """The same file at another line (keeps this line when ``line`` is unknown)."""
        return Where(self.file, line if line is not None else self.line)

    def problem(
        self, message: str, *, field: str | None = None, hint: str | None = None
    ) -> Problem:
        return Problem(message, file=self.file, line=self.line, field=field, hint=hint)

    def error(
        self, message: str, *, field: str | None = None, hint: str | None = None
    ) -> InventoryError:
        """An ``InventoryError`` located here (the caller raises it)."""
        return InventoryError([self.problem(message, field=field, hint=hint)])

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else str(self.file)


def kind_of(value: Any) -> str:
    """'a list', 'a str' ... for messages about a value of the wrong type."""
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"
