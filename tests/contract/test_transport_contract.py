"""The transport contract (orchestrator/transports/base.py), checked against real peers.

Every test runs for every transport: ssh and ansible against a lab linux host,
netmiko against each lab device platform. Needs the lab (`make lab-up` as root);
without it every test skips with that hint.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from orchestrator.errors import CommandTimeout, HostKeyRejected, HostUnreachable
from orchestrator.inventory.model import Host
from orchestrator.transports.base import CommandResult, Connection
from orchestrator.transports.hostkeys import KnownHostsFile, fingerprint, host_id
from orchestrator.transports.ssh import SshConnector

pytestmark = pytest.mark.lab

CONNECT_TIMEOUT = 10.0
RUN_TIMEOUT = 60.0


def known_hosts_without(source: Path, target: Path, host: Host) -> Path:
    """A copy of ``source`` without any line for ``host`` (by address and name)."""
    names = {host_id(host.address, host.port), host.name}
    kept = [
        line
        for line in source.read_text().splitlines()
        if not line.strip() or not names & set(line.split()[0].split(","))
    ]
    target.write_text("\n".join(kept) + "\n")
    return target


def known_hosts_with_wrong_key(source: Path, target: Path, host: Host, other: Host) -> Path:
    """A copy of ``source`` where ``host``'s entry carries ``other``'s key (same type)."""
    theirs = KnownHostsFile(source).keys_for(other.address, other.port)[0]
    known_hosts_without(source, target, host)
    with target.open("a") as f:
        f.write(f"{host_id(host.address, host.port)} {theirs.keytype} {theirs.key}\n")
    return target


def run_once(conn: Connection, action: Any, timeout: float = RUN_TIMEOUT) -> CommandResult:
    try:
        return conn.run(action, timeout=timeout)
    finally:
        conn.close()


def connect_and_run(
    connector: Any, host: Host, action: Any, connect_timeout: float = CONNECT_TIMEOUT
) -> CommandResult:
    """Connect and run once: ansible connects lazily, so its refusals come from ``run``."""
    return run_once(connector.connect(host, timeout=connect_timeout), action)


def marker_exists(lab_ssh: SshConnector, adapter: Any, path: str) -> bool:
    with lab_ssh.connect(adapter.host, timeout=CONNECT_TIMEOUT) as conn:
        return conn.run(f"test -e {path}", timeout=30).exit_code == 0


def test_connect_and_run_returns_the_output(adapter: Any, lab: Any) -> None:
    conn = adapter.connector(lab.known_hosts).connect(adapter.host, timeout=CONNECT_TIMEOUT)
    result = run_once(conn, adapter.ok_action)
    assert result.ok, result
    assert result.exit_code == 0
    assert adapter.ok_output in result.stdout.replace("\r\n", "\n")
    assert result.duration > 0
    assert result.command  # says what ran


def test_failing_action_is_a_result_not_an_exception(adapter: Any, lab: Any) -> None:
    conn = adapter.connector(lab.known_hosts).connect(adapter.host, timeout=CONNECT_TIMEOUT)
    result = run_once(conn, adapter.fail_action)
    assert not result.ok
    assert result.exit_code != 0
    if adapter.marker_action is not None:  # linux: the command's own exit code and stderr
        assert result.exit_code == 3
        assert "to-stderr" in result.stderr


def test_unreachable_host_raises_host_unreachable(adapter: Any, lab: Any) -> None:
    connector = adapter.connector(lab.known_hosts)
    start = time.monotonic()
    with pytest.raises(HostUnreachable) as raised:
        connect_and_run(connector, adapter.unreachable, adapter.ok_action, connect_timeout=5)
    assert not isinstance(raised.value, HostKeyRejected)
    assert "refused" in str(raised.value).lower()
    assert time.monotonic() - start < 5 + adapter.timeout_slack + 5


def test_unknown_host_key_is_refused_and_nothing_runs(
    adapter: Any, lab: Any, tmp_path: Path, lab_ssh: SshConnector
) -> None:
    known_hosts = known_hosts_without(lab.known_hosts, tmp_path / "known_hosts", adapter.host)
    before = known_hosts.read_bytes()
    marker = f"/tmp/orch-contract-{uuid.uuid4().hex}"
    action = adapter.marker_action(marker) if adapter.marker_action else adapter.ok_action
    called: list[tuple[str, str, str]] = []
    connector = adapter.connector(known_hosts, on_new=lambda *a: called.append(a))
    with pytest.raises(HostKeyRejected) as raised:
        connect_and_run(connector, adapter.host, action)
    message = str(raised.value)
    recorded = KnownHostsFile(lab.known_hosts).keys_for(adapter.host.address, adapter.host.port)
    assert recorded[0].keytype in message
    assert fingerprint(recorded[0].key) in message
    assert "--trust-new-host-keys" in message
    assert str(known_hosts) in message
    assert known_hosts.read_bytes() == before
    assert called == []
    if adapter.marker_action is not None:
        assert not marker_exists(lab_ssh, adapter, marker)


def test_trusted_new_host_key_is_recorded_and_reported(
    adapter: Any, lab: Any, tmp_path: Path
) -> None:
    known_hosts = known_hosts_without(lab.known_hosts, tmp_path / "known_hosts", adapter.host)
    called: list[tuple[str, str, str]] = []
    connector = adapter.connector(known_hosts, trust=True, on_new=lambda *a: called.append(a))
    conn = connector.connect(adapter.host, timeout=CONNECT_TIMEOUT)
    result = run_once(conn, adapter.ok_action)
    assert result.ok, result
    expected = KnownHostsFile(lab.known_hosts).keys_for(adapter.host.address, adapter.host.port)
    now = KnownHostsFile(known_hosts).keys_for(adapter.host.address, adapter.host.port)
    assert [(k.keytype, k.key) for k in now] == [(expected[0].keytype, expected[0].key)]
    assert called == [(adapter.host.name, expected[0].keytype, fingerprint(expected[0].key))]
    # A second connection finds the key recorded: no second callback.
    run_once(connector.connect(adapter.host, timeout=CONNECT_TIMEOUT), adapter.ok_action)
    assert len(called) == 1


def test_wrong_key_is_refused_even_when_trusting_new_keys(
    adapter: Any, lab: Any, tmp_path: Path
) -> None:
    assert adapter.other is not None
    known_hosts = known_hosts_with_wrong_key(
        lab.known_hosts, tmp_path / "known_hosts", adapter.host, adapter.other
    )
    before = known_hosts.read_bytes()
    called: list[tuple[str, str, str]] = []
    connector = adapter.connector(known_hosts, trust=True, on_new=lambda *a: called.append(a))
    with pytest.raises(HostKeyRejected) as raised:
        connect_and_run(connector, adapter.host, adapter.ok_action)
    assert "CHANGED" in str(raised.value)
    assert known_hosts.read_bytes() == before
    assert called == []


def test_timeout_raises_command_timeout_and_the_connection_stays_usable(
    adapter: Any, lab: Any
) -> None:
    conn = adapter.connector(lab.known_hosts).connect(adapter.host, timeout=CONNECT_TIMEOUT)
    try:
        start = time.monotonic()
        with pytest.raises(CommandTimeout):
            conn.run(adapter.slow_action, timeout=adapter.slow_timeout)
        elapsed = time.monotonic() - start
        assert adapter.slow_timeout <= elapsed < adapter.slow_timeout + adapter.timeout_slack
        after = conn.run(adapter.ok_action, timeout=RUN_TIMEOUT)
        assert after.ok, after
        assert adapter.ok_output in after.stdout.replace("\r\n", "\n")
    finally:
        conn.close()


def test_close_twice_is_safe(adapter: Any, lab: Any) -> None:
    conn = adapter.connector(lab.known_hosts).connect(adapter.host, timeout=CONNECT_TIMEOUT)
    assert conn.run(adapter.ok_action, timeout=RUN_TIMEOUT).ok
    conn.close()
    conn.close()
