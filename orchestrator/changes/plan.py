"""The plan attached to a change at submit, and the runbook fingerprint that pins it.

Approval approves exactly the attached plan: each runbook's steps, hosts and
batches, plus a fingerprint of the validated runbook. If the runbook file is
edited afterwards (a step, a variable, a threshold, the targets), its fingerprint
changes and the gate refuses it under the old approval. Comments and line numbers
do not count.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from orchestrator.changes.model import ChangePlan, RunbookPlan, StepPlan
from orchestrator.errors import ConfigError
from orchestrator.inventory.model import Host, Inventory
from orchestrator.inventory.select import select_hosts
from orchestrator.runbook.model import Runbook, Step, Strategy

# The engine's batching (engine.rollout.make_batches), passed in: changes sit below the engine.
Batcher = Callable[[list[Host], Strategy], Sequence[Sequence[Host]]]

_IGNORED_FIELDS = frozenset({"line", "path"})


def _plain(value: Any) -> Any:
    """A JSON-ready, order-independent form of a validated runbook value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in _IGNORED_FIELDS
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def fingerprint(book: Runbook) -> str:
    """sha256 over the validated runbook (not its file: comments and layout do not count)."""
    text = json.dumps(_plain(book), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _action_text(step: Step) -> str:
    if isinstance(step.action, str):
        return step.action
    return json.dumps(_plain(step.action), sort_keys=True, ensure_ascii=False)


def runbook_plan(
    book: Runbook, hosts: Sequence[str], batches: Sequence[Sequence[str]]
) -> RunbookPlan:
    return RunbookPlan(
        name=book.name,
        fingerprint=fingerprint(book),
        kind=book.kind.value,
        mutates=book.mutates,
        change=book.change.value,
        hosts=tuple(hosts),
        batches=tuple(tuple(b) for b in batches),
        steps=tuple(StepPlan(s.name, s.kind.value, _action_text(s)) for s in book.steps),
    )


def build_plan(
    books: Sequence[Runbook],
    inventory: Inventory,
    targets: str,
    batcher: Batcher,
    now: datetime,
) -> ChangePlan:
    """What each runbook would do on its targets narrowed by the change's pattern."""
    plans = []
    for book in books:
        hosts = select_hosts(inventory, book.targets, limit=targets)
        if not hosts:
            raise ConfigError(
                f"runbook {book.name!r} (targets {book.targets!r}) has no host in the change's "
                f"target pattern {targets!r}; check it with `orchestrator inventory list`"
            )
        batches = batcher(hosts, book.strategy)
        plans.append(
            runbook_plan(book, [h.name for h in hosts], [[h.name for h in b] for b in batches])
        )
    return ChangePlan(tuple(plans), str(inventory.source), now)


# --- JSON form (stored with the record, printed by `change show --json`) ------------------


def plan_to_dict(plan: ChangePlan) -> dict[str, Any]:
    return {
        "inventory": plan.inventory,
        "created": plan.created.isoformat(),
        "hosts": list(plan.hosts),
        "runbooks": [
            {
                "name": b.name,
                "fingerprint": b.fingerprint,
                "kind": b.kind,
                "mutates": b.mutates,
                "change": b.change,
                "hosts": list(b.hosts),
                "batches": [list(x) for x in b.batches],
                "steps": [{"name": s.name, "kind": s.kind, "action": s.action} for s in b.steps],
            }
            for b in plan.runbooks
        ],
    }


def plan_from_dict(data: Mapping[str, Any]) -> ChangePlan:
    return ChangePlan(
        runbooks=tuple(
            RunbookPlan(
                name=b["name"],
                fingerprint=b["fingerprint"],
                kind=b["kind"],
                mutates=bool(b["mutates"]),
                change=b["change"],
                hosts=tuple(b["hosts"]),
                batches=tuple(tuple(x) for x in b["batches"]),
                steps=tuple(StepPlan(s["name"], s["kind"], s["action"]) for s in b["steps"]),
            )
            for b in data["runbooks"]
        ),
        inventory=str(data.get("inventory", "")),
        created=datetime.fromisoformat(data["created"]),
    )
