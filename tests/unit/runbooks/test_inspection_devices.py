"""The network inspection's parsing and grading, per platform, on the fake devices' captured
outputs (healthy, port_problems, unsaved_config): the engine's StepRunner, no connection."""

from __future__ import annotations

import pytest

from orchestrator.engine.results import Status
from orchestrator.inventory.model import Host
from orchestrator.runbook.model import Grade
from tests.unit.runbooks.offline import device_answers, run_offline, shipped

PLATFORMS = ["cisco_ios", "arista_eos", "huawei", "hp_comware"]
# The ports device_model.py plants problems on: the second one down, errors on the third.
DOWN_PORT = {
    "cisco_ios": "GigabitEthernet1/0/2",
    "arista_eos": "Ethernet2",
    "huawei": "GigabitEthernet0/0/2",
    "hp_comware": "GE1/0/2",
}
ERRORS_PORT = {
    "cisco_ios": "GigabitEthernet1/0/3",
    "arista_eos": "Et3",
    "huawei": "GigabitEthernet0/0/3",
    "hp_comware": "GE1/0/3",
}


def device(platform: str) -> Host:
    return Host("dut", {"kind": "network", "platform": platform})


def inspect(platform: str, state: str, runbook: str = "network-inspection"):  # type: ignore[no-untyped-def]
    return run_offline(shipped(runbook), device(platform), device_answers(platform, state))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_healthy_device_is_all_normal_with_measured_values(platform: str) -> None:
    outcome = inspect(platform, "healthy")
    for name, step in outcome.steps.items():
        assert step.status in (Status.OK, Status.SKIPPED), (name, step.error)
    checks = outcome.checks
    assert {c.grade for c in checks.values()} == {Grade.NORMAL}, [
        (c.name, c.grade, c.message) for c in checks.values() if c.grade is not Grade.NORMAL
    ]
    assert 0 < checks["cpu used"].value < 50
    assert 20 < checks["memory used"].value < 60
    assert checks["ntp servers"].value >= 1
    assert checks["log servers"].value >= 1
    assert checks["unsaved configuration"].value == 0
    (uptime,) = [c for c in checks.values() if c.name.startswith("uptime version ")]
    assert uptime.value > 7
    assert uptime.unit == "days"
    states = {c.name: c.value for c in checks.values() if c.name.startswith("interface state ")}
    assert list(states.values()).count("up") >= 4
    assert "admin down" in states.values()
    errors = [c.value for c in checks.values() if c.name.startswith("interface errors ")]
    assert errors
    assert set(errors) == {0}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_platform_steps_run_only_on_their_platform(platform: str) -> None:
    outcome = inspect(platform, "healthy")
    for name in outcome.ran():
        assert "(" not in name or name.endswith(f"({platform})"), name
    assert "device version" in outcome.ran()
    assert "saved configuration" in outcome.ran()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_down_port_and_errors_are_graded_with_values(platform: str) -> None:
    checks = inspect(platform, "port_problems").checks
    down = checks[f"interface state {DOWN_PORT[platform]}"]
    assert (down.grade, down.value) == (Grade.WARNING, "down")
    assert "cable" in down.message
    errors = checks[f"interface errors {ERRORS_PORT[platform]}"]
    assert (errors.grade, errors.value, errors.threshold) == (Grade.CRITICAL, 1532, ">= 1000")
    bad = {c.name for c in checks.values() if c.grade is not Grade.NORMAL}
    assert bad == {down.name, errors.name}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_unsaved_configuration_is_a_warning_with_the_line_count(platform: str) -> None:
    checks = inspect(platform, "unsaved_config").checks
    unsaved = checks["unsaved configuration"]
    assert (unsaved.grade, unsaved.value, unsaved.unit) == (Grade.WARNING, 2, "lines")
    assert "save" in unsaved.message
    assert {c.name for c in checks.values() if c.grade is not Grade.NORMAL} == {unsaved.name}


def test_thresholds_follow_inventory_vars() -> None:
    runbook = shipped("network-inspection")
    host = Host(
        "dut",
        {"kind": "network", "platform": "hp_comware", "if_errors_crit": 5000, "cpu_warn": 1},
    )
    checks = run_offline(runbook, host, device_answers("hp_comware", "port_problems")).checks
    assert checks["interface errors GE1/0/3"].grade is Grade.WARNING
    assert checks["cpu used"].grade is Grade.WARNING
    ignored = Host("dut", {**host.vars, "ignore_interfaces": ["GE1/0/2"]})
    checks = run_offline(runbook, ignored, device_answers("hp_comware", "port_problems")).checks
    assert checks["interface state GE1/0/2"].value == "ignored"
    assert checks["interface state GE1/0/2"].grade is Grade.NORMAL


def test_order_only_difference_counts_as_unsaved() -> None:
    runbook = shipped("network-inspection")
    captured = device_answers("huawei", "healthy")

    def answer(command: str, step):  # type: ignore[no-untyped-def]
        text = captured(command, step)
        if command == "display saved-configuration":
            lines = text.splitlines()
            i, j = (
                lines.index(" info-center loghost 192.0.2.20"),
                lines.index(" ntp-service unicast-server 192.0.2.123"),
            )
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        return text

    checks = run_offline(runbook, device("huawei"), answer).checks
    assert checks["unsaved configuration"].value == 1


def test_device_error_reply_fails_the_step_and_leaves_items_unknown() -> None:
    runbook = shipped("network-inspection")
    captured = device_answers("cisco_ios", "healthy")

    def answer(command: str, step):  # type: ignore[no-untyped-def]
        if command == "show processes cpu":
            return "% Invalid input detected at '^' marker.\n"
        return captured(command, step)

    outcome = run_offline(runbook, device("cisco_ios"), answer)
    assert outcome.steps["cpu (cisco_ios)"].status is Status.FAILED
    assert outcome.checks["cpu used"].grade is Grade.UNKNOWN


def test_unknown_platform_fails_the_shared_steps_instead_of_passing_silently() -> None:
    outcome = run_offline(
        shipped("network-inspection"), device("juniper_junos"), lambda command, step: ""
    )
    assert outcome.steps["device version"].status is Status.FAILED
    assert "juniper_junos" in outcome.steps["device version"].error
    assert not outcome.commands
