"""SSH transport for linux hosts: fabric ``Connection`` over paramiko.

One TCP connection per host for the whole run; on it, one session runs a shell
loop (``remote_shell``) that runs the commands in turn, since a session per
command cost the host more than inspection commands do (a host whose shell
cannot run the loop gets a session per command, ``channel``). Nothing implicit:
no ``~/.ssh/config``, no ``look_for_keys``, no agent unless asked for, host keys
checked against *our* known_hosts through ``hostkeys.HostKeyVerifier`` (fabric 3
on its own would auto-add every key and load none).

Commands run through the user's login shell (a POSIX one: sh, bash, dash, zsh
...), under ``timeout`` when the host has it, so a command we stopped waiting
for is killed on the host as well (at most 1 s + 5 s later).
"""

from __future__ import annotations

import base64
import binascii
import errno
import logging
import os
import select
import socket
import threading
from pathlib import Path
from typing import Any

import fabric
import paramiko
from paramiko.pkey import UnknownKeyType
from paramiko.ssh_exception import (
    AuthenticationException,
    BadHostKeyException,
    NoValidConnectionsError,
    SSHException,
)

from orchestrator.clock import Clock, SystemClock
from orchestrator.errors import (
    AuthenticationFailed,
    CommandTimeout,
    ConnectionLost,
    HostKeyRejected,
    HostUnreachable,
    TransportError,
)
from orchestrator.inventory.model import Host
from orchestrator.transports.base import Action, CommandResult, NewHostKeyCallback
from orchestrator.transports.channel import collect, wrap_command
from orchestrator.transports.hostkeys import HostKeyVerifier, fingerprint, host_id
from orchestrator.transports.known_keys import KnownKeysIndex
from orchestrator.transports.remote_shell import ENDED_NOTE, ShellEnded, ShellSession, read_step

log = logging.getLogger(__name__)

KEEPALIVE = 30  # seconds; keeps idle connections alive through NAT/firewalls in long runs


class _HostKeyRefused(SSHException):
    """Carries our HostKeyRejected through paramiko (and netmiko, which wraps SSHException)."""

    def __init__(self, error: HostKeyRejected) -> None:
        super().__init__(str(error))
        self.error = error


class _VerifyingPolicy(paramiko.MissingHostKeyPolicy):
    """Called by paramiko when it has no key at all for the host (see _seed_host_keys)."""

    def __init__(self, verifier: HostKeyVerifier, host: Host) -> None:
        self.verifier = verifier
        self.host = host

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        try:
            self.verifier.verify(
                self.host.name, self.host.address, self.host.port, key.get_name(), key.get_base64()
            )
        except HostKeyRejected as exc:
            raise _HostKeyRefused(exc) from None


def _errno_text(exc: OSError) -> str:
    if exc.errno is None:
        return exc.strerror or str(exc)
    name = errno.errorcode.get(exc.errno, str(exc.errno))
    return f"{exc.strerror or os.strerror(exc.errno)} ({name})"


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def connect_error(
    exc: BaseException,
    where: str,
    timeout: float,
    *,
    verifier: HostKeyVerifier | None = None,
    host: Host | None = None,
) -> TransportError:
    """Map whatever paramiko (or a library wrapping it) raised while connecting.

    With ``verifier`` and ``host``, a key mismatch is worded by the verifier (every
    recorded fingerprint, line numbers); without them, generically.
    """
    for cause in _causes(exc):
        if isinstance(cause, TransportError):
            return cause
        if isinstance(cause, _HostKeyRefused):
            return cause.error
        if isinstance(cause, BadHostKeyException):
            return _mismatch(cause, where, verifier, host)
    if isinstance(exc, AuthenticationException):
        return AuthenticationFailed(f"{where}: authentication failed: {exc}")
    if isinstance(exc, NoValidConnectionsError):
        reasons = "; ".join(
            sorted(
                {_errno_text(e) if isinstance(e, OSError) else str(e) for e in exc.errors.values()}
            )
        )
        return HostUnreachable(f"cannot connect to {where}: {reasons}")
    if isinstance(exc, socket.gaierror):
        return HostUnreachable(f"cannot resolve {where}: {exc.strerror or exc}")
    if isinstance(exc, TimeoutError):
        return HostUnreachable(f"cannot connect to {where}: timed out after {timeout:g}s")
    if isinstance(exc, OSError):
        return HostUnreachable(f"cannot connect to {where}: {_errno_text(exc)}")
    if isinstance(exc, SSHException | EOFError):
        return HostUnreachable(
            f"SSH handshake with {where} failed: {str(exc) or type(exc).__name__}"
        )
    return HostUnreachable(f"cannot connect to {where}: {type(exc).__name__}: {exc}")


