"""Loaded runbook → parse a captured output → grade its checks, as the engine chains them."""

from __future__ import annotations

from pathlib import Path

from orchestrator.runbook.checks import grade_checks
from orchestrator.runbook.loader import load_runbook
from orchestrator.runbook.model import Grade
from orchestrator.runbook.parse import parse_output
from orchestrator.runbook.template import evaluate, render

DATA = Path(__file__).parents[2] / "data" / "runbooks"


def test_filesystem_step_grades_a_captured_df_per_mount_with_host_tuned_threshold() -> None:
    book = load_runbook(DATA / "valid" / "disk-check.yml", known_vars={"extra_mount"})
    step = book.steps[1]
    host_vars = {"disk_warn": 60, "extra_mount": "/srv/my data"}  # inventory overrides vars
    merged = {**book.vars, **host_vars}
    context = {
        **merged,
        "vars": merged,
        "host": {"name": "db01", "kind": "linux"},
        "rootfs": {"rc": 0},
    }
    assert evaluate(step.when or "true", context) is True
    assert render(str(step.action), context, shell_quote=not step.raw) == (
        "df -P / /var '/srv/my data'"
    )
    assert step.parse is not None
    stdout = (DATA / "outputs" / "linux_df_P.txt").read_text()
    parsed = parse_output(step.parse, stdout, base_dir=DATA / "valid")
    results = grade_checks(
        step.checks,
        {**context, "stdout": stdout, "stderr": "", "rc": 0, "parsed": parsed, "status": "ok"},
    )
    assert [(r.name, r.grade, r.value, r.threshold) for r in results] == [
        ("fs use /", Grade.WARNING, 85, ">= 60"),
        ("fs use /boot/efi", Grade.NORMAL, 2, "warn >= 60, crit >= 95"),
        ("fs use /var", Grade.CRITICAL, 100, ">= 95"),
        ("fs use /srv/data", Grade.WARNING, 63, ">= 60"),
        ("fs count", Grade.NORMAL, 4, "crit < 1"),
    ]


def test_textfsm_step_grades_kernel_major_version() -> None:
    book = load_runbook(DATA / "valid" / "disk-check.yml")
    step = book.steps[2]
    assert step.parse is not None
    stdout = (DATA / "outputs" / "linux_uname_r.txt").read_text()
    parsed = parse_output(step.parse, stdout)
    assert parsed == [{"major": "5", "minor": "15", "flavour": "generic"}]
    (result,) = grade_checks(step.checks, {"parsed": parsed, "stdout": stdout})
    assert (result.name, result.grade, result.value) == ("kernel", Grade.NORMAL, 5)
    (old,) = grade_checks(step.checks, {"parsed": [{"major": "3"}], "stdout": ""})
    assert old.grade is Grade.CRITICAL


def test_network_step_grades_ntc_parsed_show_version() -> None:
    book = load_runbook(DATA / "valid" / "network-backup.yml")
    step = book.steps[0]
    assert step.parse is not None
    stdout = (DATA / "outputs" / "cisco_ios_show_version.txt").read_text()
    parsed = parse_output(step.parse, stdout, platform="cisco_ios", command=str(step.action))
    (result,) = grade_checks(step.checks, {"parsed": parsed, "stdout": stdout})
    assert (result.grade, result.value, result.message) == (
        Grade.WARNING,
        "0x0",
        "set config-register 0x2102",
    )
