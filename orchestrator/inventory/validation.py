"""Checks on our own inventory variables, done once at load time.

- ``kind``: ``linux`` (default) or ``network``
- ``platform``: required for ``network`` hosts, a netmiko ``device_type`` such as
  ``cisco_ios`` (we check its shape only: netmiko lives in the transports layer)
- ``criticality``: ``critical``, ``normal`` (default) or ``low``
- ``ansible_port``: an integer 1-65535 when given

A bad value set in a group is reported once, at the line that sets it, naming the
hosts it affects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.errors import Problem
from orchestrator.inventory.location import Where
from orchestrator.inventory.model import Criticality, HostKind
from orchestrator.inventory.variables import VarLayer

KINDS = tuple(kind.value for kind in HostKind)
CRITICALITIES = tuple(level.value for level in Criticality)
_PLATFORM = re.compile(r"[a-z][a-z0-9_]*")
_MAX_NAMED_HOSTS = 3


@dataclass
class _Finding:
    message: str
    var: str
    hint: str
    where: Where
    hosts: list[str] = field(default_factory=list)


def check_hosts(layers: Mapping[str, VarLayer], defined_at: Mapping[str, Where]) -> list[Problem]:
    """Problems with our variables, for every host (empty when all is well)."""
    findings: dict[tuple[Where, str, str], _Finding] = {}
    for host, layer in layers.items():
        for finding in _check_host(layer, defined_at[host]):
            key = (finding.where, finding.var, finding.message)
            findings.setdefault(key, finding).hosts.append(host)
    return [_problem(finding) for finding in findings.values()]


def _check_host(layer: VarLayer, defined_at: Where) -> list[_Finding]:
    found: list[_Finding] = []
    values = layer.values

    def bad(name: str, message: str, hint: str) -> None:
        found.append(_Finding(message, name, hint, layer.origin(name) or defined_at))

    kind = values.get("kind", HostKind.LINUX.value)
    if kind not in KINDS:
        bad(
            "kind",
            f"must be one of {', '.join(KINDS)}, not {kind!r}",
            "kind: linux or kind: network",
        )
    criticality = values.get("criticality", Criticality.NORMAL.value)
    if criticality not in CRITICALITIES:
        bad(
            "criticality",
            f"must be one of {', '.join(CRITICALITIES)}, not {criticality!r}",
            "critical hosts are inspected daily, the others weekly",
        )
    platform = values.get("platform")
    if kind == HostKind.NETWORK.value and platform is None:
        bad(
            "platform",
            "is required for kind: network",
            "set a netmiko device_type, e.g. platform: cisco_ios, huawei or juniper_junos",
        )
    elif platform is not None and not (isinstance(platform, str) and _PLATFORM.fullmatch(platform)):
        bad(
            "platform",
            f"must be a netmiko device_type such as cisco_ios, not {platform!r}",
            "lower-case letters, digits and underscores",
        )
    if "ansible_port" in values and not _is_port(values["ansible_port"]):
        bad("ansible_port", f"must be a port number, not {values['ansible_port']!r}", "1-65535")
    return found


def _is_port(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return isinstance(value, int) and 0 < value < 65536


def _problem(finding: _Finding) -> Problem:
    named = ", ".join(finding.hosts[:_MAX_NAMED_HOSTS])
    more = len(finding.hosts) - _MAX_NAMED_HOSTS
    who = f"host {named}" if len(finding.hosts) == 1 else f"hosts {named}"
    if more > 0:
        who += f" and {more} more"
    return finding.where.problem(f"{finding.message} ({who})", field=finding.var, hint=finding.hint)