def _mismatch(
    exc: BadHostKeyException, where: str, verifier: HostKeyVerifier | None, host: Host | None
) -> HostKeyRejected:
    offered = exc.key
    if verifier is not None and host is not None:
        try:
            verifier.verify(
                host.name, host.address, host.port, offered.get_name(), offered.get_base64()
            )
        except HostKeyRejected as rejected:
            return rejected
    return HostKeyRejected(
        f"HOST KEY CHANGED for {where}: it offered {offered.get_name()} "
        f"{fingerprint(offered.get_base64())}, which does not match known_hosts"
    )


def fetch_host_key(address: str, port: int, timeout: float) -> tuple[str, str]:
    """(key type, base64 key) the server at address:port offers; no authentication."""
    where = host_id(address, port)
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except OSError as exc:
        raise connect_error(exc, where, timeout) from exc
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
        return key.get_name(), key.get_base64()
    except (SSHException, OSError, EOFError) as exc:
        raise connect_error(exc, where, timeout) from exc
    finally:
        transport.close()


class SshConnection:
    """One live SSH connection to a host; ``run`` sends each command to its remote shell."""

    def __init__(
        self, host: Host, conn: fabric.Connection, *, clock: Clock, max_output_bytes: int
    ) -> None:
        self.host = host
        self._conn = conn
        self._clock = clock
        self._limit = max_output_bytes
        self._closed = False
        self._where = f"{host.name} ({host.address}:{host.port})"
        self._shell: ShellSession | None = None
        self._per_command = False  # the host's shell cannot run the loop
        self._lock = threading.Lock()  # one command at a time on the shell

    def _alive(self) -> bool:
        transport = self._conn.transport
        return bool(transport is not None and transport.is_active())

    def run(self, action: Action, *, timeout: float) -> CommandResult:
        if not isinstance(action, str):
            raise TypeError("the ssh transport runs command lines; use ansible for module actions")
        with self._lock:
            if self._closed or not self._alive():
                raise ConnectionLost(f"{self._where}: the connection is closed")
            start = self._clock.monotonic()
            try:
                if self._per_command:
                    stdout, stderr, status = self._run_channel(action, timeout, start)
                else:
                    stdout, stderr, status = self._run_in_shell(action, timeout, start)
            except CommandTimeout:
                log.warning("%s: command timed out after %gs: %s", self._where, timeout, action)
                raise
            except (SSHException, OSError, EOFError) as exc:
                self._drop_shell()
                raise ConnectionLost(f"{self._where}: {type(exc).__name__}: {exc}") from exc
        duration = self._clock.monotonic() - start
        return CommandResult(action, stdout, stderr, status, duration)

    def _open_channel(self, timeout: float) -> Any:
        try:
            return self._conn.transport.open_session(timeout=max(timeout, 1.0))
        except (SSHException, OSError, EOFError) as exc:
            raise ConnectionLost(f"{self._where}: cannot open a channel: {exc}") from exc

    def _run_in_shell(self, command: str, timeout: float, start: float) -> tuple[str, str, int]:
        if self._shell is not None and (self._shell.chan.closed or self._shell.chan.eof_received):
            self._drop_shell()  # the loop ended between commands: start another
        if self._shell is None:
            self._shell = ShellSession(self._open_channel(timeout))
            self._shell.chan.exec_command(self._shell.loop())
        shell = self._shell
        out, err = shell.next_command(self._limit)
        try:
            shell.chan.sendall(shell.request(command, timeout))
            status = read_step(
                shell.chan,
                out,
                err,
                wait=lambda seconds: select.select([shell.chan], [], [], seconds),
                alive=self._alive,
                clock=self._clock,
                deadline=start + timeout,
                what=self._where,
            )
        except ShellEnded as ended:
            self._drop_shell()
            if ended.began:  # killed under the command, as a session of its own could be
                return out.out.text(), err.out.text() + ENDED_NOTE, 255
            log.info(
                "%s: the shell cannot run the command loop; a session per command", self._where
            )
            self._per_command = True
            return self._run_channel(command, timeout, start)
        except CommandTimeout:
            self._drop_shell()  # the killed command's frames would only delay the next one
            raise
        shell.keep_rest(out, err)
        return out.out.text(), err.out.text(), status

    def _drop_shell(self) -> None:
        if self._shell is not None:
            shell, self._shell = self._shell, None
            shell.chan.close()

    def _run_channel(self, command: str, timeout: float, start: float) -> tuple[str, str, int]:
        """The command on a session channel of its own."""
        chan = self._open_channel(timeout)
        try:
            chan.exec_command(wrap_command(command, timeout))
            chan.shutdown_write()  # the command sees EOF on stdin instead of waiting for input
            return collect(
                chan,
                alive=self._alive,
                clock=self._clock,
                deadline=start + timeout,
                limit=self._limit,
                what=self._where,
            )
        finally:
            # Closing only this channel keeps the connection usable for the next command.
            chan.close()

    def sftp(self) -> paramiko.SFTPClient:
        """An SFTP session on this same TCP connection (``transports.sftp``), opened once;
        closing the connection closes it."""
        sftp: paramiko.SFTPClient | None = getattr(self, "_sftp", None)
        if sftp is None or sftp.sock.closed:
            if self._closed or not self._alive():
                raise ConnectionLost(f"{self._where}: the connection is closed")
            sftp = self._conn.client.open_sftp()
            self._sftp = sftp
        return sftp

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._drop_shell()
            self._conn.close()

    def __enter__(self) -> SshConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SshConnector:
    """Opens ``SshConnection``s; one connector serves every host of a run (thread-safe)."""

    name = "ssh"

    def __init__(
        self,
        known_hosts: Path,
        *,
        trust_new_host_keys: bool = False,
        on_new_host_key: NewHostKeyCallback | None = None,
        default_user: str | None = None,
        default_key_file: Path | None = None,
        max_output_bytes: int = 16 * 1024 * 1024,
        allow_agent: bool = False,
        clock: Clock | None = None,
    ) -> None:
        self.verifier = HostKeyVerifier(
            known_hosts, trust_new_host_keys=trust_new_host_keys, on_new_host_key=on_new_host_key
        )
        self.known_keys = KnownKeysIndex(self.verifier.file)
        self.default_user = default_user
        self.default_key_file = default_key_file
        self.max_output_bytes = max_output_bytes
        self.allow_agent = allow_agent
        self.clock = clock or SystemClock()

    def _connect_kwargs(self, host: Host, timeout: float) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "look_for_keys": False,
            "allow_agent": self.allow_agent,
            "timeout": timeout,
            "banner_timeout": timeout,
            "auth_timeout": timeout,
        }
        key_file = host.key_file or self.default_key_file
        if key_file is not None:
            if not key_file.is_file():
                raise AuthenticationFailed(f"{host.name}: private key file {key_file} not found")
            kwargs["key_filename"] = str(key_file)
        if host.password is not None:
            kwargs["password"] = host.password
        return kwargs

    def _seed_host_keys(self, client: paramiko.SSHClient, host: Host) -> None:
        # Give paramiko the recorded keys so it asks the server for a known key type
        # and itself refuses a mismatch; unknown hosts go to _VerifyingPolicy.
        known = self.known_keys.keys_for(host.address, host.port)
        revoked = {k.key for k in known if k.marker}
        name = host_id(host.address, host.port)
        for k in known:
            if k.marker or k.key in revoked:
                continue
            try:
                key = paramiko.PKey.from_type_string(k.keytype, base64.b64decode(k.key))
            except (UnknownKeyType, SSHException, ValueError, binascii.Error):
                log.debug(
                    "known_hosts line %d: key type %s unusable by paramiko", k.line, k.keytype
                )
                continue
            client.get_host_keys().add(name, k.keytype, key)
        client.set_missing_host_key_policy(_VerifyingPolicy(self.verifier, host))

    def connect(self, host: Host, *, timeout: float) -> SshConnection:
        where = f"{host.name} ({host.address}:{host.port})"
        config = fabric.Config(lazy=True, ssh_config=paramiko.SSHConfig())  # no ssh_config files
        conn = fabric.Connection(
            host.address,
            user=host.user or self.default_user,
            port=host.port,
            config=config,
            connect_kwargs=self._connect_kwargs(host, timeout),
        )
        self._seed_host_keys(conn.client, host)
        try:
            conn.open()
        except Exception as exc:
            conn.close()
            raise connect_error(exc, where, timeout, verifier=self.verifier, host=host) from exc
        conn.transport.set_keepalive(KEEPALIVE)
        log.debug("connected to %s", where)
        return SshConnection(host, conn, clock=self.clock, max_output_bytes=self.max_output_bytes)
