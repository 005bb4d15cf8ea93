"""Restore plans: the commands that bring a running config back to a backup (a dry run)."""

from __future__ import annotations

from pathlib import Path

from orchestrator.backups.restore_plan import parse_tree, restore_plan

DATA = Path(__file__).resolve().parents[2] / "data" / "backups"

IOS_BACKUP = """\
Building configuration...
!
hostname sw1
!
interface GigabitEthernet0/1
 description uplink
 shutdown
!
interface Loopback0
 ip address 10.0.0.1 255.255.255.255
!
snmp-server community oldcomm RO
ntp server 10.0.0.5
end
"""

IOS_NOW = """\
!
hostname sw1
!
interface GigabitEthernet0/1
 description uplink to core
!
interface Loopback0
 ip address 10.0.0.1 255.255.255.255
!
interface Loopback99
 description test
!
snmp-server community newcomm RO
ntp server 10.0.0.5
end
"""


def test_tree_nests_indented_lines_and_drops_comments_and_noise() -> None:
    tree = parse_tree(IOS_BACKUP)
    assert [n.line for n in tree] == [
        "hostname sw1",
        "interface GigabitEthernet0/1",
        "interface Loopback0",
        "snmp-server community oldcomm RO",
        "ntp server 10.0.0.5",
    ]
    assert [c.line for c in tree[1].children] == ["description uplink", "shutdown"]


def test_cisco_plan_negates_what_is_new_and_readds_what_is_gone_in_context() -> None:
    plan = restore_plan("cisco_ios", IOS_NOW, IOS_BACKUP)
    assert plan.commands[0] == "configure terminal"
    assert plan.commands[-1] == "end"
    body = list(plan.commands[1:-1])
    assert "no interface Loopback99" in body
    # A section in both: its children are compared inside it, then the section is left.
    start = body.index("interface GigabitEthernet0/1")
    assert body[start : start + 4] == [
        "interface GigabitEthernet0/1",
        " no description uplink to core",
        " description uplink",
        " shutdown",
    ]
    assert body[start + 4] == "exit"
    assert (plan.removed, plan.added) == (4, 3)
    assert not plan.in_sync


def test_secrets_are_masked_in_the_plan() -> None:
    plan = restore_plan("cisco_ios", IOS_NOW, IOS_BACKUP)
    text = "\n".join(plan.commands)
    assert "oldcomm" not in text
    assert "newcomm" not in text
    assert "snmp-server community <secret:snmp-community> RO" in text
    assert "no snmp-server community <secret:snmp-community> RO" in text


def test_identical_configs_need_no_plan() -> None:
    plan = restore_plan(
        "arista_eos", IOS_BACKUP, IOS_BACKUP.replace("Building configuration...\n", "")
    )
    assert plan.in_sync
    assert plan.commands == ()


def test_vrp_plan_uses_undo_and_system_view() -> None:
    backup = "#\n sysname sw4\n#\ninterface LoopBack1\n description a\n#\nreturn\n"
    now = (
        "#\n sysname sw4\n#\ninterface LoopBack1\n description b\n#\n"
        " ntp-service unicast-server 1.2.3.4\n#\nreturn\n"
    )
    plan = restore_plan("huawei", now, backup)
    assert plan.commands[0] == "system-view"
    assert plan.commands[-1] == "return"
    assert "undo ntp-service unicast-server 1.2.3.4" in plan.commands
    assert " undo description b" in plan.commands
    assert " description a" in plan.commands
    assert "quit" in plan.commands


def test_negating_a_negation_gives_the_positive_line() -> None:
    plan = restore_plan("cisco_ios", "hostname a\nno ip domain-lookup\n", "hostname a\n")
    assert "ip domain-lookup" in plan.commands


def test_unknown_platform_gets_a_note_instead_of_a_plan() -> None:
    plan = restore_plan("juniper_junos", "set system host-name a", "set system host-name b")
    assert not plan.supported
    assert "no line-by-line restore plan" in plan.note
    assert not plan.in_sync


def test_captured_configs_plan_back_to_themselves() -> None:
    text = (DATA / "ios-a.cfg").read_text()
    assert restore_plan("cisco_ios", text, text).in_sync
    changed = (DATA / "ios-changed.cfg").read_text()
    plan = restore_plan("cisco_ios", changed, text)
    assert plan.commands
    assert not plan.in_sync
