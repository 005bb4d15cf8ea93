"""The template context a host's steps see, and how a step's result joins it.

Names (documented in docs/runbook-format.md):
- every variable: runbook ``vars`` overridden by the host's inventory vars;
- ``vars``: the same merged mapping, for names that are not identifiers;
- ``host``: name, address, port, kind, platform, criticality, groups;
- ``run``: id, runbook, operator, change;
- each ``register`` name: stdout, stderr, rc, parsed, status, changed;
- in checks: ``stdout``, ``stderr``, ``rc``, ``parsed``, ``status`` of the step, and
  ``clock`` (``started``/``ended``: the orchestrator's clock around the command, as
  epoch seconds — to measure a host's clock offset).
Builtins win over variables of the same name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import StepResult
from orchestrator.inventory.model import Host


def host_facts(host: Host) -> dict[str, Any]:
    return {
        "name": host.name,
        "address": host.address,
        "port": host.port,
        "kind": host.kind.value,
        "platform": host.platform,
        "criticality": host.criticality.value,
        "groups": list(host.groups),
    }


def build_context(plan: RunPlan, host: Host) -> dict[str, Any]:
    merged: dict[str, Any] = {**plan.runbook.vars, **host.vars}
    context: dict[str, Any] = dict(merged)
    context.update(
        vars=merged,
        host=host_facts(host),
        run={
            "id": plan.run_id,
            "runbook": plan.runbook.name,
            "operator": plan.operator,
            "change": plan.change_id,
        },
    )
    return context


def registered(result: StepResult) -> dict[str, Any]:
    """What ``register: name`` exposes to later steps."""
    return {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "rc": result.exit_code,
        "parsed": result.parsed,
        "status": result.status.value,
        "changed": result.changed,
    }


def check_context(context: Mapping[str, Any], result: StepResult) -> dict[str, Any]:
    """The context a step's checks are graded in: the host context plus the step's output."""
    started, ended = result.started, result.ended
    return {
        **context,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "rc": result.exit_code,
        "parsed": result.parsed,
        "status": result.status.value,
        "clock": {
            "started": started.timestamp() if started else None,
            "ended": ended.timestamp() if ended else None,
        },
    }
