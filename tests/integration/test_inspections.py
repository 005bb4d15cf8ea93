"""The shipped inspections through the real CLI on the lab: every planted problem is graded
warning/critical with its measured value, every healthy host and device is all normal.

The planted states are in lab.json (hosts: lab/lab-layout.py + host-boot.sh; devices:
lab/device_model.py). Each run is covered by an approved standard change template, as in
production; each inspection runs once per module and the tests read its record.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import Lab
from tests.integration.test_lab import netmiko_device
from tests.integration.test_run_lab import (
    approve_template,
    hosts_by_name,
    orch,
    orch_env,
    run_json,
)

pytestmark = pytest.mark.lab

INSPECTIONS = ("daily-inspection", "weekly-inspection", "network-inspection")
# What each planted state must make non-normal: check name -> allowed grades.
HOST_FINDINGS: dict[str, dict[str, set[str]]] = {
    "full_disk": {"filesystem used /": {"critical"}},
    "service_stopped": {"process running cron": {"critical"}},
    "zombie_process": {"zombie processes": {"warning", "critical"}},
    "auth_failures": {"failed logins": {"warning", "critical"}},
    "security_update": {"security updates": {"warning"}},
}
WEEKLY_FINDINGS = {
    "listening port tcp/8080": {"warning"},
    "uid 0 account toor": {"critical"},
    "password expires svcbackup": {"warning", "critical"},
    "log file size /var/log/app/export.log": {"warning"},
}
DEVICE_FINDINGS = {"unsaved_config": {"unsaved configuration": {"warning"}}}
# Steps whose tool the lab hosts do not have (no systemd, no dnf, no SMART or md RAID).
ABSENT_TOOLS = {
    "failed systemd units",
    "security updates (dnf/yum)",
    "disk health (SMART)",
    "software RAID",
}


def checks_of(host: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for s in host["steps"] for c in s["checks"]}


def lab_var(lab: Lab, name: str) -> float:
    text = (lab.inventory.parent / "group_vars" / "linux.yml").read_text()
    found = re.search(rf"^{name}: (\S+)", text, re.MULTILINE)
    assert found, name
    return float(found.group(1))


def load_grade(value: float, lab: Lab) -> str:
    """The load is the whole machine's (one shared kernel, other jobs on it): a healthy host's
    item is normal only while that load is under the lab's thresholds, so grade it by them."""
    warn, crit = lab_var(lab, "load_warn"), lab_var(lab, "load_crit")
    return "critical" if value >= crit else "warning" if value >= warn else "normal"


def assert_all_normal(lab: Lab, host: dict[str, Any]) -> None:
    for name, check in checks_of(host).items():
        expected = load_grade(check["value"], lab) if name == "load per CPU" else "normal"
        assert check["grade"] == expected, (host["host"], check)
        assert check["value"] is not None, (host["host"], check)


def assert_findings(host: dict[str, Any], findings: dict[str, set[str]]) -> None:
    checks = checks_of(host)
    for name, grades in findings.items():
        assert name in checks, (host["host"], name, sorted(checks))
        check = checks[name]
        assert check["grade"] in grades, (host["host"], check)
        assert check["value"] is not None, (host["host"], check)
        assert check["message"], (host["host"], check)  # the remediation hint
    others = {n: c["grade"] for n, c in checks.items() if n not in findings and n != "load per CPU"}
    assert set(others.values()) <= {"normal"}, (host["host"], others)


def save_device_configs(lab: Lab) -> None:
    """Other tests change device configurations without saving: save the healthy devices', so
    "unsaved configuration" is the planted problem only (netmiko's own save command)."""
    from netmiko import ConnectHandler

    def save(dev: dict[str, Any]) -> None:
        with ConnectHandler(**netmiko_device(lab, dev, lab.known_hosts)) as conn:
            conn.enable()
            conn.save_config()

    healthy = [d for d in lab.devices if d.get("state", "healthy") == "healthy"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(save, healthy))


