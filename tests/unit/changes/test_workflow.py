"""People acting on records: who may do what, what must be written, freezes at submit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from orchestrator.changes import workflow
from orchestrator.changes.model import (
    ChangeRefused,
    ChangeState,
    ChangeType,
    CronWindow,
    Risk,
    Scope,
    Window,
)
from orchestrator.changes.rules import ChangeRules
from orchestrator.changes.workflow import ChangeInputError
from tests.unit.changes.builders import (
    NOW,
    RULES,
    approved,
    book,
    draft,
    freeze,
    inspection,
    plan_for,
    submitted,
)

CID = "CHG-20261130-001"


def test_create_needs_a_requester_role() -> None:
    with pytest.raises(ChangeRefused, match="audrey may not request changes"):
        workflow.create(CID, draft(), "audrey", NOW, RULES)
    with pytest.raises(ChangeRefused, match="mallory has no role"):
        workflow.create(CID, draft(), "mallory", NOW, RULES)


def test_create_reports_every_missing_field() -> None:
    bad = draft(title=" ", scope=Scope((), ""), window=None, emergency_reason="because")
    with pytest.raises(ChangeInputError) as info:
        workflow.create(CID, bad, "alice", NOW, RULES)
    fields = {p.field for p in info.value.problems}
    assert fields == {"title", "runbook", "targets", "window", "reason"}
    assert all(p.hint for p in info.value.problems)


def test_templates_take_a_cron_window_not_a_one_off_one() -> None:
    window = Window(NOW, NOW + timedelta(hours=1))
    with pytest.raises(ChangeInputError, match="one-off window"):
        workflow.create(CID, draft(ChangeType.STANDARD, window=window), "alice", NOW, RULES)
    bad_cron = draft(ChangeType.STANDARD, cron=CronWindow("61 * * * *", 3600))
    with pytest.raises(ChangeInputError, match="cron minute field"):
        workflow.create(CID, bad_cron, "alice", NOW, RULES)
    ok = workflow.create(
        CID, draft(ChangeType.STANDARD, cron=CronWindow("0 1 * * *", 3600)), "alice", NOW, RULES
    )
    assert ok.state is ChangeState.DRAFT
    assert ok.requester == "alice"


def test_submit_attaches_the_plan_and_only_the_requester_submits() -> None:
    record = workflow.create(CID, draft(), "alice", NOW, RULES)
    with pytest.raises(ChangeRefused, match="only the requester"):
        workflow.submit(record, "dave", NOW, RULES, plan_for(book()), ())
    done = workflow.submit(record, "alice", NOW, RULES, plan_for(book()), ())
    assert done.state is ChangeState.SUBMITTED
    assert done.hosts == ("h1", "h2", "h3")


def test_submit_needs_the_plans_a_change_manager_reads() -> None:
    record = workflow.create(
        CID, draft(impact="", rollback="", verification=""), "alice", NOW, RULES
    )
    with pytest.raises(ChangeInputError) as info:
        workflow.submit(record, "alice", NOW, RULES, plan_for(book()), ())
    assert {p.field for p in info.value.problems} == {"impact", "rollback", "verification"}
    # a read-only runbook needs no rollback plan
    with pytest.raises(ChangeInputError) as info:
        workflow.submit(record, "alice", NOW, RULES, plan_for(inspection()), ())
    assert {p.field for p in info.value.problems} == {"impact", "verification"}


def test_submit_refuses_a_window_that_has_ended() -> None:
    record = workflow.create(CID, draft(), "alice", NOW, RULES)
    with pytest.raises(ChangeInputError, match="already ended"):
        workflow.submit(record, "alice", NOW + timedelta(hours=3), RULES, plan_for(book()), ())


def test_a_normal_change_overlapping_a_freeze_is_refused_at_submit() -> None:
    with pytest.raises(ChangeRefused, match="overlaps freeze 'year-end'"):
        submitted(freezes=(freeze(start_hours=1),))
    assert submitted(freezes=(freeze(start_hours=2),)).state is ChangeState.SUBMITTED


def test_an_emergency_change_in_a_freeze_needs_a_reason() -> None:
    with pytest.raises(ChangeRefused, match="only with a recorded reason"):
        submitted(ChangeType.EMERGENCY, freezes=(freeze(start_hours=1),))
    record = submitted(
        ChangeType.EMERGENCY, freezes=(freeze(start_hours=1),), emergency_reason="CVE exploited"
    )
    assert record.state is ChangeState.SUBMITTED


def test_a_template_covers_read_only_runbooks_only() -> None:
    with pytest.raises(ChangeRefused, match="read-only runbooks only"):
        submitted(ChangeType.STANDARD, runbooks=(book(),))


@pytest.mark.parametrize(("risk", "needed"), [(Risk.LOW, 1), (Risk.MEDIUM, 1), (Risk.HIGH, 2)])
def test_approvals_needed_by_risk(risk: Risk, needed: int) -> None:
    record = submitted(risk=risk)
    once = workflow.approve(record, "bob", NOW, RULES, "ok")
    assert once.state is (ChangeState.APPROVED if needed == 1 else ChangeState.SUBMITTED)
    assert [a.by for a in once.approvals] == ["bob"]
    if needed == 2:
        twice = workflow.approve(once, "carol", NOW, RULES)
        assert twice.state is ChangeState.APPROVED


def test_approvals_needed_are_configurable_and_emergency_needs_one() -> None:
    strict = replace(RULES, approvals={Risk.LOW: 2, Risk.MEDIUM: 2, Risk.HIGH: 3})
    record = submitted(risk=Risk.LOW)
    assert workflow.approve(record, "bob", NOW, strict).state is ChangeState.SUBMITTED
    emergency = submitted(ChangeType.EMERGENCY, risk=Risk.HIGH)
    assert workflow.approve(emergency, "bob", NOW, strict).state is ChangeState.APPROVED


def test_only_change_managers_approve() -> None:
    with pytest.raises(ChangeRefused, match="needs the change-manager role"):
        workflow.approve(submitted(), "dave", NOW, RULES)
    with pytest.raises(ChangeRefused, match="needs the change-manager role"):
        workflow.approve(submitted(), "root", NOW, RULES)


def test_the_requester_never_approves_their_own_change() -> None:
    record = workflow.create(CID, draft(), "erin", NOW, RULES)  # erin: operator + manager
    record = workflow.submit(record, "erin", NOW, RULES, plan_for(book()), ())
    with pytest.raises(ChangeRefused, match="requester ≠ approver"):
        workflow.approve(record, "erin", NOW, RULES)


def test_one_person_counts_once() -> None:
    once = workflow.approve(submitted(risk=Risk.HIGH), "bob", NOW, RULES)
    with pytest.raises(ChangeRefused, match="already decided"):
        workflow.approve(once, "bob", NOW, RULES)


def test_only_submitted_changes_are_decided() -> None:
    with pytest.raises(ChangeRefused, match="only submitted changes"):
        workflow.approve(approved(), "carol", NOW, RULES)


def test_reject_needs_a_reason_and_is_final() -> None:
    with pytest.raises(ChangeInputError, match="say why"):
        workflow.reject(submitted(), "bob", NOW, RULES, " ")
    rejected = workflow.reject(submitted(), "bob", NOW, RULES, "window too short")
    assert rejected.state is ChangeState.REJECTED
    with pytest.raises(ChangeRefused, match="final"):
        workflow.cancel(rejected, "alice", NOW, RULES)


def test_cancel_by_requester_or_manager_before_it_starts() -> None:
    assert workflow.cancel(approved(), "alice", NOW, RULES).state is ChangeState.CANCELLED
    assert workflow.cancel(approved(), "bob", NOW, RULES).state is ChangeState.CANCELLED
    with pytest.raises(ChangeRefused, match="dave may not cancel"):
        workflow.cancel(approved(), "dave", NOW, RULES)
    running = workflow.start(approved(), "run-1", NOW)
    with pytest.raises(ChangeRefused, match="in_progress; it cannot become cancelled"):
        workflow.cancel(running, "alice", NOW, RULES)


def test_templates_are_revoked_not_cancelled() -> None:
    template = approved(ChangeType.STANDARD)
    with pytest.raises(ChangeRefused, match="allowed from approved: revoked"):
        workflow.cancel(template, "alice", NOW, RULES)
    with pytest.raises(ChangeRefused, match="not a standard template"):
        workflow.revoke(approved(), "bob", NOW, RULES, "")
    assert workflow.revoke(template, "bob", NOW, RULES, "retired").state is ChangeState.REVOKED


def test_a_run_moves_the_change_and_records_its_outcome() -> None:
    running = workflow.start(approved(), "run-1", NOW)
    assert (running.state, running.run_id) == (ChangeState.IN_PROGRESS, "run-1")
    failed = workflow.finish(running, ChangeState.FAILED, "window closed", NOW)
    assert (failed.state, failed.outcome) == (ChangeState.FAILED, "window closed")


def test_an_emergency_change_closes_only_after_its_review() -> None:
    done = workflow.finish(
        workflow.start(approved(ChangeType.EMERGENCY), "r", NOW), ChangeState.COMPLETED, "", NOW
    )
    with pytest.raises(ChangeRefused, match="post-implementation review"):
        workflow.close(done, "alice", NOW, RULES)
    with pytest.raises(ChangeRefused, match="alice may not review"):
        workflow.review(done, "alice", NOW, RULES, "fine")
    reviewed = workflow.review(done, "bob", NOW, RULES, "root cause fixed; no side effects")
    assert reviewed.reviewed_by == "bob"
    assert workflow.close(reviewed, "alice", NOW, RULES).state is ChangeState.CLOSED


def test_review_waits_for_the_run() -> None:
    with pytest.raises(ChangeRefused, match="once its run ended"):
        workflow.review(approved(), "bob", NOW, RULES, "too early")


def test_amend_only_drafts_only_by_the_requester() -> None:
    record = workflow.create(CID, draft(), "alice", NOW, RULES)
    amended = workflow.amend(record, "alice", NOW, draft(title="upgrade web (phase 1)"))
    assert amended.title == "upgrade web (phase 1)"
    with pytest.raises(ChangeRefused, match="only the requester edits"):
        workflow.amend(record, "dave", NOW, draft())
    with pytest.raises(ChangeRefused, match="only while it is a draft"):
        workflow.amend(submitted(), "alice", NOW, draft())


def test_rules_without_roles_let_nobody_act() -> None:
    with pytest.raises(ChangeRefused, match="alice has no role"):
        workflow.create(CID, draft(), "alice", NOW, ChangeRules())
