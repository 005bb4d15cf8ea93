"""What every benchmark client runs: the shipped daily inspection, read at run time.

The runbook keeps changing (more checks, other thresholds), so nothing here is copied
from it: the orchestrator gets the file itself, retargeted at the benchmark's hosts, and
the other clients get its ``command:`` steps rendered with the runbook's ``vars:``
defaults by the engine's own template function.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from orchestrator.runbook.template import render

ROOT = Path(__file__).resolve().parents[1]
RUNBOOK = ROOT / "runbooks" / "daily-inspection.yml"
_TARGETS = re.compile(r"^targets:.*$", re.MULTILINE)


def retargeted_runbook(directory: Path, source: Path = RUNBOOK) -> Path:
    """A copy of the runbook aimed at every linux host (the bench picks them with --limit)."""
    text, count = _TARGETS.subn("targets: linux", source.read_text())
    if count != 1:
        raise SystemExit(f"{source}: expected one top-level 'targets:' line, found {count}")
    path = directory / source.name
    path.write_text(text)
    return path


def runbook_commands(source: Path = RUNBOOK) -> list[tuple[str, str]]:
    """(step name, rendered command line) of every ``command:`` step, in order."""
    book: dict[str, Any] = yaml.safe_load(source.read_text())
    defaults = book.get("vars") or {}
    commands = []
    for step in book["steps"]:
        if "command" in step:
            line = render(step["command"], defaults, shell_quote=not step.get("raw", False))
            commands.append((step["name"], line))
    if not commands:
        raise SystemExit(f"{source}: no command steps to benchmark")
    return commands
