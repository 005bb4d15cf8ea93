"""The rollout loop with scripted in-memory transports: health gates, canary, threshold,
rollback policies, pauses and the evidence (pure logic; tests/integration/test_patch_lab.py
runs the same on real hosts)."""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from orchestrator.changes.gate import GateDecision, GateRequest
from orchestrator.clock import ManualClock
from orchestrator.engine.events import RunListener
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import CheckResult, HostResult, RunResult, RunStatus, Status
from orchestrator.engine.runner import EngineConfig, RunRequest, execute_run, plan_run
from orchestrator.inventory.model import Host, Inventory
from orchestrator.runbook.model import (
    ChangePolicy,
    Check,
    Comparison,
    OnUnhealthy,
    RollbackScope,
    Runbook,
    RunbookKind,
    StepKind,
    Strategy,
    Threshold,
)
from orchestrator.transports.base import CommandResult
from tests.unit.engine.test_runner import (
    AllowAll,
    FakeConnector,
    Recorder,
    make_inventory,
    ok,
    step,
)

CONFIG = EngineConfig(default_forks=4, connect_timeout=1, step_timeout=5)


def rollout_book(*, checks: bool = False, **strategy: Any) -> Runbook:
    """pre-check, snapshot (registered), upgrade, post-check; rollback restores the snapshot."""
    verify_checks = (Check("errors", crit=Threshold(Comparison.GT, 0.0, "> 0")),) if checks else ()
    return Runbook(
        name="patch",
        kind=RunbookKind.PATCH,
        change=ChangePolicy.REQUIRED,
        targets="linux",
        pre_checks=(step("healthy", "precheck"),),
        steps=(step("snapshot", "snapshot", register="snap"), step("upgrade", "upgrade")),
        post_checks=(step("verify", "verify", checks=verify_checks),),
        rollback=(step("restore", "restore {{ snap.stdout }}", raw=True),),
        evidence={"before": "snap"},
        mutates=True,
        strategy=Strategy(**strategy),
    )


def script(
    *,
    broken: Collection[str] = (),
    sick: Collection[str] = (),
    bad_post: Collection[str] = (),
    bad_rollback: Collection[str] = (),
) -> Any:
    def answer(host: Host, command: str) -> CommandResult:
        name = host.name
        if command == "precheck":
            return ok("", rc=1 if name in sick else 0)
        if command == "snapshot":
            return ok(f"v1-{name}")
        if command == "upgrade":
            return ok("", rc=100 if name in broken else 0)
        if command == "verify":
            return ok("1" if name in bad_post else "0")
        if command.startswith("restore"):
            return ok("", rc=1 if name in bad_rollback else 0)
        return ok()

    return answer


def run(
    book: Runbook,
    inventory: Inventory,
    conn: FakeConnector,
    listener: RunListener | None = None,
    *,
    clock: ManualClock | None = None,
    plan_hook: Any = None,
) -> RunResult:
    clock = clock or ManualClock()
    gate = AllowAll()
    plan = plan_run(RunRequest(book), inventory, gate, clock, CONFIG)
    if plan_hook is not None:
        plan = plan_hook(plan)
    connectors = dict.fromkeys(StepKind, conn)
    return execute_run(plan, connectors, listener or RunListener(), gate, clock, CONFIG)


def by_host(result: RunResult) -> dict[str, HostResult]:
    return {h.host: h for h in result.hosts}


def commands(conn: FakeConnector, host: str) -> list[str]:
    return [line.split(":", 1)[1] for line in conn.log if line.startswith(f"{host}:")]


NINE = make_inventory(*(f"h{i}" for i in range(1, 10)))


