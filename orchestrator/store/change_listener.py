"""Run events → evidence: the audit log sees every run start and end, and the change a
run implements moves with it (in_progress → completed / failed).

The gate itself moves an approved normal/emergency change to in_progress when the
run starts (atomically, so one approval covers one run); this listener records
the start and finishes the change when the run ends. Standard templates do not
move: many runs use them.
"""

from __future__ import annotations

from orchestrator.changes.model import ChangeState
from orchestrator.engine.events import RunListener
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import RunResult, RunStatus
from orchestrator.store.changes import ChangeStore

# How a run's end moves the change it implemented (an aborted or interrupted run may be
# resumed: `run --resume` moves its change back to in_progress).
_CHANGE_STATE = {
    RunStatus.SUCCEEDED: ChangeState.COMPLETED,
    RunStatus.FAILED: ChangeState.FAILED,
    RunStatus.ABORTED: ChangeState.FAILED,
    RunStatus.INTERRUPTED: ChangeState.FAILED,
    RunStatus.ROLLED_BACK: ChangeState.ROLLED_BACK,
}


def covering_change(plan: RunPlan) -> str | None:
    return plan.change_id or plan.gate.change_id


class ChangeListener(RunListener):
    def __init__(self, changes: ChangeStore) -> None:
        self.changes = changes

    def run_started(self, plan: RunPlan) -> None:
        self.changes.audit.record(
            plan.operator,
            "run.resume" if plan.resume is not None else "run.start",
            covering_change(plan) or f"run:{plan.run_id}",
            {
                "run_id": plan.run_id,
                "runbook": plan.runbook.name,
                "hosts": list(plan.host_names),
                "batches": len(plan.batches),
                "trigger": plan.trigger,
                "limit": plan.limit,
                "policy": plan.gate.policy,
            },
        )

    def run_finished(self, plan: RunPlan, result: RunResult) -> None:
        state = _CHANGE_STATE.get(result.status, ChangeState.FAILED)
        outcome = f"run {result.run_id} {result.status.value}"
        if result.reason:
            outcome += f": {result.reason}"
        self.changes.run_finished(
            run_id=result.run_id,
            change_id=covering_change(plan),
            state=state,
            outcome=outcome,
            actor=plan.operator,
            details={
                "status": result.status.value,
                "reason": result.reason,
                "hosts": _host_counts(result),
                # Patch evidence (before -> after versions, reboots, rollbacks): on the
                # change's hash-chained history, not only on the run.
                **({"patch": result.meta["patch"]} if "patch" in result.meta else {}),
            },
        )


def _host_counts(result: RunResult) -> dict[str, int]:
    counts: dict[str, int] = {}
    for host in result.hosts:
        counts[host.status.value] = counts.get(host.status.value, 0) + 1
    return counts
