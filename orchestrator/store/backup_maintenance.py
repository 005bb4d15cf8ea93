"""Backup repository maintenance: verify every checksum, prune by retention, diff versions.

``verify`` recomputes the sha256 of every object a version refers to (and of its
manifest); for data sets it also reads the archive and checks it against its
manifest. ``prune`` applies the retention policy per target and artifact, deletes
the dropped version rows, then the objects no version refers to any more — only
those untouched for ``grace`` seconds, since another process may be saving a version
of the same bytes right now (``ObjectStore.put`` touches an object it dedups) — and
temp files that writers killed mid-write left behind.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from sqlalchemy import delete

from orchestrator.backups.diff import ConfigDiff, compare
from orchestrator.backups.manifest import Manifest, archive_digests, check_files
from orchestrator.backups.retention import RetentionPolicy, Version, apply_policy
from orchestrator.engine.artifacts import DATASET, StoredVersion
from orchestrator.errors import StoreError
from orchestrator.store.backup_rows import BackupVersionRow
from orchestrator.store.backups import BackupStore, text_of

GRACE_S = 3600.0  # objects and temp files younger than this are left alone by prune


@dataclass(frozen=True)
class VerifyProblem:
    version: str
    target: str
    artifact: str
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    versions: int
    objects: int  # distinct objects checked
    problems: tuple[VerifyProblem, ...] = ()
    stale_temp: tuple[Path, ...] = ()  # left by writers killed mid-write (never objects)
    unreferenced: int = 0  # objects no version refers to (prune removes them)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: BackupStore, *, deep: bool = True) -> VerifyReport:
    versions = store.all_versions()
    checked: dict[tuple[str, int | None], str] = {}  # (digest, size) -> "" or the reason
    problems: list[VerifyProblem] = []
    for v in versions:
        wanted: list[tuple[str, int | None, str]] = [(v.digest, v.size, "object")]
        if v.manifest_digest:
            wanted.append((v.manifest_digest, None, "manifest"))
        for digest, size, what in wanted:
            if (digest, size) not in checked:
                result = store.objects.check(digest, size)
                checked[(digest, size)] = "" if result.ok else result.reason
            if reason := checked[(digest, size)]:
                problems.append(
                    VerifyProblem(v.id, v.target, v.artifact, f"{what} {digest[:12]}…: {reason}")
                )
        if deep and v.kind == DATASET and not any(p.version == v.id for p in problems):
            problems += _archive_problems(store, v)
    referenced = {d for d, _ in checked}
    unreferenced = sum(1 for d in store.objects.digests() if d not in referenced)
    return VerifyReport(
        len(versions),
        len({d for d, _ in checked}),
        tuple(problems),
        tuple(store.objects.stale_temp_files()),
        unreferenced,
    )


def _archive_problems(store: BackupStore, v: StoredVersion) -> list[VerifyProblem]:
    try:
        manifest = Manifest.from_bytes(store.read_manifest(v))
        check = check_files(manifest, archive_digests(store.read(v)))
    except StoreError as exc:
        return [VerifyProblem(v.id, v.target, v.artifact, str(exc))]
    return [VerifyProblem(v.id, v.target, v.artifact, r) for r in check.reasons("archive")]


@dataclass
class PruneReport:
    dry_run: bool
    keep: dict[str, tuple[str, ...]] = field(default_factory=dict)  # version id -> rules
    drop: list[StoredVersion] = field(default_factory=list)
    objects_removed: list[str] = field(default_factory=list)
    temp_removed: list[Path] = field(default_factory=list)


def prune(
    store: BackupStore,
    policy: RetentionPolicy,
    tz: tzinfo,
    *,
    dry_run: bool,
    grace: float = GRACE_S,
) -> PruneReport:
    report = PruneReport(dry_run)
    groups: dict[tuple[str, str], list[StoredVersion]] = defaultdict(list)
    versions = store.all_versions()
    for v in versions:
        groups[(v.target, v.artifact)].append(v)
    by_id = {v.id: v for v in versions}
    for group in groups.values():
        decision = apply_policy([Version(v.id, v.created) for v in group], policy, tz)
        report.keep.update(decision.keep)
        report.drop += [by_id[i] for i in decision.drop]
    if dry_run:
        return report
    dropped = [v.id for v in report.drop]
    with store.db.session() as s:
        for start in range(0, len(dropped), 500):
            s.execute(
                delete(BackupVersionRow).where(
                    BackupVersionRow.id.in_(dropped[start : start + 500])
                )
            )
    _remove_unreferenced(store, report, grace)
    return report


def _remove_unreferenced(store: BackupStore, report: PruneReport, grace: float) -> None:
    referenced = set()
    for v in store.all_versions():
        referenced.add(v.digest)
        if v.manifest_digest:
            referenced.add(v.manifest_digest)
    cutoff = time.time() - grace
    for digest in list(store.objects.digests()):
        if digest in referenced:
            continue
        path = store.objects.path(digest)
        if path.stat().st_mtime < cutoff and store.objects.delete(digest):
            report.objects_removed.append(digest)
    for temp in store.objects.stale_temp_files():
        if temp.stat().st_mtime < cutoff:
            temp.unlink(missing_ok=True)
            report.temp_removed.append(temp)


def diff_versions(store: BackupStore, old: StoredVersion, new: StoredVersion) -> ConfigDiff:
    """The masked diff of two versions of a text artifact (StoreError for binaries)."""
    texts = [text_of(store.read(v)) for v in (old, new)]
    if texts[0] is None or texts[1] is None or DATASET in (old.kind, new.kind):
        raise StoreError(
            f"{new.artifact} is not text (a {new.kind}); compare checksums: "
            f"{old.id} {old.digest[:12]}…, {new.id} {new.digest[:12]}…"
        )
    return compare(
        texts[0],
        texts[1],
        labels=(f"{old.id} {old.created:%Y-%m-%d %H:%M}", f"{new.id} {new.created:%Y-%m-%d %H:%M}"),
    )