def test_a_clean_rollout_runs_every_batch_with_its_health_gates() -> None:
    conn = FakeConnector(script())
    result = run(rollout_book(canary=1, batch=4, max_fail_percent=10), NINE, conn)
    assert result.status is RunStatus.SUCCEEDED
    assert {h.status for h in result.hosts} == {Status.OK}
    assert commands(conn, "h1") == ["precheck", "snapshot", "upgrade", "verify"]
    batches = result.meta["rollout"]["batches"]
    assert [b["hosts"] for b in batches] == [
        ["h1"],
        ["h2", "h3", "h4", "h5"],
        ["h6", "h7", "h8", "h9"],
    ]
    assert all(not b["failed"] for b in batches)
    evidence = result.meta["patch"]
    assert evidence["summary"]["hosts"] == 9
    assert all(h["touched"] and not h["rollback"] for h in evidence["hosts"])


def test_threshold_trips_no_further_batch_and_every_changed_host_is_rolled_back() -> None:
    conn = FakeConnector(script(broken={"h3"}))
    recorder = Recorder()
    result = run(rollout_book(canary=1, batch=4, max_fail_percent=10), NINE, conn, recorder)
    hosts = by_host(result)
    assert result.status is RunStatus.ROLLED_BACK
    assert "1 of 5 attempted host(s) failed (20.0% > max_fail_percent 10%)" in result.reason
    assert "rolled back 5 host(s)" in result.reason
    for name in ("h1", "h2", "h3", "h4", "h5"):
        assert hosts[name].status is Status.ROLLED_BACK, name
        # the rollback saw the host's own snapshot register
        assert f"restore v1-{name}" in commands(conn, name)
    for name in ("h6", "h7", "h8", "h9"):
        assert hosts[name].status is Status.SKIPPED
        assert hosts[name].error.startswith("not started: rollout stopped: 1 of 5")
        assert commands(conn, name) == []
    restore = hosts["h1"].steps[-1]
    assert (restore.name, restore.index, restore.status) == ("restore", 4, Status.OK)
    assert "host_finished:h1:rolled_back" in recorder.events
    assert result.meta["rollout"]["stopped"].startswith("1 of 5 attempted")


def test_canary_failure_stops_even_under_a_loose_threshold() -> None:
    conn = FakeConnector(script(broken={"h1"}))
    result = run(rollout_book(canary=1, batch=4, max_fail_percent=50), NINE, conn)
    hosts = by_host(result)
    assert result.status is RunStatus.ROLLED_BACK
    assert "canary failed on h1" in result.reason
    assert hosts["h1"].status is Status.ROLLED_BACK
    assert all(hosts[f"h{i}"].status is Status.SKIPPED for i in range(2, 10))


def test_rollback_scope_host_undoes_the_failed_host_and_the_rollout_goes_on() -> None:
    conn = FakeConnector(script(broken={"h4"}))
    result = run(rollout_book(canary=1, batch=4, max_fail_percent=20), NINE, conn)
    hosts = by_host(result)
    assert result.status is RunStatus.FAILED
    assert result.reason == "1 host(s) failed (1 rolled back)"
    assert hosts["h4"].status is Status.ROLLED_BACK
    assert "exit code 100; rolled back: it failed" in hosts["h4"].error
    assert commands(conn, "h2")[-1] == "verify"  # not rolled back
    assert hosts["h9"].status is Status.OK  # the last batch ran: 1 of 9 < 20%


def test_rollback_scope_all_stops_at_the_first_failed_host() -> None:
    conn = FakeConnector(script(broken={"h3"}))
    book = rollout_book(canary=1, batch=4, max_fail_percent=50, rollback_scope=RollbackScope.ALL)
    result = run(book, NINE, conn)
    assert result.status is RunStatus.ROLLED_BACK
    assert result.reason == "h3 failed (rollback_scope: all); rolled back 5 host(s)"
    assert by_host(result)["h6"].status is Status.SKIPPED


