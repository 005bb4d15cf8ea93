"""Per-file sha256 manifests of data-set archives, and checking a restore against one.

A data set is archived on its host as a gzipped tar of its directory, next to a
manifest of every regular file's sha256 taken from the *source* files
(``sha256sum`` output). The manifest is what a restore is checked against: every
file restored must exist and hash the same. ``archive_digests`` reads the archive
itself, so a backup can be checked for consistency with its own manifest when it is
taken (a file changing under ``tar`` shows up there, not at restore time).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass

from orchestrator.errors import StoreError

FORMAT = 1
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Manifest:
    """Relative path (no leading ``./``) -> sha256 hex, of every regular file."""

    files: Mapping[str, str]

    def to_bytes(self) -> bytes:
        body = {"format": FORMAT, "files": dict(sorted(self.files.items()))}
        return (json.dumps(body, indent=1, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            body = json.loads(data)
            files = body["files"]
            if body.get("format") != FORMAT or not isinstance(files, dict):
                raise ValueError(f"unknown manifest format {body.get('format')!r}")
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"unreadable backup manifest: {exc}") from None
        return cls({str(k): str(v) for k, v in files.items()})


@dataclass(frozen=True)
class ManifestCheck:
    """How a set of files compares with a manifest."""

    files: int  # files the manifest lists
    verified: int  # present with the same sha256
    missing: tuple[str, ...] = ()
    mismatched: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()  # present but not in the manifest (reported, not a failure)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.mismatched

    def reasons(self, what: str = "restored copy") -> list[str]:
        found = []
        if self.missing:
            found.append(
                f"{len(self.missing)} file(s) missing from the {what}: {_few(self.missing)}"
            )
        if self.mismatched:
            found.append(
                f"{len(self.mismatched)} file(s) differ from the manifest: {_few(self.mismatched)}"
            )
        return found


def _few(paths: tuple[str, ...], shown: int = 5) -> str:
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    return ", ".join(paths[:shown]) + more


def normalise(path: str) -> str:
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def _unescape(name: str) -> str:
    # GNU sha256sum escapes "\\" and "\n" in names (and marks such lines with a leading "\").
    out, i = [], 0
    while i < len(name):
        if name[i] == "\\" and i + 1 < len(name):
            out.append("\n" if name[i + 1] == "n" else name[i + 1])
            i += 2
        else:
            out.append(name[i])
            i += 1
    return "".join(out)


def parse_sha256sum(text: str) -> dict[str, str]:
    """``sha256sum`` output ("HEX  ./path" per line) as path -> sha256."""
    files: dict[str, str] = {}
    for raw in text.splitlines():
        if not raw.strip():
            continue
        escaped = raw.startswith("\\")
        line = raw[1:] if escaped else raw
        digest, sep, name = line.partition(" ")
        if not sep or len(digest) != 64:
            raise ValueError(f"not a sha256sum line: {raw[:80]!r}")
        name = name[1:] if name[:1] in (" ", "*") else name
        files[normalise(_unescape(name) if escaped else name)] = digest.lower()
    return files


def archive_digests(data: bytes) -> dict[str, str]:
    """sha256 of every regular file in a (gzipped) tar archive, by normalised path."""
    files: dict[str, str] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                hasher = hashlib.sha256()
                while chunk := handle.read(_CHUNK):
                    hasher.update(chunk)
                files[normalise(member.name)] = hasher.hexdigest()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise StoreError(f"unreadable archive: {exc}") from None
    return files


def check_files(manifest: Manifest, found: Mapping[str, str]) -> ManifestCheck:
    """Compare files found (path -> sha256) with the manifest."""
    missing = tuple(sorted(p for p in manifest.files if p not in found))
    mismatched = tuple(
        sorted(p for p, digest in manifest.files.items() if p in found and found[p] != digest)
    )
    extra = tuple(sorted(p for p in found if p not in manifest.files))
    verified = len(manifest.files) - len(missing) - len(mismatched)
    return ManifestCheck(len(manifest.files), verified, missing, mismatched, extra)
