"""The ssh transport's remote shell loop against a real sshd: one session for many
commands, a new loop when one ends, and a session per command where the loop cannot
run."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.inventory.model import Host
from orchestrator.transports.remote_shell import ShellSession
from orchestrator.transports.ssh import SshConnector

pytestmark = pytest.mark.lab

CONNECT_TIMEOUT = 10.0
# The command's shell is under `timeout`, which is under the loop: kill the loop a moment
# after the command has finished, from a job the command leaves behind.
KILL_THE_LOOP_LATER = (
    "loop=$(ps -o ppid= -p $PPID | tr -d ' '); "
    "(sleep 0.3; kill -9 $loop) </dev/null >/dev/null 2>&1 & echo started"
)
LOOP_PID = "ps -o ppid= -p $PPID | tr -d ' '"  # the command's shell < timeout < the loop


def test_commands_share_one_session_and_keep_their_own_output(lab: Any, linux_target: Host) -> None:
    with SshConnector(lab.known_hosts).connect(linux_target, timeout=CONNECT_TIMEOUT) as conn:
        sessions = {conn.run(LOOP_PID, timeout=10).stdout for _ in range(3)}
        first = conn.run("printf 'a\\nb'; echo err >&2; exit 5", timeout=10)
        second = conn.run("echo $X; X=1; echo done", timeout=10)
        third = conn.run('echo "${X:-unset}"', timeout=10)
    assert len(sessions) == 1  # one loop (one session) ran every command
    assert (first.stdout, first.stderr, first.exit_code) == ("a\nb", "err\n", 5)
    assert (second.stdout, second.exit_code) == ("\ndone\n", 0)
    assert third.stdout == "unset\n"  # no variable leaks from one command to the next


def test_a_loop_that_ended_between_commands_is_replaced(lab: Any, linux_target: Host) -> None:
    with SshConnector(lab.known_hosts).connect(linux_target, timeout=CONNECT_TIMEOUT) as conn:
        before = conn.run(LOOP_PID, timeout=10).stdout
        assert conn.run(KILL_THE_LOOP_LATER, timeout=10).stdout == "started\n"
        conn.run("sleep 1", timeout=10)  # the loop is killed under this one
        after = conn.run(LOOP_PID, timeout=10)
    assert after.exit_code == 0
    assert after.stdout != before  # a new session with a new loop


def test_a_shell_that_cannot_run_the_loop_gets_a_session_per_command(
    lab: Any, linux_target: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a login shell would that is not POSIX, or a forced command: the session ends
    # before the loop says anything.
    monkeypatch.setattr(ShellSession, "loop", lambda self: "exit 3")
    with SshConnector(lab.known_hosts).connect(linux_target, timeout=CONNECT_TIMEOUT) as conn:
        results = [conn.run("echo $SSH_CONNECTION; exit 2", timeout=10) for _ in range(2)]
    assert [r.exit_code for r in results] == [2, 2]
    assert all(len(r.stdout.split()) == 4 for r in results)
