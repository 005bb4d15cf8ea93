"""One remote shell per connection that runs the host's steps one after another.

Opening an SSH session costs the host a fork of sshd's session process and a
login shell, and the controller several round trips: more than most inspection
commands themselves. So ``SshConnection`` starts ``shell_loop`` once per host and
sends each command over the session's stdin (``request``). For every command the
loop runs exactly what a fresh session would run — the user's login shell under
``timeout``, stdin at EOF (``/dev/null``) — and frames its output on both streams:

    <nonce> <index> +\\n  ...the command's output...  \\n<nonce> <index> - <exit code>\\n

The nonce is random per session and not shown to the commands, so no output
fakes a frame by accident. Only the
newline the loop adds before the closing frame is taken off again, so stdout and
stderr come back byte for byte. Kept free of paramiko (``Channel`` is the
protocol it needs) so the framing and the reading loop are unit-tested with a
fake channel and a manual clock.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.clock import Clock
from orchestrator.errors import CommandTimeout, ConnectionLost
from orchestrator.transports.channel import KILL_AFTER, Channel
from orchestrator.transports.output import BoundedOutput

# As a session's exit status -1 reads in ``channel.collect``.
ENDED_NOTE = "[orchestrator: the command ended without an exit status (killed by a signal?)]\n"
_WAIT_MAX = 0.25  # longest wait between checks of the connection and the deadline
_FRAME_END = re.compile(rb" (-?\d+)\n")

# POSIX sh (dash, bash, zsh, busybox): builtins only between commands, so a command costs
# the host what a session of its own would, minus the session. The loop reads the nonce
# (never on its command line, where `ps` would show it), then per command the line
# "<nonce> <index> <limit>" and the command's lines up to a line "<nonce>". Its own
# stderr goes nowhere: shells report a job killed by a signal ("Killed") there; the
# commands get the session's stderr as fd 2 (kept on fd 3). Commands run as background
# jobs waited for at once, which keeps that report off their stderr in dash too.
_LOOP = """exec 3>&2 2>/dev/null
IFS= read -r N || exit 90
t=
command -v timeout >/dev/null && t=1
while IFS=' ' read -r n i s; do
  [ "$n" = "$N" ] || exit 90
  c=
  while IFS= read -r l; do [ "$l" = "$N" ] && break; c="$c$l
"; done
  c=${c%?}
  printf '%s %s +\\n' "$N" "$i" >&3; printf '%s %s +\\n' "$N" "$i"
  if [ -n "$t" ]; then
    timeout -k {kill_after} "$s" "${SHELL:-/bin/sh}" -c "$c" </dev/null 2>&3 3>&- &
  else "${SHELL:-/bin/sh}" -c "$c" </dev/null 2>&3 3>&- & fi
  wait $!
  r=$?
  printf '\\n%s %s - %s\\n' "$N" "$i" "$r" >&3; printf '\\n%s %s - %s\\n' "$N" "$i" "$r"
done
"""


def new_nonce() -> str:
    return secrets.token_hex(16)


def shell_loop() -> str:
    """The command line of the session: the loop, for the user's login shell to run."""
    return _LOOP.replace("{kill_after}", str(KILL_AFTER))


def request(nonce: str, index: int, command: str, timeout: float) -> bytes:
    """What the loop reads for command ``index`` (1, 2, ...; the first one also carries
    the nonce). The remote limit is a second past ours (as ``channel.wrap_command``):
    we report the timeout, ``timeout`` kills what is left."""
    limit = math.ceil(timeout) + 1
    first = f"{nonce}\n" if index == 1 else ""
    return f"{first}{nonce} {index} {limit}\n{command}\n{nonce}\n".encode()


