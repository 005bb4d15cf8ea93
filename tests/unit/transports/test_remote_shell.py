"""The remote shell loop: its framing, run by local shells exactly as sshd would run it,
and the reading loop, driven by a scripted fake channel on a ManualClock."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from orchestrator.clock import ManualClock
from orchestrator.errors import CommandTimeout, ConnectionLost
from orchestrator.transports.output import BoundedOutput
from orchestrator.transports.remote_shell import (
    ShellEnded,
    ShellSession,
    StepStream,
    read_step,
    request,
    shell_loop,
)

NONCE = "0123456789abcdef0123456789abcdef"
SHELLS = [s for s in ("/bin/sh", "/bin/dash", "/bin/bash") if Path(s).exists()]


def loop(
    commands: list[tuple[str, float]], shell: str = "/bin/sh", path: str | None = None
) -> list[tuple[str, str, int]]:
    """Run ``commands`` through the loop as sshd would (``$SHELL -c LOOP``); split the
    streams back into (stdout, stderr, exit code) per command."""
    stdin = b"".join(request(NONCE, i, c, t) for i, (c, t) in enumerate(commands, 1))
    done = subprocess.run(
        [shell, "-c", shell_loop()],
        input=stdin,
        env={"SHELL": shell, "PATH": path or os.environ["PATH"]},
        capture_output=True,
        timeout=60,
        check=False,
    )
    results, rest_out, rest_err = [], done.stdout, done.stderr
    for i in range(1, len(commands) + 1):
        out = StepStream(NONCE, i, BoundedOutput(1 << 20), rest_out)
        err = StepStream(NONCE, i, BoundedOutput(1 << 20), rest_err)
        assert out.done, (i, done.stdout, done.stderr)
        assert err.done, (i, done.stdout, done.stderr)
        assert out.status is not None
        results.append((out.out.text(), err.out.text(), out.status))
        rest_out, rest_err = out.rest, err.rest
    assert (rest_out, rest_err) == (b"", b"")
    return results


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("echo 'single' \"double\" $((1+2))", ("single double 3\n", "", 0)),
        ("X='a b'; printf '%s|' $X; echo", ("a|b|\n", "", 0)),
        ("echo it\\'s; exit 7", ("it's\n", "", 7)),
        ("printf 'no newline'", ("no newline", "", 0)),
        ("printf 'two\\n\\n'", ("two\n\n", "", 0)),
        ("echo out; echo err >&2; exit 3", ("out\n", "err\n", 3)),
        ("printf '巡检\\n'; cat; echo after-cat", ("巡检\nafter-cat\n", "", 0)),
        ("echo one\necho two", ("one\ntwo\n", "", 0)),
        ("printf 'ends in a backslash \\\\'", ("ends in a backslash \\", "", 0)),
        ("  echo '  spaced  '  ", ("  spaced  \n", "", 0)),
        ("true", ("", "", 0)),
        ("", ("", "", 0)),
        (f"echo {NONCE}; echo '{NONCE} 1 +'", (f"{NONCE}\n{NONCE} 1 +\n", "", 0)),
        # the loop (the parent of `timeout`) does not show the nonce on its command line
        ("ps -o args= -p $(ps -o ppid= -p $PPID) | grep -c 'read -r N'", ("1\n", "", 0)),
        (f"ps -o args= -p $(ps -o ppid= -p $PPID) | grep -c {NONCE}", ("0\n", "", 1)),
        ("kill -9 $$", ("", "", 137)),
    ],
)
def test_each_command_comes_back_byte_for_byte(
    shell: str, command: str, expected: tuple[str, str, int]
) -> None:
    assert loop([(command, 10)], shell) == [expected]


@pytest.mark.parametrize("shell", SHELLS)
def test_commands_run_in_turn_each_in_a_fresh_shell(shell: str) -> None:
    results = loop([("X=1; cd /; echo $X", 10), ("echo ${X:-unset} $PWD", 10), ("exit 4", 10)])
    assert results[0] == ("1\n", "", 0)
    assert results[1][0] != "1 /\n"  # no variable or directory leaks into the next command
    assert results[1][0].startswith("unset ")
    assert results[2] == ("", "", 4)


def test_a_command_is_killed_remotely_a_second_after_its_timeout() -> None:
    start = time.monotonic()
    results = loop([("sleep 30", 0.5), ("echo next", 10)])
    elapsed = time.monotonic() - start
    assert results[0][2] == 124  # GNU timeout: the command was stopped
    assert results[1] == ("next\n", "", 0)
    assert 1.5 <= elapsed < 5


def test_commands_run_without_timeout_installed(tmp_path: Path) -> None:
    assert loop([("echo fine; exit 4", 10)], path=str(tmp_path)) == [("fine\n", "", 4)]


def test_a_request_out_of_step_ends_the_loop() -> None:
    done = subprocess.run(
        ["/bin/sh", "-c", shell_loop()],
        input=b"garbage 1 5\necho hi\n",
        capture_output=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (90, b"")


def frames(index: int, body: bytes, status: int = 0) -> bytes:
    return f"{NONCE} {index} +\n".encode() + body + f"\n{NONCE} {index} - {status}\n".encode()


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 1 << 20])
def test_stream_cut_into_any_chunks_gives_the_same_command_output(chunk: int) -> None:
    data = b"junk" + frames(1, b"first\n" + NONCE.encode(), 3) + frames(2, b"second", 0)
    first = StepStream(NONCE, 1, BoundedOutput(1000))
    for at in range(0, len(data), chunk):
        first.feed(data[at : at + chunk])
    assert (first.out.text(), first.status) == ("first\n" + NONCE, 3)
    second = StepStream(NONCE, 2, BoundedOutput(1000), first.rest)
    assert (second.out.text(), second.status, second.rest) == ("second", 0, b"")


def test_stream_output_is_bounded_and_counts_only_the_commands_bytes() -> None:
    stream = StepStream(NONCE, 1, BoundedOutput(10))
    for _ in range(100):
        stream.feed(frames(1, b"x" * 1000)[:0] or b"")
    stream.feed(frames(1, b"x" * 1000 + b"\n"))
    assert stream.out.total == 1001
    assert stream.out.text().startswith("x" * 10 + "\n[orchestrator: output truncated, 991 of 1001")


def test_a_garbled_closing_frame_is_connection_lost() -> None:
    stream = StepStream(NONCE, 1, BoundedOutput(10))
    with pytest.raises(ConnectionLost, match="garbled"):
        stream.feed(f"{NONCE} 1 +\nout\n{NONCE} 1 - nope\n".encode())


class ScriptedChannel:
    """Releases (time, kind, payload) events as the manual clock reaches their time."""

    def __init__(self, clock: ManualClock, script: list[tuple[float, str, bytes]]) -> None:
        self.clock = clock
        self.script = sorted(script, key=lambda e: e[0])
        self.out = self.err = b""
        self.eof_received = self.closed = False

    def _release(self) -> None:
        while self.script and self.script[0][0] <= self.clock.monotonic():
            _, kind, payload = self.script.pop(0)
            if kind == "out":
                self.out += payload
            elif kind == "err":
                self.err += payload
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
        return self.closed

    def recv_exit_status(self) -> int:
        return -1


def read(
    script: list[tuple[float, str, bytes]], *, deadline: float = 10.0, alive_until: float = 1e9
) -> tuple[tuple[str, str, int], float]:
    clock = ManualClock()
    chan = ScriptedChannel(clock, script)
    session = ShellSession(chan, nonce=NONCE)
    out, err = session.next_command(1000)
    status = read_step(
        chan,
        out,
        err,
        wait=clock.sleep,
        alive=lambda: clock.monotonic() < alive_until,
        clock=clock,
        deadline=deadline,
        what="h1",
    )
    return (out.out.text(), err.out.text(), status), clock.monotonic()


def test_read_step_waits_for_both_closing_frames() -> None:
    (out, err, status), at = read(
        [
            (0.0, "out", frames(1, b"line\n", 2)),
            (0.0, "err", f"{NONCE} 1 +\nwarn\n".encode()),
            (0.7, "err", f"\n{NONCE} 1 - 2\n".encode()),
        ]
    )
    assert (out, err, status) == ("line\n", "warn\n", 2)
    assert at >= 0.7


def test_read_step_times_out_at_the_deadline() -> None:
    with pytest.raises(CommandTimeout, match="h1"):
        read([(0.0, "out", f"{NONCE} 1 +\nstarted\n".encode())], deadline=3.0)


def test_read_step_on_a_dead_connection_is_connection_lost() -> None:
    with pytest.raises(ConnectionLost, match="connection lost"):
        read([(0.0, "out", f"{NONCE} 1 +\n".encode())], alive_until=1.0)


@pytest.mark.parametrize(("began", "script"), [(False, []), (True, [(0.0, "out", b"")])])
def test_read_step_tells_whether_the_command_began_when_the_shell_ends(
    began: bool, script: list[tuple[float, str, bytes]]
) -> None:
    if began:
        script = [(0.0, "out", f"{NONCE} 1 +\npartial".encode())]
    with pytest.raises(ShellEnded) as ended:
        read([*script, (0.5, "close", b"")])
    assert ended.value.began is began
