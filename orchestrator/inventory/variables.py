"""Inventory variables with their origin, and Ansible's precedence for merging them.

For one host, lowest to highest (ansible-core's default ``VARIABLE_PRECEDENCE``
followed by host vars; see ``ansible/vars/manager.py``):

1. vars of group ``all`` given in the inventory file(s)
2. vars of the host's other groups given in the inventory file(s), groups sorted by
   (depth, ``ansible_group_priority``, name): parents before children, and at the same
   depth lower priority first, then alphabetical, so the later one wins
3. ``group_vars/all`` beside the inventory
4. ``group_vars/<group>`` of the host's other groups, sorted the same way
5. the host's vars given in the inventory file(s)
6. ``host_vars/<host>`` beside the inventory

Note that 3 beats 2: a ``group_vars/all.yml`` value wins over a value a child group
sets in the inventory file — this is what Ansible does, surprising as it is.

Merging replaces (Ansible's default ``hash_behaviour = replace``): a dict from a
higher layer replaces the whole dict of a lower one, it is not merged into it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.inventory.location import Where


@dataclass
class VarLayer:
    """Variables and, for each, where its value was set."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, Where] = field(default_factory=dict)

    def set(self, key: str, value: Any, where: Where) -> None:
        self.values[key] = value
        self.origins[key] = where

    def update(self, other: VarLayer) -> None:
        """Overlay ``other`` on this layer (replace semantics, whole values)."""
        self.values.update(other.values)
        self.origins.update(other.origins)

    def origin(self, key: str) -> Where | None:
        return self.origins.get(key)


def combine_layers(layers: Iterable[VarLayer]) -> VarLayer:
    """One layer holding, for each key, the value of the last layer that sets it."""
    result = VarLayer()
    for layer in layers:
        result.update(layer)
    return result


@dataclass(frozen=True)
class GroupRank:
    """What orders groups for variable precedence."""

    name: str
    depth: int
    priority: int

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.depth, self.priority, self.name)


def sort_groups(ranks: Iterable[GroupRank]) -> list[str]:
    """Group names from lowest to highest precedence (depth, priority, name)."""
    return [rank.name for rank in sorted(ranks, key=lambda rank: rank.key)]


def host_layers(
    *,
    all_inventory: VarLayer,
    groups_inventory: list[VarLayer],
    all_files: VarLayer,
    groups_files: list[VarLayer],
    host_inventory: VarLayer,
    host_files: VarLayer,
) -> VarLayer:
    """Merge one host's variable sources in precedence order (see module docstring).

    ``groups_inventory`` and ``groups_files`` must already be in ``sort_groups`` order.
    """
    return combine_layers(
        [all_inventory, *groups_inventory, all_files, *groups_files, host_inventory, host_files]
    )
