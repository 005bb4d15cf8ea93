"""Content-addressed object storage for backup artifacts.

An object's name is the sha256 of its bytes, so an unchanged config is stored
once however many nights it is backed up. Bytes are kept exactly as fetched
(restorable with plain tools: ``cp backups/objects/ab/cdef… /etc/fstab``).
Every object is written to a temp file in its directory, fsync'd, then
``os.replace``d into place: a writer killed mid-write leaves at most a
``.tmp-*`` file, never a partial object under a real name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import StoreError

CHUNK = 1024 * 1024
TEMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class StoredObject:
    digest: str  # sha256 hex of the bytes
    size: int
    created: bool  # False: the same bytes were already stored (deduplicated)


@dataclass(frozen=True)
class ObjectCheck:
    digest: str
    ok: bool
    reason: str = ""  # why not ok: missing, size or checksum mismatch


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise StoreError(f"not a sha256 object name: {digest!r}")
        return self.objects / digest[:2] / digest[2:]

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def put(self, data: bytes) -> StoredObject:
        digest = sha256_of(data)
        target = self.path(digest)
        if target.is_file():
            # Touched: a prune running now keeps objects referenced this recently.
            os.utime(target)
            return StoredObject(digest, len(data), created=False)
        _write_atomically(target, data)
        return StoredObject(digest, len(data), created=True)

    def read(self, digest: str) -> bytes:
        """The object's bytes, after checking they still hash to its name."""
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError:
            raise StoreError(
                f"backup object {digest[:12]}… is missing from {self.objects}"
            ) from None
        if sha256_of(data) != digest:
            raise StoreError(
                f"backup object {digest[:12]}… is corrupt: its bytes no longer "
                "match its sha256 (altered on disk)"
            )
        return data

    def check(self, digest: str, size: int | None = None) -> ObjectCheck:
        path = self.path(digest)
        if not path.is_file():
            return ObjectCheck(digest, False, "missing")
        if size is not None and path.stat().st_size != size:
            return ObjectCheck(digest, False, f"size {path.stat().st_size} bytes, recorded {size}")
        hasher = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                hasher.update(chunk)
        if hasher.hexdigest() != digest:
            return ObjectCheck(
                digest,
                False,
                f"sha256 is {hasher.hexdigest()[:12]}…, not its name: altered on disk",
            )
        return ObjectCheck(digest, True)

    def delete(self, digest: str) -> bool:
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def digests(self) -> Iterator[str]:
        """Every stored object (temp files of interrupted writes are not objects)."""
        if not self.objects.is_dir():
            return
        for bucket in sorted(self.objects.iterdir()):
            for item in sorted(bucket.iterdir()):
                if not item.name.startswith(TEMP_PREFIX):
                    yield bucket.name + item.name

    def stale_temp_files(self) -> list[Path]:
        """Leftovers of writers that were killed mid-write (safe to delete)."""
        if not self.objects.is_dir():
            return []
        return sorted(self.objects.glob(f"*/{TEMP_PREFIX}*"))


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o440)  # objects are immutable once named
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
