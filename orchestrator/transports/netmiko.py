"""Network-device CLI transport: netmiko ``ConnectHandler`` (interactive shell over SSH).

``device_type`` is the host's ``platform`` var (a netmiko device_type). Login is
the host's ``ansible_user`` / ``ansible_password`` (or key file); enable mode uses
``ansible_become_password`` (else the login password) on platforms that have one
(netmiko's ``enable()`` is a no-op for those that do not, e.g. huawei).

Host keys: checked strictly against our known_hosts (``ssh_strict``,
``alt_key_file``, no system keys). A host with no recorded key gets its key
fetched first, so the refusal names the key type and fingerprint, and the
``--trust-new-host-keys`` path records it exactly as the ssh transport does.

Device error replies (``% Invalid input``, ``Error: Unrecognized command`` ...)
become ``exit_code=1`` with the reply as stdout: devices have no exit status.

Verified against the lab (fakenos 1.2.1, netmiko 4.8.0): cisco_ios, arista_eos,
huawei. fakenos cannot be made to sleep, so timeouts are checked there with a
10 ms limit on a long reply; netmiko notices a timeout between reads, which can
overrun the limit by a few seconds. After a timeout the session is dropped and
the next ``run`` opens a new one (the device could still answer and desync it).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from netmiko import ConnectHandler
from netmiko.exceptions import ReadTimeout

from orchestrator.clock import Clock, SystemClock
from orchestrator.errors import (
    AuthenticationFailed,
    CommandTimeout,
    ConnectionLost,
    HostUnreachable,
    TransportError,
)
from orchestrator.inventory.model import Host
from orchestrator.transports.base import Action, CommandResult, NewHostKeyCallback
from orchestrator.transports.hostkeys import HostKeyVerifier
from orchestrator.transports.output import bound_text
from orchestrator.transports.ssh import connect_error, fetch_host_key

log = logging.getLogger(__name__)

# First lines of a reply that mean "the device refused the command" (IOS, EOS, NX-OS,
# VRP, Comware, Junos, ...). Only the head is checked: configs may quote such text.
DEVICE_ERROR = re.compile(
    r"^\s*(% ?(Invalid|Incomplete|Ambiguous|Unknown|Unrecognized|Bad|Error)\b"
    r"|Error:\s"
    r"|syntax error\b"
    r"|(Invalid|Unknown|Unrecognized) (input|command)\b)",
    re.IGNORECASE,
)
_ERROR_HEAD_LINES = 4


def is_device_error(reply: str) -> bool:
    """Does the reply start (in its first non-blank lines) with a device error message?"""
    head = [line for line in reply.splitlines() if line.strip() and line.strip() != "^"]
    return any(DEVICE_ERROR.match(line) for line in head[:_ERROR_HEAD_LINES])


class NetmikoConnection:
    """A CLI session on one device. After a timeout the session is reopened on the next run."""

    def __init__(self, host: Host, connector: NetmikoConnector, connect_timeout: float) -> None:
        self.host = host
        self._connector = connector
        self._connect_timeout = connect_timeout
        self._session: Any = None
        self._closed = False
        self._where = f"{host.name} ({host.address}:{host.port})"

    def open(self) -> None:
        self._session = self._connector.open_session(self.host, self._connect_timeout)

    def run(self, action: Action, *, timeout: float) -> CommandResult:
        if not isinstance(action, str):
            raise TypeError("the netmiko transport runs CLI commands, not ansible actions")
        if self._closed:
            raise ConnectionLost(f"{self._where}: the connection is closed")
        if self._session is None:
            self.open()
        clock = self._connector.clock
        start = clock.monotonic()
        try:
            reply = self._session.send_command(action, read_timeout=timeout)
        except ReadTimeout as exc:
            # The device may still answer later and desync the prompt: start afresh.
            self._drop()
            raise CommandTimeout(f"{self._where}: no prompt after {timeout:g}s: {action}") from exc
        except Exception as exc:
            # A dropped socket shows up as OSError, EOFError or netmiko's own read/write
            # errors; either way the session is unusable: report it, reconnect next time.
            self._drop()
            raise ConnectionLost(f"{self._where}: {type(exc).__name__}: {exc}") from exc
        reply = bound_text(str(reply), self._connector.max_output_bytes)
        exit_code = 1 if is_device_error(reply) else 0
        return CommandResult(action, reply, "", exit_code, clock.monotonic() - start)

    def _drop(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.disconnect()  # netmiko's disconnect swallows its own errors

    def close(self) -> None:
        self._closed = True
        self._drop()

    def __enter__(self) -> NetmikoConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NetmikoConnector:
    name = "netmiko"

    def __init__(
        self,
        known_hosts: Path,
        *,
        trust_new_host_keys: bool = False,
        on_new_host_key: NewHostKeyCallback | None = None,
        default_user: str | None = None,
        default_key_file: Path | None = None,
        max_output_bytes: int = 16 * 1024 * 1024,
        clock: Clock | None = None,
    ) -> None:
        self.known_hosts = known_hosts
        self.verifier = HostKeyVerifier(
            known_hosts, trust_new_host_keys=trust_new_host_keys, on_new_host_key=on_new_host_key
        )
        self.default_user = default_user
        self.default_key_file = default_key_file
        self.max_output_bytes = max_output_bytes
        self.clock = clock or SystemClock()

    def connect(self, host: Host, *, timeout: float) -> NetmikoConnection:
        conn = NetmikoConnection(host, self, timeout)
        conn.open()
        return conn

    def params(self, host: Host, timeout: float) -> dict[str, Any]:
        """ConnectHandler keyword arguments for ``host``."""
        if not host.platform:
            raise HostUnreachable(f"{host.name}: no 'platform' var (the netmiko device_type)")
        password = host.password
        secret = host.vars.get("ansible_become_password", host.vars.get("ansible_become_pass"))
        key_file = host.key_file or self.default_key_file
        return {
            "device_type": host.platform,
            "host": host.address,
            "port": host.port,
            "username": host.user or self.default_user or "",
            "password": password or "",
            "secret": str(secret) if secret is not None else (password or ""),
            "use_keys": key_file is not None,
            "key_file": str(key_file) if key_file else None,
            "allow_agent": False,
            "ssh_strict": True,
            "system_host_keys": False,
            "alt_host_keys": True,
            "alt_key_file": str(self.known_hosts),
            "ssh_config_file": None,
            "conn_timeout": timeout,
            "auth_timeout": timeout,
            "banner_timeout": timeout,
            "fast_cli": False,
        }

    def open_session(self, host: Host, timeout: float) -> Any:
        where = f"{host.name} ({host.address}:{host.port})"
        params = self.params(host, timeout)
        if not self.verifier.is_known_host(host.address, host.port):
            keytype, key = fetch_host_key(host.address, host.port, timeout)
            self.verifier.verify(host.name, host.address, host.port, keytype, key)
        try:
            session = ConnectHandler(**params)
        except Exception as exc:
            raise _map_connect_error(exc, where, timeout, self.verifier, host) from exc
        try:
            session.enable()  # a no-op on platforms without an enable mode
        except (ValueError, ReadTimeout) as exc:
            session.disconnect()
            raise AuthenticationFailed(
                f"{where}: cannot enter enable mode (set ansible_become_password): {exc}"
            ) from exc
        log.debug("connected to %s (%s)", where, host.platform)
        return session


def _map_connect_error(
    exc: BaseException,
    where: str,
    timeout: float,
    verifier: HostKeyVerifier | None = None,
    host: Host | None = None,
) -> TransportError:
    # netmiko wraps paramiko's errors in NetmikoTimeoutException (an SSHException) with
    # the original as __context__: map the original.
    for cause in (exc, exc.__context__):
        if isinstance(cause, BaseException) and not _is_netmiko_wrapper(cause):
            return connect_error(cause, where, timeout, verifier=verifier, host=host)
    return connect_error(exc, where, timeout, verifier=verifier, host=host)


def _is_netmiko_wrapper(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("netmiko") and exc.__context__ is not None
