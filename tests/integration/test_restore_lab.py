"""Restore verification on the lab: data sets of the db hosts are backed up (data-backup),
restored into a scratch directory on the verification host and probed (restore-verify).
It passes on a sound backup and fails, with the reason, on a corrupted archive, a missing
file, or a backup older than its max age; network devices get a dry-run restore plan."""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator.app import App
from orchestrator.engine.artifacts import DATASET, ArtifactOrigin
from orchestrator.settings import load_settings
from tests.conftest import Lab
from tests.integration.test_backup_lab import (
    CONFIG_BACKUP,
    backup_env,
    configure_device,
    lab_inventory,
    run,
    ssh,
)
from tests.integration.test_run_lab import ROOT, approve_template, orch

pytestmark = pytest.mark.lab

DATA_BACKUP, RESTORE_VERIFY = "data-backup", "restore-verify"


@pytest.fixture(scope="module")
def datasets(lab: Lab) -> list[str]:
    """The db hosts that have the lab data set (lab/datasets.sh writes it; idempotent)."""
    subprocess.run(["bash", str(ROOT / "lab" / "datasets.sh")], check=True, timeout=120)
    return [h["name"] for h in lab.hosts if h["role"] == "db" and h["state"] != "unreachable"][:2]


def setup(lab: Lab, tmp_path: Path, sources: list[str], **item: Any) -> tuple[dict[str, str], str]:
    env = backup_env(lab, tmp_path)
    restores = [{"source": s, "dataset": "appdata", **item} for s in sources]
    env["ORCH_INVENTORY"] = str(lab_inventory(lab, tmp_path, restore_datasets=restores))
    for book in (DATA_BACKUP, RESTORE_VERIFY):
        approve_template(env, book)
    return env, lab.hosts[0]["name"]


def restores_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    return list(record["meta"].get("restore_verifications", []))


def app_of(env: dict[str, str]) -> App:
    return App(load_settings(Path(env["ORCH_CONFIG"]), env=env), operator="ops")


def test_restore_verification_of_lab_data_sets_passes_with_evidence(
    lab: Lab, tmp_path: Path, datasets: list[str]
) -> None:
    env, verifier = setup(lab, tmp_path, datasets)
    backup = run(env, DATA_BACKUP, ":".join(datasets))
    for host in backup["hosts"]:
        [entry] = host["steps"][0]["parsed"]["datasets"]
        assert entry["files"] == 14
        assert entry["consistent"]
        assert int(entry["recorded"]["orders"]) > 200

    record = run(env, RESTORE_VERIFY, verifier)
    found = restores_of(record)
    assert [r["source"] for r in found] == datasets
    for r in found:
        assert r["ok"], r
        assert (r["files"], r["verified"], r["missing"], r["mismatched"]) == (14, 14, [], [])
        assert r["rto_s"] is not None
        assert r["rto_s"] > 0
        assert r["max_age_s"] == 26 * 3600
        assert [p["ok"] for p in r["probes"]] == [True, True, True]
        assert r["restored_to"].startswith("/var/tmp/orch-restore.")
    checks = {c["name"]: c for c in record["hosts"][0]["steps"][0]["checks"]}
    assert checks[f"restore verified {datasets[0]} appdata"]["grade"] == "normal"
    assert checks[f"restore time (RTO) {datasets[0]} appdata"]["unit"] == "s"
    # The scratch copy is gone and the evidence is kept with the version.
    assert "orch-restore." not in ssh(lab, verifier, "ls /var/tmp")
    shown = orch(env, "backup", "show", found[0]["version"])
    assert f"on {verifier}" in shown.stdout
    assert "pass" in shown.stdout
    report = orch(env, "report", "run", "last", "--format", "md", "--lang", "en", "-o", "-")
    assert "Restore verification (2)" in report.stdout


def test_corrupted_archive_fails_verify_and_restore(
    lab: Lab, tmp_path: Path, datasets: list[str]
) -> None:
    env, verifier = setup(lab, tmp_path, datasets[:1])
    backup = run(env, DATA_BACKUP, datasets[0])
    version = backup["hosts"][0]["steps"][0]["parsed"]["datasets"][0]["sha256"]
    path = tmp_path / "backups" / "objects" / version[:2] / version[2:]
    os.chmod(path, 0o640)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    verify = orch(env, "backup", "verify")
    assert verify.returncode == 1, verify.stdout
    assert "altered on disk" in verify.stdout
    assert datasets[0] in verify.stdout

    record = run(env, RESTORE_VERIFY, verifier, code=1)
    [result] = restores_of(record)
    assert not result["ok"]
    assert any("corrupt" in reason for reason in result["reasons"]), result["reasons"]
    assert "corrupt" in record["hosts"][0]["error"]


def _without(archive: bytes, dropped: str) -> bytes:
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as src,
        tarfile.open(fileobj=out, mode="w:gz") as dst,
    ):
        for member in src:
            if member.name.lstrip("./") != dropped:
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)
    return out.getvalue()