@pytest.fixture(scope="module")
def records(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    states = {h["state"] for h in lab.hosts} | {d.get("state") for d in lab.devices}
    missing = set(HOST_FINDINGS) | {"weekly_findings", "unsaved_config", "port_problems"}
    if missing - states:
        pytest.fail(f"the lab lacks planted states {sorted(missing - states)}: run lab/up.sh 12")
    data = tmp_path_factory.mktemp("inspections")
    env = orch_env(lab, data)
    for name in INSPECTIONS:  # an approved standard change template covers each
        approve_template(env, name)
    save_device_configs(lab)
    out: dict[str, Any] = {}
    for name in INSPECTIONS:
        proc = orch(env, "run", name, timeout=300)
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        out[name] = {"exit": proc.returncode, "stdout": proc.stdout, **run_json(env)}
    return out


def test_daily_inspection_grades_every_planted_problem(lab: Lab, records: dict[str, Any]) -> None:
    record = records["daily-inspection"]
    assert record["exit"] == 1  # the unreachable host fails the run, as data
    assert record["gate"]["policy"] == "standard template"
    hosts = hosts_by_name(record)
    critical = {x["name"] for x in lab.hosts + lab.devices if x["criticality"] == "critical"}
    assert set(hosts) == critical
    for host in lab.hosts:
        if host["name"] not in hosts:
            continue
        got = hosts[host["name"]]
        if host["state"] == "unreachable":
            assert got["status"] == "unreachable"
            assert "refused" in got["error"].lower()
            continue
        assert got["status"] == "ok", got
        if host["state"] in HOST_FINDINGS:
            assert_findings(got, HOST_FINDINGS[host["state"]])
        elif host["state"] == "healthy":
            assert_all_normal(lab, got)
    full = checks_of(hosts["h3"])["filesystem used /"]
    assert full["value"] >= 90
    assert full["threshold"] == ">= 90"
    assert checks_of(hosts["h4"])["process running cron"]["value"] == 0
    zombies = [h for h in lab.hosts if h["state"] == "zombie_process"]
    assert checks_of(hosts[zombies[0]["name"]])["zombie processes"]["value"] >= 3
    failed = [h for h in lab.hosts if h["state"] == "auth_failures"]
    assert checks_of(hosts[failed[0]["name"]])["failed logins"]["value"] >= 10


def test_daily_inspection_grades_critical_devices(lab: Lab, records: dict[str, Any]) -> None:
    hosts = hosts_by_name(records["daily-inspection"])
    devices = [d for d in lab.devices if d["criticality"] == "critical"]
    assert {d.get("state") for d in devices} >= {"healthy", "unsaved_config"}
    for dev in devices:
        got = hosts[dev["name"]]
        assert got["status"] == "ok", got
        if dev["state"] == "healthy":
            assert_all_normal(lab, got)
        else:
            assert_findings(got, DEVICE_FINDINGS[dev["state"]])
            assert checks_of(got)["unsaved configuration"]["value"] >= 1
    # Linux steps are skipped on devices and device steps on Linux hosts, never failed.
    for got in hosts.values():
        if got["status"] != "unreachable":
            assert {s["status"] for s in got["steps"]} <= {"ok", "skipped"}, got["host"]


def test_weekly_inspection_adds_the_weekly_items(lab: Lab, records: dict[str, Any]) -> None:
    record = records["weekly-inspection"]
    hosts = hosts_by_name(record)
    assert set(hosts) == {h["name"] for h in lab.hosts}
    for host in lab.hosts:
        got = hosts[host["name"]]
        if host["state"] == "unreachable":
            assert got["status"] == "unreachable"
            continue
        skipped = {s["name"] for s in got["steps"] if s["status"] == "skipped"}
        assert skipped == ABSENT_TOOLS, (host["name"], skipped)
        if host["state"] == "weekly_findings":
            assert_findings(got, WEEKLY_FINDINGS)
        elif host["state"] in HOST_FINDINGS:
            assert_findings(got, HOST_FINDINGS[host["state"]])
        else:
            assert_all_normal(lab, got)
            assert checks_of(got)["listening port tcp/22"]["value"] == "allowed"
    findings = checks_of(
        hosts[next(h["name"] for h in lab.hosts if h["state"] == "weekly_findings")]
    )
    assert findings["password expires svcbackup"]["value"] <= 5
    assert findings["log file size /var/log/app/export.log"]["value"] >= 1200
    assert findings["uid 0 account toor"]["value"] == "unexpected"


def test_network_inspection_on_every_platform(lab: Lab, records: dict[str, Any]) -> None:
    record = records["network-inspection"]
    assert record["exit"] == 0
    hosts = hosts_by_name(record)
    assert set(hosts) == {d["name"] for d in lab.devices}
    assert {d["platform"] for d in lab.devices} >= {
        "cisco_ios",
        "arista_eos",
        "huawei",
        "hp_comware",
    }
    for dev in lab.devices:
        got = hosts[dev["name"]]
        assert got["status"] == "ok", got
        checks = checks_of(got)
        # Real parsed values on every platform, not just grades.
        assert 0 < checks["cpu used"]["value"] < 100, dev
        assert 0 < checks["memory used"]["value"] < 100, dev
        uptime = next(c for n, c in checks.items() if n.startswith("uptime version "))
        assert uptime["value"] > 1
        assert checks["ntp servers"]["value"] >= 1
        assert checks["log servers"]["value"] >= 1
        states = [c["value"] for n, c in checks.items() if n.startswith("interface state ")]
        assert states.count("up") >= 4, (dev, states)
        if dev["state"] == "healthy":
            assert_all_normal(lab, got)
        elif dev["state"] == "unsaved_config":
            assert_findings(got, DEVICE_FINDINGS["unsaved_config"])
            assert checks["unsaved configuration"]["value"] == 2
        elif dev["state"] == "port_problems":
            down = [n for n, c in checks.items() if c["value"] == "down"]
            errors = [
                c for n, c in checks.items() if n.startswith("interface errors ") and c["value"]
            ]
            assert len(down) == 1
            assert checks[down[0]]["grade"] == "warning"
            assert [(c["value"], c["grade"]) for c in errors] == [(1532, "critical")]


def test_run_summaries_count_the_findings(lab: Lab, records: dict[str, Any]) -> None:
    for name in INSPECTIONS:
        grades = records[name]["summary"]["grades"]
        assert grades["unknown"] == 0, name
        assert grades["warning"] + grades["critical"] >= 1, name
        assert grades["normal"] > 10 * (grades["warning"] + grades["critical"]), name
    daily = records["daily-inspection"]
    assert "filesystem used /=" in daily["stdout"]
    assert "unsaved configuration=" in daily["stdout"]
