"""The one job function every stored job references: ``orchestrator.scheduler.jobs:fire``.

APScheduler stores jobs as text (function reference + plain-string arguments), so the
function cannot carry the daemon's state; the daemon binds its slot runner in a context
copied for each call (``bound_call``). Calling ``fire`` anywhere else is a bug.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol


class SlotRunner(Protocol):
    def run_slot(self, schedule: str, slot: datetime) -> object:
        """Run the slot this daemon claimed for ``schedule``."""
        ...


_RUNNER: contextvars.ContextVar[SlotRunner] = contextvars.ContextVar("orchestrator_slot_runner")


def fire(schedule: str, slot: str = "") -> object:
    """Run ``schedule`` for its slot ``slot`` (ISO 8601), as claimed by the daemon."""
    runner = _RUNNER.get(None)
    if runner is None:
        raise RuntimeError(f"{__name__}.fire is called by the scheduler daemon only")
    if not slot:
        raise ValueError(f"fire({schedule!r}) needs the slot time")
    return runner.run_slot(schedule, datetime.fromisoformat(slot))


def bound_call(runner: SlotRunner, call: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """``call(*args)`` to run later (in a worker thread) with ``runner`` bound."""
    context = contextvars.copy_context()
    context.run(_RUNNER.set, runner)
    return lambda: context.run(call, *args)
