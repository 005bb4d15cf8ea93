"""ansible-runner events of one host -> a CommandResult (or the TransportError to raise).

Pure logic, kept apart from ``ansible.py`` so it can be tested with captured events
(``tests/data/transports/ansible_events/``). Only the per-host ``runner_on_*``
events count; the play recap is ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.errors import (
    AuthenticationFailed,
    HostKeyRejected,
    HostUnreachable,
    TransportError,
)
from orchestrator.transports.base import CommandResult
from orchestrator.transports.hostkeys import TRUST_HINT
from orchestrator.transports.output import bound_text

HOST_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}
FAILED_EXIT = 2  # what ansible-playbook exits with when a host failed

_HOSTKEY_CHANGED = re.compile(
    r"REMOTE HOST IDENTIFICATION HAS CHANGED|host key .* has changed", re.I
)
_HOSTKEY_FAILED = re.compile(r"Host key verification failed|host key is known", re.I)
_AUTH_FAILED = re.compile(r"Permission denied|Authentication failed", re.I)


@dataclass(frozen=True)
class TaskOutcome:
    task: str
    status: str  # ok | failed | unreachable | skipped
    result: Mapping[str, Any] = field(default_factory=dict)
    ignored: bool = False  # failed, but the task has ignore_errors
    display: str = ""  # ansible's own output line(s) for it

    @property
    def changed(self) -> bool:
        return bool(self.result.get("changed", False))

    @property
    def counts_as_failure(self) -> bool:
        return self.status == "failed" and not self.ignored


def describe_action(action: Mapping[str, Any]) -> str:
    """What ran, for display: ``module {args}`` or the playbook path."""
    if "playbook" in action:
        return str(action["playbook"])
    args = action.get("args")
    if args is None or args == {}:
        return str(action["module"])
    text = args if isinstance(args, str) else json.dumps(args, sort_keys=True, default=str)
    return f"{action['module']} {text}"


def _display(event: Mapping[str, Any]) -> str:
    return str(event.get("stdout") or "").replace("\r\n", "\n")


def task_outcomes(events: Iterable[Mapping[str, Any]], host: str) -> list[TaskOutcome]:
    outcomes = []
    for event in events:
        status = HOST_EVENTS.get(str(event.get("event")))
        data = event.get("event_data") or {}
        if status is None or data.get("host") != host:
            continue
        outcomes.append(
            TaskOutcome(
                task=str(data.get("task", "")),
                status=status,
                result=dict(data.get("res") or {}),
                ignored=bool(data.get("ignore_errors")),
                display=_display(event),
            )
        )
    return outcomes


def unreachable_error(
    events: Iterable[Mapping[str, Any]], host: str, where: str, known_hosts: Path
) -> TransportError | None:
    """The error to raise if ansible could not reach the host, else None."""
    for outcome in task_outcomes(events, host):
        if outcome.status != "unreachable":
            continue
        msg = str(outcome.result.get("msg", "unreachable")).removeprefix("Task failed: ")
        if _HOSTKEY_CHANGED.search(msg):
            return HostKeyRejected(
                f"{where}: HOST KEY CHANGED (never trusted automatically; if the host was "
                f"rebuilt, verify the new key and replace the entry in {known_hosts}): {msg}"
            )
        if _HOSTKEY_FAILED.search(msg):
            return HostKeyRejected(f"{where}: {msg}; {TRUST_HINT.format(path=known_hosts)}")
        if _AUTH_FAILED.search(msg):
            return AuthenticationFailed(f"{where}: {msg}")
        return HostUnreachable(f"{where}: {msg}")
    return None


def _exit_code(failures: list[TaskOutcome], single_task: bool) -> int:
    if not failures:
        return 0
    rc = failures[0].result.get("rc")
    if single_task and isinstance(rc, int) and rc != 0:
        return rc
    return FAILED_EXIT


def _playbook_parts(
    outcomes: list[TaskOutcome], failures: list[TaskOutcome]
) -> tuple[str, str, dict[str, Any]]:
    stdout = "\n".join(o.display for o in outcomes if o.display) + "\n"
    stderr = "\n".join(str(o.result.get("stderr") or "") for o in failures).strip()
    tasks = [
        {
            "task": o.task,
            "status": o.status,
            "changed": o.changed,
            "ignored": o.ignored,
            "result": dict(o.result),
        }
        for o in outcomes
    ]
    return stdout, stderr, {"tasks": tasks}


def result_from_events(
    command: str,
    events: Iterable[Mapping[str, Any]],
    host: str,
    *,
    runner_rc: int,
    duration: float,
    single_task: bool,
    fallback_stdout: str = "",
    max_output_bytes: int = 16 * 1024 * 1024,
) -> CommandResult:
    """Fold a finished (not timed-out, reachable) run into one CommandResult.

    One module: stdout/stderr/rc of the module (``msg`` when it has no stdout),
    ``data`` = the module result. A playbook: stdout = ansible's own task lines,
    ``data`` = {"tasks": [...]}. No task for the host at all: the run's exit code,
    with ansible's output (a syntax error, say) as stdout.
    """
    events = list(events)
    outcomes = task_outcomes(events, host)
    failures = [o for o in outcomes if o.counts_as_failure]
    changed = any(o.changed for o in outcomes)
    if not outcomes:
        stdout = fallback_stdout
        if runner_rc == 0:
            stdout += f"no task ran on {host} (did the play's hosts: pattern match it?)\n"
        stdout = bound_text(stdout, max_output_bytes)
        return CommandResult(command, stdout, "", runner_rc, duration, changed=False)
    if single_task:
        result = outcomes[-1].result
        stdout = str(result.get("stdout") or result.get("msg") or "")
        stderr = str(result.get("stderr") or "")
        data: Mapping[str, Any] = dict(result)
    else:
        stdout, stderr, data = _playbook_parts(outcomes, failures)
    return CommandResult(
        command,
        bound_text(stdout, max_output_bytes),
        bound_text(stderr, max_output_bytes),
        _exit_code(failures, single_task),
        duration,
        changed=changed,
        data=data,
    )
