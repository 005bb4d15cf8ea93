"""Killing a backup mid-write never leaves a partial object visible.

A real `orchestrator run config-backup` backs up a large file from a lab host (through the
runbook's backup_files var); the test SIGKILLs it while the object's bytes are being
written (a temp file is in the object directory), then checks that every object's bytes
hash to its name, that `backup verify` is clean (the temp file is reported as what it is),
that the index points only at objects that exist, and that the next run completes.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Lab
from tests.integration.test_backup_lab import (
    CONFIG_BACKUP,
    backup_env,
    lab_inventory,
    run,
    ssh,
)
from tests.integration.test_run_lab import ROOT, approve_template, orch

pytestmark = [pytest.mark.lab, pytest.mark.slow]

BIG = "/var/tmp/orch-kill-test.bin"
BIG_MB = 48


def _temp_files(objects: Path) -> list[Path]:
    return sorted(objects.glob("*/.tmp-*"))


def _kill_while_writing(env: dict[str, str], host: str, objects: Path) -> bool:
    """Start the backup; SIGKILL it once a big object is being written. True if caught."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", CONFIG_BACKUP, "--limit", host],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if any(p.stat().st_size > 1 << 20 for p in _temp_files(objects) if p.exists()):
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                return True
            time.sleep(0.001)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_sigkill_mid_write_leaves_no_partial_object(lab: Lab, tmp_path: Path) -> None:
    host = next(h["name"] for h in lab.hosts if h["state"] == "healthy")
    ssh(lab, host, f"head -c {BIG_MB}M /dev/urandom > {BIG}")
    try:
        digest = hashlib.sha256(
            subprocess.run(
                ["ssh", "-F", str(lab.dir / "ssh_config"), host, f"cat {BIG}"],
                capture_output=True,
                check=True,
                timeout=120,
            ).stdout
        ).hexdigest()
        caught = False
        for attempt in range(4):  # the write takes well under a second: rarely missed
            work = tmp_path / f"attempt{attempt}"
            work.mkdir()
            env = backup_env(lab, work)
            env["ORCH_INVENTORY"] = str(
                lab_inventory(lab, work, host_vars={host: {"backup_files": [BIG]}})
            )
            approve_template(env, CONFIG_BACKUP)
            objects = work / "backups" / "objects"
            if _kill_while_writing(env, host, objects):
                caught = True
                break
        assert caught, "never caught the backup while it wrote the big object"
        _assert_no_partial_object(env, objects, digest)
        # The next run completes and stores the file whole.
        record = run(env, CONFIG_BACKUP, host)
        big = next(i for i in record["meta"]["backups"] if i["artifact"] == BIG)
        assert big["sha256"] == digest
        assert orch(env, "backup", "verify").returncode == 0
    finally:
        ssh(lab, host, f"rm -f {BIG}")


def _assert_no_partial_object(env: dict[str, str], objects: Path, digest: str) -> None:
    temps = _temp_files(objects)
    assert temps, "the killed writer's temp file should be there"
    for path in objects.glob("*/*"):
        if path.name.startswith(".tmp-"):
            continue
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.parent.name + path.name
    assert not (objects / digest[:2] / digest[2:]).exists()  # not visible under its name
    verify = orch(env, "backup", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "temp file(s) of interrupted writes" in verify.stdout
    listing = orch(env, "backup", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    for item in json.loads(listing.stdout or "[]"):
        latest = item["latest"]["sha256"]
        assert (objects / latest[:2] / latest[2:]).is_file()
    shown = orch(env, "runs", "show", "last", "--json")
    assert json.loads(shown.stdout)["status"] == "interrupted"
