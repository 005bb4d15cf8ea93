"""The hot write path of a fan-out: host, step and check rows of a running run.

``RunStore`` hands its per-host and per-step writes to one ``ResultWriter``. They
come from up to ``forks`` threads at once and queue on one lock in this process:
SQLite admits one writer at a time, and its busy handler makes the others sleep
and retry (up to 100 ms a time), which starved a 50-host fan-out; a lock hands
the database over at once. Each write is a short Core transaction of statements
built once (``result_rows``), without an ORM session, on one connection kept for
the writers (taken in turn, it needs no pool).

The writer remembers the host rows it inserted itself: nobody else writes steps
into those, so it knows which step indexes they hold and their worst grade, and
records a new step with two INSERTs instead of looking first. Whatever it is not
sure of it asks the database; after any failed write it forgets everything.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exc

from orchestrator.engine.results import HostResult, Status, StepResult
from orchestrator.errors import StoreError
from orchestrator.runbook.model import Grade, worst_grade
from orchestrator.store.db import Database
from orchestrator.store.outputs import StoredOutput
from orchestrator.store.result_rows import (
    DELETE_CHECKS,
    FIND_HOST,
    FIND_STEP,
    HOST_GRADE,
    HOST_STEPS,
    INSERT_CHECKS,
    INSERT_HOST,
    INSERT_STEP,
    INSERT_STEPS,
    RUN_EXISTS,
    UPDATE_HOST,
    UPDATE_STEP,
    check_values,
    finished_host_values,
    step_values,
)


@dataclass
class _OwnHost:
    """A host row this writer inserted: what it holds, known without asking."""

    steps: set[int] = field(default_factory=set)
    grade: Grade | None = None


class ResultWriter:
    def __init__(self, db: Database, *, excerpt_limit: int) -> None:
        self.db = db
        self.excerpt_limit = excerpt_limit
        self.lock = threading.Lock()
        self._runs: set[str] = set()  # runs known to be recorded
        self._host_ids: dict[tuple[str, str], int] = {}
        self._own: dict[int, _OwnHost] = {}
        self._conn: Connection | None = None
        self._grouping: int | None = None  # the thread whose writes share one transaction
        # In a group: rows of new steps without checks (most are steps skipped on this
        # kind of host), inserted together before anything reads steps, and at the end.
        self._pending: list[dict[str, Any]] = []

    def run_recorded(self, run_id: str) -> None:
        self._runs.add(run_id)

    @contextmanager
    def group(self) -> Iterator[None]:
        """Writes of this thread in the block share one transaction (a group commit),
        committed when the block ends; if one of them fails, none of them is kept."""
        with self.transaction() as c:
            self._grouping = threading.get_ident()
            try:
                yield
                self._flush(c)
            finally:
                self._grouping = None

    def _flush(self, c: Connection) -> None:
        if self._pending:
            rows, self._pending = self._pending, []
            c.execute(INSERT_STEPS, rows)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction, taken in turn with the other writers of this process."""
        if self._grouping == threading.get_ident() and self._conn is not None:
            yield self._conn  # part of the group's transaction
            return
        with self.lock:
            try:
                if self._conn is None:
                    self._conn = self.db.engine.connect()
                with self._conn.begin():
                    yield self._conn
            except BaseException as err:
                self._forget()  # ids and contents may come from the rolled-back writes
                if isinstance(err, exc.SQLAlchemyError):
                    self.close()  # the connection itself may be broken
                    raise StoreError(_describe(self.db, err)) from err
                raise

    def close(self) -> None:
        """Give the writers' connection back (a later write takes a new one)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(exc.SQLAlchemyError):
                conn.close()

    def _forget(self) -> None:
        self._pending.clear()
        self._runs.clear()
        self._host_ids.clear()
        self._own.clear()

    def host_started(self, run_id: str, host: str, address: str, now: datetime) -> None:
        values = {"status": Status.RUNNING, "started": now, "address": address}
        with self.transaction() as c:
            host_id, inserted = self._host_row(c, run_id, host, values)
            if not inserted:
                c.execute(UPDATE_HOST, {"host_id": host_id, **values})

    def _host_id(self, c: Connection, run_id: str, host: str) -> int:
        return self._host_row(c, run_id, host)[0]

    def _host_row(
        self, c: Connection, run_id: str, host: str, values: dict[str, Any] | None = None
    ) -> tuple[int, bool]:
        """The id of the host's row in the run, and whether it was inserted just now
        (RUNNING, with ``values``) because there was none."""
        key = (run_id, host)
        known = self._host_ids.get(key)
        if known is not None:
            return known, False
        found = c.scalar(FIND_HOST, {"run_id": run_id, "host": host})
        inserted = found is None
        if found is None:
            if run_id not in self._runs and c.scalar(RUN_EXISTS, {"run_id": run_id}) is None:
                raise StoreError(f"cannot record host {host!r}: run {run_id} was never recorded")
            row = {"status": Status.RUNNING, "address": "", "error": "", **(values or {})}
            found = c.execute(INSERT_HOST, {"run_id": run_id, "host": host, **row}).scalar_one()
            self._own[found] = _OwnHost()
        self._host_ids[key] = found
        return found, inserted

    def record_step(
        self, run_id: str, host: str, result: StepResult, stored: StoredOutput | None
    ) -> None:
        """The step's row and check rows; an earlier record of the same index is replaced."""
        values = step_values(result, stored, self.excerpt_limit)
        with self.transaction() as c:
            host_id = self._host_id(c, run_id, host)
            own = self._own.get(host_id)
            new = own is not None and result.index not in own.steps
            if new and not result.checks and self._grouping is not None:
                self._pending.append({"host_result_id": host_id, "idx": result.index, **values})
            else:
                self._write_step(c, host_id, new, result, values)
            if result.grade is not None:
                self._raise_grade(c, host_id, own, result.grade)
            if own is not None:
                own.steps.add(result.index)

    def _write_step(
        self, c: Connection, host_id: int, new: bool, result: StepResult, values: dict[str, Any]
    ) -> None:
        step_id = None
        if not new:
            self._flush(c)  # the row looked for may still be pending
            step_id = c.scalar(FIND_STEP, {"host_id": host_id, "idx": result.index})
        if step_id is None:
            row = {"host_result_id": host_id, "idx": result.index, **values}
            step_id = c.execute(INSERT_STEP, row).scalar_one()
        else:  # recorded again: the new result replaces the old one, checks included
            c.execute(UPDATE_STEP, {"step_id": step_id, **values})
            c.execute(DELETE_CHECKS, {"step_id": step_id})
        if result.checks:
            c.execute(INSERT_CHECKS, check_values(step_id, result.checks))

    def _raise_grade(self, c: Connection, host_id: int, own: _OwnHost | None, grade: Grade) -> None:
        current = own.grade if own is not None else c.scalar(HOST_GRADE, {"host_id": host_id})
        worst = worst_grade(tuple(g for g in (current, grade) if g is not None))
        if worst != current:
            c.execute(UPDATE_HOST, {"host_id": host_id, "grade": worst})
            if own is not None:
                own.grade = worst

    def unrecorded(self, run_id: str, result: HostResult) -> list[StepResult]:
        """The host's steps that have no row yet."""
        own = self._own.get(self._host_ids.get((run_id, result.host), -1))
        if own is not None and all(s.index in own.steps for s in result.steps):
            return []
        with self.transaction() as c:  # in a group, this sees the group's own writes
            self._flush(c)
            recorded = set(c.scalars(HOST_STEPS, {"run_id": run_id, "host": result.host}))
        return [s for s in result.steps if s.index not in recorded]

    def finish_host(self, run_id: str, result: HostResult, now: datetime) -> None:
        values = finished_host_values(result, now)
        with self.transaction() as c:
            host_id = self._host_id(c, run_id, result.host)
            c.execute(UPDATE_HOST, {"host_id": host_id, **values})
        own = self._own.get(host_id)
        if own is not None:
            own.grade = result.grade


def _describe(db: Database, err: exc.SQLAlchemyError) -> str:
    detail = err.orig if isinstance(err, exc.DBAPIError) and err.orig else err
    text = str(detail).strip().splitlines()[0] if str(detail).strip() else type(err).__name__
    return f"database error on {db.masked_url}: {text}"
