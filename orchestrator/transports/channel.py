"""One command on an SSH session channel: the command line we send, and reading
the channel to the end with a deadline and bounded output.

Kept free of paramiko (``Channel`` is the protocol it needs) so the reading
loop is unit-tested with a fake channel and a manual clock.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable
from typing import Protocol

from orchestrator.clock import Clock
from orchestrator.errors import CommandTimeout, ConnectionLost
from orchestrator.transports.output import BoundedOutput

KILL_AFTER = 5  # seconds between the remote TERM and KILL of a timed-out command
_POLL_MAX = 0.05  # longest sleep between polls of a quiet channel


def wrap_command(command: str, timeout: float) -> str:
    """The command line sent to the host: the user's login shell under ``timeout``.

    The remote limit is a second past ours, so we time out first and report
    ``CommandTimeout``; the remote ``timeout`` then kills the whole process group.
    """
    limit = math.ceil(timeout) + 1
    shell = '"${SHELL:-/bin/sh}" -c ' + shlex.quote(command)
    return (
        "if command -v timeout >/dev/null 2>&1; "
        f"then exec timeout -k {KILL_AFTER} {limit} {shell}; else exec {shell}; fi"
    )


class Channel(Protocol):
    """The part of ``paramiko.Channel`` that ``collect`` uses (a fake in unit tests)."""

    closed: bool
    eof_received: bool

    def recv_ready(self) -> bool: ...
    def recv(self, nbytes: int) -> bytes: ...
    def recv_stderr_ready(self) -> bool: ...
    def recv_stderr(self, nbytes: int) -> bytes: ...
    def exit_status_ready(self) -> bool: ...
    def recv_exit_status(self) -> int: ...


def _drain(chan: Channel, out: BoundedOutput, err: BoundedOutput) -> bool:
    got = False
    while chan.recv_ready():
        data = chan.recv(65536)
        if not data:
            break
        out.feed(data)
        got = True
    while chan.recv_stderr_ready():
        data = chan.recv_stderr(65536)
        if not data:
            break
        err.feed(data)
        got = True
    return got


def collect(
    chan: Channel,
    *,
    alive: Callable[[], bool],
    clock: Clock,
    deadline: float,
    limit: int,
    what: str,
) -> tuple[str, str, int]:
    """Read a channel to the end: (stdout, stderr, exit code).

    ``alive()`` says whether the SSH connection is still up. Raises
    ``CommandTimeout`` at ``deadline`` (clock.monotonic() time) and
    ``ConnectionLost`` if the connection dies before the command ends.
    """
    out, err = BoundedOutput(limit), BoundedOutput(limit)
    pause = 0.001
    while True:
        got = _drain(chan, out, err)
        # Done once the server sent EOF (all data) and the exit status, or closed.
        if chan.closed or (chan.eof_received and chan.exit_status_ready()):
            break
        if got:
            pause = 0.001
            continue
        if not alive():
            raise ConnectionLost(f"{what}: connection lost while the command was running")
        now = clock.monotonic()
        if now >= deadline:
            raise CommandTimeout(f"{what}: no result after the timeout; the command was stopped")
        clock.sleep(min(pause, deadline - now))
        pause = min(pause * 2, _POLL_MAX)
    _drain(chan, out, err)
    status = chan.recv_exit_status()
    stderr = err.text()
    if status == -1:
        if not alive():
            raise ConnectionLost(f"{what}: connection lost before the command reported its exit")
        # OpenSSH sends exit-signal (which paramiko drops) when a signal killed the command.
        status = 255
        stderr += "[orchestrator: the command ended without an exit status (killed by a signal?)]\n"
    return out.text(), stderr, status
