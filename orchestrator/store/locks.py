"""Host leases: the table behind ``engine.locks`` (a rollout and a backup never share a host).

One row per (host, run) holding it: shared for read-only runs, exclusive for runs that change
targets. Each acquire is one write transaction — SQLite writes begin with ``BEGIN
IMMEDIATE``, PostgreSQL ones take an advisory lock first — that drops the expired rows of
the hosts asked for, looks at the other runs' rows, and writes ours for the hosts it may
have. Expiry is compared with the nodes' clocks (keep them on NTP; leases are minutes long).
Migration ``0005_host_locks`` creates the table.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Index, Integer, String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from orchestrator.engine.locks import HeldLock, LockHolder
from orchestrator.store.db import Database
from orchestrator.store.models import Base, UTCDateTime

# PostgreSQL advisory lock key held while reading and writing leases ("host" in ASCII).
_HOSTS_LOCK = 0x686F7374
_CHUNK = 500  # hosts per IN (...) clause


class HostLockRow(Base):
    __tablename__ = "host_locks"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    runbook: Mapped[str] = mapped_column(String(200))
    exclusive: Mapped[bool] = mapped_column(Boolean)
    node: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int | None] = mapped_column(Integer)
    acquired: Mapped[datetime] = mapped_column(UTCDateTime)
    expires: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_host_locks_run_id", "run_id"),)


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_HOSTS_LOCK)))


def _held(row: HostLockRow) -> HeldLock:
    return HeldLock(row.host, row.run_id, row.runbook, row.exclusive, row.expires)


class LockStore:
    """Implements ``engine.locks.HostLocks``; ``node`` and ``pid`` say who holds a lease."""

    def __init__(self, db: Database, *, node: str = "", pid: int | None = None) -> None:
        self.db = db
        self.node = node
        self.pid = pid

    def acquire(
        self, hosts: Sequence[str], holder: LockHolder, *, now: datetime, ttl: float
    ) -> dict[str, HeldLock]:
        expires = now + timedelta(seconds=ttl)
        blocked: dict[str, HeldLock] = {}
        with self.db.session() as s:
            _lock(s)
            for start in range(0, len(hosts), _CHUNK):
                chunk = list(hosts[start : start + _CHUNK])
                s.execute(
                    delete(HostLockRow).where(
                        HostLockRow.host.in_(chunk), HostLockRow.expires <= now
                    )
                )
                rows = s.scalars(select(HostLockRow).where(HostLockRow.host.in_(chunk))).all()
                blocked.update(_conflicts(rows, holder))
                mine = {r.host: r for r in rows if r.run_id == holder.run_id}
                for host in chunk:
                    if host in blocked:
                        continue
                    if host in mine:
                        mine[host].expires = expires
                        mine[host].exclusive = holder.exclusive
                    else:
                        s.add(self._row(host, holder, now, expires))
        return blocked

    def _row(self, host: str, holder: LockHolder, now: datetime, expires: datetime) -> HostLockRow:
        return HostLockRow(
            host=host,
            run_id=holder.run_id,
            runbook=holder.runbook,
            exclusive=holder.exclusive,
            node=self.node,
            pid=self.pid,
            acquired=now,
            expires=expires,
        )

    def renew(self, run_id: str, *, now: datetime, ttl: float) -> None:
        with self.db.session() as s:
            s.execute(
                update(HostLockRow)
                .where(HostLockRow.run_id == run_id)
                .values(expires=now + timedelta(seconds=ttl))
            )

    def release(self, run_id: str, hosts: Sequence[str] | None = None) -> None:
        with self.db.session() as s:
            query = delete(HostLockRow).where(HostLockRow.run_id == run_id)
            if hosts is not None:
                query = query.where(HostLockRow.host.in_(list(hosts)))
            s.execute(query)

    def held(self, now: datetime) -> builtins.list[HeldLock]:
        """Every lease not expired at ``now`` (for `orchestrator` commands and tests)."""
        with self.db.read_session() as s:
            rows = s.scalars(
                select(HostLockRow)
                .where(HostLockRow.expires > now)
                .order_by(HostLockRow.host, HostLockRow.run_id)
            ).all()
            return [_held(r) for r in rows]


def _conflicts(rows: Sequence[HostLockRow], holder: LockHolder) -> dict[str, HeldLock]:
    """Hosts another run holds in a mode ours cannot share (exclusive excludes all)."""
    found: dict[str, HeldLock] = {}
    for row in rows:
        if row.run_id == holder.run_id or row.host in found:
            continue
        if holder.exclusive or row.exclusive:
            found[row.host] = _held(row)
    return found
