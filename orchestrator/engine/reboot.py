"""The ``reboot:`` step: reboot a Linux host and wait until it is back (docs/rollouts.md).

1. read the boot id (``boot_id_file``, default ``/proc/sys/kernel/random/boot_id``);
2. run the reboot command (default ``reboot``); the connection dropping or the command
   hanging is what a reboot looks like, so neither is an error;
3. drop the host's connections, then every ``poll`` seconds try to connect and read the boot
   id again, until SSH answers *and* the id differs — an answer with the old id means the
   host has not gone down yet;
4. read the boot time (``boot_time_command``: the start of PID 1). Later steps reconnect.

Not back within ``timeout`` → the step (and so the host) FAILED. Lab hosts share the
machine's kernel: their inventory points ``boot_id_file`` at a per-boot file (lab/README.md).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from orchestrator.clock import Clock
from orchestrator.engine.results import Status, StepResult
from orchestrator.errors import (
    CommandTimeout,
    ConnectionLost,
    HostUnreachable,
    TransportError,
)
from orchestrator.runbook.durations import parse_duration
from orchestrator.runbook.model import Step, StepKind
from orchestrator.runbook.template import RenderError, evaluate, render_value
from orchestrator.transports.base import Connection

DEFAULT_BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"
# PID 1 started at boot: its start time is the boot time (also inside a lab host).
DEFAULT_BOOT_TIME = 'date -u -d "$(ps -o lstart= -p 1)" +%Y-%m-%dT%H:%M:%SZ'
_READ_TIMEOUT = 30.0  # seconds for reading the boot id / boot time
_ISSUE_TIMEOUT = 15.0  # seconds the reboot command may take before we stop waiting for it


def reboots_host(step: Step) -> bool:
    """An ansible ``reboot`` module step: the host's other connections do not survive it."""
    action = step.action
    if step.kind is not StepKind.ANSIBLE or not isinstance(action, Mapping):
        return False
    return str(action.get("module", "")).rsplit(".", 1)[-1] == "reboot"  # ansible.builtin.


class HostConnections(Protocol):
    """The host's lazily opened connections (``executor``): reused, or dropped together."""

    def get(self, kind: StepKind) -> Connection: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RebootSpec:
    command: str = "reboot"
    boot_id_file: str = DEFAULT_BOOT_ID_FILE
    timeout: float = 600.0
    poll: float = 2.0
    boot_time_command: str = DEFAULT_BOOT_TIME

    @classmethod
    def from_rendered(cls, values: Mapping[str, Any]) -> RebootSpec:
        """From the step's rendered spec; durations may be "10m" (ValueError if not)."""
        default = cls()
        return cls(
            command=str(values.get("command", default.command)),
            boot_id_file=str(values.get("boot_id_file", default.boot_id_file)),
            timeout=parse_duration(values.get("timeout", default.timeout)),
            poll=parse_duration(values.get("poll", default.poll)),
            boot_time_command=str(values.get("boot_time_command", default.boot_time_command)),
        )


@dataclass(frozen=True)
class _Back:
    boot_id: str = ""
    boot_time: str = ""
    error: str = ""


