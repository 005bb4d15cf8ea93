"""The leader lease: a row with an expiry that one scheduler daemon at a time holds.

APScheduler 3 must never run two schedulers on one job store (they would both fire
every job), so only the holder of an unexpired lease processes jobs; the others stand
by and take the lease over once it expires (its holder died or lost the database).
The read-modify-write is serialised like the audit chain: SQLite write transactions
begin with ``BEGIN IMMEDIATE``, PostgreSQL ones take an advisory lock first. Expiry is
compared with the daemons' clocks, so keep the nodes on NTP (the lease is seconds long;
the inspections grade clock offsets).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.store.db import Database
from orchestrator.store.schedule_rows import LeaseRow

# PostgreSQL advisory lock key held while reading and writing a lease ("lead" in ASCII).
_LEASE_LOCK = 0x6C656164


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    node: str
    pid: int | None
    acquired: datetime
    renewed: datetime
    expires: datetime

    def valid_at(self, now: datetime) -> bool:
        return now < self.expires


@dataclass(frozen=True)
class Acquired:
    """The lease after an attempt; ``taken``: it just became ours (from ``previous``)."""

    lease: Lease
    taken: bool = False
    previous: Lease | None = None

    def held_by(self, holder: str) -> bool:
        return self.lease.holder == holder


def _lease(row: LeaseRow) -> Lease:
    return Lease(row.name, row.holder, row.node, row.pid, row.acquired, row.renewed, row.expires)


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_LEASE_LOCK)))


class LeaseStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def acquire(
        self,
        name: str,
        holder: str,
        *,
        node: str,
        pid: int | None,
        now: datetime,
        ttl: float,
        renew_margin: float | None = None,
    ) -> Acquired:
        """Take the lease if it is free or expired, renew it if it is ours.

        A lease of ours is rewritten only when less than ``renew_margin`` seconds are
        left (default: two thirds of ``ttl``), so a daemon polling every second does
        not write every second.
        """
        margin = timedelta(seconds=ttl * 2 / 3 if renew_margin is None else renew_margin)
        expires = now + timedelta(seconds=ttl)
        with self.db.session() as s:
            _lock(s)
            row = s.get(LeaseRow, name)
            if row is None:
                row = LeaseRow(name=name, holder=holder, node=node, pid=pid, acquired=now)
                row.renewed, row.expires = now, expires
                s.add(row)
                return Acquired(_lease(row), taken=True)
            if row.holder == holder:
                if row.expires - now < margin:
                    row.renewed, row.expires = now, expires
                return Acquired(_lease(row))
            if row.expires > now:
                return Acquired(_lease(row))
            previous = _lease(row)
            row.holder, row.node, row.pid = holder, node, pid
            row.acquired, row.renewed, row.expires = now, now, expires
            return Acquired(_lease(row), taken=True, previous=previous)

    def release(self, name: str, holder: str, now: datetime) -> bool:
        """Let the lease go at once (clean shutdown), so a standby need not wait it out."""
        with self.db.session() as s:
            _lock(s)
            row = s.get(LeaseRow, name)
            if row is None or row.holder != holder:
                return False
            row.expires = min(row.expires, now)
            return True

    def current(self, name: str) -> Lease | None:
        with self.db.read_session() as s:
            row = s.get(LeaseRow, name)
            return _lease(row) if row is not None else None
