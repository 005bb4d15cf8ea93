"""The audit log (操作记录): append-only, hash-chained evidence of every decision.

Each entry's ``hash`` is sha256 over a canonical encoding of its fields and the
previous entry's hash (JSON, sorted keys, no whitespace, UTF-8, UTC timestamps
in ISO 8601 with microseconds). Changing, inserting or removing any entry breaks
the chain from there on; ``verify`` recomputes it and names the first bad entry.

Appends are serialised so parallel processes never fork the chain: SQLite write
transactions begin with ``BEGIN IMMEDIATE`` (one writer at a time), PostgreSQL
ones take a transaction-scoped advisory lock before reading the head. The newest
entries can still be cut off together by someone with write access to the
database; compare ``verify``'s head (seq + hash) with a copy kept elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.clock import Clock
from orchestrator.store.change_rows import AuditRow
from orchestrator.store.db import Database
from orchestrator.store.encoding import to_jsonable

log = logging.getLogger(__name__)

GENESIS = "0" * 64  # prev_hash of the first entry
# PostgreSQL advisory lock key held while appending ("audt" in ASCII).
_CHAIN_LOCK = 0x61756474
_CHUNK = 1000


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: datetime
    actor: str
    action: str
    subject: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": _iso(self.ts),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": dict(self.details),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int  # entries checked
    head_seq: int  # last good entry (0: none)
    head_hash: str
    problem: str = ""  # the first bad entry and what differs
    bad_seq: int | None = None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(
    seq: int,
    ts: datetime,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any],
    prev_hash: str,
) -> bytes:
    """The bytes an entry's hash is computed over."""
    body = {
        "seq": seq,
        "ts": _iso(ts),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
        "prev_hash": prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(row: AuditRow | AuditEntry) -> str:
    data = canonical(
        row.seq, row.ts, row.actor, row.action, row.subject, row.details, row.prev_hash
    )
    return hashlib.sha256(data).hexdigest()


def lock_chain(session: Session) -> None:
    """Serialise writers that will append (call first in the transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_CHAIN_LOCK)))


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        row.seq,
        row.ts,
        row.actor,
        row.action,
        row.subject,
        dict(row.details or {}),
        row.prev_hash,
        row.hash,
    )


class AuditLog:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # --- writes --------------------------------------------------------------------------

    def record(
        self, actor: str, action: str, subject: str, details: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        """Append one entry in its own transaction."""
        with self.db.session() as s:
            lock_chain(s)
            return self.append(s, actor, action, subject, details)

    def append(
        self,
        session: Session,
        actor: str,
        action: str,
        subject: str,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append inside the caller's transaction (which called ``lock_chain`` first)."""
        head = session.execute(
            select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)
        ).first()
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
        row = AuditRow(
            seq=seq,
            ts=self.clock.now(),
            actor=actor,
            action=action,
            subject=subject,
            details=to_jsonable(dict(details or {})),
            prev_hash=prev,
        )
        row.hash = entry_hash(row)
        session.add(row)
        session.flush()
        log.debug("audit %d %s %s by %s", seq, action, subject, actor)
        return _entry(row)

    # --- reads ---------------------------------------------------------------------------

    def entries(
        self,
        *,
        subject: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEntry]:
        query = select(AuditRow)
        if subject is not None:
            query = query.where(AuditRow.subject == subject)
        if since is not None:
            query = query.where(AuditRow.ts >= since)
        if until is not None:
            query = query.where(AuditRow.ts < until)
        query = query.order_by(AuditRow.seq.desc() if newest_first else AuditRow.seq)
        if limit is not None:
            query = query.limit(limit)
        with self.db.read_session() as s:
            return [_entry(r) for r in s.scalars(query)]

    def _stream(self) -> Iterator[AuditRow]:
        last = 0
        while True:
            with self.db.read_session() as s:
                rows = list(
                    s.scalars(
                        select(AuditRow)
                        .where(AuditRow.seq > last)
                        .order_by(AuditRow.seq)
                        .limit(_CHUNK)
                    )
                )
            if not rows:
                return
            yield from rows
            last = rows[-1].seq

    def verify(self) -> Verification:
        """Recompute the chain from the first entry; stop at the first bad one."""
        expected, prev, count = 1, GENESIS, 0
        for row in self._stream():
            problem = _problem(row, expected, prev)
            if problem:
                return Verification(False, count, expected - 1, prev, problem, row.seq)
            count += 1
            expected, prev = row.seq + 1, row.hash
        return Verification(True, count, expected - 1, prev)

    def export(self, out: TextIO, *, since: datetime | None = None) -> int:
        """Write entries (from ``since`` on) as JSON Lines; returns how many."""
        count = 0
        for row in self._stream():
            if since is not None and row.ts < since:
                continue
            out.write(json.dumps(_entry(row).to_json_dict(), ensure_ascii=False) + "\n")
            count += 1
        return count


def _problem(row: AuditRow, expected: int, prev: str) -> str:
    where = f"entry {row.seq} ({_iso(row.ts)} {row.action} {row.subject} by {row.actor})"
    if row.seq != expected:
        missing = f"{expected}" if row.seq == expected + 1 else f"{expected}..{row.seq - 1}"
        return f"entry {missing} missing before {where}: entries were deleted"
    if row.prev_hash != prev:
        return (
            f"{where} does not link to entry {row.seq - 1}: prev_hash {row.prev_hash[:16]}… ≠ "
            f"{prev[:16]}… (entry {row.seq - 1} was rewritten, or this one was)"
        )
    recomputed = entry_hash(row)
    if recomputed != row.hash:
        return (
            f"{where} was altered: its content hashes to {recomputed[:16]}…, "
            f"the stored hash is {row.hash[:16]}…"
        )
    return ""
