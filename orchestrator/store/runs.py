"""Run persistence: runs are written as they go and read back as ``RunRecord``s.

Every write is its own short transaction, so a run killed at any moment leaves
the rows committed up to that moment; ``mark_interrupted`` (called by the next
command on the same node) turns such a run into an honest INTERRUPTED record.
Methods are thread-safe: each call opens its own session. Host and step writes,
the hot path of a fan-out, go through ``result_writer``.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from orchestrator.clock import Clock
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import HostResult, RunResult, RunStatus, Status, StepResult
from orchestrator.errors import NotFoundError, StoreError
from orchestrator.inventory.model import Host
from orchestrator.runbook.model import Grade
from orchestrator.store.db import Database
from orchestrator.store.encoding import to_jsonable
from orchestrator.store.models import CheckRow, HostRow, RunRow, StepRow
from orchestrator.store.outputs import OutputStore
from orchestrator.store.records import RunRecord, RunSummary, record_from_row, summary_from_row
from orchestrator.store.result_writer import ResultWriter

log = logging.getLogger(__name__)

EXCERPT_LIMIT = 4096  # bytes of stdout (and of stderr) kept in the row
_AMBIGUOUS_SHOWN = 10


class RunStore:
    """Runs, host results, step results and check results, plus their output files."""

    def __init__(
        self,
        db: Database,
        outputs: OutputStore,
        clock: Clock,
        *,
        excerpt_limit: int = EXCERPT_LIMIT,
    ) -> None:
        self.db = db
        self.outputs = outputs
        self.clock = clock
        self.excerpt_limit = excerpt_limit
        self._results = ResultWriter(db, excerpt_limit=excerpt_limit)
        # Optional for callers: ``with store.group_commit():`` makes the host and step
        # writes of the calling thread inside the block one transaction.
        self.group_commit = self._results.group
        # Run-level writes take the same turn as the per-host ones (see result_writer).
        self._write_lock = self._results.lock

    # --- writes ----------------------------------------------------------------------------------

    def create_run(self, plan: RunPlan, *, pid: int, node: str) -> None:
        """Record a run the gate allowed, as RUNNING (a resumed one: running again)."""
        if plan.resume is not None:
            self._reopen_run(plan.run_id, pid=pid, node=node)
            return
        row = _run_row(plan, RunStatus.RUNNING, pid=pid, node=node)
        row.started = self.clock.now()
        self._insert_run(row)

    def _reopen_run(self, run_id: str, *, pid: int, node: str) -> None:
        """`run --resume`: the same run row goes on, by this process; its hosts stay."""
        with self._write_lock, self.db.session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                raise StoreError(f"cannot resume run {run_id}: it was never recorded")
            row.status, row.pid, row.node = RunStatus.RUNNING, pid, node
            row.ended, row.reason = None, ""
        self._results.run_recorded(run_id)
        log.debug("resumed run %s", run_id)

    def record_refused(self, plan: RunPlan, *, pid: int | None = None, node: str = "") -> None:
        """Record a run the gate refused (with the gate's reason); nothing ran."""
        row = _run_row(plan, RunStatus.REFUSED, pid=pid, node=node)
        row.reason = plan.gate.reason
        row.ended = self.clock.now()
        self._insert_run(row)

    def _insert_run(self, row: RunRow) -> None:
        with self._write_lock, self.db.session() as s:
            if s.get(RunRow, row.id) is not None:
                raise StoreError(f"run {row.id} is already recorded")
            s.add(row)
        self._results.run_recorded(row.id)
        log.debug("recorded run %s (%s)", row.id, row.status.value)

    def host_started(self, run_id: str, host: Host) -> None:
        self._results.host_started(run_id, host.name, host.address, self.clock.now())

    def record_step(self, run_id: str, host: str, result: StepResult) -> None:
        """Store one finished step: its output file, its row and its check rows.

        Recording the same (run, host, step index) again replaces the earlier record.
        """
        stored = None
        if result.stdout or result.stderr:
            # File first: a row never points at a file that was not written.
            stored = self.outputs.write(
                run_id, host, result.index, result.name, stdout=result.stdout, stderr=result.stderr
            )
        self._results.record_step(run_id, host, result, stored)

    def finish_host(self, run_id: str, result: HostResult) -> None:
        """Record a host's final status; steps not recorded yet are recorded first."""
        for step in self._results.unrecorded(run_id, result):
            self.record_step(run_id, result.host, step)
        self._results.finish_host(run_id, result, self.clock.now())

    def finish_run(self, result: RunResult) -> None:
        """Record the run's final status; hosts not finished in the store are finished first."""
        with self.db.read_session() as s:
            query = select(HostRow.host, HostRow.status).where(HostRow.run_id == result.run_id)
            stored = dict(s.execute(query).all())
        for host in result.hosts:
            if stored.get(host.host) is not host.status:
                self.finish_host(result.run_id, host)
        now = self.clock.now()
        with self._write_lock, self.db.session() as s:
            row = s.get(RunRow, result.run_id)
            if row is None:
                raise StoreError(f"cannot finish run {result.run_id}: it was never recorded")
            row.status = result.status
            row.started = result.started or row.started
            row.ended = result.ended or now
            row.reason = result.reason
            # merge: evidence appended mid-run (append_meta) must survive
            row.meta = {**(row.meta or {}), **to_jsonable(result.meta)}
            # A host still RUNNING here was never reported finished; say so.
            _interrupt_hosts(s, result.run_id, now, "the run ended before this host finished")

    def append_meta(self, run_id: str, key: str, item: object) -> None:
        """Append ``item`` to the list ``meta[key]`` of a run (evidence found mid-run)."""
        with self._write_lock, self.db.session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                raise StoreError(f"cannot annotate run {run_id}: it was never recorded")
            meta = dict(row.meta or {})
            meta[key] = [*meta.get(key, []), to_jsonable(item)]
            row.meta = meta

    def mark_interrupted(self, node: str, is_alive: Callable[[int], bool]) -> builtins.list[str]:
        """Mark RUNNING runs of this node whose process is gone as INTERRUPTED.

        Finished hosts keep their results; hosts still RUNNING become INTERRUPTED.
        Returns the ids of the runs marked.
        """
        with self.db.read_session() as s:
            running = s.execute(
                select(RunRow.id, RunRow.pid).where(
                    RunRow.node == node, RunRow.status == RunStatus.RUNNING
                )
            ).all()
        marked = []
        for run_id, pid in running:
            if pid is not None and is_alive(pid):
                continue
            if self._interrupt_run(run_id, pid):
                marked.append(run_id)
        return marked

    def _interrupt_run(self, run_id: str, pid: int | None) -> bool:
        now = self.clock.now()
        who = f"process {pid}" if pid is not None else "the process running it"
        reason = f"{who} died (killed or crashed) before the run finished"
        with self._write_lock, self.db.session() as s:
            row = s.get(RunRow, run_id)
            if row is None or row.status is not RunStatus.RUNNING:
                return False  # finished meanwhile
            row.status = RunStatus.INTERRUPTED
            row.ended = now
            row.reason = reason
            _interrupt_hosts(s, run_id, now, f"interrupted: {reason}")
        log.warning("run %s marked interrupted: %s", run_id, reason)
        return True

    # --- reads -----------------------------------------------------------------------------------

    def get(self, run_id_or_prefix: str) -> RunRecord:
        """A run by id, unique id prefix, or ``"last"`` (the newest)."""
        ref = run_id_or_prefix.strip()
        with self.db.read_session() as s:
            run_id = self._resolve(s, ref)
            row = s.scalar(
                select(RunRow)
                .where(RunRow.id == run_id)
                .options(
                    selectinload(RunRow.hosts)
                    .selectinload(HostRow.steps)
                    .selectinload(StepRow.checks)
                )
            )
            if row is None:  # deleted between the two queries
                raise NotFoundError(f"no run {ref!r}")
            return record_from_row(row)

    def _resolve(self, s: Session, ref: str) -> str:
        if not ref:
            raise NotFoundError("no run id given")
        if ref == "last":
            newest = s.scalar(select(RunRow.id).order_by(*_NEWEST_FIRST).limit(1))
            if newest is None:
                raise NotFoundError("no runs recorded yet")
            return newest
        if s.get(RunRow, ref) is not None:
            return ref
        matches = s.scalars(
            select(RunRow.id)
            .where(RunRow.id.startswith(ref, autoescape=True))
            .order_by(*_NEWEST_FIRST)
            .limit(_AMBIGUOUS_SHOWN + 1)
        ).all()
        if not matches:
            raise NotFoundError(f"no run {ref!r}")
        if len(matches) > 1:
            shown = ", ".join(matches[:_AMBIGUOUS_SHOWN])
            more = " and more" if len(matches) > _AMBIGUOUS_SHOWN else ""
            raise NotFoundError(
                f"run id prefix {ref!r} is ambiguous: it matches {shown}{more}; "
                "give more characters"
            )
        return matches[0]

    def read_output(self, run_id: str, host: str, step_index: int) -> str:
        """The full output of one step ("" when it printed nothing), checksum verified."""
        with self.db.read_session() as s:
            found = s.execute(
                select(StepRow.output_path, StepRow.output_sha256)
                .join(HostRow)
                .where(HostRow.run_id == run_id, HostRow.host == host, StepRow.idx == step_index)
            ).one_or_none()
        if found is None:
            raise NotFoundError(f"run {run_id} has no step {step_index} recorded for {host!r}")
        path, sha256 = found
        if path is None or sha256 is None:
            return ""
        return self.outputs.read(path, sha256)

    def list(
        self,
        *,
        limit: int = 20,
        runbook: str | None = None,
        status: RunStatus | None = None,
    ) -> builtins.list[RunSummary]:
        """The newest runs first, optionally only one runbook's or one status."""
        query = select(RunRow).order_by(*_NEWEST_FIRST).limit(limit)
        if runbook is not None:
            query = query.where(RunRow.runbook == runbook)
        if status is not None:
            query = query.where(RunRow.status == status)
        with self.db.read_session() as s:
            rows = s.scalars(query).all()
            ids = [r.id for r in rows]
            hosts = _host_counts(s, ids)
            grades = _grade_counts(s, ids)
        return [summary_from_row(r, hosts.get(r.id, {}), grades.get(r.id, {})) for r in rows]


_NEWEST_FIRST = (RunRow.created.desc(), RunRow.id.desc())


def _run_row(plan: RunPlan, status: RunStatus, *, pid: int | None, node: str) -> RunRow:
    return RunRow(
        id=plan.run_id,
        runbook=plan.runbook.name,
        kind=plan.runbook.kind.value,
        status=status,
        operator=plan.operator,
        trigger=plan.trigger,
        change_id=plan.change_id or plan.gate.change_id,
        limit_pattern=plan.limit,
        forks=plan.forks,
        host_count=len(plan.hosts),
        planned_hosts=list(plan.host_names),
        created=plan.created,
        reason="",
        gate_policy=plan.gate.policy,
        gate_reason=plan.gate.reason,
        pid=pid,
        node=node,
        options=to_jsonable(plan.options),
        meta={},
    )


def _interrupt_hosts(s: Session, run_id: str, now: datetime, error: str) -> None:
    s.execute(
        update(HostRow)
        .where(HostRow.run_id == run_id, HostRow.status == Status.RUNNING)
        .values(status=Status.INTERRUPTED, ended=now, error=error)
    )


def _host_counts(s: Session, ids: builtins.list[str]) -> dict[str, dict[Status, int]]:
    counts: dict[str, dict[Status, int]] = {}
    if ids:
        query = (
            select(HostRow.run_id, HostRow.status, func.count())
            .where(HostRow.run_id.in_(ids))
            .group_by(HostRow.run_id, HostRow.status)
        )
        for run_id, status, n in s.execute(query):
            counts.setdefault(run_id, {})[status] = n
    return counts


def _grade_counts(s: Session, ids: builtins.list[str]) -> dict[str, dict[Grade, int]]:
    counts: dict[str, dict[Grade, int]] = {}
    if ids:
        query = (
            select(HostRow.run_id, CheckRow.grade, func.count())
            .join(StepRow, StepRow.host_result_id == HostRow.id)
            .join(CheckRow, CheckRow.step_result_id == StepRow.id)
            .where(HostRow.run_id.in_(ids))
            .group_by(HostRow.run_id, CheckRow.grade)
        )
        for run_id, grade, n in s.execute(query):
            counts.setdefault(run_id, {})[grade] = n
    return counts
