"""Files to and from a host over SFTP, on the host's existing SSH connection.

The SFTP subsystem is one more channel on the TCP connection the ssh transport
already holds (``SshConnection.sftp()``), so backing up files costs no second
login. Bytes stay bytes (configs are stored exactly as read). paramiko is not
imported here (its home is ``transports.ssh``): its errors are mapped by kind —
``OSError`` with an errno for remote file problems, anything else for a dropped
session.
"""

from __future__ import annotations

import errno
import logging
from typing import Any, Protocol

from orchestrator.errors import ConnectionLost, TransportError
from orchestrator.inventory.model import Host

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024


class FileMissing(TransportError):
    """The remote path does not exist (not a connection problem)."""


class SftpCapable(Protocol):
    host: Host

    def sftp(self) -> Any:
        """The SFTP client on this connection (opened once, closed with the connection)."""
        ...


def _client(conn: SftpCapable, timeout: float) -> Any:
    where = conn.host.name
    try:
        client = conn.sftp()
        client.get_channel().settimeout(max(timeout, 1.0))
    except OSError as exc:
        raise ConnectionLost(f"{where}: cannot open an SFTP session: {exc}") from exc
    except Exception as exc:  # paramiko.SSHException: no sftp subsystem, channel refused
        raise TransportError(
            f"{where}: cannot open an SFTP session ({type(exc).__name__}: {exc}); "
            "is the sftp subsystem enabled in sshd_config?"
        ) from exc
    return client


def _mapped(exc: BaseException, where: str, path: str, doing: str) -> TransportError:
    if isinstance(exc, OSError) and exc.errno == errno.ENOENT:
        return FileMissing(f"{where}: {path}: no such file")
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM):
        return TransportError(f"{where}: {path}: permission denied ({doing})")
    if isinstance(exc, TimeoutError):
        return ConnectionLost(f"{where}: SFTP timed out {doing} {path}")
    if isinstance(exc, OSError) and exc.errno is not None:
        return TransportError(f"{where}: {path}: {exc.strerror or exc} ({doing})")
    return ConnectionLost(f"{where}: SFTP failed {doing} {path}: {type(exc).__name__}: {exc}")


def _read_all(handle: Any, limit: int) -> bytes:
    # In chunks: one paramiko read of the whole prefetched file is quadratic (48 MB: 33 s
    # instead of 0.7 s).
    chunks: list[bytes] = []
    got = 0
    while got < limit and (chunk := handle.read(min(CHUNK, limit - got))):
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def fetch_file(conn: SftpCapable, path: str, *, max_bytes: int, timeout: float) -> bytes:
    """The bytes of a remote regular file; FileMissing if there is none."""
    where = conn.host.name
    client = _client(conn, timeout)
    try:
        attrs = client.stat(path)
        size = int(attrs.st_size or 0)
        if size > max_bytes:
            raise TransportError(
                f"{where}: {path} is {size} bytes, more than the {max_bytes} a backup may fetch "
                "(setting backup_max_bytes)"
            )
        with client.open(path, "rb") as handle:
            handle.prefetch(size)
            data = _read_all(handle, max_bytes + 1)
    except TransportError:
        raise
    except Exception as exc:
        raise _mapped(exc, where, path, "reading") from exc
    if len(data) > max_bytes:
        raise TransportError(f"{where}: {path} grew past {max_bytes} bytes while being read")
    log.debug("%s: fetched %s (%d bytes)", where, path, len(data))
    return data


def put_file(
    conn: SftpCapable, data: bytes, path: str, *, timeout: float, mode: int = 0o600
) -> None:
    """Write ``data`` to a new remote file (owner-only by default)."""
    where = conn.host.name
    client = _client(conn, timeout)
    try:
        with client.open(path, "wb") as handle:
            handle.set_pipelined(True)
            for start in range(0, len(data), CHUNK):
                handle.write(data[start : start + CHUNK])
        client.chmod(path, mode)
    except Exception as exc:
        raise _mapped(exc, where, path, "writing") from exc
    log.debug("%s: wrote %s (%d bytes)", where, path, len(data))
