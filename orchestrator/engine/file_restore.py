"""``restore: {source, artifact, probes}`` on a linux verification host: one backed-up file
(e.g. a host's ``/etc/ssh/sshd_config``) copied into a scratch directory, its sha256
checked against the backup's, and probed there (``/usr/sbin/sshd -t -f {file}``).
Network device configs are verified by ``restore`` itself (restore plan)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from orchestrator.backups.datasets import DataSetError, Probe, read_probe
from orchestrator.engine.artifact_steps import Job, Outcome
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
from orchestrator.transports.sftp import SftpCapable, put_file


def restore_file(job: Job, item: Mapping[str, Any], outcome: Outcome) -> dict[str, Any]:
    source = str(item.get("source") or job.host.name)
    name = str(item["artifact"])
    entry = new_entry(source, name)
    found = find_version(job, source, name, item, entry)
    if found is None:
        return entry
    try:
        check_age(entry, max_age_of(item, None))
        data = job.sink.read(found)
        probes = [
            read_probe(p, f"{name}.probes[{i}]") for i, p in enumerate(item.get("probes") or [])
        ]
    except (DataSetError, StoreError, ValueError) as exc:
        entry["reasons"].append(str(exc))
        record_evidence(job, entry)
        return entry
    _restore(job, entry, scratch_base(item), data, found.digest, probes, bool(item.get("keep")))
    entry["ok"] = not entry["reasons"]
    outcome.lines.append(summary(entry))
    record_evidence(job, entry)
    return entry


def _restore(
    job: Job,
    entry: dict[str, Any],
    base: str,
    data: bytes,
    digest: str,
    probes: list[Probe],
    keep: bool,
) -> None:
    start = job.clock.monotonic()
    scratch = make_scratch(job, entry, base)
    if scratch is None:
        return
    target = f"{scratch}/{PurePosixPath(entry['artifact']).name or 'file'}"
    entry["restored_to"] = target
    try:
        conn: SftpCapable = job.conn  # type: ignore[assignment]
        put_file(conn, data, target, timeout=job.timeout)
        out = job.run(f"sha256sum {shlex.quote(target)}")
        got = out.stdout.split()[0] if out.exit_code == 0 and out.stdout.split() else ""
        entry["rto_s"] = round(job.clock.monotonic() - start, 3)
        ok = got == digest
        entry.update(files=1, verified=int(ok), missing=[], mismatched=[] if ok else [target])
        if not ok:
            entry["reasons"].append(
                f"the restored file's sha256 is {got[:12] or '?'}…, not the backup's"
            )
        entry["probes"] = [run_probe(job, p, scratch, entry, target) for p in probes]
    except (ConnectionLost, CommandTimeout):
        raise
    except TransportError as exc:
        entry["reasons"].append(str(exc))
    finally:
        if not keep:
            remove_scratch(job, scratch)
