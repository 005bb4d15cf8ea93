"""Inventory model: hosts with their resolved variables, groups, and the whole inventory.

Variables are resolved once, at load time, with Ansible's precedence (see
``loader``); a ``Host`` carries the final merged ``vars``. Our own variables
are ``kind`` (linux | network), ``platform`` (a netmiko device_type) and
``criticality``; connection variables are Ansible's ``ansible_*`` ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from orchestrator.errors import NotFoundError

# Variable names whose values are never shown (inventory show, reports, logs).
SECRET_VAR = re.compile(r"(pass(word)?|secret|token|community|private_key_passphrase|_key$)", re.I)
MASK = "********"


class HostKind(Enum):
    LINUX = "linux"
    NETWORK = "network"


class Criticality(Enum):
    CRITICAL = "critical"
    NORMAL = "normal"
    LOW = "low"


@dataclass(frozen=True)
class Host:
    """One target. ``vars`` is the fully resolved variable mapping (group + host vars)."""

    name: str
    vars: Mapping[str, Any] = field(default_factory=dict, hash=False)
    groups: tuple[str, ...] = ()  # every group the host is in, ancestors included, 'all' first

    @property
    def address(self) -> str:
        return str(self.vars.get("ansible_host", self.name))

    @property
    def port(self) -> int:
        return int(self.vars.get("ansible_port", 22))

    @property
    def user(self) -> str | None:
        user = self.vars.get("ansible_user")
        return None if user is None else str(user)

    @property
    def key_file(self) -> Path | None:
        key = self.vars.get("ansible_ssh_private_key_file")
        return None if key is None else Path(str(key)).expanduser()

    @property
    def password(self) -> str | None:
        """Password, if the inventory gives one (network devices often need it)."""
        pw = self.vars.get("ansible_password", self.vars.get("ansible_ssh_pass"))
        return None if pw is None else str(pw)

    @property
    def kind(self) -> HostKind:
        return HostKind(str(self.vars.get("kind", "linux")))

    @property
    def platform(self) -> str | None:
        platform = self.vars.get("platform")
        return None if platform is None else str(platform)

    @property
    def criticality(self) -> Criticality:
        return Criticality(str(self.vars.get("criticality", "normal")))

    def masked_vars(self) -> dict[str, Any]:
        """Vars for display: values of secret-looking names replaced by a mask."""
        return {k: (MASK if SECRET_VAR.search(k) else v) for k, v in sorted(self.vars.items())}


@dataclass(frozen=True)
class Group:
    name: str
    hosts: tuple[str, ...] = ()  # direct members only
    children: tuple[str, ...] = ()  # direct child groups only
    vars: Mapping[str, Any] = field(
        default_factory=dict, hash=False
    )  # this group's own vars (unmerged)


@dataclass(frozen=True)
class Inventory:
    """All hosts and groups of one inventory source. Host order is definition order."""

    hosts: Mapping[str, Host]
    groups: Mapping[str, Group]
    source: Path | None = None

    def __iter__(self) -> Iterator[Host]:
        return iter(self.hosts.values())

    def __len__(self) -> int:
        return len(self.hosts)

    def host(self, name: str) -> Host:
        try:
            return self.hosts[name]
        except KeyError:
            raise NotFoundError(f"no host {name!r} in inventory {self.source}") from None

    def group_hosts(self, name: str) -> list[Host]:
        """Every host in the group or any of its descendants, in inventory order."""
        return [h for h in self.hosts.values() if name in h.groups]
