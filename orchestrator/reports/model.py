"""What a report is made from: a run's results plus the facts around it, as plain data.

``reports`` sits beside ``store`` and may not import it: the app reads the stored
run and the earlier values of its check items and hands them over in a
``ReportInput``. Results are the engine's own dataclasses, so a report renders a
fresh run and a stored one alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from importlib import metadata
from typing import Any, Protocol

from orchestrator.engine.results import RunResult


class ReportFormat(StrEnum):
    HTML = "html"
    MD = "md"


class PastValue(Protocol):
    """One earlier measurement of a check item (``store.history`` provides these)."""

    @property
    def run_id(self) -> str: ...

    @property
    def when(self) -> datetime: ...

    @property
    def value(self) -> Any: ...


# (host, check item name) -> earlier values, newest first
History = Mapping[tuple[str, str], Sequence[PastValue]]


@dataclass(frozen=True)
class ReportInput:
    """Everything a report shows; nothing here is looked up later."""

    result: RunResult
    generated: datetime  # when the report is made (from the injected clock)
    kind: str = ""  # runbook kind: inspection | backup | patch | restore-verify | custom
    description: str = ""  # the runbook's description, when the runbook is still known
    operator: str = ""
    trigger: str = ""
    change_id: str | None = None
    change_policy: str = ""  # the runbook's `change:` (none | standard | required), if known
    gate_reason: str = ""
    limit: str | None = None
    planned_hosts: tuple[str, ...] = ()  # in plan order; hosts without a result never started
    history: History = field(default_factory=dict)
    item_names: Mapping[str, str] = field(default_factory=dict)  # extra zh names, by item name
    tool_version: str = ""

    @property
    def is_inspection(self) -> bool:
        return self.kind == "inspection"


def installed_version() -> str:
    """The installed orchestrator version, or "unknown" when run from a bare checkout."""
    try:
        return metadata.version("orchestrator")
    except metadata.PackageNotFoundError:
        return "unknown"
