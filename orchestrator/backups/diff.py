"""Compare two versions of a configuration the way an operator wants to read it.

Both sides are masked (``secrets``) and volatile lines (timestamps devices write
into every config) are dropped before diffing, so the result is one of:
NEW (no earlier version), UNCHANGED, SECRET_ROTATED (only secret values differ),
CHANGED (with a unified diff of the masked text).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from orchestrator.backups.secrets import MaskedText, mask

# Lines that change on every save without anyone changing the config.
VOLATILE: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"^! Last configuration change at ",
        r"^! NVRAM config last updated at ",
        r"^! No configuration change since last restart",
        r"^ntp clock-period ",
        r"^Building configuration\.\.\.$",
        r"^Current configuration : \d+ bytes$",
        r"^#\s*(?:last|current) (?:saved|modified)",  # Huawei/H3C comment headers
        r"^\s*!Time: ",  # NX-OS
        r"^## Last commit: ",  # Junos
    )
)


class ChangeKind(Enum):
    NEW = "new"
    UNCHANGED = "unchanged"
    SECRET_ROTATED = "secret rotated"
    CHANGED = "changed"


@dataclass(frozen=True)
class ConfigDiff:
    kind: ChangeKind
    diff: str = ""  # unified diff of the masked, de-noised text (CHANGED only)
    added: int = 0
    removed: int = 0
    rotated: tuple[str, ...] = ()  # kinds of secrets whose values changed

    @property
    def changed(self) -> bool:
        return self.kind in (ChangeKind.CHANGED, ChangeKind.NEW)


def _stable(masked: MaskedText, volatile: Sequence[re.Pattern[str]]) -> list[str]:
    return [line for line in masked.text.splitlines() if not any(p.search(line) for p in volatile)]


def _rotated(old: MaskedText, new: MaskedText) -> tuple[str, ...]:
    before = sorted((s.kind, s.fingerprint) for s in old.secrets)
    after = sorted((s.kind, s.fingerprint) for s in new.secrets)
    if before == after:
        return ()
    gone = {k for k, f in before if (k, f) not in after}
    came = {k for k, f in after if (k, f) not in before}
    return tuple(sorted(gone | came))


def compare(
    old: str | None,
    new: str,
    *,
    labels: tuple[str, str] = ("previous", "current"),
    volatile: Sequence[re.Pattern[str]] = VOLATILE,
) -> ConfigDiff:
    masked_new = mask(new)
    if old is None:
        return ConfigDiff(ChangeKind.NEW, added=len(_stable(masked_new, volatile)))
    masked_old = mask(old)
    before, after = _stable(masked_old, volatile), _stable(masked_new, volatile)
    rotated = _rotated(masked_old, masked_new)
    if before == after:
        kind = ChangeKind.SECRET_ROTATED if rotated else ChangeKind.UNCHANGED
        return ConfigDiff(kind, rotated=rotated)
    lines = list(difflib.unified_diff(before, after, *labels, lineterm="", n=3))
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    return ConfigDiff(ChangeKind.CHANGED, "\n".join(lines), added, removed, rotated)
