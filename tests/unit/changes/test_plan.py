"""The attached plan and the runbook fingerprint that pins an approval to a runbook."""

from __future__ import annotations

from pathlib import Path

from orchestrator.changes.plan import fingerprint, plan_from_dict, plan_to_dict
from orchestrator.runbook.loader import load_runbook
from orchestrator.runbook.model import Runbook
from tests.unit.changes.builders import book, plan_for

RUNBOOK = """\
name: restart
kind: custom
change: required
targets: web
vars: {service: cron}
steps:
  - name: restart
    command: systemctl restart {{ service }}
    checks: [{name: rc, value: rc, crit: "!= 0"}]
"""


def load(tmp_path: Path, text: str) -> Runbook:
    path = tmp_path / "restart.yml"
    path.write_text(text)
    return load_runbook(path)


def test_comments_and_layout_do_not_change_the_fingerprint(tmp_path: Path) -> None:
    base = fingerprint(load(tmp_path, RUNBOOK))
    relaid = "# reviewed 2026-11\n\n" + RUNBOOK.replace(
        "vars: {service: cron}", "vars:\n  service: cron"
    )
    assert fingerprint(load(tmp_path, relaid)) == base


def test_what_runs_changes_the_fingerprint(tmp_path: Path) -> None:
    base = fingerprint(load(tmp_path, RUNBOOK))
    for old, new in [
        ("service: cron", "service: ssh"),
        ("restart {{ service }}", "stop {{ service }}"),
        ('"!= 0"', '"> 1"'),
        ("targets: web", "targets: all"),
    ]:
        assert old in RUNBOOK
        assert fingerprint(load(tmp_path, RUNBOOK.replace(old, new))) != base, new


def test_plan_json_round_trip() -> None:
    plan = plan_for(book(), book("reboot-web"))
    again = plan_from_dict(plan_to_dict(plan))
    assert again == plan
    assert again.hosts == ("h1", "h2", "h3")
    assert again.runbook("reboot-web") is not None
