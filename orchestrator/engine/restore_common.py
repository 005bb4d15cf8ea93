"""What every kind of restore verification shares: the entry describing one verification
(``parsed.restores[]``), finding the version and its age, the scratch directory, probes,
and the evidence kept with the version."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from orchestrator.backups.datasets import Probe
from orchestrator.engine.artifact_steps import Job
from orchestrator.engine.artifacts import RestoreEvidence, StoredVersion
from orchestrator.runbook.durations import parse_duration

SCRATCH_PREFIX = "orch-restore."
DEFAULT_BASE = "/var/tmp"


def wanted_version(item: Mapping[str, Any]) -> str | None:
    version = item.get("version")
    return None if version in (None, "", "latest") else str(version)


def max_age_of(item: Mapping[str, Any], default: float | None) -> float | None:
    if item.get("max_age") not in (None, ""):
        return parse_duration(item["max_age"])
    return default


def scratch_base(item: Mapping[str, Any]) -> str:
    return str(item.get("to") or DEFAULT_BASE).rstrip("/") or "/"


def new_entry(source: str, artifact: str) -> dict[str, Any]:
    return {
        "source": source,
        "artifact": artifact,
        "version": None,
        "created": None,
        "age_s": None,
        "newest_age_s": None,
        "max_age_s": None,
        "reasons": [],
        "ok": False,
    }


def find_version(
    job: Job, source: str, name: str, item: Mapping[str, Any], entry: dict[str, Any]
) -> StoredVersion | None:
    """The version to verify (and the newest one's age, the RPO), noted on the entry."""
    wanted = wanted_version(item)
    found = job.sink.find(source, name, wanted)
    newest = job.sink.find(source, name)
    now = job.clock.now()
    if found is None:
        which = f"no version {wanted}" if wanted else "no backup"
        entry["reasons"].append(f"{which} of {name} from {source} in the repository")
        return None
    entry.update(version=found.id, created=found.created.isoformat())
    entry["age_s"] = round((now - found.created).total_seconds(), 1)
    if newest is not None:
        entry["newest_age_s"] = round((now - newest.created).total_seconds(), 1)
    return found


def check_age(entry: dict[str, Any], max_age: float | None) -> None:
    entry["max_age_s"] = max_age
    age = entry["newest_age_s"]
    if max_age is not None and age is not None and age > max_age:
        entry["reasons"].append(
            f"the newest backup is {age / 3600:.1f} h old, older than max_age "
            f"{max_age / 3600:.1f} h (RPO)"
        )


def make_scratch(job: Job, entry: dict[str, Any], base: str) -> str | None:
    """A fresh directory under ``base`` on the verification host (None: reason noted)."""
    made = job.run(f"mktemp -d {shlex.quote(base)}/{SCRATCH_PREFIX}XXXXXXXX")
    scratch = made.stdout.strip()
    if made.exit_code != 0 or not scratch.startswith(base):
        why = made.stderr.strip()[-200:]
        entry["reasons"].append(f"cannot make a scratch directory in {base}: {why}")
        return None
    return scratch


def remove_scratch(job: Job, scratch: str) -> None:
    job.run(f"rm -rf -- {shlex.quote(scratch)}")


def run_probe(
    job: Job, probe: Probe, directory: str, entry: dict[str, Any], file: str = ""
) -> dict[str, Any]:
    out = job.run(probe.command_for(directory, file))
    got = out.stdout.strip()
    expected = probe.expect
    if probe.expect_recorded is not None:
        expected = entry.get("recorded", {}).get(probe.expect_recorded)
    ok = out.exit_code == 0 and (expected is None or got == expected)
    if not ok:
        why = (
            f"exit {out.exit_code}: {(out.stderr.strip() or got)[-160:]}"
            if out.exit_code
            else f"got {got[:80]!r}, expected {expected!r}"
        )
        entry["reasons"].append(f"probe {probe.name!r} failed: {why}")
    return {
        "name": probe.name,
        "rc": out.exit_code,
        "output": got[:500],
        "expected": expected,
        "ok": ok,
    }


def summary(entry: dict[str, Any]) -> str:
    verdict = "pass" if entry["ok"] else "FAIL: " + "; ".join(entry["reasons"])
    return (
        f"{entry['source']} {entry['artifact']} version {entry['version']}: "
        f"{entry.get('verified', 0)}/{entry.get('files', 0)} files verified, "
        f"RTO {entry.get('rto_s', '-')} s, backup age {entry.get('age_s')} s — {verdict}"
    )


def record_evidence(job: Job, entry: dict[str, Any]) -> None:
    if entry["version"] is None:
        return
    job.sink.record_verification(
        RestoreEvidence(
            version=entry["version"],
            target=entry["source"],
            artifact=entry["artifact"],
            run_id=job.plan.run_id,
            host=job.host.name,
            verified=job.clock.now(),
            ok=not entry["reasons"],
            reasons=tuple(entry["reasons"]),
            rto_s=entry.get("rto_s"),
            age_s=entry.get("newest_age_s"),
            details={k: v for k, v in entry.items() if k != "reasons"},
        )
    )
