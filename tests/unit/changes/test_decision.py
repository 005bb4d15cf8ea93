"""The gate's pure decision: every refusal, with its reason, and what is allowed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import pytest

from orchestrator.changes import workflow
from orchestrator.changes.decision import GateContext, decide
from orchestrator.changes.model import ChangeRecord, ChangeState, ChangeType, CronWindow, Scope
from orchestrator.changes.request import GateDecision, GateRequest
from orchestrator.changes.rules import ChangeRules
from orchestrator.runbook.model import ChangePolicy, Runbook
from tests.unit.changes.builders import (
    HOSTS,
    NOW,
    RULES,
    approved,
    book,
    freeze,
    inspection,
    submitted,
    with_state,
)


def ask(
    runbook: Runbook,
    record: ChangeRecord | None = None,
    *,
    change_id: str | None = "CHG-20261130-001",
    hosts: Sequence[str] = HOSTS,
    now: timedelta = timedelta(minutes=5),
    operator: str = "alice",
    templates: Sequence[ChangeRecord] = (),
    rules: ChangeRules = RULES,
    freezes: Sequence = (),
    batch: int | None = None,
    run_id: str | None = "run-1",
    inventory: Sequence[str] = HOSTS,
) -> GateDecision:
    request = GateRequest(
        runbook,
        tuple(hosts),
        NOW + now,
        change_id,
        operator,
        batch=batch,
        run_id=run_id,
    )
    context = GateContext(rules, tuple(freezes), lambda pattern: frozenset(inventory))
    return decide(request, record, templates, context)


def refused(decision: GateDecision, fragment: str) -> None:
    assert not decision.allowed, decision
    assert fragment in decision.reason, decision.reason


def test_an_approved_normal_change_allows_its_run() -> None:
    decision = ask(book(), approved())
    assert decision.allowed, decision.reason
    assert decision.change_id == "CHG-20261130-001"
    assert decision.policy == "normal change"
    assert "window until 2026-11-30 12:00+0800" in decision.reason


def test_no_change_id_for_a_mutating_runbook() -> None:
    refused(ask(book(), change_id=None), "no change id: runbook 'patch-web' changes its targets")


def test_no_change_id_for_change_required() -> None:
    read_only_required = book(mutates=False, change=ChangePolicy.REQUIRED)
    refused(ask(read_only_required, change_id=None), "declares change: required")


def test_unknown_change_id() -> None:
    refused(ask(book(), None, change_id="CHG-20991231-999"), "unknown change id CHG-20991231-999")


def test_not_approved() -> None:
    refused(ask(book(), submitted()), "is not approved: it has 0 of 1 approval(s)")
    refused(ask(book(), with_state(approved(), state=ChangeState.CANCELLED)), "is cancelled")


def test_too_few_approvals_for_high_risk() -> None:
    from orchestrator.changes.model import Risk

    once = workflow.approve(submitted(risk=Risk.HIGH), "bob", NOW, RULES)
    refused(ask(book(), once), "1 of 2 approval(s) (high risk)")
    # even if the state says approved (e.g. settings were made stricter since)
    refused(ask(book(), with_state(once, state=ChangeState.APPROVED)), "not approved")


def test_before_and_after_the_window() -> None:
    record = approved()
    refused(ask(book(), record, now=timedelta(minutes=-1)), "its window opens at 2026-11-30 10:00")
    refused(ask(book(), record, now=timedelta(hours=2)), "its window closed at 2026-11-30 12:00")
    assert ask(book(), record, now=timedelta(hours=2) - timedelta(seconds=1)).allowed


def test_host_outside_the_approved_list() -> None:
    decision = ask(book(), approved(), hosts=["h1", "h9"])
    refused(decision, "1 host(s) outside the approved host list of CHG-20261130-001: h9")


def test_runbook_outside_the_scope() -> None:
    refused(ask(book("reboot-web"), approved()), "runbook 'reboot-web' is outside the scope")


def test_a_runbook_edited_after_approval_is_no_longer_approved() -> None:
    edited = book(command="apt-get -y dist-upgrade")
    refused(ask(edited, approved()), "was edited after CHG-20261130-001 was approved")
    moved_only = replace(book(), steps=tuple(replace(s, line=99) for s in book().steps))
    assert ask(moved_only, approved()).allowed  # comments / line numbers do not count


def test_freeze_refuses_a_normal_change() -> None:
    refused(ask(book(), approved(), freezes=[freeze(start_hours=1)]), "overlaps freeze 'year-end'")


def test_emergency_without_reason_in_a_freeze() -> None:
    emergency = approved(ChangeType.EMERGENCY)
    decision = ask(book(), emergency, freezes=[freeze(start_hours=0.5)])
    refused(decision, "records no reason")
    with_reason = replace(emergency, emergency_reason="payment outage")
    allowed = ask(book(), with_reason, freezes=[freeze(start_hours=0.5)])
    assert allowed.allowed
    assert "because: payment outage" in allowed.reason


def test_the_operator_needs_a_role_that_runs() -> None:
    refused(ask(book(), approved(), operator="audrey"), "audrey may not run changes")
    assert ask(book(), approved(), operator="bob").allowed


def test_one_change_covers_one_run() -> None:
    running = workflow.start(approved(), "run-1", NOW)
    refused(ask(book(), running, run_id="run-2"), "already in progress (run run-1)")
    # its own batches go on
    assert ask(book(), running, run_id="run-1", batch=1).allowed
    refused(ask(book(), running, run_id="run-2", batch=1), "no longer covers run run-2")
    refused(ask(book(), approved(), batch=1), "is approved and no longer covers run run-1")


def test_a_template_never_covers_a_mutating_runbook() -> None:
    template = approved(ChangeType.STANDARD)
    refused(ask(book("daily-inspection"), template), "is a standard template and runbook")


def test_a_template_found_by_runbook_and_hosts() -> None:
    template = approved(ChangeType.STANDARD)
    decision = ask(inspection(), change_id=None, templates=[template])
    assert decision.allowed
    assert decision.change_id == template.id
    assert decision.policy == "standard template"


def test_a_template_resolves_its_pattern_against_todays_inventory() -> None:
    template = approved(ChangeType.STANDARD)
    grown = ("h1", "h2", "h3", "h4")
    assert ask(
        inspection(), change_id=None, templates=[template], hosts=grown, inventory=grown
    ).allowed
    refused(
        ask(inspection(), change_id=None, templates=[template], hosts=grown),
        "no approved standard template covers read-only runbook 'daily-inspection'",
    )


def test_a_revoked_template_covers_nothing() -> None:
    template = with_state(approved(ChangeType.STANDARD), state=ChangeState.REVOKED)
    refused(ask(inspection(), template), "is revoked, not approved")
    refused(ask(inspection(), change_id=None), "no approved template lists this runbook")


def test_a_template_cron_window() -> None:
    nightly = replace(approved(ChangeType.STANDARD), cron=CronWindow("0 1 * * *", 4 * 3600))
    # NOW is 10:05 in Asia/Shanghai: outside 01:00-05:00
    refused(ask(inspection(), nightly), "outside the cron window")
    refused(ask(inspection(), nightly), "next opens 2026-12-01 01:00+0800")
    assert ask(inspection(), nightly, now=timedelta(hours=16)).allowed  # 02:00 next day


def test_freezes_do_not_stop_read_only_templates() -> None:
    assert ask(
        inspection(), approved(ChangeType.STANDARD), freezes=[freeze(start_hours=-1)]
    ).allowed


def test_unrecorded_read_only_only_where_switched_on() -> None:
    lab = replace(RULES, allow_unrecorded_readonly=True)
    refused(ask(inspection(), change_id=None), "no change id")
    decision = ask(inspection(), change_id=None, rules=lab)
    assert decision.allowed
    assert decision.policy.startswith("unrecorded read-only")
    refused(ask(book(), change_id=None, rules=lab), "changes its targets")


def test_scope_may_name_runbooks_by_path() -> None:
    record = approved(scope=Scope(("books/patch-web.yml",), "linux"))
    assert ask(book(), record).allowed


@pytest.mark.parametrize("phase", ["plan", "start", "batch 2"])
def test_request_phase(phase: str) -> None:
    run_id, batch = {"plan": (None, None), "start": ("r", None), "batch 2": ("r", 1)}[phase]
    assert GateRequest(book(), (), NOW, run_id=run_id, batch=batch).phase == phase
