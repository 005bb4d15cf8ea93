"""Promises particular to one transport, checked against real peers.

ssh: one TCP connection per host for every command, bounded output, a dropped
connection. ansible: playbooks see the host's groups, nothing is left in HOME
or in the work dir, ansible's own errors come back as a failed result.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator.errors import ConnectionLost
from orchestrator.inventory.model import Host
from orchestrator.transports.ansible import AnsibleConnector
from orchestrator.transports.ssh import SshConnector

CONNECT_TIMEOUT = 10.0
# Walk up from the command to the sshd process serving this connection and kill it.
KILL_OWN_SSHD = (
    'p=$$; while [ "$(cat /proc/$p/comm)" != sshd ];'
    " do p=$(awk '{print $4}' /proc/$p/stat); done; kill -9 $p; sleep 20"
)


@pytest.mark.lab
def test_ssh_runs_every_command_over_one_connection(lab: Any, linux_target: Host) -> None:
    with SshConnector(lab.known_hosts).connect(linux_target, timeout=CONNECT_TIMEOUT) as conn:
        first = conn.run("echo $SSH_CONNECTION", timeout=30).stdout.split()
        second = conn.run("echo $SSH_CONNECTION", timeout=30).stdout.split()
    assert len(first) == 4  # client ip, client port, server ip, server port
    assert first[1] == second[1]  # same client source port: the same TCP connection


@pytest.mark.lab
def test_ssh_output_is_bounded(lab: Any, linux_target: Host) -> None:
    connector = SshConnector(lab.known_hosts, max_output_bytes=1000)
    with connector.connect(linux_target, timeout=CONNECT_TIMEOUT) as conn:
        result = conn.run("head -c 100000 /dev/zero | tr '\\0' x; echo; echo done", timeout=30)
    assert result.ok
    assert result.stdout.startswith("x" * 1000 + "\n[orchestrator: output truncated")
    assert "99006 of 100006 bytes dropped" in result.stdout  # 100000 x, "\n", "done\n"
    assert result.stdout.count("x") == 1000


@pytest.mark.lab
def test_ssh_utf8_and_stdin_closed(lab: Any, linux_target: Host) -> None:
    with SshConnector(lab.known_hosts).connect(linux_target, timeout=CONNECT_TIMEOUT) as conn:
        result = conn.run("printf '巡检\\n'; cat; echo after-cat", timeout=10)
    assert result.stdout == "巡检\nafter-cat\n"  # `cat` saw EOF instead of hanging


@pytest.mark.lab
def test_ssh_run_after_close_is_connection_lost(lab: Any, linux_target: Host) -> None:
    conn = SshConnector(lab.known_hosts).connect(linux_target, timeout=CONNECT_TIMEOUT)
    conn.close()
    with pytest.raises(ConnectionLost):
        conn.run("true", timeout=5)


@pytest.mark.lab
def test_ssh_connection_dropped_mid_command_is_connection_lost(
    lab: Any, linux_target: Host
) -> None:
    conn = SshConnector(lab.known_hosts).connect(linux_target, timeout=CONNECT_TIMEOUT)
    try:
        # The command kills its own sshd session process: the connection goes away.
        with pytest.raises(ConnectionLost):
            conn.run(KILL_OWN_SSHD, timeout=15)
    finally:
        conn.close()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.lab
def test_ansible_playbook_sees_the_hosts_groups_and_leaves_nothing_behind(
    lab: Any, linux_target: Host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    group = linux_target.groups[-1]
    write(
        tmp_path / "pb" / "site.yml",
        f"- hosts: {group}\n  gather_facts: false\n  tasks:\n"
        "    - name: say\n      ansible.builtin.command: echo from-playbook\n"
        "    - name: tolerated\n      ansible.builtin.command: 'false'\n"
        "      ignore_errors: true\n",
    )
    work = tmp_path / "work"
    connector = AnsibleConnector(work, lab.known_hosts, playbook_dir=tmp_path / "pb")
    with connector.connect(linux_target, timeout=CONNECT_TIMEOUT) as conn:
        result = conn.run({"playbook": "site.yml"}, timeout=120)
    assert result.ok, result
    assert result.changed is True
    tasks = [(t["task"], t["status"], t["ignored"]) for t in result.data["tasks"]]
    assert tasks == [("say", "ok", False), ("tolerated", "failed", True)]
    assert f"changed: [{linux_target.name}]" in result.stdout
    assert list(home.iterdir()) == []  # no ~/.ansible, no ~/.ssh
    assert list(work.iterdir()) == []  # the private data dir (secrets) is gone
    muxes = subprocess.run(["pgrep", "-f", str(work)], capture_output=True, check=False)
    assert muxes.stdout == b""  # no ssh ControlPersist master left running


@pytest.mark.lab
def test_ansible_failed_module_keeps_rc_and_output(
    lab: Any, linux_target: Host, tmp_path: Path
) -> None:
    connector = AnsibleConnector(tmp_path, lab.known_hosts)
    with connector.connect(linux_target, timeout=CONNECT_TIMEOUT) as conn:
        result = conn.run(
            {"module": "ansible.builtin.shell", "args": "echo out; echo err >&2; exit 5"},
            timeout=120,
        )
    assert (result.exit_code, result.stdout, result.stderr) == (5, "out", "err")
    assert result.data["rc"] == 5


# The tests below need no lab: ansible's own failures, on a local-connection host.
LOCAL = Host(
    "local1",
    {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
    groups=("all", "web"),
)


@pytest.fixture
def local_connector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AnsibleConnector:
    # With a local connection, ansible's "remote" temp dir is under this process's HOME.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return AnsibleConnector(tmp_path / "work", tmp_path / "known_hosts", playbook_dir=tmp_path)


def test_ansible_syntax_error_is_a_failed_result_with_ansibles_message(
    local_connector: AnsibleConnector, tmp_path: Path
) -> None:
    write(tmp_path / "bad.yml", "- hosts: all\n  tasks:\n    - debug: {msg: hi\n")
    result = local_connector.connect(LOCAL, timeout=5).run({"playbook": "bad.yml"}, timeout=60)
    assert result.exit_code == 4
    assert "YAML parsing failed" in result.stdout


def test_ansible_unknown_module_is_a_failed_result(local_connector: AnsibleConnector) -> None:
    result = local_connector.connect(LOCAL, timeout=5).run({"module": "no_such_mod"}, timeout=60)
    assert result.exit_code != 0
    assert "couldn't resolve module/action 'no_such_mod'" in result.stdout


def test_ansible_play_for_another_group_runs_nothing(
    local_connector: AnsibleConnector, tmp_path: Path
) -> None:
    write(tmp_path / "db.yml", "- hosts: db\n  tasks:\n    - debug: {msg: hi}\n")
    result = local_connector.connect(LOCAL, timeout=5).run({"playbook": "db.yml"}, timeout=60)
    assert result.exit_code == 0
    assert result.changed is False
    assert "no task ran on local1" in result.stdout
