"""Configuration backups on the lab, end to end through the `orchestrator` command:
twice with nothing changed stores nothing new; a changed device config or Linux file shows
as a diff on that target only (secrets masked); a re-encrypted secret is "secret rotated".

Helpers here are shared by test_restore_lab.py and test_backup_kill.py.
"""

from __future__ import annotations

import importlib.util
import json
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Lab
from tests.integration.test_run_lab import ROOT, approve_template, orch, orch_env

pytestmark = pytest.mark.lab

CONFIG_BACKUP = "config-backup"


# --- helpers ---------------------------------------------------------------------------------


def _lab_layout() -> Any:
    spec = importlib.util.spec_from_file_location("lab_layout", ROOT / "lab" / "lab-layout.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lab_inventory(
    lab: Lab,
    where: Path,
    *,
    host_vars: dict[str, dict[str, Any]] | None = None,
    restore_datasets: list[dict[str, Any]] | None = None,
    restore_files: list[dict[str, Any]] | None = None,
) -> Path:
    """The lab's inventory plus the backup parts (db data set vars, the restore_verify group,
    extra host vars) in a directory inventory, whether or not the running lab has them."""
    inv = where / "inventory"
    shutil.rmtree(inv, ignore_errors=True)
    (inv / "host_vars").mkdir(parents=True)
    shutil.copy(lab.inventory, inv / "hosts.yml")
    shutil.copytree(lab.inventory.parent / "group_vars", inv / "group_vars")
    db_vars = _lab_layout().GROUP_VARS["db.yml"].format(lab=lab.dir, bridge="")
    (inv / "group_vars" / "db.yml").write_text(db_vars)
    verifier = lab.hosts[0]["name"]
    restores = {"restore_datasets": restore_datasets or [], "restore_files": restore_files or []}
    group = {"hosts": {verifier: None}, "vars": restores}
    (inv / "restore.yml").write_text(
        yaml.safe_dump({"all": {"children": {"restore_verify": group}}})
    )
    for host, values in (host_vars or {}).items():
        (inv / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(values))
    return inv


def backup_env(lab: Lab, tmp_path: Path, **extra: str) -> dict[str, str]:
    data_dir = tmp_path / "var"
    data_dir.mkdir(exist_ok=True)
    env = orch_env(lab, data_dir, ORCH_BACKUP_DIR=str(tmp_path / "backups"), **extra)
    if "ORCH_INVENTORY" not in extra:
        env["ORCH_INVENTORY"] = str(lab_inventory(lab, tmp_path))
    return env


def run(env: dict[str, str], runbook: str, limit: str, *, code: int = 0) -> dict[str, Any]:
    """Run a runbook and return its stored record (runs show --json)."""
    proc = orch(env, "run", runbook, "--limit", limit, "--json", timeout=300)
    assert proc.returncode == code, proc.stdout[-3000:] + proc.stderr[-3000:]
    record: dict[str, Any] = json.loads(proc.stdout[proc.stdout.index("{") :])
    return record


def backups_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    return list(record["meta"].get("backups", []))


