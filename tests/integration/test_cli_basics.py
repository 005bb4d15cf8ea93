"""The CLI's read-only commands and its error paths, run as a user would (no lab needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example" / "hosts.yml"


def orch(tmp_path: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCH_")}
    env.update(
        ORCH_INVENTORY=str(EXAMPLE),
        ORCH_DATA_DIR=str(tmp_path / "var"),
        ORCH_RUNBOOKS=str(ROOT / "runbooks"),
        COLUMNS="200",
    )
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_inventory_list_pattern_matches_ansible_semantics(tmp_path: Path) -> None:
    proc = orch(tmp_path, "inventory", "list", "linux:&critical", "--json")
    assert proc.returncode == 0, proc.stderr
    hosts = json.loads(proc.stdout)
    assert hosts
    assert all(h["kind"] == "linux" for h in hosts)
    assert all("critical" in h["groups"] for h in hosts)


def test_inventory_show_masks_secrets(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.yml"
    inv.write_text(
        "all:\n  hosts:\n    sw9:\n      kind: network\n      platform: cisco_ios\n"
        "      ansible_password: hunter2\n      snmp_community: public\n"
    )
    proc = orch(tmp_path, "inventory", "show", "sw9", ORCH_INVENTORY=str(inv))
    assert proc.returncode == 0, proc.stderr
    assert "hunter2" not in proc.stdout
    assert "public" not in proc.stdout
    assert "********" in proc.stdout
    assert "cisco_ios" in proc.stdout


def test_inventory_graph_and_unknown_host(tmp_path: Path) -> None:
    proc = orch(tmp_path, "inventory", "graph")
    assert proc.returncode == 0
    assert proc.stdout.startswith("@all:")
    missing = orch(tmp_path, "inventory", "show", "nope")
    assert missing.returncode == 2
    assert "nope" in missing.stderr


def test_runbook_list_show_validate(tmp_path: Path) -> None:
    listed = orch(tmp_path, "runbook", "list")
    assert listed.returncode == 0
    assert "daily-inspection" in listed.stdout
    shown = orch(tmp_path, "runbook", "show", "daily-inspection")
    assert shown.returncode == 0
    assert "filesystem use" in shown.stdout
    assert orch(tmp_path, "runbook", "validate").returncode == 0


def test_runbook_validate_reports_every_problem_with_location(tmp_path: Path) -> None:
    books = tmp_path / "books"
    books.mkdir()
    (books / "broken.yml").write_text(
        "name: broken\nkind: inspection\nchange: standard\ntargets: all\nsteps:\n"
        "  - name: a\n    command: uptime\n    timeout: soon\n"
        "  - name: a\n    cli: show version\n    checks: [{warn: '>= x'}]\n"
    )
    proc = orch(tmp_path, "runbook", "validate", "broken", ORCH_RUNBOOKS=str(books))
    assert proc.returncode == 2
    assert f"{books / 'broken.yml'}:8" in proc.stderr  # bad duration
    assert f"{books / 'broken.yml'}:9" in proc.stderr  # duplicate step name
    assert f"{books / 'broken.yml'}:11" in proc.stderr  # bad threshold


def test_unknown_runbook_suggests_names(tmp_path: Path) -> None:
    proc = orch(tmp_path, "run", "daily-inspektion")
    assert proc.returncode == 2
    assert "daily-inspection" in proc.stderr


def test_bad_settings_file_names_file_and_field(tmp_path: Path) -> None:
    config = tmp_path / "orchestrator.toml"
    config.write_text('forks = "many"\ncolour = "blue"\n')
    proc = orch(tmp_path, "--config", str(config), "runs", "list")
    assert proc.returncode == 2
    assert str(config) in proc.stderr
    assert "forks" in proc.stderr
    assert "colour" in proc.stderr


def test_runs_list_on_empty_store_and_unknown_run(tmp_path: Path) -> None:
    assert orch(tmp_path, "runs", "list").returncode == 0
    proc = orch(tmp_path, "runs", "show", "20990101")
    assert proc.returncode == 2
    assert "20990101" in proc.stderr


def test_inventory_error_is_located(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.yml"
    inv.write_text("all:\n  hosts:\n    r1:\n      kind: router\n")
    proc = orch(tmp_path, "inventory", "list", ORCH_INVENTORY=str(inv))
    assert proc.returncode == 2
    assert f"{inv}:4" in proc.stderr
    assert "kind" in proc.stderr
