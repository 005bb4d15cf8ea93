"""Composition root: the one place concrete classes are chosen and wired together.

The CLI (and later the scheduler) builds one ``App`` from settings and asks it
to plan and execute runs; everything below receives its collaborators.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.backups.objects import ObjectStore
from orchestrator.changes.gate import ChangeGate, Gate, GateDecision
from orchestrator.changes.model import ChangePlan
from orchestrator.changes.plan import build_plan
from orchestrator.clock import Clock, SystemClock
from orchestrator.engine.events import ListenerGroup, RunListener
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import RunResult
from orchestrator.engine.resume import resume_state
from orchestrator.engine.rollout import make_batches
from orchestrator.engine.runner import EngineConfig, RunRequest, execute_run, plan_run
from orchestrator.errors import (
    ChangeGateError,
    ConfigError,
    OrchestratorError,
    Problem,
    SettingsError,
)
from orchestrator.inventory.loader import load_inventory
from orchestrator.inventory.model import Inventory
from orchestrator.inventory.select import select_hosts
from orchestrator.reports.document import ReportDocument
from orchestrator.reports.i18n import Lang
from orchestrator.reports.model import ReportFormat, ReportInput, installed_version
from orchestrator.reports.render import render_report
from orchestrator.runbook.loader import RunbookCatalog
from orchestrator.runbook.model import Runbook, StepKind
from orchestrator.settings import Settings
from orchestrator.store.audit import AuditLog
from orchestrator.store.backup_listener import BackupListener
from orchestrator.store.backups import BackupStore
from orchestrator.store.change_listener import ChangeListener
from orchestrator.store.changes import ChangeStore
from orchestrator.store.db import Database
from orchestrator.store.history import earlier_values
from orchestrator.store.listener import StoreListener
from orchestrator.store.locks import LockStore
from orchestrator.store.outputs import OutputStore
from orchestrator.store.processes import pid_alive
from orchestrator.store.records import RunRecord
from orchestrator.store.runs import RunStore
from orchestrator.transports.base import Connector

log = logging.getLogger(__name__)


def current_operator(env: Mapping[str, str] | None = None, *, allow_override: bool = False) -> str:
    """Who is acting: the OS user, or ORCH_USER where the settings allow choosing it.

    Approvals hang on this name (requester ≠ approver), so a set ORCH_USER that the
    settings do not allow is an error rather than silently ignored.
    """
    env = os.environ if env is None else env
    user, chosen = getpass.getuser(), env.get("ORCH_USER")
    if chosen and chosen != user and not allow_override:
        raise SettingsError(
            [
                Problem(
                    f"ORCH_USER={chosen} is set, but the settings do not allow choosing the user",
                    file="environment (ORCH_*)",
                    field="ORCH_USER",
                    hint="unset it (you act as the OS user), or set allow_user_override = true "
                    "in orchestrator.toml (service accounts, demos)",
                )
            ]
        )
    return chosen or user


class App:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        operator: str | None = None,
        database: Database | None = None,
    ) -> None:
        self.settings = settings
        # The scheduler builds one App per fire and shares its database (one pool).
        self._database = database
        self.clock = clock or SystemClock()
        self.operator = operator or current_operator(allow_override=settings.allow_user_override)
        self.node = socket.gethostname()
        self.trusted_keys: list[dict[str, str]] = []
        self._trusted_lock = threading.Lock()
        self._current_run: str | None = None
        self.engine_config = EngineConfig(
            default_forks=settings.forks,
            connect_timeout=settings.connect_timeout,
            step_timeout=settings.step_timeout,
        )

    # --- inputs ---------------------------------------------------------------------------

    @cached_property
    def inventory(self) -> Inventory:
        return load_inventory(self.settings.inventory)

    @cached_property
    def catalog(self) -> RunbookCatalog:
        return RunbookCatalog(self.settings.runbooks)

    def known_vars(self) -> set[str]:
        return {name for host in self.inventory for name in host.vars}

    def runbook(self, name: str) -> Runbook:
        """Load and validate a runbook against the inventory's variable names."""
        return self.catalog.load(name, known_vars=self.known_vars())

    # --- store ----------------------------------------------------------------------------

    @cached_property
    def database(self) -> Database:
        db = self._database or Database(self.settings.database_url)
        db.upgrade()
        return db

    @cached_property
    def runs(self) -> RunStore:
        store = RunStore(self.database, OutputStore(self.settings.output_dir), self.clock)
        # A run whose process died (SIGKILL, crash, power) is still RUNNING in the
        # database: say so honestly before anyone reads the history.
        for run_id in store.mark_interrupted(self.node, pid_alive):
            log.warning("run %s was interrupted: its process is gone", run_id)
            self.changes.run_interrupted(run_id, self.operator, "its process is gone")
            self.locks.release(run_id)  # nothing works on its hosts any more
        return store

    @cached_property
    def locks(self) -> LockStore:
        """Host leases: a rollout and a backup never work on the same host at once."""
        return LockStore(self.database, node=self.node, pid=os.getpid())

    @cached_property
    def backups(self) -> BackupStore:
        """The backup repository: objects under ``backup_dir``, the index in the database."""
        objects = ObjectStore(self.settings.backup_dir)
        return BackupStore(
            self.database, objects, self.clock, max_bytes=self.settings.backup_max_bytes
        )

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.database, self.clock)

    @cached_property
    def changes(self) -> ChangeStore:
        return ChangeStore(self.database, self.audit, self.clock, self.settings.change_rules)

    @cached_property
    def gate(self) -> Gate:
        """Every run passes it (engine.execute_run asks it before any connection)."""
        return ChangeGate(self.changes, self.settings.change_rules, self._hosts_matching)

    def _hosts_matching(self, pattern: str) -> frozenset[str]:
        return frozenset(h.name for h in select_hosts(self.inventory, pattern))

    def change_plan(self, change_id: str) -> ChangePlan:
        """The dry-run plan a submit attaches: each scope runbook on the change's targets."""
        record = self.changes.get(change_id)
        books = [self.runbook(name) for name in record.scope.runbooks]
        return build_plan(
            books, self.inventory, record.scope.targets, make_batches, self.clock.now()
        )

    # --- runs -----------------------------------------------------------------------------

    def plan(
        self,
        runbook: str,
        *,
        limit: str | None = None,
        forks: int | None = None,
        change_id: str | None = None,
        trigger: str = "cli",
        options: Mapping[str, Any] | None = None,
    ) -> RunPlan:
        if change_id and limit is None:
            # A run under a change targets what it approved unless narrowed further.
            record = self.changes.find(change_id)
            limit = record.scope.targets if record and record.plan else None
        request = RunRequest(
            self.runbook(runbook),
            limit=limit,
            forks=forks,
            change_id=change_id,
            operator=self.operator,
            trigger=trigger,
            options=dict(options or {}),
        )
        return plan_run(request, self.inventory, self.gate, self.clock, self.engine_config)

    def plan_resume(self, run: str, *, forks: int | None = None) -> RunPlan:
        """The plan that continues an aborted or interrupted run (``run --resume``): same id,
        runbook, hosts, batches and change; hosts its earlier attempt finished are left out."""
        record = self.runs.get(run)
        state = resume_state(record.result)
        request = RunRequest(
            self.runbook(record.runbook),
            limit=record.limit,
            forks=forks or record.forks or None,
            change_id=record.change_id,
            operator=self.operator,
            trigger=record.trigger,
            options=dict(record.options),
            run_id=record.run_id,
            resume=state,
        )
        plan = plan_run(request, self.inventory, self.gate, self.clock, self.engine_config)
        if plan.host_names != record.planned_hosts:
            raise ConfigError(
                f"run {record.run_id} cannot resume: its hosts are no longer what they were "
                f"(inventory or runbook targets changed; planned {len(record.planned_hosts)}, "
                f"now {len(plan.hosts)}); start a new run under a new change"
            )
        return plan

    def connectors(self, *, trust_new_host_keys: bool = False) -> dict[StepKind, Connector]:
        s = self.settings
        common: dict[str, Any] = {
            "trust_new_host_keys": trust_new_host_keys or s.trust_new_host_keys,
            "on_new_host_key": self._host_key_trusted,
            "default_user": s.ssh_user,
            "default_key_file": s.ssh_key,
            "clock": self.clock,
        }
        # Imported here: fabric, netmiko and ansible-runner cost about a second to
        # import, which commands that only read the inventory or the store should not pay.
        from orchestrator.transports.ansible import AnsibleConnector  # noqa: PLC0415
        from orchestrator.transports.netmiko import NetmikoConnector  # noqa: PLC0415
        from orchestrator.transports.ssh import SshConnector  # noqa: PLC0415

        known_hosts = s.known_hosts.expanduser()
        return {
            StepKind.COMMAND: SshConnector(known_hosts, **common),
            StepKind.CLI: NetmikoConnector(known_hosts, **common),
            StepKind.ANSIBLE: AnsibleConnector(
                s.work_dir / "ansible", known_hosts, playbook_dir=s.runbooks, **common
            ),
        }

    def _host_key_trusted(self, host: str, key_type: str, fingerprint: str) -> None:
        """Called from worker threads when --trust-new-host-keys accepted a new key."""
        log.warning(
            "trusted new host key for %s: %s %s (by %s, --trust-new-host-keys)",
            host,
            key_type,
            fingerprint,
            self.operator,
        )
        entry = {
            "host": host,
            "type": key_type,
            "fingerprint": fingerprint,
            "by": self.operator,
            "at": self.clock.now().isoformat(),
        }
        self.audit.record(self.operator, "hostkey.trust", f"host:{host}", entry)
        with self._trusted_lock:
            self.trusted_keys.append(entry)
            if self._current_run is not None:
                self.runs.append_meta(self._current_run, "trusted_host_keys", entry)

    def execute(
        self,
        plan: RunPlan,
        *,
        listeners: Iterable[RunListener] = (),
        stop: threading.Event | None = None,
        trust_new_host_keys: bool = False,
    ) -> RunResult:
        """Run the plan, persisting as it goes. A gate refusal is recorded, then raised."""
        store_listener = StoreListener(self.runs, pid=os.getpid(), node=self.node)
        change_listener = ChangeListener(self.changes)
        backup_listener = BackupListener(self.runs)
        group = ListenerGroup([store_listener, change_listener, backup_listener, *listeners])
        self._current_run = plan.run_id
        try:
            return execute_run(
                replace(plan, artifacts=self.backups, locks=self.locks),
                self.connectors(trust_new_host_keys=trust_new_host_keys),
                group,
                self.gate,
                self.clock,
                self.engine_config,
                stop,
            )
        except ChangeGateError as exc:
            # Record the refusal that stopped it (the plan may have been allowed earlier);
            # a refused resume keeps its run as it was (the audit log has the refusal).
            refusal = GateDecision(False, exc.reason, exc.change_id, plan.gate.policy)
            if plan.resume is None:
                self.runs.record_refused(
                    replace(plan, gate=refusal), pid=os.getpid(), node=self.node
                )
            raise
        finally:
            self._current_run = None

    # --- reports --------------------------------------------------------------------------

    @cached_property
    def timezone(self) -> ZoneInfo:
        """The settings' time zone, in which reports show times."""
        name = self.settings.timezone
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            origin = self.settings.source or "environment (ORCH_*) or default"
            raise SettingsError(
                [
                    Problem(
                        f"unknown time zone {name!r}",
                        file=origin,
                        field="timezone",
                        hint="an IANA zone name such as Asia/Shanghai or UTC",
                    )
                ]
            ) from None

    def report(
        self,
        run: str | RunRecord,
        *,
        fmt: ReportFormat = ReportFormat.HTML,
        lang: Lang | None = None,
        runbook: Runbook | None = None,
    ) -> ReportDocument:
        """The report of a run (id, unique prefix, "last", or a record already read).

        ``runbook`` gives the description and change policy shown in the header; without
        it the runbook is looked up by name and left out if it is gone or invalid now.
        Trends compare with the same items in the newest earlier runs of the runbook.
        """
        record = run if isinstance(run, RunRecord) else self.runs.get(run)
        book = runbook or self._runbook_if_known(record.runbook)
        history = earlier_values(
            self.database,
            runbook=record.runbook,
            before=record.created,
            exclude_run=record.run_id,
        )
        data = ReportInput(
            result=record.result,
            generated=self.clock.now(),
            kind=record.kind,
            description=book.description if book else "",
            operator=record.operator,
            trigger=record.trigger,
            change_id=record.change_id,
            change_policy=book.change.value if book else "",
            gate_reason=record.gate_reason,
            limit=record.limit,
            planned_hosts=record.planned_hosts,
            history=history,
            tool_version=installed_version(),
        )
        return render_report(
            data,
            fmt=fmt,
            lang=lang or Lang(self.settings.report_lang),
            tz=self.timezone,
            tz_name=self.settings.timezone,
        )

    def write_report(self, document: ReportDocument, path: Path | None = None) -> Path:
        """Save a report (default ``<data_dir>/reports/<run_id>.<lang>.<ext>``), atomically."""
        target = path or self.settings.reports_dir / document.file_name
        try:
            return document.write(target)
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise ConfigError(f"cannot write the report to {target}: {why}") from None

    def _runbook_if_known(self, name: str) -> Runbook | None:
        try:
            return self.catalog.load(name)
        except OrchestratorError as exc:
            log.debug("report without runbook details for %s: %s", name, exc)
            return None