def changed_targets(record: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for item in backups_of(record):
        if item["change"] != "unchanged":
            found.setdefault(item["host"], set()).add(item["artifact"])
    return found


def objects_on_disk(tmp_path: Path) -> set[str]:
    root = tmp_path / "backups" / "objects"
    return {p.parent.name + p.name for p in root.glob("*/*") if not p.name.startswith(".tmp-")}


def ssh(lab: Lab, host: str, command: str) -> str:
    proc = subprocess.run(
        ["ssh", "-F", str(lab.dir / "ssh_config"), host, command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def configure_device(lab: Lab, name: str, lines: list[str]) -> None:
    """Change a fakenos device's config in config mode, and save it (running = startup, so the
    inspections of other tests see no unsaved change)."""
    from netmiko import ConnectHandler

    from tests.integration.test_lab import netmiko_device

    device = next(d for d in lab.devices if d["name"] == name)
    with ConnectHandler(**netmiko_device(lab, device, lab.known_hosts)) as conn:
        conn.enable()
        conn.send_config_set(lines)
        conn.save_config()


def config_targets(lab: Lab) -> tuple[list[str], list[str], str]:
    """(devices: one per platform plus a second cisco_ios to change, linux hosts, changeable
    device)."""
    healthy = [d for d in lab.devices if d.get("state", "healthy") == "healthy"]
    platforms: dict[str, str] = {}
    for d in healthy:
        platforms.setdefault(d["platform"], d["name"])
    spare = next(d["name"] for d in healthy if d["name"] not in platforms.values())
    linux = [h["name"] for h in lab.hosts if h["state"] != "unreachable"][:6]
    return [*platforms.values(), spare], linux, spare


# --- tests -------------------------------------------------------------------------------------


def test_config_backup_stores_nothing_new_twice_and_shows_only_the_changed_target(
    lab: Lab, tmp_path: Path
) -> None:
    env = backup_env(lab, tmp_path)
    approve_template(env, CONFIG_BACKUP)
    devices, linux, spare = config_targets(lab)
    limit = ":".join(devices + linux)
    platforms = {d["platform"] for d in lab.devices if d["name"] in devices}
    assert len(platforms) >= 3
    assert len(linux) >= 5

    first = run(env, CONFIG_BACKUP, limit)
    items = backups_of(first)
    assert {i["host"] for i in items} == set(devices + linux)
    for name in devices:
        assert {"running-config", "startup-config"} <= {
            i["artifact"] for i in items if i["host"] == name
        }, name
    for name in linux:
        artifacts = {i["artifact"] for i in items if i["host"] == name}
        assert {"/etc/ssh/sshd_config", "/etc/fstab", "/etc/hosts", "packages"} <= artifacts
    stored = objects_on_disk(tmp_path)

    second = run(env, CONFIG_BACKUP, limit)
    assert len(backups_of(second)) == len(items)
    assert all(i["change"] == "unchanged" for i in backups_of(second)), changed_targets(second)
    assert not any(i["stored_new"] for i in backups_of(second))
    assert objects_on_disk(tmp_path) == stored  # no new object

    token = secrets.token_hex(4)
    configure_device(
        lab,
        spare,
        [f"interface Loopback{int(token[:3], 16) % 900 + 100}", f" description orch-{token}"],
    )
    third = run(env, CONFIG_BACKUP, limit)
    assert changed_targets(third) == {spare: {"running-config", "startup-config"}}
    diff = next(
        i["diff"]
        for i in backups_of(third)
        if i["host"] == spare and i["artifact"] == "running-config"
    )
    assert f"+ description orch-{token}" in diff
    shown = orch(env, "runs", "show", "last")
    assert "changed since the previous backup: 2" in shown.stdout
    assert f"orch-{token}" in shown.stdout

    host = linux[1]
    ssh(lab, host, f"cp -p /etc/hosts /etc/hosts.orch-test && echo '# orch-{token}' >> /etc/hosts")
    try:
        fourth = run(env, CONFIG_BACKUP, limit)
    finally:
        ssh(lab, host, "mv /etc/hosts.orch-test /etc/hosts")
    assert changed_targets(fourth) == {host: {"/etc/hosts"}}
    diff_cli = orch(env, "backup", "diff", host, "--artifact", "/etc/hosts")
    assert diff_cli.returncode == 0, diff_cli.stderr
    assert f"+# orch-{token}" in diff_cli.stdout
    report = orch(env, "report", "run", "last", "--format", "md", "--lang", "en", "-o", "-")
    assert f"+# orch-{token}" in report.stdout
    assert "Changed targets (1)" in report.stdout


def test_a_reencrypted_secret_is_secret_rotated_not_a_change(lab: Lab, tmp_path: Path) -> None:
    host = next(h["name"] for h in lab.hosts if h["state"] == "healthy")
    path = "/etc/orch-test/router.cfg"
    env = backup_env(lab, tmp_path)
    env["ORCH_INVENTORY"] = str(
        lab_inventory(lab, tmp_path, host_vars={host: {"backup_files": [path]}})
    )
    approve_template(env, CONFIG_BACKUP)
    config = (
        "hostname edge1\n"
        "enable secret 5 $1$mERr$HASHNUMBERONE0000000.\n"
        "snmp-server community Publ1cRO RO\n"
        "interface Gi0/1\n description uplink\n"
    )
    ssh(lab, host, f"mkdir -p /etc/orch-test && printf '%s' '{config}' > {path}")
    try:
        run(env, CONFIG_BACKUP, host)
        rotated = config.replace("HASHNUMBERONE0000000", "HASHNUMBERTWO1111111")
        ssh(lab, host, f"printf '%s' '{rotated}' > {path}")
        record = run(env, CONFIG_BACKUP, host)
    finally:
        ssh(lab, host, "rm -rf /etc/orch-test")
    item = next(i for i in backups_of(record) if i["artifact"] == path)
    assert item["change"] == "secret rotated"
    assert item["rotated"] == ["cisco-secret"]
    assert item["stored_new"]  # the exact new bytes are kept
    assert changed_targets(record) == {host: {path}}
    shown = orch(env, "backup", "diff", host, "--artifact", path)
    assert "secret rotated: cisco-secret" in shown.stdout
    assert "HASHNUMBER" not in shown.stdout
    raw = orch(env, "backup", "show", item["version"], "--raw")
    assert raw.stdout == rotated  # the stored copy stays exact and restorable


def test_backup_before_a_change_records_the_versions_on_the_run(lab: Lab, tmp_path: Path) -> None:
    book = ROOT / "tests" / "data" / "backups" / "runbooks" / "before-change.yml"
    env = backup_env(lab, tmp_path)
    approve_template(env, str(book))
    device = next(d["name"] for d in lab.devices if d["platform"] == "huawei")
    host = next(h["name"] for h in lab.hosts if h["state"] == "healthy")
    try:
        record = run(env, str(book), f"{device}:{host}")
    finally:
        ssh(lab, host, "rm -rf /var/tmp/orch-dump")
    marked = {(m["host"], m["artifact"]) for m in record["meta"]["before_change"]}
    assert marked == {(device, "running-config"), (device, "startup-config"), (host, "/etc/hosts")}
    steps = {s["name"]: s for h in record["hosts"] for s in h["steps"] if h["host"] == host}
    assert steps["snapshot files"]["parsed"]["versions"].keys() == {"/etc/hosts"}
    assert steps["snapshot files"]["parsed"]["missing"] == ["/etc/orch-absent.conf"]
    [dumped] = steps["dumped data"]["parsed"]["datasets"]
    assert (dumped["files"], dumped["recorded"], dumped["consistent"]) == (1, {"lines": "1"}, True)
    failing = steps["failing dump"]
    assert failing["status"] == "failed"
    assert failing["ignored"]
    assert "dump failed (exit 3)" in failing["error"]
    # What a rollback reads: the versions this run stored before changing anything.
    from orchestrator.app import App
    from orchestrator.settings import load_settings

    app = App(load_settings(Path(env["ORCH_CONFIG"]), env=env), operator="ops")
    versions = app.backups.versions_of_run(record["id"])
    before = {(v.target, v.artifact) for v in versions if v.meta["before_change"]}
    assert before == marked
    assert {(v.target, v.artifact) for v in versions} == marked | {(host, "dumped")}