def test_a_post_check_failing_rolls_the_host_back() -> None:
    conn = FakeConnector(script(bad_post={"h2"}))
    result = run(rollout_book(checks=True, batch=3), make_inventory("h1", "h2", "h3"), conn)
    host = by_host(result)["h2"]
    assert host.status is Status.ROLLED_BACK
    assert "post-check failed: errors critical (1)" in host.error
    assert by_host(result)["h1"].status is Status.OK


def test_post_checks_still_run_after_a_failed_step() -> None:
    conn = FakeConnector(script(broken={"h1"}))
    book = replace(rollout_book(batch=1), rollback=())
    result = run(book, make_inventory("h1"), conn)
    assert commands(conn, "h1") == ["precheck", "snapshot", "upgrade", "verify"]
    assert result.hosts[0].status is Status.FAILED


def test_unhealthy_host_is_skipped_untouched_and_not_counted() -> None:
    conn = FakeConnector(script(sick={"h2"}))
    book = rollout_book(batch=3, max_fail_percent=0, on_unhealthy=OnUnhealthy.SKIP)
    result = run(book, make_inventory("h1", "h2", "h3"), conn)
    host = by_host(result)["h2"]
    assert host.status is Status.SKIPPED
    assert "unhealthy before any change" in host.error
    assert "skipped" in host.error
    assert commands(conn, "h2") == ["precheck"]
    assert result.status is RunStatus.SUCCEEDED  # not attempted, so not over 0%


def test_unhealthy_host_fails_untouched_when_policy_is_fail() -> None:
    conn = FakeConnector(script(sick={"h2"}))
    result = run(rollout_book(batch=3), make_inventory("h1", "h2", "h3"), conn)
    host = by_host(result)["h2"]
    assert host.status is Status.FAILED
    assert "not touched" in host.error
    assert commands(conn, "h2") == ["precheck"]  # never rolled back: nothing changed
    assert [s.status for s in host.steps[1:]] == [Status.SKIPPED] * 3


def test_a_failing_rollback_fails_the_run() -> None:
    conn = FakeConnector(script(broken={"h1"}, bad_rollback={"h1"}))
    result = run(rollout_book(canary=1, batch=2), make_inventory("h1", "h2"), conn)
    assert result.status is RunStatus.FAILED
    assert "rollback failed on h1" in result.reason
    assert by_host(result)["h1"].status is Status.FAILED


def test_pause_between_batches_on_the_injected_clock() -> None:
    clock = ManualClock()
    started = clock.now()
    conn = FakeConnector(script())
    run(rollout_book(batch=1, pause=30), make_inventory("h1", "h2", "h3"), conn, clock=clock)
    assert (clock.now() - started).total_seconds() == 60  # two pauses, none before or after


def test_without_rollout_settings_nothing_changes() -> None:
    conn = FakeConnector(lambda h, c: ok("", rc=1))
    plain = Runbook(
        name="t",
        kind=RunbookKind.CUSTOM,
        change=ChangePolicy.REQUIRED,
        targets="linux",
        steps=(step("a", "a"), step("b", "b")),
        mutates=True,
        strategy=Strategy(batch=1),
    )
    result = run(plain, make_inventory("h1", "h2"), conn)
    assert result.status is RunStatus.FAILED  # every batch ran: no threshold set
    assert [h.status for h in result.hosts] == [Status.FAILED, Status.FAILED]
    assert "patch" not in result.meta


def test_evidence_names_versions_checks_and_rollback() -> None:
    def answer(host: Host, command: str) -> CommandResult:
        if command == "snapshot":
            return ok("app=1.0\nlib=2.0\n")
        if command == "upgrade":
            return ok("", rc=100)
        return ok("0")

    book = replace(
        rollout_book(canary=1),
        steps=(
            replace(step("snapshot", "snapshot", register="snap"), parse=_versions()),
            step("upgrade", "upgrade"),
        ),
    )
    result = run(book, make_inventory("h1"), FakeConnector(answer))
    host = result.meta["patch"]["hosts"][0]
    assert host["touched"] is True
    assert host["failures"][0].startswith("upgrade: failed — exit code 100")
    assert [r["step"] for r in host["rollback"]] == ["restore"]
    assert [c["phase"] for c in host["checks"]] == ["pre_check", "post_check"]
    assert host["rebooted"] is False


