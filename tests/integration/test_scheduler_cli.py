"""`orchestrator schedule …` end to end on the lab: sync, list, next, pause, resume,
run-now (gated, recorded, exit codes as `run`), and `scheduler status`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Lab
from tests.integration.test_scheduler_daemon import Bench, make_bench

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]


def orch(bench: Bench, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ORCH_")},
        **bench.env,
        "ORCH_CONFIG": str(bench.root / "orchestrator.toml"),
        "ORCH_USER": "ops",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def listed(bench: Bench) -> dict[str, dict[str, Any]]:
    proc = orch(bench, "schedule", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    return {s["name"]: s for s in json.loads(proc.stdout)}


@pytest.fixture
def bench(lab: Lab, tmp_path: Path) -> Bench:
    made = make_bench(lab, tmp_path)
    made.template("uptime-check")
    made.write_schedules(
        {"name": "uptime", "cron": "0 2 * * 0"},
        {"name": "ghost", "runbook": "no-such-book"},
    )
    return made


def test_sync_list_next_pause_resume(bench: Bench) -> None:
    synced = orch(bench, "schedule", "sync")
    assert synced.returncode == 0, synced.stderr
    assert "1 added" in synced.stdout
    assert "skipped ghost: runbook 'no-such-book' cannot be used" in synced.stderr
    uptime = listed(bench)["uptime"]
    assert uptime["state"] == "active"
    assert uptime["cron"] == "0 2 * * 0"
    assert uptime["next"].endswith("02:00:00+08:00")
    assert uptime["source"].endswith("schedules.yml:3")

    nxt = orch(bench, "schedule", "next", "uptime", "-n", "3")
    assert nxt.returncode == 0, nxt.stderr
    times = [line.strip() for line in nxt.stdout.splitlines()[1:]]
    assert len(times) == 3
    assert all(t.endswith("02:00+0800") for t in times)  # Sundays, China Standard Time

    paused = orch(bench, "schedule", "pause", "uptime")
    assert paused.returncode == 0, paused.stderr
    assert "paused uptime (by ops)" in paused.stdout
    assert listed(bench)["uptime"]["state"] == "paused"
    assert listed(bench)["uptime"]["next"] is None
    assert "no fires until resumed" in orch(bench, "schedule", "next", "uptime").stdout
    resumed = orch(bench, "schedule", "resume", "uptime")
    assert resumed.returncode == 0, resumed.stderr
    assert listed(bench)["uptime"]["next"] == uptime["next"]

    unknown = orch(bench, "schedule", "pause", "nope")
    assert unknown.returncode == 2
    assert "no schedule 'nope'" in unknown.stderr


def test_run_now_is_gated_recorded_and_exits_like_run(bench: Bench) -> None:
    assert orch(bench, "schedule", "sync").returncode == 0
    ran = orch(bench, "schedule", "run-now", "uptime", "--json")
    assert ran.returncode == 0, ran.stderr
    outcome = json.loads(ran.stdout)
    assert outcome["status"] == "succeeded"
    record = json.loads(orch(bench, "runs", "show", outcome["run_id"], "--json").stdout)
    assert record["trigger"] == "schedule"
    assert record["gate"]["policy"] == "standard template"
    assert record["options"]["schedule"] == "uptime"
    assert Path(outcome["report"]).is_file()

    # a schedule of a runbook no template covers is refused: exit 3, nothing ran
    (bench.root / "books" / "uncovered.yml").write_text(
        (bench.root / "books" / "uptime-check.yml").read_text().replace("uptime-check", "uncovered")
    )
    bench.write_schedules({"name": "uncovered", "runbook": "uncovered"})
    assert orch(bench, "schedule", "sync").returncode == 0
    refused = orch(bench, "schedule", "run-now", "uncovered")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "refused" in refused.stdout
    assert "no approved standard template" in refused.stdout

    status = orch(bench, "scheduler", "status", "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["leader"] is None  # no daemon has run: said plainly
    last = {s["name"]: s["last"] for s in data["schedules"]}
    assert last["uncovered"]["status"] == "refused"
    assert last["uncovered"]["trigger"] == "run-now"
    text = orch(bench, "scheduler", "status").stdout
    assert "leader: none" in text
    assert "refused" in text