class Rebooter:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def run(
        self,
        index: int,
        step: Step,
        conns: HostConnections,
        context: Mapping[str, Any],
    ) -> StepResult:
        started = self.clock.now()
        try:
            if step.when is not None and not evaluate(step.when, context):
                return _result(
                    step, index, Status.SKIPPED, started, self.clock, error="when: false"
                )
            spec = RebootSpec.from_rendered(render_value(step.action, context))
        except (RenderError, ValueError, TypeError) as exc:
            return _result(step, index, Status.FAILED, started, self.clock, error=f"reboot: {exc}")
        try:
            before = _boot_id(conns.get(StepKind.COMMAND), spec)
        except HostUnreachable as exc:
            return _result(step, index, Status.UNREACHABLE, started, self.clock, error=str(exc))
        except TransportError as exc:
            why = f"cannot read the boot id from {spec.boot_id_file}: {exc}"
            return _result(step, index, Status.FAILED, started, self.clock, error=why)
        problem = _issue(conns, spec)
        if problem:
            return _result(step, index, Status.FAILED, started, self.clock, error=problem)
        issued = self.clock.now()
        back = self._wait(conns, spec, before, issued)
        waited = (self.clock.now() - issued).total_seconds()
        parsed = {
            "rebooted": not back.error,
            "boot_id_before": before,
            "boot_id_after": back.boot_id,
            "boot_time": back.boot_time,
            "waited_s": round(waited, 1),
        }
        if back.error:
            return _result(
                step, index, Status.FAILED, started, self.clock, error=back.error, parsed=parsed
            )
        summary = f"rebooted: boot id {before} -> {back.boot_id}, back after {waited:.1f}s" + (
            f", booted {back.boot_time}" if back.boot_time else ""
        )
        return _result(
            step,
            index,
            Status.CHANGED,
            started,
            self.clock,
            parsed=parsed,
            stdout=summary,
            command=spec.command,
        )

    def _wait(
        self, conns: HostConnections, spec: RebootSpec, before: str, issued: datetime
    ) -> _Back:
        """Poll until SSH answers with a new boot id, or the timeout passes."""
        last = "no answer yet"
        while True:
            self.clock.sleep(spec.poll)
            try:
                conn = conns.get(StepKind.COMMAND)
                now_id = _boot_id(conn, spec)
                if now_id != before:
                    return _Back(now_id, _boot_time(conn, spec))
                last = "it still answers with the old boot id (not down yet)"
            except TransportError as exc:  # refused, reset, timed out: still rebooting
                last = str(exc) or type(exc).__name__
            conns.close()
            if (self.clock.now() - issued).total_seconds() >= spec.timeout:
                return _Back(
                    error=f"not back within {spec.timeout:g}s after the reboot (SSH answering "
                    f"with a new boot id); last: {last}"
                )


def _boot_id(conn: Connection, spec: RebootSpec) -> str:
    out = conn.run(f"cat {shlex.quote(spec.boot_id_file)}", timeout=_READ_TIMEOUT)
    value = out.stdout.strip()
    if out.exit_code != 0 or not value:
        raise TransportError(f"exit code {out.exit_code}: {out.stderr.strip()[-200:]}")
    return value


def _boot_time(conn: Connection, spec: RebootSpec) -> str:
    try:
        out = conn.run(spec.boot_time_command, timeout=_READ_TIMEOUT)
    except TransportError:
        return ""  # evidence only: the host is back either way
    return out.stdout.strip() if out.exit_code == 0 else ""


def _issue(conns: HostConnections, spec: RebootSpec) -> str:
    """Run the reboot command; the error if it could not even start, else ""."""
    try:
        out = conns.get(StepKind.COMMAND).run(spec.command, timeout=_ISSUE_TIMEOUT)
    except (ConnectionLost, CommandTimeout):
        out = None  # the host went down under the command: that is the reboot
    except TransportError as exc:
        return f"reboot command {spec.command!r} failed: {exc}"
    finally:
        conns.close()
    if out is not None and out.exit_code != 0:
        detail = out.stderr.strip()[-200:]
        return f"reboot command {spec.command!r} exited {out.exit_code}: {detail}"
    return ""


def _result(
    step: Step,
    index: int,
    status: Status,
    started: datetime,
    clock: Clock,
    *,
    error: str = "",
    parsed: Any = None,
    stdout: str = "",
    command: str = "",
) -> StepResult:
    return StepResult(
        step.name,
        index,
        status,
        command=command,
        stdout=stdout,
        started=started,
        ended=clock.now(),
        error=error,
        changed=status is Status.CHANGED,
        parsed=parsed,
        exit_code=0 if status is Status.CHANGED else None,
    )
