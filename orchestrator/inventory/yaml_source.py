"""Ansible's YAML inventory format (``all``/``children``/``hosts``/``vars``).

Read the way ansible-core's ``yaml`` inventory plugin reads it: top-level keys are
groups; a group is a mapping with any of ``vars``, ``children`` and ``hosts`` (or
empty); ``hosts`` and ``children`` map names to a mapping or to nothing; a string
given for one of them stands for a one-entry mapping. Where Ansible merely warns
and skips (an unknown key in a group, a group that is not a mapping) we refuse,
because in an ops inventory that is a typo that would silently drop hosts.

Values are kept as YAML gives them; Jinja expressions such as ``"{{ x }}"`` stay
plain strings (``ansible-inventory --list`` shows them raw too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.inventory.address import expand_host_entry
from orchestrator.inventory.builder import InventoryBuilder
from orchestrator.inventory.location import Where, kind_of
from orchestrator.yamlfile import line_of

SECTIONS = ("vars", "children", "hosts")
_SECTION_HINTS = {
    "vars": "write `vars:` followed by indented `name: value` lines",
    "children": "write `children:` followed by indented `group_name:` lines",
    "hosts": "write `hosts:` followed by indented `host_name:` lines "
    "(a mapping, not a `- host` list)",
}


def read_yaml_inventory(data: Any, path: Path, builder: InventoryBuilder) -> None:
    """Add the groups, hosts and vars of one parsed YAML inventory to ``builder``."""
    where = Where(path, line_of(data) or 1)
    if not data:
        raise where.error("the inventory file is empty", hint="start it with `all:`")
    if not isinstance(data, dict):
        raise where.error(
            f"a YAML inventory must be a mapping of group names, not {kind_of(data)}",
            hint="start it with `all:`",
        )
    if data.get("plugin"):
        raise where.at(line_of(data, "plugin")).error(
            "inventory plugin configurations are not supported",
            field="plugin",
            hint="export the hosts once with `ansible-inventory --list -y` and use that file",
        )
    for name, group_data in data.items():
        _read_group(name, group_data, where.at(line_of(data, name)), builder)


def _read_group(name: Any, data: Any, where: Where, builder: InventoryBuilder) -> str:
    if not isinstance(name, str):
        raise where.error(f"group name {name!r} must be a string", hint="quote it")
    if data is not None and not isinstance(data, dict):
        raise where.error(
            f"group {name!r} must be a mapping (vars, children, hosts) or empty, "
            f"not {kind_of(data)}",
            field=name,
            hint="indent `hosts:`, `children:` or `vars:` under the group name",
        )
    builder.add_group(name, where)
    if not data:
        return name
    for key, value in data.items():
        at = where.at(line_of(data, key))
        if key not in SECTIONS:
            raise at.error(
                f"unexpected key {key!r} in group {name!r}",
                field=str(key),
                hint="only vars, children and hosts are valid here; "
                "is it a child group missing `children:` above it?",
            )
        section = _section(key, value, name, at)
        for item, item_value in section.items():
            item_at = at.at(line_of(section, item))
            if key == "vars":
                builder.set_variable(name, item, item_value, item_at)
            elif key == "children":
                child = _read_group(item, item_value, item_at, builder)
                builder.add_child(name, child, item_at)
            else:
                _read_hosts(item, item_value, name, item_at, builder)
    return name


def _section(key: str, value: Any, group: str, where: Where) -> dict[Any, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {value: None}  # `hosts: web1` is allowed shorthand
    if not isinstance(value, dict):
        raise where.error(
            f"{key} of group {group!r} must be a mapping, not {kind_of(value)}",
            field=key,
            hint=_SECTION_HINTS[key],
        )
    return value


def _read_hosts(
    entry: Any, host_vars: Any, group: str, where: Where, builder: InventoryBuilder
) -> None:
    if not isinstance(entry, str):
        raise where.error(
            f"host name {entry!r} must be a string",
            field="hosts",
            hint="enclose numbers in quotes, e.g. '10.0.0.1' or '42'",
        )
    names, port = expand_host_entry(entry, where)
    host_vars = host_vars or {}
    if not isinstance(host_vars, dict):
        raise where.error(
            f"vars of host {entry!r} must be a mapping, not {kind_of(host_vars)}",
            field=entry,
            hint="write `host:` alone or followed by indented `name: value` lines",
        )
    for host in names:
        builder.add_host(host, where, group=group, port=port)
        for key, value in host_vars.items():
            builder.set_variable(host, key, value, where.at(line_of(host_vars, key)))
