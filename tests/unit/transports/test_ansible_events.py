"""ansible-runner events -> CommandResult / errors, with events captured from real runs
against the lab (tests/data/transports/ansible_events/, private paths replaced)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.errors import AuthenticationFailed, HostKeyRejected, HostUnreachable
from orchestrator.transports.ansible_events import (
    describe_action,
    result_from_events,
    task_outcomes,
    unreachable_error,
)

EVENTS = Path(__file__).parents[2] / "data" / "transports" / "ansible_events"
KNOWN_HOSTS = Path("/etc/orchestrator/known_hosts")


def events(name: str) -> list[dict[str, Any]]:
    return list(json.loads((EVENTS / f"{name}.json").read_text()))


def result(name: str, host: str = "h1", single: bool = True, **kw: Any) -> Any:
    return result_from_events(
        "cmd", events(name), host, runner_rc=kw.pop("rc", 0), duration=1.5, single_task=single, **kw
    )


def test_ok_module_result() -> None:
    r = result("ok")
    assert (r.exit_code, r.stdout, r.stderr, r.changed) == (0, "hello", "", True)
    assert r.data["rc"] == 0
    assert r.data["cmd"] == ["echo", "hello"]
    assert r.duration == 1.5
    assert r.command == "cmd"


def test_failed_module_keeps_its_rc_stdout_and_stderr() -> None:
    r = result("failed", rc=2)
    assert (r.exit_code, r.stdout, r.stderr) == (3, "out", "err")
    assert not r.ok
    assert r.data["msg"] == "non-zero return code"


def test_failed_module_without_rc_exits_2() -> None:
    evs = events("failed")
    for e in evs:
        if e["event"] == "runner_on_failed":
            e["event_data"]["res"] = {"msg": "No package matching 'nope'", "changed": False}
    r = result_from_events("cmd", evs, "h1", runner_rc=2, duration=0, single_task=True)
    assert (r.exit_code, r.stdout, r.changed) == (2, "No package matching 'nope'", False)


def test_playbook_result_lists_tasks_and_ignored_failures_do_not_fail_it() -> None:
    r = result("playbook", single=False)
    assert r.exit_code == 0
    assert r.changed is True
    statuses = [(t["task"], t["status"], t["ignored"]) for t in r.data["tasks"]]
    assert statuses == [
        ("a", "ok", False),
        ("b", "skipped", False),
        ("c", "ok", False),
        ("d", "failed", True),
    ]
    assert "changed: [h1]" in r.stdout
    assert "skipping: [h1]" in r.stdout
    assert "\r" not in r.stdout


def test_playbook_failure_is_exit_2_with_the_failed_tasks_stderr() -> None:
    evs = events("playbook")
    for e in evs:
        e["event_data"].pop("ignore_errors", None)
        if e["event"] == "runner_on_failed":
            e["event_data"]["res"]["stderr"] = "boom"
    r = result_from_events("pb", evs, "h1", runner_rc=2, duration=0, single_task=False)
    assert (r.exit_code, r.stderr) == (2, "boom")


def test_events_of_other_hosts_are_ignored() -> None:
    assert task_outcomes(events("ok"), "h2") == []
    r = result("ok", host="h2", rc=0)
    assert r.exit_code == 0
    assert "no task ran on h2" in r.stdout
    assert r.data == {}


def test_a_run_without_host_events_reports_ansibles_output_and_rc() -> None:
    r = result_from_events(
        "pb",
        [],
        "h1",
        runner_rc=4,
        duration=0,
        single_task=False,
        fallback_stdout="ERROR! bad yaml",
    )
    assert (r.exit_code, r.stdout) == (4, "ERROR! bad yaml")


def test_output_is_bounded() -> None:
    r = result("ok", max_output_bytes=2)
    assert r.stdout.startswith("he\n[orchestrator: output truncated")


def test_reachable_runs_have_no_unreachable_error() -> None:
    for name in ("ok", "failed", "playbook"):
        assert unreachable_error(events(name), "h1", "h1", KNOWN_HOSTS) is None


def test_unreachable_is_host_unreachable_with_ansibles_reason() -> None:
    error = unreachable_error(events("unreachable"), "h12", "h12 (10.98.0.21:22)", KNOWN_HOSTS)
    assert type(error) is HostUnreachable
    assert "Connection refused" in str(error)
    assert str(error).startswith("h12 (10.98.0.21:22): Data could not be sent")


def test_unknown_host_key_is_host_key_rejected_with_the_trust_hint() -> None:
    error = unreachable_error(events("hostkey_unknown"), "h2", "h2", KNOWN_HOSTS)
    assert type(error) is HostKeyRejected
    assert "No ED25519 host key is known" in str(error)
    assert f"add it to {KNOWN_HOSTS} or re-run with --trust-new-host-keys" in str(error)


def test_changed_host_key_is_host_key_rejected_without_the_trust_hint() -> None:
    error = unreachable_error(events("hostkey_changed"), "h2", "h2", KNOWN_HOSTS)
    assert type(error) is HostKeyRejected
    assert "HOST KEY CHANGED" in str(error)
    assert "SHA256:" in str(error)
    assert "--trust-new-host-keys" not in str(error)


def test_permission_denied_is_authentication_failed() -> None:
    evs = events("unreachable")
    for e in evs:
        if e["event"] == "runner_on_unreachable":
            e["event_data"]["res"]["msg"] = (
                "Failed to connect: root@10.98.0.21: Permission denied (publickey)."
            )
    assert type(unreachable_error(evs, "h12", "h12", KNOWN_HOSTS)) is AuthenticationFailed


@pytest.mark.parametrize(
    ("action", "text"),
    [
        ({"playbook": "playbooks/ntp.yml"}, "playbooks/ntp.yml"),
        ({"module": "ping"}, "ping"),
        ({"module": "ping", "args": {}}, "ping"),
        ({"module": "shell", "args": "uptime"}, "shell uptime"),
        (
            {"module": "apt", "args": {"name": "x", "state": "latest"}},
            'apt {"name": "x", "state": "latest"}',
        ),
    ],
)
def test_describe_action(action: dict[str, Any], text: str) -> None:
    assert describe_action(action) == text
