"""Fixtures of the transport contract suite: adapters that let one suite drive every
transport against the lab.

Each adapter knows, for its transport: how to build a connector, a reachable
target and an unreachable one, and an action that succeeds (with the output
to expect), one that fails, one that outlasts a given timeout and, for linux
targets, one that leaves a marker file so a test can prove that nothing ran.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator.inventory.model import Host
from orchestrator.transports.ansible import AnsibleConnector
from orchestrator.transports.base import Action, Connector, NewHostKeyCallback
from orchestrator.transports.netmiko import NetmikoConnector
from orchestrator.transports.ssh import SshConnector

LINUX_HOST = "h2"  # healthy
OTHER_HOST = "h3"
DEVICE_PLATFORMS = ("cisco_ios", "arista_eos", "huawei")

ConnectorFactory = Callable[[Path, bool, NewHostKeyCallback | None], Connector]


@dataclass
class Adapter:
    name: str
    make: ConnectorFactory
    host: Host
    unreachable: Host
    ok_action: Action
    ok_output: str  # a substring of the successful action's stdout
    fail_action: Action
    slow_action: Action  # takes far longer than slow_timeout
    slow_timeout: float = 3.0
    timeout_slack: float = 3.0  # seconds a timeout may overrun (ansible's start-up is slow)
    marker_action: Callable[[str], Action] | None = None  # linux: touch a file
    other: Host | None = None  # another lab target (its key is the "wrong key")

    def connector(
        self,
        known_hosts: Path,
        *,
        trust: bool = False,
        on_new: NewHostKeyCallback | None = None,
    ) -> Connector:
        return self.make(known_hosts, trust, on_new)


def linux_host(lab: Any, name: str) -> Host:
    info = lab.host(name)
    return Host(
        name,
        {
            "ansible_host": info["address"],
            "ansible_port": info["port"],
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(lab.key),
            "kind": "linux",
        },
        groups=("all", "linux", str(info.get("role", "app"))),
    )


def unreachable_host(lab: Any) -> Host:
    """The lab host in state "unreachable" (its sshd does not run: connection refused)."""
    return linux_host(lab, lab.hosts_in_state("unreachable")[0]["name"])


def device_host(lab: Any, platform: str) -> tuple[Host, dict[str, Any]]:
    info = next(d for d in lab.devices if d["platform"] == platform)
    host = Host(
        info["name"],
        {
            "ansible_host": info["address"],
            "ansible_port": info["port"],
            "ansible_user": info["username"],
            "ansible_password": info["password"],
            "platform": platform,
            "kind": "network",
        },
        groups=("all", "network"),
    )
    return host, info


def closed_local_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ssh_adapter(lab: Any) -> Adapter:
    def make(kh: Path, trust: bool, on_new: NewHostKeyCallback | None) -> Connector:
        return SshConnector(kh, trust_new_host_keys=trust, on_new_host_key=on_new)

    return Adapter(
        name="ssh",
        make=make,
        host=linux_host(lab, LINUX_HOST),
        unreachable=unreachable_host(lab),
        ok_action="hostname; echo contract-ok",
        ok_output=f"{LINUX_HOST}\ncontract-ok",
        fail_action="echo to-stderr >&2; exit 3",
        slow_action="sleep 30",
        timeout_slack=2.0,
        marker_action=lambda path: f"touch {path}",
        other=linux_host(lab, OTHER_HOST),
    )


def ansible_adapter(lab: Any, work_dir: Path) -> Adapter:
    def make(kh: Path, trust: bool, on_new: NewHostKeyCallback | None) -> Connector:
        return AnsibleConnector(work_dir, kh, trust_new_host_keys=trust, on_new_host_key=on_new)

    def command(cmd: str) -> Action:
        return {"module": "ansible.builtin.shell", "args": cmd}

    return Adapter(
        name="ansible",
        make=make,
        host=linux_host(lab, LINUX_HOST),
        unreachable=unreachable_host(lab),
        ok_action=command("hostname; echo contract-ok"),
        ok_output=f"{LINUX_HOST}\ncontract-ok",
        fail_action=command("echo to-stderr >&2; exit 3"),
        slow_action={"module": "ansible.builtin.command", "args": {"cmd": "sleep 30"}},
        timeout_slack=8.0,
        other=linux_host(lab, OTHER_HOST),
        marker_action=lambda path: {
            "module": "ansible.builtin.file",
            "args": {"path": path, "state": "touch"},
        },
    )


def netmiko_adapter(lab: Any, platform: str) -> Adapter:
    def make(kh: Path, trust: bool, on_new: NewHostKeyCallback | None) -> Connector:
        return NetmikoConnector(kh, trust_new_host_keys=trust, on_new_host_key=on_new)

    host, info = device_host(lab, platform)
    unreachable = Host(
        "nobody",
        {**host.vars, "ansible_port": closed_local_port()},
        groups=host.groups,
    )
    other_info = next(d for d in lab.devices if d["name"] != info["name"])
    other = Host(
        other_info["name"],
        {"ansible_host": other_info["address"], "ansible_port": other_info["port"]},
    )
    first_line = {
        "cisco_ios": "Cisco IOS XE Software",
        "arista_eos": "cEOSLab",
        "huawei": "Huawei Versatile Routing Platform",
    }[platform]
    return Adapter(
        name=f"netmiko-{platform}",
        make=make,
        host=host,
        unreachable=unreachable,
        ok_action=info["version_command"],
        ok_output=first_line,
        fail_action="show no-such-thing-here",
        # fakenos cannot be made to sleep: the longest reply with a 10 ms limit stands in
        # (netmiko notices between its reads, so allow it a few seconds).
        slow_action=info["config_command"],
        slow_timeout=0.01,
        timeout_slack=4.0,
        other=other,
    )


ADAPTERS = ("ssh", "ansible", *(f"netmiko-{p}" for p in DEVICE_PLATFORMS))


@pytest.fixture(params=ADAPTERS)
def adapter(
    request: pytest.FixtureRequest, lab: Any, tmp_path_factory: pytest.TempPathFactory
) -> Adapter:
    name: str = request.param
    if name == "ssh":
        return ssh_adapter(lab)
    if name == "ansible":
        return ansible_adapter(lab, tmp_path_factory.mktemp("ansible-work"))
    platform = name.removeprefix("netmiko-")
    if not any(d["platform"] == platform for d in lab.devices):
        pytest.skip(f"the lab has no {platform} device (LAB_DEVICES in lab/lab-lib.sh)")
    return netmiko_adapter(lab, platform)


@pytest.fixture
def lab_ssh(lab: Any) -> SshConnector:
    """A plain, trusted ssh connector to look at lab hosts from the outside."""
    return SshConnector(lab.known_hosts)


@pytest.fixture
def linux_target(lab: Any) -> Host:
    """The healthy lab linux host the suite runs against."""
    return linux_host(lab, LINUX_HOST)
