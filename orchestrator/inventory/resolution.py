"""From a reconciled builder plus ``group_vars``/``host_vars`` to the immutable model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.inventory.builder import ALL, PRIORITY_VAR, InventoryBuilder
from orchestrator.inventory.model import Group, Host, Inventory
from orchestrator.inventory.variables import GroupRank, VarLayer, host_layers, sort_groups
from orchestrator.inventory.vars_files import read_adjacent_vars

_EMPTY = VarLayer()


@dataclass(frozen=True)
class Resolved:
    """The model, plus where each host's final values came from (for validation)."""

    inventory: Inventory
    layers: dict[str, VarLayer]


def resolve_inventory(builder: InventoryBuilder, base: Path, source: Path) -> Resolved:
    """Merge every host's variables (see ``variables``) and build the model.

    ``base`` is the directory holding ``group_vars/`` and ``host_vars/``.
    """
    group_files = read_adjacent_vars(base / "group_vars", builder.groups)
    host_files = read_adjacent_vars(base / "host_vars", builder.hosts)
    depths = builder.depths()
    ranks = {
        name: GroupRank(name, depths[name], group.priority)
        for name, group in builder.groups.items()
    }
    hosts: dict[str, Host] = {}
    layers: dict[str, VarLayer] = {}
    for name, node in builder.hosts.items():
        order = sort_groups(ranks[g] for g in builder.host_groups(name) - {ALL})
        layer = host_layers(
            all_inventory=builder.groups[ALL].vars,
            groups_inventory=[builder.groups[g].vars for g in order],
            all_files=group_files.get(ALL, _EMPTY),
            groups_files=[group_files.get(g, _EMPTY) for g in order],
            host_inventory=node.vars,
            host_files=host_files.get(name, _EMPTY),
        )
        layers[name] = layer
        hosts[name] = Host(name=name, vars=dict(layer.values), groups=(ALL, *order))
    groups = {
        name: Group(
            name=name,
            hosts=tuple(group.hosts),
            children=tuple(group.children),
            vars=_own_group_vars(group.vars, group_files.get(name, _EMPTY), group.priority),
        )
        for name, group in builder.groups.items()
    }
    return Resolved(Inventory(hosts=hosts, groups=groups, source=source), layers)


def _own_group_vars(inventory: VarLayer, files: VarLayer, priority: int) -> dict[str, object]:
    """A group's own vars as ``ansible-inventory --graph --vars`` shows them."""
    own = {**inventory.values, **files.values}
    if priority != 1:
        own[PRIORITY_VAR] = priority
    return own
