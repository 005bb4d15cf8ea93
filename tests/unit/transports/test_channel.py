"""Running one command on a channel: the remote command line and the reading loop.

The loop is driven by a scripted fake channel on a ManualClock; the command line
is executed by the local /bin/sh exactly as sshd would hand it to a login shell.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from orchestrator.clock import ManualClock
from orchestrator.errors import CommandTimeout, ConnectionLost
from orchestrator.transports.channel import collect, wrap_command


class ScriptedChannel:
    """Releases (time, kind, payload) events as the manual clock reaches their time."""

    def __init__(self, clock: ManualClock, script: list[tuple[float, str, object]]) -> None:
        self.clock = clock
        self.script = sorted(script, key=lambda e: e[0])
        self.out = b""
        self.err = b""
        self.status = -1
        self.status_set = False
        self.eof_received = False
        self.closed = False

    def _release(self) -> None:
        while self.script and self.script[0][0] <= self.clock.monotonic():
            _, kind, payload = self.script.pop(0)
            if kind == "out":
                self.out += payload  # type: ignore[operator]
            elif kind == "err":
                self.err += payload  # type: ignore[operator]
            elif kind == "status":
                self.status, self.status_set = int(payload), True  # type: ignore[call-overload]
            elif kind == "eof":
                self.eof_received = True
            elif kind == "close":
                self.closed = self.eof_received = True

    def recv_ready(self) -> bool:
        self._release()
        return bool(self.out)

    def recv(self, nbytes: int) -> bytes:
        data, self.out = self.out[:nbytes], self.out[nbytes:]
        return data

    def recv_stderr_ready(self) -> bool:
        self._release()
        return bool(self.err)

    def recv_stderr(self, nbytes: int) -> bytes:
        data, self.err = self.err[:nbytes], self.err[nbytes:]
        return data

    def exit_status_ready(self) -> bool:
        self._release()
        return self.status_set or self.closed

    def recv_exit_status(self) -> int:
        return self.status


def run(
    script: list[tuple[float, str, object]],
    *,
    deadline: float = 10.0,
    limit: int = 1024,
    alive_until: float = float("inf"),
) -> tuple[tuple[str, str, int], float]:
    clock = ManualClock()
    chan = ScriptedChannel(clock, script)
    result = collect(
        chan,
        alive=lambda: clock.monotonic() < alive_until,
        clock=clock,
        deadline=deadline,
        limit=limit,
        what="h1",
    )
    return result, clock.monotonic()


def test_collects_stdout_stderr_and_status_in_order() -> None:
    (out, err, status), _ = run(
        [
            (0.0, "out", b"line 1\n"),
            (0.5, "err", b"warn\n"),
            (1.0, "out", b"line 2\n"),
            (1.2, "eof", None),
            (1.2, "status", 0),
            (1.3, "close", None),
        ]
    )
    assert (out, err, status) == ("line 1\nline 2\n", "warn\n", 0)


def test_waits_for_eof_so_output_after_the_status_is_not_lost() -> None:
    (out, _, status), _ = run(
        [(0.1, "status", 2), (0.3, "out", b"late\n"), (0.4, "eof", None)],
    )
    assert (out, status) == ("late\n", 2)


def test_times_out_at_the_deadline() -> None:
    with pytest.raises(CommandTimeout, match="h1"):
        run([(0.0, "out", b"started\n"), (60.0, "status", 0)], deadline=3.0)


def test_timeout_is_raised_no_later_than_the_deadline_plus_one_poll() -> None:
    clock = ManualClock()
    chan = ScriptedChannel(clock, [(60.0, "status", 0)])
    with pytest.raises(CommandTimeout):
        collect(chan, alive=lambda: True, clock=clock, deadline=3.0, limit=10, what="h1")
    assert 3.0 <= clock.monotonic() <= 3.0 + 0.05


def test_a_dead_connection_is_connection_lost() -> None:
    with pytest.raises(ConnectionLost, match="connection lost"):
        run([(0.0, "out", b"x"), (60.0, "status", 0)], alive_until=1.0)


def test_channel_closed_without_status_on_a_dead_connection_is_connection_lost() -> None:
    with pytest.raises(ConnectionLost):
        run([(0.5, "close", None)], alive_until=0.4)


def test_channel_closed_without_status_on_a_live_connection_is_exit_255() -> None:
    (out, err, status), _ = run([(0.0, "out", b"partial"), (0.5, "close", None)])
    assert (out, status) == ("partial", 255)
    assert "without an exit status" in err


def test_output_is_bounded_per_stream() -> None:
    (out, err, _), _ = run(
        [(0.0, "out", b"a" * 100), (0.0, "err", b"b" * 10), (0.1, "eof", None), (0.1, "status", 0)],
        limit=40,
    )
    assert out.startswith("a" * 40 + "\n[orchestrator: output truncated, 60 of 100 bytes dropped]")
    assert err == "b" * 10


def sh(
    command: str, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the wrapped line the way sshd does: ``$SHELL -c LINE``."""
    base = {"SHELL": "/bin/sh", "PATH": os.environ["PATH"]}
    return subprocess.run(
        ["/bin/sh", "-c", wrap_command(command, timeout)],
        env=base | (env or {}),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("command", "stdout", "code"),
    [
        ("echo 'single' \"double\" $((1+2))", "single double 3\n", 0),
        ("X='a b'; printf '%s|' $X; echo", "a|b|\n", 0),
        ("echo it\\'s; exit 7", "it's\n", 7),
        ("df -P / | awk 'NR==2 {print \"ok\"}'", "ok\n", 0),
    ],
)
def test_wrapped_command_keeps_quoting_output_and_exit_code(
    command: str, stdout: str, code: int
) -> None:
    done = sh(command, timeout=10)
    assert (done.stdout, done.returncode) == (stdout, code)


def test_wrapped_command_is_killed_remotely_a_second_after_the_timeout() -> None:
    start = time.monotonic()
    done = sh("sleep 30", timeout=0.5)
    elapsed = time.monotonic() - start
    assert done.returncode == 124  # GNU timeout: the command was stopped
    assert 1.5 <= elapsed < 5


def test_wrapped_command_runs_without_timeout_installed(tmp_path: Path) -> None:
    done = sh("echo fine; exit 4", timeout=10, env={"PATH": str(tmp_path)})
    assert (done.stdout, done.returncode) == ("fine\n", 4)
