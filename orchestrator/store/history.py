"""Earlier values of a run's check items, for trends in reports ("81% ↑ from 74%").

One bounded query: the check values of the newest ``runs`` finished runs of the
same runbook created before the run in question. Reports compare each item with
the newest earlier value of the same (host, item name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from orchestrator.engine.results import RunStatus
from orchestrator.store.db import Database
from orchestrator.store.models import CheckRow, HostRow, RunRow, StepRow

DEFAULT_RUNS = 5  # how many earlier runs a trend looks back over
# Runs whose recorded values are real measurements (a refused run measured nothing,
# a running one is not finished).
FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.ABORTED, RunStatus.INTERRUPTED)


@dataclass(frozen=True)
class PastValue:
    run_id: str
    when: datetime  # when that run started (or was created, if it never started)
    value: Any


def earlier_values(
    db: Database,
    *,
    runbook: str,
    before: datetime,
    exclude_run: str | None = None,
    runs: int = DEFAULT_RUNS,
) -> dict[tuple[str, str], tuple[PastValue, ...]]:
    """(host, check item name) -> values in the ``runs`` newest earlier runs, newest first.

    Earlier = finished runs of ``runbook`` created before ``before``. Items that
    were not measured (value NULL) are left out.
    """
    if runs <= 0:
        return {}
    recent = (
        select(RunRow.id, RunRow.started, RunRow.created)
        .where(
            RunRow.runbook == runbook,
            RunRow.created < before,
            RunRow.status.in_(FINISHED),
        )
        .order_by(RunRow.created.desc(), RunRow.id.desc())
        .limit(runs)
    )
    if exclude_run is not None:
        recent = recent.where(RunRow.id != exclude_run)
    earlier = recent.subquery()
    query = (
        select(
            earlier.c.id,
            earlier.c.started,
            earlier.c.created,
            HostRow.host,
            CheckRow.name,
            CheckRow.value,
        )
        .join(HostRow, HostRow.run_id == earlier.c.id)
        .join(StepRow, StepRow.host_result_id == HostRow.id)
        .join(CheckRow, CheckRow.step_result_id == StepRow.id)
        .where(CheckRow.value.is_not(None))
        .order_by(earlier.c.created.desc(), earlier.c.id.desc(), CheckRow.id)
    )
    found: dict[tuple[str, str], list[PastValue]] = {}
    with db.read_session() as s:
        for run_id, started, created, host, name, value in s.execute(query):
            found.setdefault((host, name), []).append(PastValue(run_id, started or created, value))
    return {key: tuple(values) for key, values in found.items()}