def test_a_file_missing_from_the_archive_fails_the_restore(
    lab: Lab, tmp_path: Path, datasets: list[str]
) -> None:
    env, verifier = setup(lab, tmp_path, datasets[:1])
    run(env, DATA_BACKUP, datasets[0])
    store = app_of(env).backups
    latest = store.find(datasets[0], "appdata")
    assert latest is not None
    # An archive that lost a member (a tool that skipped an unreadable file, say) stored as
    # the newest version, with the manifest taken from the source files.
    short = _without(store.read(latest), "uploads/invoice-0003.txt")
    store.save(
        ArtifactOrigin("test-incomplete", datasets[0], 0, "archive data sets"),
        "appdata",
        DATASET,
        short,
        manifest=store.read_manifest(latest),
        meta=dict(latest.meta),
    )
    record = run(env, RESTORE_VERIFY, verifier, code=1)
    [result] = restores_of(record)
    assert result["missing"] == ["uploads/invoice-0003.txt"]
    assert result["verified"] == 13
    assert (
        "1 file(s) missing from the restored copy: uploads/invoice-0003.txt" in (result["reasons"])
    )


def test_a_backup_older_than_max_age_fails(lab: Lab, tmp_path: Path, datasets: list[str]) -> None:
    env, verifier = setup(lab, tmp_path, datasets[:1], max_age="2s")
    run(env, DATA_BACKUP, datasets[0])
    time.sleep(3)
    record = run(env, RESTORE_VERIFY, verifier, code=1)
    [result] = restores_of(record)
    assert result["files"] == result["verified"] == 14  # intact, but too old
    assert any("older than max_age" in r and "(RPO)" in r for r in result["reasons"]), result


def test_network_restore_plan_is_a_dry_run(lab: Lab, tmp_path: Path) -> None:
    device = [d for d in lab.devices if d["platform"] == "cisco_ios"][1]["name"]
    env = backup_env(lab, tmp_path)
    for book in (CONFIG_BACKUP, RESTORE_VERIFY):
        approve_template(env, book)
    run(env, CONFIG_BACKUP, device)
    token = secrets.token_hex(4)
    loopback = f"Loopback{int(token[:3], 16) % 900 + 100}"
    configure_device(lab, device, [f"interface {loopback}", f" description orch-{token}"])
    record = run(env, RESTORE_VERIFY, device)
    [result] = restores_of(record)
    assert result["ok"], result
    assert f"no interface {loopback}" in result["plan"]
    assert result["plan"][0] == "configure terminal"
    report = orch(env, "report", "run", "last", "--format", "md", "--lang", "en", "-o", "-")
    assert "Restore plan (dry run, not applied)" in report.stdout
    assert f"no interface {loopback}" in report.stdout
    # A dry run: the device still has the line.
    again = run(env, CONFIG_BACKUP, device)
    item = next(i for i in again["meta"]["backups"] if i["artifact"] == "running-config")
    assert item["change"] == "changed"
    assert f"orch-{token}" in item["diff"]


def test_restored_config_files_are_checked_and_probed(lab: Lab, tmp_path: Path) -> None:
    verifier = lab.hosts[0]["name"]
    source = next(h["name"] for h in lab.hosts[1:] if h["state"] == "healthy")
    broken = "/etc/orch-test/sshd_config"
    sshd = {"name": "sshd config valid", "command": "/usr/sbin/sshd -t -f {file}"}
    files = [
        {"source": source, "artifact": "/etc/ssh/sshd_config", "probes": [sshd]},
        {"source": source, "artifact": broken, "probes": [sshd]},
    ]
    env = backup_env(lab, tmp_path)
    env["ORCH_INVENTORY"] = str(
        lab_inventory(
            lab, tmp_path, host_vars={source: {"backup_files": [broken]}}, restore_files=files
        )
    )
    for book in (CONFIG_BACKUP, RESTORE_VERIFY):
        approve_template(env, book)
    ssh(
        lab,
        source,
        f"mkdir -p /etc/orch-test && sed '$a Bogus yes' /etc/ssh/sshd_config > {broken}",
    )
    try:
        run(env, CONFIG_BACKUP, source)
    finally:
        ssh(lab, source, "rm -rf /etc/orch-test")
    record = run(env, RESTORE_VERIFY, verifier, code=1)
    good, bad = restores_of(record)
    assert good["ok"], good
    assert (good["files"], good["verified"]) == (1, 1)
    assert good["probes"] == [{"name": "sshd config valid", "ok": True, "output": ""}]
    assert not bad["ok"]
    assert bad["verified"] == 1  # restored intact, but not usable
    assert any("Bad configuration option: Bogus" in r for r in bad["reasons"]), bad["reasons"]
    assert "orch-restore." not in ssh(lab, verifier, "ls /var/tmp")
