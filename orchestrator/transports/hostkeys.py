"""known_hosts: reading, checking and (on explicit trust) appending host keys.

Pure Python on purpose (no paramiko): every transport verifies host keys through
``HostKeyVerifier`` so ssh, netmiko and ansible refuse and trust the same way,
and the rules are unit-testable. Format: OpenSSH ``known_hosts`` (sshd(8)),
including hashed names (``|1|salt|hmac``), patterns (``*``, ``?``, ``!neg``),
``[host]:port`` for non-22 ports and the ``@revoked`` marker; ``@cert-authority``
lines are ignored (host certificates are not supported).

Rules: a key recorded for the host passes; a host with a recorded key of any
type that differs from the offered one is refused *always* (changed key, never
trusted); a revoked key is refused; a host with no entry is refused unless the
operator trusts new keys, in which case the key is appended and reported.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import logging
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from orchestrator.errors import HostKeyRejected
from orchestrator.transports.base import NewHostKeyCallback

log = logging.getLogger(__name__)

TRUST_HINT = "verify it, then add it to {path} or re-run with --trust-new-host-keys"


@dataclass(frozen=True)
class KnownKey:
    """One usable line of a known_hosts file."""

    hosts: str  # the host field as written (comma list, patterns or a hashed name)
    keytype: str
    key: str  # base64 key blob
    line: int  # 1-based line number, for messages
    marker: str = ""  # "" or "@revoked" ("@cert-authority" lines are dropped)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)


class KeyStatus(Enum):
    KNOWN = "known"
    UNKNOWN = "unknown"
    CHANGED = "changed"
    REVOKED = "revoked"


def host_id(address: str, port: int) -> str:
    """The name OpenSSH (and paramiko) look up: ``addr`` on port 22, else ``[addr]:port``."""
    return address if port == 22 else f"[{address}]:{port}"


def fingerprint(key_b64: str) -> str:
    """``SHA256:...`` as ``ssh-keygen -l`` prints it (unpadded base64 of the blob's sha256)."""
    digest = hashlib.sha256(base64.b64decode(key_b64)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def parse_known_hosts(text: str) -> list[KnownKey]:
    """Every usable line; malformed lines are logged and skipped, as ssh does."""
    keys: list[KnownKey] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        marker = ""
        if fields[0].startswith("@"):
            marker, fields = fields[0], fields[1:]
        if marker == "@cert-authority":
            continue
        if marker not in ("", "@revoked") or len(fields) < 3:
            log.warning("known_hosts line %d: cannot parse, skipped", number)
            continue
        try:
            base64.b64decode(fields[2], validate=True)
        except (binascii.Error, ValueError):
            log.warning("known_hosts line %d: bad base64 key, skipped", number)
            continue
        keys.append(KnownKey(fields[0], fields[1], fields[2], number, marker))
    return keys


def _hashed_match(entry: str, name: str) -> bool:
    # |1|base64(salt)|base64(HMAC-SHA1(salt, name))
    parts = entry.split("|")
    if len(parts) != 4 or parts[1] != "1":
        return False
    try:
        salt, expected = base64.b64decode(parts[2]), base64.b64decode(parts[3])
    except (binascii.Error, ValueError):
        return False
    actual = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(actual, expected)


def _glob(pattern: str, name: str) -> bool:
    # ssh patterns know only * and ?; fnmatch would read "[addr]:port" as a character class
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name, re.IGNORECASE) is not None


def host_matches(hosts: str, name: str) -> bool:
    """Does the host field of a known_hosts line match ``name`` (a ``host_id``)?"""
    if hosts.startswith("|"):
        return _hashed_match(hosts, name)
    matched = False
    for pattern in hosts.split(","):
        negated = pattern.startswith("!")
        if _glob(pattern.lstrip("!"), name):
            if negated:
                return False
            matched = True
    return matched


def classify(known: Sequence[KnownKey], keytype: str, key: str) -> KeyStatus:
    """Judge an offered key against the lines that match its host."""
    if any(k.marker == "@revoked" and k.key == key for k in known):
        return KeyStatus.REVOKED
    plain = [k for k in known if not k.marker]
    if any(k.keytype == keytype and k.key == key for k in plain):
        return KeyStatus.KNOWN
    return KeyStatus.CHANGED if plain else KeyStatus.UNKNOWN


# One lock per file for appends from many connecting threads.
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path.resolve(), threading.Lock())


class KnownHostsFile:
    """A known_hosts file, re-read on every lookup so trusted keys show up at once."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def keys_for(self, address: str, port: int) -> list[KnownKey]:
        name = host_id(address, port)
        return [k for k in parse_known_hosts(self._read()) if host_matches(k.hosts, name)]

    def add(self, address: str, port: int, keytype: str, key: str) -> bool:
        """Append ``host keytype key``; False if that exact entry is already there.

        The whole file is rewritten to a temp file and renamed over the old one, so a
        reader never sees half a line and a crash never truncates the file.
        """
        name = host_id(address, port)
        with _lock_for(self.path):
            text = self._read()
            for k in parse_known_hosts(text):
                if not k.marker and k.key == key and host_matches(k.hosts, name):
                    return False
            if text and not text.endswith("\n"):
                text += "\n"
            text += f"{name} {keytype} {key}\n"
            self._replace(text)
        return True

    def _replace(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            mode = self.path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o600
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


class HostKeyVerifier:
    """Accepts or refuses the key a host offered; the one policy every transport applies."""

    def __init__(
        self,
        known_hosts: Path,
        *,
        trust_new_host_keys: bool = False,
        on_new_host_key: NewHostKeyCallback | None = None,
    ) -> None:
        self.file = KnownHostsFile(known_hosts)
        self.trust_new_host_keys = trust_new_host_keys
        self.on_new_host_key = on_new_host_key

    @property
    def path(self) -> Path:
        return self.file.path

    def is_known_host(self, address: str, port: int) -> bool:
        """Whether any (non-revoked) key is recorded for the host."""
        return any(not k.marker for k in self.file.keys_for(address, port))

    def verify(self, host: str, address: str, port: int, keytype: str, key: str) -> None:
        """Return if the key is acceptable (recording it if newly trusted); else raise."""
        known = self.file.keys_for(address, port)
        status = classify(known, keytype, key)
        where = f"{host} ({host_id(address, port)})"
        offered = f"{keytype} {fingerprint(key)}"
        if status is KeyStatus.KNOWN:
            return
        if status is KeyStatus.REVOKED:
            raise HostKeyRejected(f"host key for {where} is revoked in {self.path}: {offered}")
        if status is KeyStatus.CHANGED:
            raise HostKeyRejected(changed_key_message(where, offered, known, self.path))
        if not self.trust_new_host_keys:
            hint = TRUST_HINT.format(path=self.path)
            raise HostKeyRejected(f"host key for {where} is not known: {offered}; {hint}")
        if self.file.add(address, port, keytype, key):
            log.warning("trusted new host key for %s: %s (added to %s)", where, offered, self.path)
            if self.on_new_host_key is not None:
                self.on_new_host_key(host, keytype, fingerprint(key))


def changed_key_message(where: str, offered: str, known: Sequence[KnownKey], path: Path) -> str:
    recorded = ", ".join(
        f"{k.keytype} {k.fingerprint} (line {k.line})" for k in known if not k.marker
    )
    return (
        f"HOST KEY CHANGED for {where}: it offered {offered} but {path} records {recorded}. "
        "Someone may be intercepting the connection; this is never trusted automatically. "
        "If the host was legitimately rebuilt, verify the new key and replace the old entry "
        f"in {path}"
    )
