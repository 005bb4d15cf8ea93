"""The backup repository: bytes in the content-addressed object store, versions in the DB.

``BackupStore`` is the engine's ``ArtifactSink``: ``save`` writes the object first
(atomically; an identical object is not written again), compares it with the
previous version of the same target and artifact (secret-aware diff for text), then
records the version row — so a process killed at any moment leaves at most an
unreferenced object or a temp file, never a version pointing at missing bytes.
Reading back checks every byte against its sha256. Maintenance (verify, prune, diff)
is in ``backup_maintenance``.
"""

from __future__ import annotations

import builtins
import logging
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.backups.diff import ChangeKind, ConfigDiff, compare
from orchestrator.backups.objects import ObjectStore
from orchestrator.clock import Clock
from orchestrator.engine.artifacts import (
    DATASET,
    Artifact,
    ArtifactOrigin,
    RestoreEvidence,
    StoredVersion,
)
from orchestrator.errors import NotFoundError, StoreError
from orchestrator.store.backup_rows import BackupVersionRow, RestoreCheckRow
from orchestrator.store.db import Database
from orchestrator.store.encoding import to_jsonable

log = logging.getLogger(__name__)

_AMBIGUOUS_SHOWN = 5
MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class ArtifactSummary:
    """One line of ``backup list``: an artifact of a target and its newest version."""

    target: str
    artifact: str
    kind: str
    versions: int
    latest: StoredVersion
    last_change: datetime | None  # when its content last changed (newest NEW/CHANGED)


