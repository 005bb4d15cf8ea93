"""Run a shipped runbook's steps on one host offline: the engine's own StepRunner (when,
render, parse, grade) over a connection that answers with captured output.

Captured outputs live in tests/data/inspections/ (see the README there): device outputs by
command, Linux outputs by step name (their commands are shell pipelines).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from orchestrator.clock import ManualClock
from orchestrator.engine.context import host_facts, registered
from orchestrator.engine.executor import STEP_HOST_KIND
from orchestrator.engine.results import Status, StepResult
from orchestrator.engine.step import StepRunner
from orchestrator.inventory.model import Host
from orchestrator.runbook.loader import load_runbook
from orchestrator.runbook.model import CheckResult, Runbook, Step
from orchestrator.transports.base import Action, CommandResult

ROOT = Path(__file__).resolve().parents[3]
RUNBOOKS = ROOT / "runbooks"
DATA = ROOT / "tests" / "data" / "inspections"


def shipped(name: str) -> Runbook:
    return load_runbook(RUNBOOKS / f"{name}.yml")


def lab_group_vars(group: str) -> dict[str, Any]:
    """The lab's group_vars/<group>.yml as lab/lab-layout.py writes it (one source of truth)."""
    spec = importlib.util.spec_from_file_location("lab_layout", ROOT / "lab" / "lab-layout.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.GROUP_VARS[f"{group}.yml"].format(lab="/lab", bridge="10.98.0.1")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def file_name(text: str) -> str:
    return re.sub(r"\W+", "_", text).strip("_") + ".txt"


class Replay:
    """A Connection answering each command from ``answer(command, step)``."""

    def __init__(self, answer: Callable[[str, Step], str]) -> None:
        self.answer = answer
        self.step: Step | None = None
        self.commands: list[str] = []

    def run(self, action: Action, *, timeout: float) -> CommandResult:
        assert isinstance(action, str)
        assert self.step is not None
        self.commands.append(action)
        return CommandResult(action, self.answer(action, self.step))

    def close(self) -> None:
        pass


@dataclass
class Outcome:
    steps: dict[str, StepResult]
    commands: list[str]

    @property
    def checks(self) -> dict[str, CheckResult]:
        return {c.name: c for s in self.steps.values() for c in s.checks}

    def ran(self) -> list[str]:
        return [name for name, s in self.steps.items() if s.status is not Status.SKIPPED]


def run_offline(
    runbook: Runbook,
    host: Host,
    answer: Callable[[str, Step], str],
    *,
    now: datetime | None = None,
) -> Outcome:
    """Every step of ``runbook`` on ``host``, as the executor would run them (no connection)."""
    clock = ManualClock(now or datetime(2026, 1, 1, tzinfo=UTC))
    runner = StepRunner(runbook, clock, default_timeout=10)
    merged: dict[str, Any] = {**runbook.vars, **host.vars}
    context: dict[str, Any] = {
        **merged,
        "vars": merged,
        "host": host_facts(host),
        "run": {"id": "offline", "runbook": runbook.name, "operator": "test", "change": None},
    }
    conn = Replay(answer)
    results: dict[str, StepResult] = {}
    for index, step in enumerate(runbook.steps):
        if host.kind is not STEP_HOST_KIND[step.kind]:
            result = StepResult(step.name, index, Status.SKIPPED, error="other host kind")
        else:
            conn.step = step
            result = runner.run(index, step, conn, context, host)
        if step.register:
            context[step.register] = registered(result)
        results[step.name] = result
    return Outcome(results, conn.commands)


def device_answers(platform: str, state: str) -> Callable[[str, Step], str]:
    """Captured output of a fake device (tests/data/inspections/devices/PLATFORM/STATE)."""
    folder = DATA / "devices" / platform / state

    def answer(command: str, step: Step) -> str:
        path = folder / file_name(command)
        assert path.exists(), f"no captured output for {command!r} ({path})"
        return path.read_text()

    return answer


def linux_answers(
    state: str, overrides: Mapping[str, str] | None = None
) -> Callable[[str, Step], str]:
    """Captured stdout of each Linux step on a lab host in ``state`` (by step name)."""
    folder = DATA / "linux" / state

    def answer(command: str, step: Step) -> str:
        if overrides and step.name in overrides:
            return overrides[step.name]
        path = folder / file_name(step.name)
        assert path.exists(), f"no captured output for step {step.name!r} ({path})"
        return path.read_text()

    return answer


def captured_clock(state: str) -> datetime:
    """When the Linux outputs were captured (the clock-offset step printed the host's time)."""
    stamp = float((DATA / "linux" / state / "clock_offset.txt").read_text())
    return datetime.fromtimestamp(stamp, tz=UTC)
