"""How connect failures (paramiko's, and netmiko's wrappers of them) become our errors."""

from __future__ import annotations

import base64
import errno
import json
import os
import socket
from pathlib import Path

import paramiko
import pytest
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException
from paramiko.ssh_exception import (
    AuthenticationException,
    BadAuthenticationType,
    BadHostKeyException,
    NoValidConnectionsError,
    SSHException,
)

from orchestrator.errors import (
    AuthenticationFailed,
    HostKeyRejected,
    HostUnreachable,
    TransportError,
)
from orchestrator.inventory.model import Host
from orchestrator.transports.hostkeys import HostKeyVerifier, fingerprint
from orchestrator.transports.netmiko import _map_connect_error
from orchestrator.transports.ssh import _HostKeyRefused, connect_error

WHERE = "h1 (10.98.0.10:22)"
DATA = Path(__file__).parents[2] / "data" / "transports"


def refused(address: str = "10.98.0.10") -> NoValidConnectionsError:
    err = ConnectionRefusedError(errno.ECONNREFUSED, os.strerror(errno.ECONNREFUSED))
    return NoValidConnectionsError({(address, 22): err})


def exact_type(exc: TransportError) -> type[TransportError]:
    return type(exc)


@pytest.mark.parametrize(
    ("raised", "kind", "words"),
    [
        (
            refused(),
            HostUnreachable,
            ["cannot connect to h1", "Connection refused", "ECONNREFUSED"],
        ),
        (
            OSError(errno.EHOSTUNREACH, os.strerror(errno.EHOSTUNREACH)),
            HostUnreachable,
            ["No route to host", "EHOSTUNREACH"],
        ),
        (
            OSError(errno.ENETUNREACH, os.strerror(errno.ENETUNREACH)),
            HostUnreachable,
            ["Network is unreachable"],
        ),
        (TimeoutError("timed out"), HostUnreachable, ["timed out after 5s"]),
        (
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            HostUnreachable,
            ["cannot resolve", "Name or service not known"],
        ),
        (
            SSHException("Error reading SSH protocol banner"),
            HostUnreachable,
            ["handshake", "banner"],
        ),
        (EOFError(), HostUnreachable, ["handshake", "EOFError"]),
        (
            AuthenticationException("Authentication failed."),
            AuthenticationFailed,
            ["authentication"],
        ),
        (
            BadAuthenticationType("Bad authentication type", ["publickey"]),
            AuthenticationFailed,
            ["publickey"],
        ),
        (ValueError("odd"), HostUnreachable, ["ValueError: odd"]),
    ],
)
def test_connect_error_mapping(raised: BaseException, kind: type, words: list[str]) -> None:
    error = connect_error(raised, WHERE, 5)
    assert exact_type(error) is kind
    for word in words:
        assert word in str(error)
    assert WHERE.split(maxsplit=1)[0] in str(error)


def _netmiko_wrapped(original: BaseException, wrapper: BaseException) -> BaseException:
    try:
        try:
            raise original
        except BaseException:
            raise wrapper  # noqa: B904 - netmiko raises without `from`: __context__ holds it
    except BaseException as exc:
        return exc


def test_our_host_key_refusal_passes_through_paramiko_and_netmiko_wrapping() -> None:
    ours = HostKeyRejected("host key for h1 is not known: ssh-ed25519 SHA256:x")
    # netmiko turns any SSHException from connect() into NetmikoTimeoutException.
    wrapped = _netmiko_wrapped(_HostKeyRefused(ours), NetmikoTimeoutException("paramiko error"))
    assert connect_error(wrapped, WHERE, 5) is ours
    assert _map_connect_error(wrapped, WHERE, 5) is ours


def test_netmiko_tcp_failure_is_mapped_from_the_original_socket_error() -> None:
    wrapped = _netmiko_wrapped(
        refused("127.0.0.1"), NetmikoTimeoutException("TCP connection failed")
    )
    error = _map_connect_error(wrapped, "sw1 (127.0.0.1:6001)", 5)
    assert type(error) is HostUnreachable
    assert "Connection refused" in str(error)


def test_netmiko_authentication_failure_is_authentication_failed() -> None:
    wrapped = _netmiko_wrapped(
        AuthenticationException("Authentication failed."),
        NetmikoAuthenticationException("Authentication to device failed."),
    )
    assert type(_map_connect_error(wrapped, "sw1", 5)) is AuthenticationFailed


def _pkey(name: str) -> paramiko.PKey:
    keys = json.loads((DATA / "known_hosts_keys.json").read_text())
    return paramiko.PKey.from_type_string(
        keys[name]["keytype"], base64.b64decode(keys[name]["key"])
    )


def test_bad_host_key_is_host_key_rejected_never_unreachable() -> None:
    mismatch = BadHostKeyException("10.0.0.5", _pkey("other"), _pkey("ed"))
    error = connect_error(mismatch, WHERE, 5)
    assert type(error) is HostKeyRejected
    assert "HOST KEY CHANGED" in str(error)
    assert fingerprint(_pkey("other").get_base64()) in str(error)


def test_bad_host_key_through_netmiko_is_worded_by_the_verifier(tmp_path: Path) -> None:
    kh = tmp_path / "known_hosts"
    kh.write_text((DATA / "known_hosts").read_text())
    verifier = HostKeyVerifier(kh, trust_new_host_keys=True)
    host = Host("db1", {"ansible_host": "10.0.0.5"})
    mismatch = BadHostKeyException("10.0.0.5", _pkey("other"), _pkey("ed"))
    wrapped = _netmiko_wrapped(mismatch, NetmikoTimeoutException("paramiko SSHException"))
    error = _map_connect_error(wrapped, "db1", 5, verifier, host)
    assert type(error) is HostKeyRejected
    assert "(line 3)" in str(error)  # the verifier names the recorded entry
    assert kh.read_text() == (DATA / "known_hosts").read_text()  # trust never applies
