"""StoreListener turns each engine event into the matching RunStore write."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import call, create_autospec

from orchestrator.changes.gate import GateDecision
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import HostResult, RunResult, RunStatus, Status, StepResult
from orchestrator.inventory.model import Host
from orchestrator.runbook.model import ChangePolicy, Runbook, RunbookKind
from orchestrator.store.listener import StoreListener
from orchestrator.store.runs import RunStore

HOST = Host("web01", {"ansible_host": "10.0.0.1"})
PLAN = RunPlan(
    run_id="r1",
    runbook=Runbook("daily", RunbookKind.INSPECTION, ChangePolicy.STANDARD, "all", ()),
    hosts=(HOST,),
    batches=((HOST,),),
    forks=5,
    gate=GateDecision(True, "ok", None, "interim"),
    created=datetime(2026, 1, 1, tzinfo=UTC),
)


def test_events_are_persisted_in_order() -> None:
    runs = create_autospec(RunStore, instance=True)
    listener = StoreListener(runs, pid=123, node="ops1")
    step = StepResult("s", 0, Status.OK)
    host = HostResult("web01", Status.OK, (step,))
    result = RunResult("r1", "daily", RunStatus.SUCCEEDED, (host,))

    listener.run_started(PLAN)
    listener.batch_started(PLAN, 0, (HOST,))  # nothing to store for a batch
    listener.host_started(PLAN, HOST)
    listener.step_finished(PLAN, HOST, step)
    listener.host_finished(PLAN, host)
    listener.run_finished(PLAN, result)

    assert runs.mock_calls == [
        call.create_run(PLAN, pid=123, node="ops1"),
        call.host_started("r1", HOST),
        call.record_step("r1", "web01", step),
        call.finish_host("r1", host),
        call.finish_run(result),
    ]