def _versions() -> Any:
    from orchestrator.runbook.model import ParseKind, ParseSpec

    return ParseSpec(ParseKind.REGEX, r"^(?P<package>\w+)=(?P<version>\S+)$", multi=True)


def test_check_result_grades_make_health() -> None:
    from orchestrator.engine.phases import unhealthy
    from orchestrator.engine.results import StepResult
    from orchestrator.runbook.model import Grade

    good = StepResult("c", 0, Status.OK, checks=(CheckResult("x", Grade.WARNING),))
    bad = StepResult("c", 0, Status.OK, checks=(CheckResult("x", Grade.CRITICAL),))
    ignored = StepResult("c", 0, Status.FAILED, ignored=True)
    assert not unhealthy(good)
    assert unhealthy(bad)
    assert not unhealthy(ignored)


def test_plan_keeps_batches_for_the_dry_run() -> None:
    clock = ManualClock()
    plan: RunPlan = plan_run(
        RunRequest(rollout_book(canary=1, batch_percent=50)), NINE, AllowAll(), clock, CONFIG
    )
    assert [len(b) for b in plan.batches] == [1, 5, 3]


def test_a_canary_that_tested_nothing_stops_the_rollout() -> None:
    conn = FakeConnector(script(sick={"h1"}))
    book = rollout_book(canary=1, batch=4, on_unhealthy=OnUnhealthy.SKIP)
    result = run(book, NINE, conn)
    assert result.status is RunStatus.ABORTED
    assert "the canary tested nothing" in result.reason
    assert all(commands(conn, f"h{i}") == [] for i in range(2, 10))  # batch 2 never started


def test_ctrl_c_mid_batch_neither_judges_nor_rolls_back() -> None:
    stop = threading.Event()
    answer = script(broken={"h2"})

    def interrupting(host: Host, command: str) -> CommandResult:
        if host.name == "h2" and command == "upgrade":
            stop.set()  # the operator presses Ctrl-C while h2 upgrades (and fails)
        return answer(host, command)

    conn = FakeConnector(interrupting)
    book = rollout_book(batch=3, max_fail_percent=0)
    clock = ManualClock()
    plan = plan_run(RunRequest(book), make_inventory("h1", "h2", "h3"), AllowAll(), clock, CONFIG)
    connectors = dict.fromkeys(StepKind, conn)
    result = execute_run(plan, connectors, RunListener(), AllowAll(), clock, CONFIG, stop)
    assert result.status is RunStatus.ABORTED
    assert not any(line.split(":", 1)[1].startswith("restore") for line in conn.log)
    assert result.meta["rollout"]["stopped"] == ""  # so `run --resume` may go on


class ClosingWindow:
    """Allows until ``closes`` (the gate's window check, reduced to a time)."""

    def __init__(self, closes: datetime) -> None:
        self.closes = closes

    def check(self, request: GateRequest) -> GateDecision:
        if request.now >= self.closes:
            return GateDecision(False, "the change window closed")
        return GateDecision(True, "inside the window")


def test_the_gate_is_asked_after_the_pause_not_before() -> None:
    clock = ManualClock()
    gate = ClosingWindow(clock.now() + timedelta(seconds=20))
    book = rollout_book(batch=1, pause=30)
    conn = FakeConnector(script())
    plan = plan_run(RunRequest(book), make_inventory("h1", "h2"), gate, clock, CONFIG)
    result = execute_run(plan, dict.fromkeys(StepKind, conn), RunListener(), gate, clock, CONFIG)
    assert result.status is RunStatus.ABORTED
    assert "gate refused batch 2: the change window closed" in result.reason
    assert commands(conn, "h2") == []  # the window closed during the pause
