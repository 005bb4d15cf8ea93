"""``fetch:`` (files from a linux host) and ``backup:`` (back these up now, before a change).

Files are read over SFTP on the host's SSH connection and stored byte for byte.
Globs are expanded by the host's shell (``/etc/cron.d/*``); a path that is absent
fails the step unless the item is ``optional``. ``backup:`` stores a network
device's running/startup configuration (the platform's own command) or a linux
host's files, and marks the versions ``before_change`` so a rollback can find them
(``BackupStore.versions_of_run``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.backups.platforms import CONFIG_ARTIFACTS, config_command
from orchestrator.engine.artifact_steps import Job, Outcome, artifact_line
from orchestrator.engine.artifacts import FILE, OUTPUT, Artifact
from orchestrator.errors import CommandTimeout, ConnectionLost, StoreError, TransportError
from orchestrator.inventory.model import HostKind
from orchestrator.transports.sftp import FileMissing, SftpCapable, fetch_file

_GLOB = re.compile(r"(\*|\?|\[[A-Za-z0-9_.!^-]+\])")


@dataclass(frozen=True)
class FetchItem:
    path: str
    name: str | None = None
    optional: bool = False


def fetch_items(spec: Any) -> list[FetchItem]:
    """A rendered fetch/backup spec as items; ValueError names what is wrong."""
    items = spec if isinstance(spec, list) else [spec]
    found = []
    for item in items:
        if isinstance(item, str):
            found += [FetchItem(p) for p in item.split()] if "\n" in item else [FetchItem(item)]
        elif isinstance(item, Mapping) and isinstance(item.get("path"), str):
            name = item.get("name")
            found.append(
                FetchItem(item["path"], str(name) if name else None, bool(item.get("optional")))
            )
        else:
            raise ValueError(f"not a path or {{path, name, optional}}: {item!r}")
    return found


def glob_word(pattern: str) -> str:
    """``pattern`` as one shell word: literal parts quoted, glob characters left to the shell."""
    parts = _GLOB.split(pattern)
    return "".join(p if i % 2 else (shlex.quote(p) if p else "") for i, p in enumerate(parts))


def _expand(job: Job, item: FetchItem) -> list[str]:
    if not _GLOB.search(item.path):
        return [item.path]
    command = f'for f in {glob_word(item.path)}; do [ -f "$f" ] && printf "%s\\n" "$f"; done; true'
    out = job.run(command)
    return [line for line in out.stdout.splitlines() if line.startswith("/")]


def _store_file(job: Job, path: str, name: str, *, before_change: bool) -> Artifact:
    if not hasattr(job.conn, "sftp"):
        raise TransportError(f"{job.host.name}: files are fetched over ssh; this is not ssh")
    conn: SftpCapable = job.conn  # type: ignore[assignment]
    data = fetch_file(conn, path, max_bytes=job.max_bytes, timeout=job.timeout)
    origin = job.origin(before_change=before_change)
    return job.sink.save(origin, name, FILE, data, meta={"path": path})


def fetch_files(job: Job, spec: Any, *, before_change: bool = False) -> Outcome:
    outcome = Outcome(parsed={"files": [], "missing": []})
    try:
        items = fetch_items(spec)
    except ValueError as exc:
        outcome.errors.append(f"fetch: {exc}")
        return outcome
    for item in items:
        paths = _expand(job, item)
        if not paths:
            _absent(outcome, item, f"no file matches {item.path}")
        for path in paths:
            name = item.name if item.name and len(paths) == 1 else path
            try:
                artifact = _store_file(job, path, name, before_change=before_change)
            except FileMissing:
                _absent(outcome, item, f"{path}: no such file")
                continue
            except (ConnectionLost, CommandTimeout):
                raise
            except (TransportError, StoreError) as exc:
                outcome.errors.append(str(exc))
                continue
            _stored(outcome, artifact, path)
    return outcome


def _absent(outcome: Outcome, item: FetchItem, why: str) -> None:
    outcome.parsed["missing"].append(item.path)
    if item.optional:
        outcome.lines.append(f"{item.path}: absent (optional)")
    else:
        outcome.errors.append(why)


def _stored(outcome: Outcome, artifact: Artifact, path: str) -> None:
    outcome.artifacts.append(artifact)
    outcome.lines.append(artifact_line(artifact))
    outcome.parsed["files"].append(
        {
            "path": path,
            "name": artifact.name,
            "bytes": artifact.size,
            "sha256": artifact.digest,
            "version": artifact.version,
            "change": artifact.change,
            "stored_new": artifact.stored_new,
        }
    )


def backup_now(job: Job, spec: Any) -> Outcome:
    """Back up a target now (before a change): configs on a device, files on a linux host.

    The versions are marked ``before_change``; ``parsed.versions`` maps artifact -> version.
    """
    if job.host.kind is HostKind.LINUX:
        names = spec if isinstance(spec, list) else [spec]
        configs = [n for n in names if n in CONFIG_ARTIFACTS]
        outcome = fetch_files(job, [n for n in names if n not in configs], before_change=True)
        outcome.errors += [f"{n} is backed up on network devices, not linux hosts" for n in configs]
    else:
        outcome = _backup_configs(job, spec)
    outcome.parsed["versions"] = {a.name: a.version for a in outcome.artifacts}
    return outcome


def _backup_configs(job: Job, spec: Any) -> Outcome:
    outcome = Outcome(parsed={"configs": []})
    names = spec if isinstance(spec, list) else [spec]
    for name in names:
        command = config_command(job.host.platform or "", str(name))
        if name not in CONFIG_ARTIFACTS or command is None:
            outcome.errors.append(
                f"cannot back up {name!r} on a {job.host.platform or 'network'} device "
                f"(known: {', '.join(CONFIG_ARTIFACTS)} where the platform has them)"
            )
            continue
        out = job.run(command)
        if out.exit_code != 0 or not out.stdout.strip():
            outcome.errors.append(f"{command}: the device refused it: {out.stdout.strip()[:200]}")
            continue
        try:
            artifact = job.sink.save(
                job.origin(before_change=True), str(name), OUTPUT, out.stdout.encode()
            )
        except StoreError as exc:
            outcome.errors.append(f"{name}: not stored: {exc}")
            continue
        outcome.artifacts.append(artifact)
        outcome.lines.append(artifact_line(artifact))
        outcome.parsed["configs"].append({"name": name, "version": artifact.version})
    return outcome
