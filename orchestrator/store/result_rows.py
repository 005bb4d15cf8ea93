"""The run store's write statements for result rows, and their column values.

The run store writes host, step and check rows with plain statements built once
here, values passed at execution: a fan-out records hundreds of steps a second,
and building statements per call, or the ORM's unit of work, cost more CPU than
the SSH work of the run. Names of bound values that are not columns end in _id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from orchestrator.engine.results import HostResult, StepResult
from orchestrator.runbook.model import CheckResult
from orchestrator.store.encoding import to_jsonable
from orchestrator.store.models import CheckRow, HostRow, RunRow, StepRow
from orchestrator.store.outputs import StoredOutput, excerpt

RUN_EXISTS = select(RunRow.id).where(RunRow.id == bindparam("run_id"))
FIND_HOST = select(HostRow.id).where(
    HostRow.run_id == bindparam("run_id"), HostRow.host == bindparam("host")
)
INSERT_HOST = insert(HostRow).returning(HostRow.id)
UPDATE_HOST = update(HostRow).where(HostRow.id == bindparam("host_id"))
HOST_GRADE = select(HostRow.grade).where(HostRow.id == bindparam("host_id"))
FIND_STEP = select(StepRow.id).where(
    StepRow.host_result_id == bindparam("host_id"), StepRow.idx == bindparam("idx")
)
HOST_STEPS = (
    select(StepRow.idx)
    .join(HostRow)
    .where(HostRow.run_id == bindparam("run_id"), HostRow.host == bindparam("host"))
)
INSERT_STEP = insert(StepRow).returning(StepRow.id)
INSERT_STEPS = insert(StepRow)  # many rows at once; their ids are not needed
UPDATE_STEP = update(StepRow).where(StepRow.id == bindparam("step_id"))
DELETE_CHECKS = delete(CheckRow).where(CheckRow.step_result_id == bindparam("step_id"))
INSERT_CHECKS = insert(CheckRow)


def step_values(result: StepResult, stored: StoredOutput | None, limit: int) -> dict[str, Any]:
    """Every column of a step row except its ids."""
    return {
        "name": result.name,
        "status": result.status,
        "command": result.command,
        "exit_code": result.exit_code,
        "started": result.started,
        "ended": result.ended,
        "attempts": result.attempts,
        "error": result.error,
        "changed": result.changed,
        "ignored": result.ignored,
        "stdout_excerpt": excerpt(result.stdout, limit),
        "stderr_excerpt": excerpt(result.stderr, limit),
        "output_path": stored.path if stored else None,
        "output_sha256": stored.sha256 if stored else None,
        "output_bytes": stored.size if stored else None,
        "parsed": to_jsonable(result.parsed),
    }


def check_values(step_id: int, checks: tuple[CheckResult, ...]) -> list[dict[str, Any]]:
    """Check rows of one step, in the step's order."""
    return [
        {
            "step_result_id": step_id,
            "name": c.name,
            "grade": c.grade,
            "value": to_jsonable(c.value),
            "unit": c.unit,
            "threshold": c.threshold,
            "message": c.message,
        }
        for c in checks
    ]


def finished_host_values(result: HostResult, now: datetime) -> dict[str, Any]:
    """A finished host's columns; started/address only when the result has them."""
    values: dict[str, Any] = {
        "status": result.status,
        "ended": result.ended or now,
        "error": result.error,
        "grade": result.grade,
    }
    if result.started is not None:
        values["started"] = result.started
    if result.address:
        values["address"] = result.address
    return values
