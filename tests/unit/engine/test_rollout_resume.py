"""`run --resume`: hosts the earlier attempt finished are not touched again, its failures
still count, its changed hosts are still rolled back; the gate lets only the change's own
run resume (pure logic: the engine with scripted transports, the gate's decision)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from orchestrator.changes import workflow
from orchestrator.changes.decision import GateContext, decide
from orchestrator.changes.model import ChangeRefused, ChangeState
from orchestrator.changes.request import GateRequest
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import HostResult, RunResult, RunStatus, Status, StepResult
from orchestrator.engine.resume import resume_state
from orchestrator.errors import ConfigError
from orchestrator.runbook.model import OnUnhealthy
from tests.unit.changes.builders import HOSTS, NOW, RULES, approved, book
from tests.unit.engine.test_rollout_loop import NINE, by_host, commands, rollout_book, run, script
from tests.unit.engine.test_runner import FakeConnector


def finished(name: str, *, failed: bool = False) -> HostResult:
    """A host as the earlier attempt left it: pre-check, snapshot, upgrade, post-check."""
    upgrade = Status.FAILED if failed else Status.OK
    steps = (
        StepResult("healthy", 0, Status.OK),
        StepResult("snapshot", 1, Status.OK, stdout=f"v1-{name}", exit_code=0),
        StepResult("upgrade", 2, upgrade, exit_code=100 if failed else 0),
        StepResult("verify", 3, Status.OK, stdout="0"),
    )
    return HostResult(name, Status.FAILED if failed else Status.OK, steps)


def earlier(*hosts: HostResult, status: RunStatus = RunStatus.INTERRUPTED) -> RunResult:
    return RunResult("run-1", "patch", status, hosts, meta={"rollout": {"batches": [{"batch": 1}]}})


def resuming(previous: RunResult):  # type: ignore[no-untyped-def]
    def hook(plan: RunPlan) -> RunPlan:
        return replace(plan, run_id="run-1", resume=resume_state(previous))

    return hook


def test_finished_hosts_are_not_touched_again() -> None:
    previous = earlier(
        finished("h1"),
        finished("h2"),
        HostResult("h3", Status.INTERRUPTED),
        HostResult("h4", Status.SKIPPED, error="not started: run aborted"),
    )
    conn = FakeConnector(script())
    book_ = rollout_book(canary=1, batch=4)
    result = run(book_, NINE, conn, plan_hook=resuming(previous))
    assert result.status is RunStatus.SUCCEEDED
    assert commands(conn, "h1") == []
    assert commands(conn, "h2") == []
    assert commands(conn, "h3") == ["precheck", "snapshot", "upgrade", "verify"]
    assert sorted(by_host(result)) == [f"h{i}" for i in range(1, 10)]
    assert by_host(result)["h1"] is previous.hosts[0]  # kept as recorded
    rollout = result.meta["rollout"]
    assert rollout["batches"][0] == {"batch": 1}  # the earlier attempt's batches are kept
    assert len(rollout["resumed"]) == 1


def test_earlier_failures_count_and_earlier_changes_are_rolled_back() -> None:
    previous = earlier(finished("h1"), finished("h2", failed=True), status=RunStatus.ABORTED)
    conn = FakeConnector(script(broken={"h3"}))
    result = run(
        rollout_book(canary=1, batch=4, max_fail_percent=10),
        NINE,
        conn,
        plan_hook=resuming(previous),
    )
    hosts = by_host(result)
    assert result.status is RunStatus.ROLLED_BACK
    # h1 finished in the earlier attempt: undone with its recorded snapshot register
    assert commands(conn, "h1") == ["restore v1-h1"]
    assert hosts["h1"].status is Status.ROLLED_BACK
    # h2 failed in the earlier attempt (which stopped before any rollback): its upgrade is
    # not run again, but the rollout undoes it like every host it changed.
    assert commands(conn, "h2") == ["restore v1-h2"]
    assert hosts["h2"].status is Status.ROLLED_BACK
    assert "2 of 5 attempted host(s) failed" in result.reason  # h2's failure still counts
    assert hosts["h6"].status is Status.SKIPPED


def test_only_aborted_or_interrupted_runs_resume() -> None:
    with pytest.raises(ConfigError, match="only an aborted or interrupted run can be resumed"):
        resume_state(earlier(status=RunStatus.SUCCEEDED))
    assert resume_state(earlier(finished("h1"))).done == frozenset({"h1"})


def ask(state: ChangeState, *, run_id: str | None = "run-1", owner: str = "run-1") -> str:
    record = replace(approved(), state=state, run_id=owner)
    request = GateRequest(
        book(),
        HOSTS,
        NOW + timedelta(minutes=5),
        record.id,
        "alice",
        run_id=run_id,
        resumed=True,
    )
    context = GateContext(RULES, (), lambda pattern: frozenset(HOSTS))
    decision = decide(request, record, (), context)
    return "allowed" if decision.allowed else decision.reason


def test_the_gate_lets_the_changes_own_run_resume() -> None:
    assert ask(ChangeState.FAILED) == "allowed"
    assert ask(ChangeState.IN_PROGRESS) == "allowed"
    assert ask(ChangeState.FAILED, run_id=None) == "allowed"  # the dry run
    assert "covers run run-1, not run run-2" in ask(ChangeState.FAILED, run_id="run-2")
    assert "completed; run run-1 cannot resume" in ask(ChangeState.COMPLETED)
    assert GateRequest(book(), HOSTS, NOW, run_id="r", resumed=True).phase == "resume"


def test_workflow_resume_moves_failed_back_to_in_progress() -> None:
    failed = replace(approved(), state=ChangeState.FAILED, run_id="run-1", outcome="aborted")
    again = workflow.resume(failed, "run-1", NOW)
    assert (again.state, again.outcome, again.run_id) == (ChangeState.IN_PROGRESS, "", "run-1")
    with pytest.raises(ChangeRefused, match="run run-2 cannot resume"):
        workflow.resume(failed, "run-2", NOW)
    with pytest.raises(ChangeRefused):
        workflow.resume(replace(failed, state=ChangeState.CLOSED), "run-1", NOW)


def test_a_rollout_that_stopped_itself_is_not_resumed() -> None:
    stopped = RunResult(
        "run-1",
        "patch",
        RunStatus.ABORTED,
        (finished("h1", failed=True),),
        meta={"rollout": {"stopped": "canary failed on h1"}},
    )
    with pytest.raises(ConfigError, match=r"stopped by its rollout \(canary failed on h1\)"):
        resume_state(stopped)


def test_a_failed_changed_host_whose_rollback_never_ran_is_rolled_back_first() -> None:
    previous = earlier(finished("h1"), finished("h2", failed=True), status=RunStatus.INTERRUPTED)
    conn = FakeConnector(script())
    result = run(rollout_book(canary=1, batch=4), NINE, conn, plan_hook=resuming(previous))
    assert commands(conn, "h2") == ["restore v1-h2"]  # undone, not upgraded again
    assert by_host(result)["h2"].status is Status.ROLLED_BACK
    assert commands(conn, "h1") == []
    assert result.status is RunStatus.FAILED  # h2's failure still stands
    assert all(by_host(result)[f"h{i}"].status is Status.OK for i in range(3, 10))


def test_a_host_the_interrupted_attempt_changed_is_failed_not_skipped_when_sick() -> None:
    begun = HostResult(
        "h2",
        Status.INTERRUPTED,
        (StepResult("healthy", 0, Status.OK), StepResult("snapshot", 1, Status.OK, stdout="v1")),
    )
    previous = earlier(finished("h1"), begun)
    conn = FakeConnector(script(sick={"h2"}))
    book_ = rollout_book(canary=1, batch=8, on_unhealthy=OnUnhealthy.SKIP)
    result = run(book_, NINE, conn, plan_hook=resuming(previous))
    host = by_host(result)["h2"]
    assert host.status is not Status.SKIPPED
    assert "after the interrupted attempt began to change it" in host.error
    assert commands(conn, "h2")[0] == "precheck"
    assert any(c.startswith("restore") for c in commands(conn, "h2"))  # rolled back
