"""``restore:`` — prove that backups can be restored (restore verification, 恢复验证).

On a linux **verification host**, for each ``{source, dataset, version}``: read the
archive from the repository (its sha256 is checked: altered bytes fail here), copy it
into a fresh scratch directory (``mktemp -d`` under ``to``, default ``/var/tmp``,
never the data set's own path), extract it, check every file against the manifest
taken at backup time, run the data set's probes against the restored copy, and time
it (RTO = transfer + extract + checksum). The age of the data set's newest backup is
its RPO: older than ``max_age`` fails. The scratch directory is removed unless
``keep: true``. ``{source, artifact, probes}`` verifies one backed-up file the same way
(``file_restore``).

On a **network device**: check the stored configuration's integrity and show the
restore plan — the commands that would bring the running configuration back to the
backup — as a dry run (nothing is sent to the device but the read of its running
configuration).

Every verification is stored as evidence (``ArtifactSink.record_verification``) and
described in the step's ``parsed`` for checks and reports.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from orchestrator.backups.datasets import DataSet, DataSetError, inside, read_dataset
from orchestrator.backups.manifest import Manifest, check_files, parse_sha256sum
from orchestrator.backups.platforms import RUNNING, config_command
from orchestrator.backups.restore_plan import restore_plan
from orchestrator.engine.artifact_steps import Job, Outcome
from orchestrator.engine.file_restore import restore_file
from orchestrator.engine.restore_common import (
    check_age,
    find_version,
    make_scratch,
    max_age_of,
    new_entry,
    record_evidence,
    remove_scratch,
    run_probe,
    scratch_base,
    summary,
)
from orchestrator.errors import CommandTimeout, ConnectionLost, StoreError, TransportError
from orchestrator.inventory.model import HostKind
from orchestrator.transports.sftp import SftpCapable, put_file

_EXTRACT = """set -e
cd {scratch}
mkdir data
tar -xzf data.tar.gz -C data --no-same-owner
rm -f data.tar.gz
cd data
find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum"""


def restore(job: Job, spec: Any) -> Outcome:
    outcome = Outcome(parsed={"restores": [], "ok": True})
    items = spec if isinstance(spec, list) else [spec]
    for item in items:
        if not isinstance(item, Mapping):
            outcome.errors.append(f"restore: not a mapping: {item!r}")
            continue
        if job.host.kind is HostKind.NETWORK:
            entry = _config(job, item, outcome)
        elif item.get("artifact") and not item.get("dataset"):
            entry = restore_file(job, item, outcome)
        else:
            entry = _dataset(job, item, outcome)
        outcome.parsed["restores"].append(entry)
        if entry["reasons"]:
            outcome.errors += [
                f"{entry['source']} {entry['artifact']}: {r}" for r in entry["reasons"]
            ]
    outcome.parsed["ok"] = not outcome.errors
    outcome.lines.append("verdict: " + ("pass" if not outcome.errors else "FAIL"))
    return outcome


def _dataset(job: Job, item: Mapping[str, Any], outcome: Outcome) -> dict[str, Any]:
    source = str(item.get("source") or job.host.name)
    name = str(item.get("dataset") or "")
    entry = new_entry(source, name)
    if not name:
        entry["reasons"].append("restore: needs dataset: (a data set) or artifact: (a file)")
        return entry
    found = find_version(job, source, name, item, entry)
    if found is None:
        return entry
    entry["recorded"] = dict(found.meta.get("recorded") or {})
    try:
        dataset = read_dataset(found.meta.get("dataset", {}), f"{name} (as backed up)")
        check_age(entry, max_age_of(item, dataset.max_age))
        data = job.sink.read(found)
        manifest = Manifest.from_bytes(job.sink.read_manifest(found))
    except (DataSetError, StoreError, ValueError) as exc:
        entry["reasons"].append(str(exc))
        record_evidence(job, entry)
        return entry
    base = scratch_base(item)
    if inside(base, dataset.path):
        entry["reasons"].append(
            f"refusing to restore into {base}: it is inside the data set's path"
        )
    else:
        _restore_into(job, entry, base, data, manifest, dataset, keep=bool(item.get("keep")))
    entry["ok"] = not entry["reasons"]
    outcome.lines.append(summary(entry))
    record_evidence(job, entry)
    return entry


def _restore_into(
    job: Job,
    entry: dict[str, Any],
    base: str,
    data: bytes,
    manifest: Manifest,
    dataset: DataSet,
    *,
    keep: bool,
) -> None:
    start = job.clock.monotonic()
    scratch = make_scratch(job, entry, base)
    if scratch is None:
        return
    entry["restored_to"] = f"{scratch}/data"
    try:
        conn: SftpCapable = job.conn  # type: ignore[assignment]
        put_file(conn, data, f"{scratch}/data.tar.gz", timeout=job.timeout)
        out = job.run(_EXTRACT.format(scratch=shlex.quote(scratch)))
        if out.exit_code != 0:
            entry["reasons"].append(
                f"extract failed (exit {out.exit_code}): {out.stderr.strip()[-300:]}"
            )
            return
        check = check_files(manifest, parse_sha256sum(out.stdout))
        entry["rto_s"] = round(job.clock.monotonic() - start, 3)
        entry.update(
            files=check.files,
            verified=check.verified,
            missing=list(check.missing),
            mismatched=list(check.mismatched),
            extra=len(check.extra),
        )
        entry["reasons"] += check.reasons()
        directory = f"{scratch}/data"
        entry["probes"] = [run_probe(job, p, directory, entry) for p in dataset.probes]
    except (ConnectionLost, CommandTimeout):
        raise
    except TransportError as exc:
        entry["reasons"].append(str(exc))
    finally:
        if not keep:
            remove_scratch(job, scratch)


def _config(job: Job, item: Mapping[str, Any], outcome: Outcome) -> dict[str, Any]:
    artifact = str(item.get("artifact") or RUNNING)
    entry = new_entry(job.host.name, artifact)
    found = find_version(job, job.host.name, artifact, item, entry)
    if found is None:
        return entry
    try:
        check_age(entry, max_age_of(item, None))
        backup = job.sink.read(found).decode("utf-8", "replace")
    except (StoreError, ValueError) as exc:
        entry["reasons"].append(str(exc))
        record_evidence(job, entry)
        return entry
    entry["integrity"] = "ok"
    command = config_command(job.host.platform or "", RUNNING)
    current = job.run(command) if command else None
    if current is None or current.exit_code != 0:
        entry["reasons"].append(
            f"cannot read the running configuration ({command or 'unknown platform'})"
        )
    else:
        plan = restore_plan(job.host.platform or "", current.stdout, backup)
        entry.update(
            plan=list(plan.commands),
            removed=plan.removed,
            added=plan.added,
            in_sync=plan.in_sync,
            note=plan.note,
        )
        outcome.lines.append(
            f"restore plan for {artifact} from version {found.id} (dry run, not applied):"
        )
        outcome.lines += list(plan.commands) or [plan.note or "(in sync: nothing to do)"]
    entry["ok"] = not entry["reasons"]
    record_evidence(job, entry)
    return entry