def text_of(data: bytes) -> str | None:
    """The bytes as text when they are text (configs), else None (archives, binaries)."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def version_from_row(row: BackupVersionRow) -> StoredVersion:
    return StoredVersion(
        id=row.id,
        target=row.target,
        artifact=row.artifact,
        kind=row.kind,
        digest=row.digest,
        size=row.size,
        created=row.created,
        run_id=row.run_id,
        manifest_digest=row.manifest_digest,
        meta={
            **(row.meta or {}),
            "change": row.change,
            "step": row.step_name,
            "before_change": row.before_change,
            "previous": row.previous_id,
        },
    )


class BackupStore:
    """Implements ``engine.artifacts.ArtifactSink``; thread-safe (a session per call)."""

    def __init__(
        self, db: Database, objects: ObjectStore, clock: Clock, *, max_bytes: int = MAX_BYTES
    ) -> None:
        self.db = db
        self.objects = objects
        self.clock = clock
        self.max_bytes = max_bytes  # per file or archive a backup step fetches (held in memory)
        self._lock = threading.Lock()  # one save at a time per process: previous → insert

    # --- writes ------------------------------------------------------------------------------

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
        try:
            stored = self.objects.put(data)
            manifest_digest = self.objects.put(manifest).digest if manifest is not None else None
        except OSError as exc:
            raise StoreError(
                f"cannot write backup objects under {self.objects.root}: {exc}"
            ) from exc
        with self._lock:
            previous = self.find(origin.host, name)
            diff = self._compare(previous, stored.digest, data, kind)
            row = BackupVersionRow(
                id=self._new_id(),
                target=origin.host,
                artifact=name,
                kind=kind,
                digest=stored.digest,
                size=stored.size,
                manifest_digest=manifest_digest,
                created=self.clock.now(),
                run_id=origin.run_id,
                step_index=origin.step_index,
                step_name=origin.step_name,
                change=diff.kind.value,
                previous_id=previous.id if previous else None,
                before_change=origin.before_change,
                meta=to_jsonable(
                    {**(meta or {}), "added": diff.added, "removed": diff.removed,
                     "rotated": diff.rotated}
                ),
            )  # fmt: skip
            with self.db.session() as s:
                s.add(row)
        log.debug("%s %s: version %s (%s)", origin.host, name, row.id, diff.kind.value)
        return _artifact(row, stored.created, diff)

    def _compare(
        self, previous: StoredVersion | None, digest: str, data: bytes, kind: str
    ) -> ConfigDiff:
        if previous is None:
            return ConfigDiff(ChangeKind.NEW)
        if previous.digest == digest:
            return ConfigDiff(ChangeKind.UNCHANGED)
        new_text = None if kind == DATASET else text_of(data)
        if new_text is None:
            return ConfigDiff(ChangeKind.CHANGED)
        try:
            old_text = text_of(self.objects.read(previous.digest))
        except StoreError as exc:
            log.warning("previous version %s unreadable, no diff: %s", previous.id, exc)
            return ConfigDiff(ChangeKind.CHANGED)
        if old_text is None:
            return ConfigDiff(ChangeKind.CHANGED)
        return compare(old_text, new_text, labels=(previous.id, "this backup"))

    def _new_id(self) -> str:
        return secrets.token_hex(6)

    def record_verification(self, evidence: RestoreEvidence) -> None:
        with self.db.session() as s:
            s.add(
                RestoreCheckRow(
                    version_id=evidence.version,
                    target=evidence.target,
                    artifact=evidence.artifact,
                    run_id=evidence.run_id,
                    host=evidence.host,
                    verified=evidence.verified,
                    ok=evidence.ok,
                    reasons=list(evidence.reasons),
                    rto_s=evidence.rto_s,
                    age_s=evidence.age_s,
                    details=to_jsonable(evidence.details),
                )
            )

    # --- reads -------------------------------------------------------------------------------

    def find(self, target: str, name: str, version: str | None = None) -> StoredVersion | None:
        query = select(BackupVersionRow).where(
            BackupVersionRow.target == target, BackupVersionRow.artifact == name
        )
        version = None if version in (None, "", "latest") else version
        if version is not None:
            query = query.where(BackupVersionRow.id.startswith(version, autoescape=True))
        query = query.order_by(*_NEWEST_FIRST).limit(2 if version else 1)
        with self.db.read_session() as s:
            rows = s.scalars(query).all()
        if version and len(rows) > 1:
            raise NotFoundError(f"version prefix {version!r} of {target} {name} is ambiguous")
        return version_from_row(rows[0]) if rows else None

    def read(self, version: StoredVersion) -> bytes:
        return self.objects.read(version.digest)

    def read_manifest(self, version: StoredVersion) -> bytes:
        if version.manifest_digest is None:
            raise StoreError(f"version {version.id} has no manifest")
        return self.objects.read(version.manifest_digest)

    def get(self, ref: str) -> StoredVersion:
        """A version by id or unique id prefix (any target)."""
        ref = ref.strip()
        if not ref:
            raise NotFoundError("no backup version given")
        with self.db.read_session() as s:
            rows = s.scalars(
                select(BackupVersionRow)
                .where(BackupVersionRow.id.startswith(ref, autoescape=True))
                .limit(_AMBIGUOUS_SHOWN + 1)
            ).all()
        if not rows:
            raise NotFoundError(f"no backup version {ref!r}; `orchestrator backup list` shows them")
        if len(rows) > 1:
            shown = ", ".join(r.id for r in rows[:_AMBIGUOUS_SHOWN])
            raise NotFoundError(
                f"version prefix {ref!r} is ambiguous: {shown}; give more characters"
            )
        return version_from_row(rows[0])

    def history(self, target: str, artifact: str | None = None) -> builtins.list[StoredVersion]:
        """Versions of a target (optionally one artifact), newest first."""
        query = select(BackupVersionRow).where(BackupVersionRow.target == target)
        if artifact is not None:
            query = query.where(BackupVersionRow.artifact == artifact)
        with self.db.read_session() as s:
            rows = s.scalars(query.order_by(*_NEWEST_FIRST)).all()
        return [version_from_row(r) for r in rows]

    def all_versions(self) -> builtins.list[StoredVersion]:
        with self.db.read_session() as s:
            rows = s.scalars(select(BackupVersionRow).order_by(*_NEWEST_FIRST)).all()
        return [version_from_row(r) for r in rows]

    def versions_of_run(self, run_id: str) -> builtins.list[StoredVersion]:
        """What a run backed up (a rollback restores its ``before_change`` versions)."""
        with self.db.read_session() as s:
            rows = s.scalars(
                select(BackupVersionRow)
                .where(BackupVersionRow.run_id == run_id)
                .order_by(BackupVersionRow.target, BackupVersionRow.artifact)
            ).all()
        return [version_from_row(r) for r in rows]

    def list(self, target: str | None = None) -> builtins.list[ArtifactSummary]:
        """Every (target, artifact) with its version count and newest version."""
        with self.db.read_session() as s:
            counts = _counts(s, target)
            newest = _newest(s, target)
            changed = _last_changes(s, target)
        return [
            ArtifactSummary(
                key[0], key[1], row.kind, counts[key], version_from_row(row), changed.get(key)
            )
            for key, row in sorted(newest.items())
        ]

    def verifications(
        self, *, version: str | None = None, target: str | None = None, limit: int = 50
    ) -> builtins.list[RestoreEvidence]:
        query = select(RestoreCheckRow).order_by(RestoreCheckRow.verified.desc()).limit(limit)
        if version is not None:
            query = query.where(RestoreCheckRow.version_id == version)
        if target is not None:
            query = query.where(RestoreCheckRow.target == target)
        with self.db.read_session() as s:
            rows = s.scalars(query).all()
        return [
            RestoreEvidence(
                r.version_id,
                r.target,
                r.artifact,
                r.run_id,
                r.host,
                r.verified,
                r.ok,
                tuple(r.reasons or ()),
                r.rto_s,
                r.age_s,
                dict(r.details or {}),
            )
            for r in rows
        ]


_NEWEST_FIRST = (BackupVersionRow.created.desc(), BackupVersionRow.id.desc())


def _artifact(row: BackupVersionRow, stored_new: bool, diff: ConfigDiff) -> Artifact:
    return Artifact(
        target=row.target,
        name=row.artifact,
        kind=row.kind,
        version=row.id,
        digest=row.digest,
        size=row.size,
        stored_new=stored_new,
        change=diff.kind.value,
        added=diff.added,
        removed=diff.removed,
        diff=diff.diff,
        rotated=diff.rotated,
        previous=row.previous_id,
        before_change=row.before_change,
    )


def _where_target(query: Any, target: str | None) -> Any:
    return query if target is None else query.where(BackupVersionRow.target == target)


def _counts(s: Session, target: str | None) -> dict[tuple[str, str], int]:
    query = select(BackupVersionRow.target, BackupVersionRow.artifact, func.count()).group_by(
        BackupVersionRow.target, BackupVersionRow.artifact
    )
    return {(t, a): n for t, a, n in s.execute(_where_target(query, target))}


def _newest(s: Session, target: str | None) -> dict[tuple[str, str], BackupVersionRow]:
    newest: dict[tuple[str, str], BackupVersionRow] = {}
    query = _where_target(select(BackupVersionRow), target).order_by(*_NEWEST_FIRST)
    for row in s.scalars(query):
        newest.setdefault((row.target, row.artifact), row)
    return newest


def _last_changes(s: Session, target: str | None) -> dict[tuple[str, str], datetime]:
    query = (
        select(
            BackupVersionRow.target, BackupVersionRow.artifact, func.max(BackupVersionRow.created)
        )
        .where(BackupVersionRow.change.in_((ChangeKind.NEW.value, ChangeKind.CHANGED.value)))
        .group_by(BackupVersionRow.target, BackupVersionRow.artifact)
    )
    return {(t, a): when for t, a, when in s.execute(_where_target(query, target))}
