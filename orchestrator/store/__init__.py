"""Persistence: the database (SQLAlchemy 2 + Alembic), run records and step output files,
change records, the hash-chained audit log, the scheduler's schedules, fires and lease, and
the host leases of running runs."""

from orchestrator.store.audit import AuditEntry, AuditLog, Verification
from orchestrator.store.backups import BackupStore
from orchestrator.store.change_listener import ChangeListener
from orchestrator.store.changes import ChangeStore
from orchestrator.store.db import Database
from orchestrator.store.leases import Acquired, Lease, LeaseStore
from orchestrator.store.listener import StoreListener
from orchestrator.store.locks import LockStore
from orchestrator.store.outputs import OutputStore, StoredOutput
from orchestrator.store.processes import pid_alive
from orchestrator.store.records import OutputRef, RunRecord, RunSummary
from orchestrator.store.runs import RunStore
from orchestrator.store.schedules import (
    Fire,
    FireStatus,
    ScheduleSpec,
    ScheduleStore,
    StoredSchedule,
)

__all__ = [
    "Acquired",
    "AuditEntry",
    "AuditLog",
    "BackupStore",
    "ChangeListener",
    "ChangeStore",
    "Database",
    "Fire",
    "FireStatus",
    "Lease",
    "LeaseStore",
    "LockStore",
    "OutputRef",
    "OutputStore",
    "RunRecord",
    "RunStore",
    "RunSummary",
    "ScheduleSpec",
    "ScheduleStore",
    "StoreListener",
    "StoredOutput",
    "StoredSchedule",
    "Verification",
    "pid_alive",
]
