"""Mutable inventory under construction, with ansible-core's bookkeeping rules.

The readers (YAML, INI) call ``add_group``/``add_host``/``set_variable``/``add_child``
the way Ansible's inventory plugins call ``InventoryData``; ``reconcile`` then
applies the same post-processing (top-level groups become children of ``all``,
hosts in no group go to ``ungrouped``). Mirroring those calls is what makes odd
inventories — a host and a group with the same name, a host listed in several
places — come out the way ``ansible-inventory`` shows them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from orchestrator.inventory.location import Where
from orchestrator.inventory.variables import VarLayer

log = logging.getLogger(__name__)

ALL = "all"
UNGROUPED = "ungrouped"
PRIORITY_VAR = "ansible_group_priority"
# Ansible warns about (but keeps) group names that are not valid variable names.
_NOT_IDENTIFIER = re.compile(r"^[\d\W]|[^\w]")


@dataclass
class GroupNode:
    name: str
    where: Where
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    vars: VarLayer = field(default_factory=VarLayer)
    priority: int = 1


@dataclass
class HostNode:
    name: str
    where: Where
    vars: VarLayer = field(default_factory=VarLayer)


class InventoryBuilder:
    """Groups and hosts in definition order, and the edges between them."""

    def __init__(self, where: Where) -> None:
        self.groups: dict[str, GroupNode] = {}
        self.hosts: dict[str, HostNode] = {}
        self._direct: dict[str, list[str]] = {}  # host -> groups listing it directly
        self._ancestors: dict[str, set[str]] = {}  # cache, cleared on every new edge
        for name in (ALL, UNGROUPED):
            self.add_group(name, where)
        self.add_child(ALL, UNGROUPED, where)

    # --- the InventoryData calls ------------------------------------------------------------

    def add_group(self, name: Any, where: Where) -> str:
        if not isinstance(name, str) or not name:
            raise where.error(
                f"invalid group name {name!r}", hint="group names are non-empty strings"
            )
        if name not in self.groups:
            if _NOT_IDENTIFIER.search(name):
                log.warning(
                    "%s: group name %r is not a valid variable name (Ansible keeps it but warns)",
                    where,
                    name,
                )
            self.groups[name] = GroupNode(name, where)
        return name

    def add_host(
        self, name: Any, where: Where, group: str | None = None, port: int | None = None
    ) -> str:
        if not isinstance(name, str) or not name:
            raise where.error(
                f"invalid host name {name!r}",
                hint="quote host names that YAML would read as numbers, e.g. '10'",
            )
        if name not in self.hosts:
            self.hosts[name] = HostNode(name, where)
            self._direct[name] = []
            # Like Ansible, a :port only counts where the host is first defined.
            if port is not None:
                self.hosts[name].vars.set("ansible_port", port, where)
        if group is not None:
            self._add_host_to_group(self.groups[group], name)
        return name

    def set_variable(self, entity: str, key: Any, value: Any, where: Where) -> None:
        """Set a var on the group named ``entity`` or, failing that, the host.

        Groups are looked up first, as Ansible does: a host var on a host that shares
        its name with a group lands on the group.
        """
        if not isinstance(key, str) or not key:
            raise where.error(
                f"invalid variable name {key!r} on {entity!r}",
                hint="variable names are non-empty strings",
            )
        group = self.groups.get(entity)
        if group is not None and key == PRIORITY_VAR:
            group.priority = _priority(value, where)
        elif group is not None:
            group.vars.set(key, value, where)
        else:
            self.hosts[entity].vars.set(key, value, where)

    def add_child(self, parent: str, child: str, where: Where) -> None:
        """Make group or host ``child`` a member of group ``parent`` (groups looked up first)."""
        group = self.groups[parent]
        if child in self.groups:
            self._add_child_group(group, self.groups[child], where)
        elif child in self.hosts:
            self._add_host_to_group(group, child)
        else:
            raise where.error(
                f"{child!r} is neither a known host nor a known group",
                field=child,
                hint="declare the group (or host) before using it",
            )

    # --- queries ------------------------------------------------------------------------------

    def ancestors(self, group: str) -> set[str]:
        """Every group above ``group`` (not itself)."""
        cached = self._ancestors.get(group)
        if cached is None:
            cached = set()
            for parent in self.groups[group].parents:
                cached.add(parent)
                cached |= self.ancestors(parent)
            self._ancestors[group] = cached
        return cached

    def host_groups(self, host: str) -> set[str]:
        """Every group containing ``host``, directly or through a child group."""
        result: set[str] = set()
        for group in self._direct[host]:
            result.add(group)
            result |= self.ancestors(group)
        return result

    def depths(self) -> dict[str, int]:
        """Each group's depth: the longest path down from a root (``all`` is 0)."""
        depth: dict[str, int] = {}

        def depth_of(name: str) -> int:
            if name not in depth:
                parents = self.groups[name].parents
                depth[name] = max((depth_of(p) + 1 for p in parents), default=0)
            return depth[name]

        for name in self.groups:
            depth_of(name)
        return depth

    # --- post-processing ----------------------------------------------------------------------

    def reconcile(self) -> None:
        """Ansible's ``reconcile_inventory``: attach orphan groups and hosts."""
        for name, group in list(self.groups.items()):
            if name != ALL and not group.parents:
                self.add_child(ALL, name, group.where)
        ungrouped = self.groups[UNGROUPED]
        for name in list(self.hosts):
            groups = self.host_groups(name)
            if UNGROUPED in groups:
                if groups - {ALL, UNGROUPED} and name in ungrouped.hosts:
                    ungrouped.hosts.remove(name)
                    self._direct[name].remove(UNGROUPED)
            elif not groups - {ALL}:
                # add_child looks groups up first, so with a name clash the *group*
                # becomes a child of ungrouped — faithfully odd.
                self.add_child(UNGROUPED, name, self.hosts[name].where)
        for name in self.groups.keys() & self.hosts.keys():
            log.warning("found both a group and a host named %r", name)

    # --- internals ------------------------------------------------------------------------------

    def _add_host_to_group(self, group: GroupNode, host: str) -> None:
        if host not in group.hosts:
            group.hosts.append(host)
            self._direct[host].append(group.name)

    def _add_child_group(self, parent: GroupNode, child: GroupNode, where: Where) -> None:
        if parent is child:
            raise where.error(
                f"group {child.name!r} cannot be a child of itself",
                field=child.name,
                hint="remove it from its own children",
            )
        if child.name in parent.children:
            return
        if child.name in self.ancestors(parent.name):
            raise where.error(
                f"making {child.name!r} a child of {parent.name!r} creates a loop",
                field=child.name,
                hint=f"{child.name!r} is already an ancestor of {parent.name!r}",
            )
        parent.children.append(child.name)
        if parent.name not in child.parents:
            child.parents.append(parent.name)
        self._ancestors.clear()


def _priority(value: Any, where: Where) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise where.error(
            f"must be an integer, not {value!r}",
            field=PRIORITY_VAR,
            hint="higher priority wins between groups of the same depth",
        ) from None
