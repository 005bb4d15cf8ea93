"""The scheduler daemon: hold the leader lease, fire due slots, stand by otherwise.

Every ``poll`` seconds ``step`` (1) takes or renews the lease — only its holder touches
the job store, so two daemons never both fire (APScheduler 3 must not share a job
store, apscheduler#129/#231); a standby takes over once the lease expires — and (2) as
leader, processes the due jobs with the injected clock: ``slots.plan_slots`` picks the
slot to run (coalesce, misfire grace) and the missed ones, each slot is claimed in
``schedule_fires`` *before* it runs (the idempotency key), the job's next run time is
advanced, and the run goes to a worker thread (one per schedule: max_instances=1).

On becoming leader it syncs schedules.yml (when given) and marks fires the previous
leader left running as interrupted. ``shutdown`` stops new fires, lets running ones
abort cleanly (their runs end ABORTED), and releases the lease at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime

from orchestrator.clock import Clock
from orchestrator.errors import OrchestratorError
from orchestrator.scheduler.firing import Firing
from orchestrator.scheduler.jobs import bound_call
from orchestrator.scheduler.jobtable import JobTable, StoredJob
from orchestrator.scheduler.model import JOB_FUNC, LEASE_NAME
from orchestrator.scheduler.slots import plan_slots
from orchestrator.store.audit import AuditLog
from orchestrator.store.leases import Acquired, LeaseStore
from orchestrator.store.schedules import FireStatus, ScheduleStore

log = logging.getLogger(__name__)


class Daemon:
    def __init__(
        self,
        *,
        firing: Firing,
        jobs: JobTable,
        leases: LeaseStore,
        audit: AuditLog,
        clock: Clock,
        lease_seconds: float,
        poll_seconds: float,
        workers: int = 4,
        on_leader: Callable[[], None] | None = None,
    ) -> None:
        self.firing = firing
        self.schedules: ScheduleStore = firing.schedules
        self.jobs = jobs
        self.leases = leases
        self.audit = audit
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.on_leader = on_leader  # e.g. sync schedules.yml when leadership is taken
        self.identity = firing.identity
        self.stop = firing.stop
        self.leading = False
        # workers=0 runs fires inline (tests that step the clock by hand).
        self._pool = ThreadPoolExecutor(workers, "fire") if workers > 0 else None
        self._running: dict[str, Future[object]] = {}

    # --- the loop ----------------------------------------------------------------------------

    def run(self, pause: Callable[[float], bool] | None = None) -> None:
        """Step until ``stop`` is set, then shut down. ``pause(seconds)`` returns True to stop."""
        pause = pause or self.stop.wait
        log.info(
            "scheduler %s started (lease %gs, poll %gs)",
            self.identity.holder,
            self.lease_seconds,
            self.poll_seconds,
        )
        try:
            while not self.stop.is_set():
                self.step()
                if pause(self.poll_seconds):
                    break
        finally:
            self.shutdown()

    def step(self) -> bool:
        """One round: lease, then (as leader) due jobs. Returns whether this daemon leads."""
        try:
            if self._hold_lease(self.clock.now()) and not self.stop.is_set():
                self._process_due(self.clock.now())
        except OrchestratorError as exc:  # database gone for a while: keep trying
            log.error("scheduler round failed: %s", exc)
        return self.leading

    def drain(self) -> None:
        """Wait for the fires in flight (tests, shutdown)."""
        wait(list(self._running.values()))

    def shutdown(self) -> None:
        self.stop.set()
        if self._pool is not None:
            # Running fires see ``stop`` and abort like `run` on Ctrl-C; queued ones never start.
            self._pool.shutdown(wait=True, cancel_futures=True)
        try:
            why = "the scheduler stopped before this fire started"
            for fire in self.schedules.interrupt(self.identity.holder, self.clock.now(), why):
                log.warning("%s slot %s not run: %s", fire.schedule, fire.slot, why)
        except OrchestratorError as exc:
            log.error("could not record the fires left unstarted: %s", exc)
        if self.leading:
            try:
                self.leases.release(LEASE_NAME, self.identity.holder, self.clock.now())
                self._audit("scheduler.stop", reason="shut down; lease released")
            except OrchestratorError as exc:
                log.error("could not release the scheduler lease: %s", exc)
            self.leading = False
        log.info("scheduler %s stopped", self.identity.holder)

    # --- leadership --------------------------------------------------------------------------

    def _hold_lease(self, now: datetime) -> bool:
        who = self.identity
        got = self.leases.acquire(
            LEASE_NAME, who.holder, node=who.node, pid=who.pid, now=now, ttl=self.lease_seconds
        )
        if not got.held_by(who.holder):
            if self.leading:
                log.warning("lost the scheduler lease to %s; standing by", got.lease.holder)
                self._audit("scheduler.standby", leader=got.lease.holder)
            self.leading = False
            return False
        if not self.leading:
            self.leading = True
            self._took_over(got)
        return True

    def _took_over(self, got: Acquired) -> None:
        previous = got.previous
        log.warning(
            "scheduler %s is the leader%s",
            self.identity.holder,
            f" (took over from {previous.holder}, lease expired {previous.expires.isoformat()})"
            if previous
            else "",
        )
        self._audit(
            "scheduler.leader",
            previous=previous.holder if previous else None,
            previous_expired=previous.expires.isoformat() if previous else None,
            lease_seconds=self.lease_seconds,
        )
        if previous is not None:
            why = f"the scheduler running it ({previous.holder}) stopped; its lease expired"
            for fire in self.schedules.interrupt(previous.holder, self.clock.now(), why):
                log.warning("%s slot %s was interrupted: %s", fire.schedule, fire.slot, why)
        if self.on_leader is not None:
            try:
                self.on_leader()
            except OrchestratorError as exc:  # keep the synced schedules; say why
                log.error("schedules not synced on taking the lead: %s", exc)

    # --- due jobs ----------------------------------------------------------------------------

    def _process_due(self, now: datetime) -> None:
        self._running = {k: f for k, f in self._running.items() if not f.done()}
        for job in self.jobs.due(now):
            self._process(job, now)

    def _process(self, job: StoredJob, now: datetime) -> None:
        stored = self.schedules.get(job.name)
        if stored is None or job.func_ref != JOB_FUNC:
            log.warning("job %s has no schedule (or a foreign function); removed", job.name)
            self.jobs.remove(job.name)
            return
        if not stored.active:  # paused or disabled: the schedules table has the last word
            self.jobs.set_next(job, None)
            return
        plan = plan_slots(job.next_fire, job.next_run_time, now, job.misfire_grace)
        if plan.missed:
            why = (
                f"not run within misfire_grace ({job.misfire_grace} s): the scheduler was "
                "down or busy" + (" (a later slot ran instead: coalesced)" if plan.run else "")
            )
            missed = self.firing.record_missed(stored.spec, plan.missed, plan.more_missed, why)
            # Notifying retries with backoff: never in this thread, which renews the lease.
            self._background(self.firing.notify_missed, stored.spec, missed, plan.more_missed, why)
        if plan.run is not None:
            self._start(job, plan.run)
        self.jobs.set_next(job, plan.next_run_time)

    def _start(self, job: StoredJob, slot: datetime) -> None:
        running = self._running.get(job.name)
        if running is not None and not running.done():
            self.schedules.record(
                job.name,
                [slot],
                FireStatus.SKIPPED,
                holder=self.identity.holder,
                node=self.identity.node,
                pid=self.identity.pid,
                now=self.clock.now(),
                detail="the previous fire was still running (max_instances=1)",
            )
            log.warning("%s slot %s skipped: the previous fire is still running", job.name, slot)
            return
        if self.firing.claim(job.name, slot) is None:
            log.info("%s slot %s was already claimed; not run again", job.name, slot)
            return
        future = self._background(bound_call(self.firing, job.call, slot))
        if future is not None:
            self._running[job.name] = future

    def _background(self, call: Callable[..., object], *args: object) -> Future[object] | None:
        """Run ``call`` in the worker pool (inline without one)."""
        if self._pool is None:
            call(*args)
            return None
        future = self._pool.submit(call, *args)
        future.add_done_callback(_log_failure)
        return future

    def _audit(self, action: str, **details: object) -> None:
        try:
            self.audit.record(self.identity.holder, action, "scheduler", details)
        except OrchestratorError as exc:
            log.error("could not audit %s: %s", action, exc)


def _log_failure(future: Future[object]) -> None:
    error = future.exception()
    if error is not None:
        log.error("a fire ended with an error: %s", error, exc_info=error)
