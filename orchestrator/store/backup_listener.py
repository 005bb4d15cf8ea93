"""Puts what backup steps did on the run record, as they finish.

The versions themselves are indexed by ``BackupStore`` while the step runs; this
listener adds their summaries to the run's ``meta`` (``runs show``, ``--json`` and the
report read them from there, and a killed run keeps what it had recorded):

- ``backups``: one item per artifact stored (host, step, artifact, version, sha256,
  change, masked diff excerpt, whether new bytes were written);
- ``before_change``: the versions ``backup:`` steps stored, for a rollback;
- ``restore_verifications``: each restore verification's verdict, reasons, RTO, age.
"""

from __future__ import annotations

import logging
from typing import Any

from orchestrator.engine.events import RunListener
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import StepResult
from orchestrator.inventory.model import Host
from orchestrator.runbook.model import StepKind
from orchestrator.store.runs import RunStore

log = logging.getLogger(__name__)

PLAN_LINES = 60  # lines of a network restore plan kept on the run
_RESTORE_FIELDS = (
    "source",
    "artifact",
    "version",
    "created",
    "age_s",
    "newest_age_s",
    "max_age_s",
    "files",
    "verified",
    "missing",
    "mismatched",
    "rto_s",
    "restored_to",
    "removed",
    "added",
    "in_sync",
    "note",
    "ok",
    "reasons",
)


class BackupListener(RunListener):
    def __init__(self, runs: RunStore) -> None:
        self.runs = runs

    def step_finished(self, plan: RunPlan, host: Host, result: StepResult) -> None:
        for artifact in result.artifacts:
            item = {"host": host.name, "step": result.index, **artifact.to_dict()}
            self.runs.append_meta(plan.run_id, "backups", item)
            if artifact.before_change:
                short = {"host": host.name, "artifact": artifact.name, "version": artifact.version}
                self.runs.append_meta(plan.run_id, "before_change", short)
        steps = plan.runbook.steps
        if result.index < len(steps) and steps[result.index].kind is StepKind.RESTORE:
            for entry in _restores(result):
                self.runs.append_meta(
                    plan.run_id, "restore_verifications", {"host": host.name, **entry}
                )


def _restores(result: StepResult) -> list[dict[str, Any]]:
    parsed = result.parsed if isinstance(result.parsed, dict) else {}
    found = []
    for entry in parsed.get("restores") or []:
        item = {k: entry.get(k) for k in _RESTORE_FIELDS if k in entry}
        if "plan" in entry:
            item["plan"] = list(entry["plan"])[:PLAN_LINES]
        item["probes"] = [
            {"name": p.get("name"), "ok": p.get("ok"), "output": str(p.get("output", ""))[:120]}
            for p in entry.get("probes") or []
        ]
        found.append(item)
    return found
