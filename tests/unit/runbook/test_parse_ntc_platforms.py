"""ntc-templates by netmiko platform name: netmiko says `huawei`, ntc-templates `huawei_vrp`."""

from __future__ import annotations

from pathlib import Path

from orchestrator.runbook.model import ParseKind, ParseSpec
from orchestrator.runbook.parse import parse_output

HUAWEI = Path(__file__).resolve().parents[2] / "data" / "inspections" / "devices" / "huawei"


def test_huawei_display_version_via_netmiko_platform_name() -> None:
    output = (HUAWEI / "healthy" / "display_version.txt").read_text()
    rows = parse_output(
        ParseSpec(ParseKind.TEXTFSM, ntc=True), output, platform="huawei", command="display version"
    )
    assert rows[0]["vrp_version"] == "5.170"
    assert "S5720" in rows[0]["model"]


def test_huawei_interface_brief_rows() -> None:
    output = (HUAWEI / "port_problems" / "display_interface_brief.txt").read_text()
    rows = parse_output(
        ParseSpec(ParseKind.TEXTFSM, ntc=True),
        output,
        platform="huawei",
        command="display interface brief",
    )
    assert rows
    assert {"interface", "phy", "protocol", "inerrors"} <= set(rows[0])
