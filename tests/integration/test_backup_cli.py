"""`orchestrator backup list | show | diff | verify | prune` on a real repository (SQLite file
and object directory), without the lab: versions are stored through the app's BackupStore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.app import App
from orchestrator.clock import ManualClock
from orchestrator.engine.artifacts import OUTPUT, ArtifactOrigin
from orchestrator.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "backups"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCH_")}
    env.update(
        ORCH_DATA_DIR=str(tmp_path / "var"),
        ORCH_BACKUP_DIR=str(tmp_path / "backups"),
        ORCH_CONFIG=str(tmp_path / "orchestrator.toml"),
        ORCH_BACKUP_KEEP_DAILY="2",
        ORCH_BACKUP_KEEP_WEEKLY="0",
        ORCH_BACKUP_KEEP_MONTHLY="0",
        COLUMNS="200",
    )
    (tmp_path / "orchestrator.toml").write_text("timezone = 'UTC'\n")
    return env


def orch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def populate(env: dict[str, str]) -> list[str]:
    """sw1 running-config on five days: a, a, changed, rotated-from-a, a (ids oldest first)."""
    clock = ManualClock(datetime(2026, 11, 1, 2, 0, tzinfo=UTC))
    app = App(load_settings(Path(env["ORCH_CONFIG"]), env=env), clock=clock, operator="ops")
    ids = []
    for day, name in enumerate(["ios-a.cfg", "ios-a.cfg", "ios-changed.cfg", "ios-a.cfg"]):
        origin = ArtifactOrigin(f"run{day}", "sw1", 0, "running config")
        data = (DATA / name).read_bytes()
        ids.append(app.backups.save(origin, "running-config", OUTPUT, data).version)
        clock.advance(86400)
    origin = ArtifactOrigin("run9", "sw1", 1, "startup config")
    app.backups.save(origin, "startup-config", OUTPUT, (DATA / "ios-a.cfg").read_bytes())
    app.database.dispose()
    return ids


def test_list_show_and_diff(env: dict[str, str]) -> None:
    ids = populate(env)
    listing = orch(env, "backup", "list")
    assert listing.returncode == 0, listing.stderr
    assert "running-config" in listing.stdout
    assert "startup-config" in listing.stdout
    data = json.loads(orch(env, "backup", "list", "sw1", "--json").stdout)
    running = next(d for d in data if d["artifact"] == "running-config")
    assert running["versions"] == 4
    assert running["latest"]["id"] == ids[-1]
    history = json.loads(
        orch(env, "backup", "list", "sw1", "-a", "running-config", "--json").stdout
    )
    assert [v["id"] for v in history] == ids[::-1]
    assert [v["meta"]["change"] for v in history] == ["changed", "changed", "unchanged", "new"]

    shown = orch(env, "backup", "show", ids[2][:8], "--content")
    assert shown.returncode == 0, shown.stderr
    assert "sw1" in shown.stdout
    assert "run2" in shown.stdout
    assert "<secret:" in shown.stdout
    assert "0822455D0A16" not in shown.stdout  # masked when shown
    raw = orch(env, "backup", "show", ids[2], "--raw")
    assert raw.stdout == (DATA / "ios-changed.cfg").read_text()  # exact when asked for

    newest = orch(env, "backup", "diff", "sw1")  # default: running-config, newest vs previous
    assert newest.returncode == 0, newest.stderr
    assert f"{ids[2]} → {ids[3]}" in newest.stdout
    assert "- description uplink to core-2" in newest.stdout
    picked = orch(env, "backup", "diff", "sw1", ids[0], ids[1])
    assert "no configuration change" in picked.stdout
    ambiguous = orch(env, "backup", "diff", "nosuch")
    assert ambiguous.returncode == 2
    assert "no backups of 'nosuch'" in ambiguous.stderr


def test_verify_and_prune(env: dict[str, str], tmp_path: Path) -> None:
    ids = populate(env)
    assert orch(env, "backup", "verify").returncode == 0
    dry = orch(env, "backup", "prune", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "keep last 1, daily 2, weekly 0, monthly 0" in dry.stdout
    assert f"would remove {ids[0]}" in dry.stdout
    assert f"would remove {ids[1]}" in dry.stdout
    assert "would remove 2 version(s)" in dry.stdout
    after_dry = json.loads(
        orch(env, "backup", "list", "sw1", "-a", "running-config", "--json").stdout
    )
    assert len(after_dry) == 4  # a dry run deletes nothing
    real = orch(env, "backup", "prune")
    assert "removed 2 version(s)" in real.stdout
    after = json.loads(orch(env, "backup", "list", "sw1", "-a", "running-config", "--json").stdout)
    assert [v["id"] for v in after] == ids[:1:-1]
    audit = orch(env, "audit", "list")
    assert "backup.prune" in audit.stdout

    digest = after[0]["sha256"]
    path = tmp_path / "backups" / "objects" / digest[:2] / digest[2:]
    os.chmod(path, 0o640)
    path.write_bytes(path.read_bytes().replace(b"hostname", b"hostnome"))
    bad = orch(env, "backup", "verify")
    assert bad.returncode == 1
    assert f"version {after[0]['id']}" in bad.stdout
    assert "altered on disk" in bad.stdout
