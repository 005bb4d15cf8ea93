"""Per-host locks across runs: leases with an expiry, so a backup or an inspection never runs
on a host while a rollout patches it (docs/rollouts.md).

Every run takes a lease on each host before touching it — read-only runs a shared one, runs
that change targets an exclusive one. Shared leases coexist; an exclusive one excludes every
other. Leases are taken per batch (one transaction), renewed in the background while the
run goes, and released: a read-only run's as soon as it is done with the host, a changing
run's only when the run ends (it may still roll a host back after later batches). The
leases of a run that died are released by the next command that notices (or expire after
``ttl``); ``run --resume`` takes its own back.

A host held by another run is waited for (``strategy.on_locked: wait``, up to
``lock_wait``) or skipped (``skip``); either way the run says so in its evidence
(``meta.host_locks``) and a skipped host's result names the run that held it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from orchestrator.clock import Clock
from orchestrator.inventory.model import Host
from orchestrator.runbook.model import OnLocked, Runbook

log = logging.getLogger(__name__)

LOCK_TTL = 120.0  # seconds a lease lives without renewal
LOCK_POLL = 2.0  # seconds between attempts while waiting for a host


@dataclass(frozen=True)
class LockHolder:
    run_id: str
    runbook: str
    exclusive: bool


@dataclass(frozen=True)
class HeldLock:
    """Another run's lease that keeps a host from us."""

    host: str
    run_id: str
    runbook: str
    exclusive: bool
    expires: datetime

    def describe(self) -> str:
        mode = "changing it" if self.exclusive else "reading it"
        return f"run {self.run_id} ({self.runbook}, {mode})"


class HostLocks(Protocol):
    """The lease table (``store.locks.LockStore``)."""

    def acquire(
        self, hosts: Sequence[str], holder: LockHolder, *, now: datetime, ttl: float
    ) -> dict[str, HeldLock]:
        """Take (or renew) the lease of every host no other run holds in a conflicting mode,
        in one transaction; the blocking lease of each host not taken."""
        ...

    def renew(self, run_id: str, *, now: datetime, ttl: float) -> None: ...

    def release(self, run_id: str, hosts: Sequence[str] | None = None) -> None:
        """Let the run's leases go (all of them, or those of ``hosts``)."""
        ...


class LockKeeper:
    """One run's leases: taken per batch, waited for or skipped, renewed, released."""

    def __init__(
        self,
        locks: HostLocks | None,
        run_id: str,
        book: Runbook,
        clock: Clock,
        stop: threading.Event,
        *,
        ttl: float = LOCK_TTL,
        poll: float = LOCK_POLL,
    ) -> None:
        self.locks = locks
        self.holder = LockHolder(run_id, book.name, exclusive=book.mutates)
        self.strategy = book.strategy
        self.clock = clock
        self.stop = stop
        self.ttl = ttl
        self.poll = poll
        self.events: list[dict[str, Any]] = []  # waited / skipped, for the run's evidence
        self._blocked: dict[str, HeldLock] = {}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def start(self) -> None:
        if self.locks is None:
            return
        self._heartbeat = threading.Thread(target=self._renew, name="lock-renew", daemon=True)
        self._heartbeat.start()

    def take(self, batch: Sequence[Host]) -> None:
        """Lease the batch's hosts (one transaction); the held ones wait in ``wait_for``."""
        if self.locks is None:
            return
        blocked = self.locks.acquire(
            [h.name for h in batch], self.holder, now=self.clock.now(), ttl=self.ttl
        )
        with self._lock:
            self._blocked.update(blocked)

    def wait_for(self, host: Host) -> str:
        """ "" once the host's lease is ours; else why the host is skipped."""
        with self._lock:
            held = self._blocked.pop(host.name, None)
        if held is None or self.locks is None:
            return ""
        started = self.clock.now()
        if self.strategy.on_locked is OnLocked.SKIP:
            return self._skipped(host, held, 0.0, "on_locked: skip")
        while True:
            waited = (self.clock.now() - started).total_seconds()
            if self.stop.is_set():
                return self._skipped(host, held, waited, "the run was stopped while waiting")
            if waited >= self.strategy.lock_wait:
                why = f"still held after waiting {waited:.0f}s (lock_wait)"
                return self._skipped(host, held, waited, why)
            self.clock.sleep(min(self.poll, max(0.0, self.strategy.lock_wait - waited)))
            again = self.locks.acquire([host.name], self.holder, now=self.clock.now(), ttl=self.ttl)
            if host.name not in again:
                waited = (self.clock.now() - started).total_seconds()
                self._note(host, held, "waited", waited)
                log.info("%s: waited %.1fs for %s", host.name, waited, held.describe())
                return ""
            held = again[host.name]

    def host_done(self, host: Host) -> None:
        """A read-only run lets a host go once it is done with it (so a rollout waiting for
        it never waits for a whole batch); a changing run keeps it to the end (rollback)."""
        if self.locks is not None and not self.holder.exclusive:
            self.locks.release(self.holder.run_id, [host.name])

    def close(self) -> None:
        self._done.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        if self.locks is not None:
            try:
                self.locks.release(self.holder.run_id)
            except Exception:  # they expire anyway; the run's result matters more
                log.warning("releasing the host locks of run %s failed", self.holder.run_id)

    def _renew(self) -> None:
        assert self.locks is not None
        while not self._done.wait(self.ttl / 4):
            try:
                self.locks.renew(self.holder.run_id, now=self.clock.now(), ttl=self.ttl)
            except Exception:
                log.warning("renewing the host locks of run %s failed", self.holder.run_id)

    def _skipped(self, host: Host, held: HeldLock, waited: float, why: str) -> str:
        self._note(host, held, "skipped", waited)
        log.warning("%s: skipped, locked by %s (%s)", host.name, held.describe(), why)
        return f"not touched: locked by {held.describe()}; skipped ({why})"

    def _note(self, host: Host, held: HeldLock, action: str, waited: float) -> None:
        with self._lock:
            self.events.append(
                {
                    "host": host.name,
                    "action": action,
                    "waited_s": round(waited, 1),
                    "held_by": held.run_id,
                    "runbook": held.runbook,
                    "exclusive": held.exclusive,
                }
            )
