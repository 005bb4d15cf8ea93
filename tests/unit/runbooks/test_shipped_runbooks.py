"""The shipped inspection runbooks: they validate against the example inventory, they are
read-only inspections, and the items they share stay identical (the daily inspection runs the
network inspection's device steps on critical devices, the weekly one the daily Linux steps)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orchestrator.inventory.loader import load_inventory
from orchestrator.runbook.loader import RunbookCatalog
from orchestrator.runbook.model import Runbook, RunbookKind, Step, StepKind
from tests.unit.runbooks.offline import ROOT, RUNBOOKS, shipped

INSPECTIONS = ["daily-inspection", "weekly-inspection", "network-inspection"]
FIXED = {">= 1", "< 1"}  # e.g. any unsaved line, no process running
THRESHOLD_VARS = ("_warn", "_crit", "_min", "_days", "_hours", "_mb")


def by_kind(runbook: Runbook, kind: StepKind) -> list[Step]:
    """The runbook's steps of one kind, without their line numbers (files differ in those)."""
    return [
        replace(step, line=None, checks=tuple(replace(c, line=None) for c in step.checks))
        for step in runbook.steps
        if step.kind is kind
    ]


@pytest.mark.parametrize("name", INSPECTIONS)
def test_validates_against_the_example_inventory(name: str) -> None:
    inventory = load_inventory(ROOT / "inventories" / "example" / "hosts.yml")
    known = {var for host in inventory for var in host.vars}
    runbook = RunbookCatalog(RUNBOOKS).load(name, known_vars=known)
    assert runbook.kind is RunbookKind.INSPECTION
    assert not runbook.mutates
    assert runbook.change.value == "standard"


@pytest.mark.parametrize("name", INSPECTIONS)
def test_every_check_has_a_hint_and_templated_thresholds(name: str) -> None:
    for step in shipped(name).steps:
        for check in step.checks:
            assert check.hint, (step.name, check.name)
            for threshold in (check.warn, check.crit):
                if threshold is not None and threshold.source.startswith((">", "<")):
                    # numeric thresholds are tunable per group/host, except "any"/"none"
                    assert "{{" in threshold.source or threshold.source in FIXED, (
                        step.name,
                        check.name,
                        threshold.source,
                    )


def test_daily_runs_the_network_inspection_steps_on_devices() -> None:
    daily, network = shipped("daily-inspection"), shipped("network-inspection")
    assert daily.targets == "critical"
    assert by_kind(daily, StepKind.CLI) == by_kind(network, StepKind.CLI)
    assert by_kind(network, StepKind.CLI)
    for name, value in network.vars.items():
        assert daily.vars[name] == value, name


def test_weekly_runs_the_daily_linux_steps_and_more() -> None:
    daily, weekly = shipped("daily-inspection"), shipped("weekly-inspection")
    assert weekly.targets == "linux"
    linux_daily = by_kind(daily, StepKind.COMMAND)
    assert by_kind(weekly, StepKind.COMMAND)[: len(linux_daily)] == linux_daily
    assert not by_kind(weekly, StepKind.CLI)
    for name, value in daily.vars.items():
        if name in weekly.vars:
            assert weekly.vars[name] == value, name
    network = shipped("network-inspection").vars
    shared = {"mem_warn", "mem_crit", "reboot_warn_days"}  # Linux hosts and devices
    assert (set(daily.vars) - set(network)) | shared <= set(weekly.vars)


def test_first_daily_steps_keep_their_places() -> None:
    # Other tests and `runs output RUN HOST 3` rely on step 3 being the filesystem table.
    names = [s.name for s in shipped("daily-inspection").steps]
    assert names[:3] == ["load average per CPU", "memory and swap use", "filesystem use"]


def test_docs_describe_every_check_and_var() -> None:
    text = (ROOT / "docs" / "inspections.md").read_text()
    for name in INSPECTIONS:
        runbook = shipped(name)
        assert f"`{name}`" in text
        for var in runbook.vars:
            assert f"`{var}`" in text, (name, var)
        for step in runbook.steps:
            for check in step.checks:
                # a loop's items are named "<check> <label>": documented as `check <label>`
                named = f"`{check.name}`" in text or f"`{check.name} <" in text
                assert named, (name, check.name)


def test_vars_with_threshold_names_are_numbers() -> None:
    for name in INSPECTIONS:
        for var, value in shipped(name).vars.items():
            if var.endswith(THRESHOLD_VARS):
                assert isinstance(value, int | float), (name, var, value)
