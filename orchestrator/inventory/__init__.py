"""Inventory: Ansible inventories read unchanged, host patterns, the group tree.

Public API: ``load_inventory``, ``select_hosts``, ``limit_hosts``, ``graph_lines``
and the model (``Inventory``, ``Host``, ``Group``, ``HostKind``, ``Criticality``).
"""

from orchestrator.inventory.graph import graph_lines
from orchestrator.inventory.loader import load_inventory
from orchestrator.inventory.model import Criticality, Group, Host, HostKind, Inventory
from orchestrator.inventory.select import limit_hosts, select_hosts, split_pattern

__all__ = [
    "Criticality",
    "Group",
    "Host",
    "HostKind",
    "Inventory",
    "graph_lines",
    "limit_hosts",
    "load_inventory",
    "select_hosts",
    "split_pattern",
]
