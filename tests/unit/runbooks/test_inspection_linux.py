"""The daily and weekly inspections' parsing and grading on Linux output captured from the lab
hosts (one per planted state), and on outputs of tools the lab does not have (SMART, RAID,
systemd, dnf): the engine's StepRunner over a replayed connection."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.engine.results import Status
from orchestrator.inventory.model import Host
from orchestrator.runbook.model import Grade
from tests.unit.runbooks.offline import (
    Outcome,
    captured_clock,
    lab_group_vars,
    linux_answers,
    run_offline,
    shipped,
)

# What each planted lab state must make non-normal (lab/lab-layout.py, lab/host-boot.sh).
PLANTED = {
    "healthy": {},
    "full_disk": {"filesystem used /": Grade.CRITICAL},
    "service_stopped": {"process running cron": Grade.CRITICAL},
    "zombie_process": {"zombie processes": Grade.WARNING},
    "auth_failures": {"failed logins": Grade.WARNING},
    "security_update": {"security updates": Grade.WARNING},
    "weekly_findings": {
        "listening port tcp/8080": Grade.WARNING,
        "uid 0 account toor": Grade.CRITICAL,
        "password expires svcbackup": Grade.WARNING,
        "log file size /var/log/app/export.log": Grade.WARNING,
    },
}
WEEKLY_ONLY = ("listening port", "uid 0 account", "password expires", "log file size", "kernel")


def lab_host(**extra: Any) -> Host:
    return Host("h1", {**lab_group_vars("linux"), **extra})


def inspect(
    state: str, runbook: str = "weekly-inspection", host: Host | None = None, **overrides: str
) -> Outcome:
    return run_offline(
        shipped(runbook),
        host or lab_host(),
        linux_answers(state, overrides),
        now=captured_clock(state),
    )


def not_normal(outcome: Outcome) -> dict[str, Grade]:
    return {c.name: c.grade for c in outcome.checks.values() if c.grade is not Grade.NORMAL}


@pytest.mark.parametrize("state", sorted(PLANTED))
def test_each_planted_state_grades_exactly_its_problems(state: str) -> None:
    outcome = inspect(state)
    assert not_normal(outcome) == PLANTED[state]
    for name in PLANTED[state]:
        check = outcome.checks[name]
        assert check.value is not None, name
        assert check.message, name  # the remediation hint comes with the grade


def test_planted_values_are_the_measured_ones() -> None:
    assert inspect("full_disk").checks["filesystem used /"].value >= 90
    assert inspect("service_stopped").checks["process running cron"].value == 0
    assert inspect("zombie_process").checks["zombie processes"].value == 3
    assert inspect("auth_failures").checks["failed logins"].value >= 12
    assert inspect("security_update").checks["security updates"].value == 1
    weekly = inspect("weekly_findings").checks
    assert weekly["password expires svcbackup"].value == 5
    assert weekly["password expires root"].value == 99999
    assert weekly["log file size /var/log/app/export.log"].value == 1200
    assert weekly["listening port tcp/22"].value == "allowed"


def test_daily_inspection_has_no_weekly_items() -> None:
    outcome = inspect("weekly_findings", runbook="daily-inspection")
    assert not_normal(outcome) == {}
    assert not any(name.startswith(WEEKLY_ONLY) for name in outcome.checks)
    assert (
        inspect("zombie_process", runbook="daily-inspection").checks["zombie processes"].grade
        is Grade.WARNING
    )


def test_steps_for_absent_tools_are_skipped_not_failed() -> None:
    outcome = inspect("healthy")
    skipped = {n for n, s in outcome.steps.items() if s.status is Status.SKIPPED}
    assert skipped == {
        "failed systemd units",
        "security updates (dnf/yum)",
        "disk health (SMART)",
        "software RAID",
    }
    assert all(s.status is Status.OK for n, s in outcome.steps.items() if n not in skipped)


def test_lab_tuning_is_what_keeps_healthy_lab_hosts_normal() -> None:
    # Runbook defaults on a lab host: the machine booted recently (the kernel's uptime is shared)
    # and the repo bind mount is graded; the lab's group_vars say why they differ.
    outcome = inspect("healthy", host=Host("h1", {}))
    assert outcome.checks["uptime"].grade is Grade.WARNING
    assert "filesystem used /srv/labrepo" in outcome.checks
    assert "filesystem used /srv/labrepo" not in inspect("healthy").checks


MDSTAT = """Personalities : [raid1] [raid6] [raid5] [raid4]
md0 : active raid1 sdb1[1] sda1[0]
      1046528 blocks super 1.2 [2/2] [UU]

md1 : active raid5 sdd1[3](F) sdc1[1] sde1[0]
      2093056 blocks super 1.2 level 5, 512k chunk, algorithm 2 [3/2] [UU_]

unused devices: <none>
"""


def test_smart_raid_systemd_and_dnf_where_the_tools_exist() -> None:
    outcome = inspect(
        "healthy",
        **{
            "tools": "systemctl\nlastb\ndnf\nss\nsmartctl\nsystemd\nmd-raid\n",
            "failed systemd units": "2\n",
            "security updates (dnf/yum)": "4\n",
            "disk health (SMART)": "/dev/sda PASSED\n/dev/sdb FAILED!\n/dev/sdc OK\n/dev/nvme0 \n",
            "software RAID": MDSTAT,
        },
    )
    checks = outcome.checks
    assert (checks["failed units"].grade, checks["failed units"].value) == (Grade.WARNING, 2)
    assert checks["security updates"].value == 4
    smart = {name: c.value for name, c in checks.items() if name.startswith("disk health ")}
    assert smart == {
        "disk health /dev/sda": "ok",
        "disk health /dev/sdb": "FAILED!",
        "disk health /dev/sdc": "ok",
        "disk health /dev/nvme0": "no answer",
    }
    assert checks["disk health /dev/sdb"].grade is Grade.CRITICAL
    assert (checks["raid array md0"].grade, checks["raid array md0"].value) == (Grade.NORMAL, "ok")
    assert (checks["raid array md1"].grade, checks["raid array md1"].value) == (
        Grade.CRITICAL,
        "degraded",
    )


def test_newer_installed_kernel_is_a_pending_reboot() -> None:
    checks = inspect("healthy", kernel="running=6.1.0-17-amd64 newest=6.1.0-18-amd64\n").checks
    kernel = checks["kernel 6.1.0-17-amd64"]
    assert (kernel.grade, kernel.value) == (Grade.WARNING, "older than installed 6.1.0-18-amd64")


def test_allow_lists_come_from_inventory_vars() -> None:
    host = lab_host(allowed_tcp_ports=[22, 8080], uid0_allowed=["root", "toor"])
    assert not_normal(inspect("weekly_findings", host=host)) == {
        "password expires svcbackup": Grade.WARNING,
        "log file size /var/log/app/export.log": Grade.WARNING,
    }


def test_unreadable_source_is_unknown_not_normal() -> None:
    # Not root: lastb cannot read btmp and the step prints nothing.
    checks = inspect("healthy", **{"failed logins": ""}).checks
    assert checks["failed logins"].grade is Grade.UNKNOWN