class StepStream:
    """One stream (stdout or stderr) of the loop, cut at the frames of one command.

    ``feed`` the stream's bytes as they come; the command's own bytes go to ``out``
    (bounded), anything after its closing frame stays in ``rest`` for the next one.
    """

    def __init__(self, nonce: str, index: int, out: BoundedOutput, rest: bytes = b"") -> None:
        self._open = f"{nonce} {index} +\n".encode()
        self._close = f"\n{nonce} {index} -".encode()
        self.out = out
        self.began = False
        self.status: int | None = None  # the exit code, once the closing frame is read
        self.rest = b""
        self._buf = b""
        if rest:
            self.feed(rest)

    @property
    def done(self) -> bool:
        return self.status is not None

    def feed(self, data: bytes) -> None:
        if self.done:
            self.rest += data
            return
        self._buf += data
        if not self.began:
            at = self._buf.find(self._open)
            if at < 0:
                return
            # Bytes before the opening frame belong to no command (a background job of
            # an earlier one, say): dropped.
            self._buf = self._buf[at + len(self._open) :]
            self.began = True
        self._scan()

    def _scan(self) -> None:
        at = self._buf.find(self._close)
        if at < 0:
            # Keep a tail that could be the start of the closing frame.
            keep = len(self._close) - 1
            if len(self._buf) > keep:
                self.out.feed(self._buf[:-keep])
                self._buf = self._buf[-keep:]
            return
        end = _FRAME_END.match(self._buf, at + len(self._close))
        if end is None:
            if b"\n" in self._buf[at + len(self._close) :]:
                raise ConnectionLost(f"garbled frame from the remote shell: {self._buf[at:]!r}")
            return  # the frame is still arriving
        self.out.feed(self._buf[:at])
        self.status = int(end.group(1))
        self.rest, self._buf = self._buf[end.end() :], b""


@dataclass
class ShellSession:
    """The session running the loop: its nonce, commands sent, bytes past the last frame."""

    chan: Any  # paramiko.Channel (its stubs type eof_received as int, not bool)
    nonce: str = field(default_factory=new_nonce)
    count: int = 0
    rest_out: bytes = b""
    rest_err: bytes = b""

    def loop(self) -> str:
        return shell_loop()

    def next_command(self, limit: int) -> tuple[StepStream, StepStream]:
        """Streams (stdout, stderr) for the next command, each keeping ``limit`` bytes."""
        self.count += 1
        return (
            StepStream(self.nonce, self.count, BoundedOutput(limit), self.rest_out),
            StepStream(self.nonce, self.count, BoundedOutput(limit), self.rest_err),
        )

    def request(self, command: str, timeout: float) -> bytes:
        return request(self.nonce, self.count, command, timeout)

    def keep_rest(self, out: StepStream, err: StepStream) -> None:
        self.rest_out, self.rest_err = out.rest, err.rest


class ShellEnded(Exception):
    """The loop's session ended before the command's closing frame (``began``: whether
    the command had started; if not, it can still be run another way)."""

    def __init__(self, began: bool) -> None:
        super().__init__("the remote shell ended")
        self.began = began


def _drain(chan: Channel, out: StepStream, err: StepStream) -> None:
    while chan.recv_ready():
        data = chan.recv(65536)
        if not data:
            break
        out.feed(data)
    while chan.recv_stderr_ready():
        data = chan.recv_stderr(65536)
        if not data:
            break
        err.feed(data)


def read_step(
    chan: Channel,
    out: StepStream,
    err: StepStream,
    *,
    wait: Callable[[float], object],
    alive: Callable[[], bool],
    clock: Clock,
    deadline: float,
    what: str,
) -> int:
    """Read both streams up to the command's closing frames; return its exit code.

    ``wait(seconds)`` returns early when the channel has something to read. Raises
    ``CommandTimeout`` at ``deadline`` (clock.monotonic() time), ``ConnectionLost`` if
    the connection dies, ``ShellEnded`` if the session ends under the command.
    """
    while True:
        _drain(chan, out, err)
        if out.done and err.done:
            assert out.status is not None
            return out.status
        if chan.closed or chan.eof_received:
            _drain(chan, out, err)  # data that came with the end
            if out.done and err.done:
                assert out.status is not None
                return out.status
            if not alive():
                raise ConnectionLost(f"{what}: connection lost while the command was running")
            raise ShellEnded(out.began or err.began)
        if not alive():
            raise ConnectionLost(f"{what}: connection lost while the command was running")
        now = clock.monotonic()
        if now >= deadline:
            raise CommandTimeout(f"{what}: no result after the timeout; the command was stopped")
        wait(min(deadline - now, _WAIT_MAX))
