"""The engine's side of backups: what a step stored, and the repository it stores into.

Steps that back something up (``save:``, ``fetch:``, ``archive:``, ``backup:``) hand
bytes to an ``ArtifactSink`` and get an ``Artifact`` back (version id, digest, whether
new bytes were written, how it changed since the previous version, a masked diff).
``restore:`` reads versions back through the same sink and records its evidence.
The app wires the implementation (``store.backups.BackupStore``); a plan without a
sink cannot run those steps (they fail with a clear error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# What kind of thing an artifact is.
OUTPUT = "output"  # a command's output (`save:`), e.g. a running config
FILE = "file"  # a file fetched from a host (`fetch:`)
DATASET = "dataset"  # a data set archive + manifest (`archive:`)

DIFF_EXCERPT = 4000  # characters of a masked diff kept with a run


@dataclass(frozen=True)
class ArtifactOrigin:
    """Where an artifact comes from: the run, the host (= backup target) and the step."""

    run_id: str
    host: str
    step_index: int
    step_name: str
    before_change: bool = False  # stored by a `backup:` step before the run changes anything


@dataclass(frozen=True)
class Artifact:
    """One artifact a step stored (a new version of ``target``/``name``)."""

    target: str
    name: str
    kind: str
    version: str  # version id
    digest: str  # sha256 of the bytes
    size: int
    stored_new: bool  # new bytes were written (False: identical to an object already stored)
    change: str  # new | unchanged | secret rotated | changed
    added: int = 0
    removed: int = 0
    diff: str = ""  # masked unified diff of text artifacts, bounded
    rotated: tuple[str, ...] = ()  # kinds of secrets whose value changed
    previous: str | None = None  # the version it was compared with
    before_change: bool = False

    @property
    def changed(self) -> bool:
        return self.change in ("new", "changed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "artifact": self.name,
            "kind": self.kind,
            "version": self.version,
            "sha256": self.digest,
            "bytes": self.size,
            "stored_new": self.stored_new,
            "change": self.change,
            "added": self.added,
            "removed": self.removed,
            "diff": self.diff[:DIFF_EXCERPT],
            "rotated": list(self.rotated),
            "previous": self.previous,
            "before_change": self.before_change,
        }


@dataclass(frozen=True)
class StoredVersion:
    """A version read back from the repository."""

    id: str
    target: str
    artifact: str
    kind: str
    digest: str
    size: int
    created: datetime
    run_id: str | None = None
    manifest_digest: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RestoreEvidence:
    """What one restore verification proved (stored with the version it verified)."""

    version: str
    target: str  # the backup's source host
    artifact: str
    run_id: str
    host: str  # where it was verified
    verified: datetime
    ok: bool
    reasons: tuple[str, ...] = ()
    rto_s: float | None = None  # restore + integrity check, seconds
    age_s: float | None = None  # age of the newest backup when verified (RPO)
    details: Mapping[str, Any] = field(default_factory=dict)


class ArtifactSink(Protocol):
    max_bytes: int  # the most a step may fetch per file or archive (held in memory)

    def save(
        self,
        origin: ArtifactOrigin,
        name: str,
        kind: str,
        data: bytes,
        *,
        manifest: bytes | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Artifact:
        """Store ``data`` as a new version of (origin.host, name); dedup by sha256."""
        ...

    def find(self, target: str, name: str, version: str | None = None) -> StoredVersion | None:
        """The version with this id (or unique id prefix), or the newest when None/latest."""
        ...

    def read(self, version: StoredVersion) -> bytes:
        """The version's bytes, checked against its sha256 (StoreError if altered/missing)."""
        ...

    def read_manifest(self, version: StoredVersion) -> bytes:
        """The version's manifest bytes, checked (StoreError if there is none or it is bad)."""
        ...

    def record_verification(self, evidence: RestoreEvidence) -> None:
        """Keep the evidence of a restore verification."""
        ...
