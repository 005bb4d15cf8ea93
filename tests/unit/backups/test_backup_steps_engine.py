"""Engine helpers of the backup steps: spec rendering, globs, items, save without a sink."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import pytest

from orchestrator.changes.gate import GateDecision
from orchestrator.engine.artifact_steps import connection_kind, render_spec, save_output
from orchestrator.engine.file_backup import FetchItem, fetch_items, glob_word
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import Status, StepResult
from orchestrator.inventory.model import Host
from orchestrator.runbook.model import ChangePolicy, Runbook, RunbookKind, Step, StepKind


def test_a_whole_expression_keeps_its_type_other_strings_render() -> None:
    step = Step(
        "s",
        StepKind.ARCHIVE,
        [{"name": "{{ n }}", "path": "/srv/{{ n }}"}, "{{ sets }}", "plain"],
    )
    context = {"n": "app", "sets": [{"name": "a", "path": "/a"}]}
    rendered = render_spec(step, context)
    assert rendered["spec"] == [
        {"name": "app", "path": "/srv/app"},
        [{"name": "a", "path": "/a"}],
        "plain",
    ]
    assert rendered["describe"] == "archive s"


@pytest.mark.parametrize(
    "pattern",
    ["/etc/cron.d/*", "/var/spool/cron/crontabs/*", "/etc/a b/*.conf", "/etc/x'y/file?.[ch]"],
)
def test_glob_word_quotes_the_literal_parts_only(pattern: str) -> None:
    word = glob_word(pattern)
    # The shell sees exactly the pattern (quotes removed, glob characters live).
    echoed = subprocess.run(
        ["sh", "-c", f"set -f; printf '%s' {word}"], capture_output=True, text=True, check=True
    ).stdout
    assert echoed == pattern
    # ... and the glob characters are not inside quotes, so the shell expands them.
    assert "'*'" not in word


def test_fetch_items_accepts_paths_lists_and_mappings() -> None:
    assert fetch_items("/etc/hosts") == [FetchItem("/etc/hosts")]
    assert fetch_items(["/a", {"path": "/b", "name": "b", "optional": True}]) == [
        FetchItem("/a"),
        FetchItem("/b", "b", True),
    ]
    assert fetch_items("/a\n/b") == [FetchItem("/a"), FetchItem("/b")]
    with pytest.raises(ValueError, match="not a path"):
        fetch_items([{"name": "x"}])


def test_backup_steps_ride_the_hosts_own_transport() -> None:
    linux, device = Host("h1"), Host("sw1", vars={"kind": "network", "platform": "cisco_ios"})
    assert connection_kind(StepKind.FETCH, linux) is StepKind.COMMAND
    assert connection_kind(StepKind.BACKUP, device) is StepKind.CLI
    assert connection_kind(StepKind.RESTORE, device) is StepKind.CLI
    assert connection_kind(StepKind.ANSIBLE, linux) is StepKind.ANSIBLE


def test_save_without_a_repository_fails_the_step_with_the_reason() -> None:
    step = Step("running config", StepKind.CLI, "show running-config", save="running-config")
    book = Runbook("b", RunbookKind.BACKUP, ChangePolicy.STANDARD, "all", (step,))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    plan = RunPlan("r1", book, (), (), 1, GateDecision(True, "ok"), now)
    result = StepResult("running config", 0, Status.OK, stdout="hostname sw1\n")
    saved = save_output(plan, Host("sw1"), step, result)
    assert saved.status is Status.FAILED
    assert "backup not stored" in saved.error
    assert "no backup repository" in saved.error
    skipped = StepResult("running config", 0, Status.SKIPPED)
    assert save_output(plan, Host("sw1"), step, skipped) is skipped
