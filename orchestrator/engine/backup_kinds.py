"""The executor's one hook for backup steps: which operation each backup step kind runs,
and the ``save:`` of command/cli steps (see ``artifact_steps``)."""

from __future__ import annotations

from orchestrator.clock import Clock
from orchestrator.engine.artifact_steps import (
    ArtifactConnection,
    Job,
    Operation,
    connection_kind,
    save_output,
    sink_of,
)
from orchestrator.engine.dataset_backup import archive_datasets
from orchestrator.engine.file_backup import backup_now, fetch_files
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.restore import restore
from orchestrator.inventory.model import Host
from orchestrator.runbook.model import ARTIFACT_KINDS, Step, StepKind
from orchestrator.transports.base import Connection

__all__ = ["OPERATIONS", "connection_for", "connection_kind", "save_output"]

OPERATIONS: dict[StepKind, Operation] = {
    StepKind.FETCH: fetch_files,
    StepKind.ARCHIVE: archive_datasets,
    StepKind.RESTORE: restore,
    StepKind.BACKUP: backup_now,
}


def connection_for(
    conn: Connection, plan: RunPlan, host: Host, step: Step, index: int, clock: Clock
) -> Connection:
    """The connection a step runs on: the host's own, or for backup steps a wrapper doing the
    spec over it (NoSinkError when the plan has no repository: the step fails with it)."""
    if step.kind not in ARTIFACT_KINDS:
        return conn
    sink = sink_of(plan)
    job = Job(conn, sink, plan, host, step, index, clock, timeout=0.0, max_bytes=sink.max_bytes)
    return ArtifactConnection(job, OPERATIONS)
