"""``archive:`` — back up a host's data sets: dump, measure, tar, manifest, fetch, clean up.

For each data set: run its ``dump`` (a consistent copy of a live database, say),
record its ``record`` values (e.g. a row count, to compare after a restore), then in
a fresh ``mktemp -d`` directory take a per-file sha256 manifest of the directory and
a gzipped tar of it, fetch both over SFTP and remove the directory. The archive is
checked against the manifest before it is stored: a file that changed while it was
archived makes the backup inconsistent, which fails the step (the version is kept,
marked, so the evidence is not lost). The data set's definition (probes, max_age)
is stored with the version for restore verification.
"""

from __future__ import annotations

import shlex
from typing import Any

from orchestrator.backups.datasets import DataSet, DataSetError, read_datasets
from orchestrator.backups.manifest import Manifest, archive_digests, check_files, parse_sha256sum
from orchestrator.engine.artifact_steps import Job, Outcome, artifact_line
from orchestrator.engine.artifacts import DATASET, Artifact
from orchestrator.errors import CommandTimeout, ConnectionLost, StoreError, TransportError
from orchestrator.transports.sftp import SftpCapable, fetch_file

TEMP_PREFIX = "/tmp/orch-archive."

_ARCHIVE = """set -e
src={src}
[ -d "$src" ] || {{ echo "no such directory: $src" >&2; exit 3; }}
tmp=$(mktemp -d {prefix}XXXXXXXX)
echo "$tmp"
cd "$src"
find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum > "$tmp/manifest"
# Same bytes for the same files: sorted members, no name/time in the gzip header.
tar --sort=name --numeric-owner -cf "$tmp/data.tar" -C "$src" .
gzip -n "$tmp/data.tar"
echo done"""


def archive_datasets(job: Job, spec: Any) -> Outcome:
    outcome = Outcome(parsed={"datasets": []})
    try:
        datasets = read_datasets(spec)
    except DataSetError as exc:
        outcome.errors.append(f"archive: {exc}")
        return outcome
    for dataset in datasets:
        try:
            entry, artifact = _archive(job, dataset)
        except (ConnectionLost, CommandTimeout):
            raise
        except (TransportError, StoreError, DataSetError) as exc:
            outcome.errors.append(f"{dataset.name}: {exc}")
            continue
        outcome.parsed["datasets"].append(entry)
        outcome.artifacts.append(artifact)
        outcome.lines.append(artifact_line(artifact) + f", {entry['files']} files")
        if not entry["consistent"]:
            outcome.errors.append(f"{dataset.name}: {entry['inconsistent']}")
    return outcome


def _checked(job: Job, command: str, what: str) -> str:
    out = job.run(command)
    if out.exit_code != 0:
        why = (out.stderr.strip() or out.stdout.strip())[-300:]
        raise DataSetError(f"{what} failed (exit {out.exit_code}): {why}")
    return out.stdout


def _archive(job: Job, dataset: DataSet) -> tuple[dict[str, Any], Artifact]:
    if dataset.dump:
        _checked(job, dataset.dump, "dump")
    recorded = {k: _checked(job, c, f"record {k}").strip() for k, c in dataset.record.items()}
    out = job.run(_ARCHIVE.format(src=shlex.quote(dataset.path), prefix=TEMP_PREFIX))
    lines = out.stdout.splitlines()
    tmp = lines[0].strip() if lines and lines[0].startswith(TEMP_PREFIX) else None
    try:
        if out.exit_code != 0 or lines[-1:] != ["done"]:
            why = (out.stderr.strip() or out.stdout.strip())[-300:]
            raise DataSetError(f"archiving {dataset.path} failed (exit {out.exit_code}): {why}")
        assert tmp is not None
        conn: SftpCapable = job.conn  # type: ignore[assignment]
        manifest_text = fetch_file(
            conn, f"{tmp}/manifest", max_bytes=job.max_bytes, timeout=job.timeout
        )
        data = fetch_file(conn, f"{tmp}/data.tar.gz", max_bytes=job.max_bytes, timeout=job.timeout)
    finally:
        if tmp is not None:
            job.run(f"rm -rf -- {shlex.quote(tmp)}")
    manifest = Manifest(parse_sha256sum(manifest_text.decode("utf-8", "surrogateescape")))
    check = check_files(manifest, archive_digests(data))
    inconsistent = "; ".join(check.reasons("archive")) or (
        f"{len(check.extra)} file(s) appeared while archiving" if check.extra else ""
    )
    meta = {
        "dataset": dataset.to_meta(),
        "recorded": recorded,
        "files": len(manifest.files),
        "consistent": not inconsistent,
        "inconsistent": inconsistent,
    }
    artifact = job.sink.save(
        job.origin(), dataset.name, DATASET, data, manifest=manifest.to_bytes(), meta=meta
    )
    entry = {
        "name": dataset.name,
        "path": dataset.path,
        "files": len(manifest.files),
        "bytes": artifact.size,
        "version": artifact.version,
        "sha256": artifact.digest,
        "change": artifact.change,
        "stored_new": artifact.stored_new,
        "recorded": recorded,
        "consistent": not inconsistent,
        "inconsistent": inconsistent,
    }
    return entry, artifact
