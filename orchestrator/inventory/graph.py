"""The ``ansible-inventory --graph`` tree, as lines of text.

```
@all:
  |--@ungrouped:
  |  |--lone-host
  |--@web:
  |  |--@web_eu:
  |  |  |--web01
  |  |--web02
```
Child groups come first (in definition order), then the group's own hosts; a
group with several parents appears under each. ``all`` lists no hosts of its own,
as in Ansible. With ``show_vars`` each host and group is followed by its vars
(``{name = value}``, sorted, secret-looking values masked).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.errors import NotFoundError
from orchestrator.inventory.model import MASK, SECRET_VAR, Inventory


def graph_lines(inventory: Inventory, group: str = "all", *, show_vars: bool = False) -> list[str]:
    """The tree under ``group``, one line per group, host and (optionally) variable."""
    if group not in inventory.groups:
        raise NotFoundError(f"no group {group!r} in inventory {inventory.source}")
    lines: list[str] = []
    _add_group(inventory, group, 0, show_vars, lines)
    return lines


def _add_group(
    inventory: Inventory, name: str, depth: int, show_vars: bool, lines: list[str]
) -> None:
    group = inventory.groups[name]
    lines.append(_indent(f"@{name}:", depth))
    for child in group.children:
        _add_group(inventory, child, depth + 1, show_vars, lines)
    if name != "all":
        for host in group.hosts:
            lines.append(_indent(host, depth + 1))
            if show_vars:
                lines.extend(_var_lines(inventory.hosts[host].vars, depth + 2))
    if show_vars:
        lines.extend(_var_lines(group.vars, depth + 1))


def _var_lines(variables: Mapping[str, Any], depth: int) -> list[str]:
    return [
        _indent(f"{{{key} = {MASK if SECRET_VAR.search(key) else value}}}", depth)
        for key, value in sorted(variables.items())
    ]


def _indent(text: str, depth: int) -> str:
    return "  |" * depth + "--" + text if depth else text
