"""The change desk and the audit log through the CLI, against a real SQLite store and the
example inventory (nothing connects): identity rules, the approval flow, illegal moves,
and `audit verify` naming a row edited directly in the database."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example" / "hosts.yml"
SETTINGS = """\
allow_user_override = true
[roles]
alice = ["operator"]
bob = ["change-manager"]
audrey = ["auditor"]
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "orchestrator.toml").write_text(SETTINGS)
    return tmp_path


def orch(
    home: Path, user: str | None, *args: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCH_")}
    env.update(
        ORCH_INVENTORY=str(EXAMPLE),
        ORCH_DATA_DIR=str(home / "var"),
        ORCH_RUNBOOKS=str(ROOT / "runbooks"),
        ORCH_CONFIG=str(home / "orchestrator.toml"),
        COLUMNS="200",
    )
    if user is not None:
        env["ORCH_USER"] = user
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def template(home: Path) -> str:
    proc = orch(
        home, "alice", "change", "template", "create", "--title", "daily inspection",
        "-r", "daily-inspection", "--targets", "all", "--purpose", "日常巡检", "--submit",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"CHG-\d{8}-\d{3}", proc.stdout)
    assert match, proc.stdout
    return match.group(0)


def test_orch_user_needs_the_settings_to_allow_it(home: Path) -> None:
    (home / "orchestrator.toml").write_text(SETTINGS.replace("true", "false"))
    proc = orch(home, "mallory", "change", "list")
    assert proc.returncode == 2
    assert "ORCH_USER" in proc.stderr
    assert "allow_user_override" in proc.stderr


def test_the_environment_cannot_grant_roles(home: Path) -> None:
    proc = orch(home, "alice", "change", "list", ORCH_ALLOW_UNRECORDED_READONLY="true")
    assert proc.returncode == 2
    assert "may only be set in the settings file" in proc.stderr


def test_without_an_approved_template_even_a_dry_run_is_refused(home: Path) -> None:
    proc = orch(home, "alice", "run", "daily-inspection", "--dry-run")
    assert proc.returncode == 3
    assert "no approved standard template" in proc.stdout + proc.stderr


def test_the_template_flow_and_what_show_prints(home: Path) -> None:
    change_id = template(home)
    pending = orch(home, "audrey", "change", "list", "--pending")
    assert change_id in pending.stdout
    refused = orch(home, "alice", "change", "approve", change_id)
    assert refused.returncode == 3
    assert "refused:" in refused.stderr
    assert "needs the change-manager role" in refused.stderr
    approved = orch(home, "bob", "change", "approve", change_id, "-m", "read-only, fine")
    assert approved.returncode == 0, approved.stderr
    assert "approved" in approved.stdout
    dry = orch(home, "alice", "run", "daily-inspection", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["gate"]["change_id"] == change_id

    shown = json.loads(orch(home, "audrey", "change", "show", change_id, "--json").stdout)
    assert shown["state"] == "approved"
    assert shown["decisions"][0]["by"] == "bob"
    steps = shown["plan"]["runbooks"][0]["steps"]
    assert any("df -P" in s["action"] for s in steps)
    actions = [e["action"] for e in shown["history"]]
    assert actions[:3] == ["change.create", "change.submit", "change.refused"]
    assert "change.approve" in actions
    text = orch(home, "audrey", "change", "show", change_id).stdout
    assert "approvals: 1 of 1" in text
    assert "batch 1:" in text


def test_an_illegal_move_names_the_allowed_ones(home: Path) -> None:
    change_id = template(home)
    again = orch(home, "alice", "change", "submit", change_id)
    assert again.returncode == 3
    assert "allowed from submitted: approved, rejected, cancelled" in again.stderr


def test_audit_verify_names_a_row_edited_in_the_database(home: Path) -> None:
    template(home)
    assert orch(home, "audrey", "audit", "verify").returncode == 0
    with sqlite3.connect(home / "var" / "orchestrator.db") as db:
        db.execute("DROP TRIGGER audit_log_no_update")  # someone with the file in hand
        db.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    proc = orch(home, "audrey", "audit", "verify")
    assert proc.returncode == 1
    assert "entry 2 (" in proc.stderr
    assert "was altered" in proc.stderr
    assert "entries 1..1 verify" in proc.stderr


def test_audit_export_writes_json_lines(home: Path) -> None:
    template(home)
    out = home / "audit.jsonl"
    proc = orch(home, "audrey", "audit", "export", "--since", "-1h", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    entries = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["action"] for e in entries] == ["change.create", "change.submit"]
    assert entries[1]["prev_hash"] == entries[0]["hash"]
    future = orch(home, "audrey", "audit", "export", "--since", "+1h")
    assert future.stdout == ""
