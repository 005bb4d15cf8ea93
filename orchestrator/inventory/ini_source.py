"""Ansible's classic INI inventory format.

```
web01 ansible_host=10.0.0.1      # hosts before any section are "ungrouped"
[web]
web[01:03]:2222 http_port=80     # host lines: a name (ranges, :port), then key=value
[web:vars]
ntp_server=10.0.0.5              # one key=value per line; the rest of the line is the value
[prod:children]
web                              # child group names
```

Values are typed as ansible-core types them (``ansible/plugins/inventory/ini.py``):
each value goes through ``ast.literal_eval`` and stays a string when that fails, so
``80`` is an int, ``True`` a bool, ``[1, 2]`` a list, but ``yes`` is the string
``"yes"``. On host lines the line is first split like a shell would (quotes removed,
``#`` starts a comment), so ``x="5"`` there is the int 5; in ``:vars`` sections the
value is taken literally up to the end of the line, so ``x="5"`` is the string
``"5"`` and a ``# comment`` after a value is part of the value. Ansible's docs say
``:vars`` values are strings; ``ansible-inventory`` shows otherwise, and we follow
``ansible-inventory``.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.inventory.address import expand_host_entry
from orchestrator.inventory.builder import UNGROUPED, InventoryBuilder
from orchestrator.inventory.location import Where

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$")
_GROUP_NAME = re.compile(r"^([^:\]\s]+)\s*(?:#.*)?$")
_STATES = ("hosts", "children", "vars")


@dataclass
class _Pending:
    """A group mentioned before it was declared; an error if never declared."""

    where: Where
    state: str
    parents: list[str] = field(default_factory=list)


@dataclass
class _IniReader:
    path: Path
    builder: InventoryBuilder
    group: str = UNGROUPED
    state: str = "hosts"
    pending: dict[str, _Pending] = field(default_factory=dict)

    def read(self, text: str) -> None:
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            where = Where(self.path, number)
            section = _SECTION.match(line)
            if section:
                self._section(section.group(1), section.group(2) or "hosts", line, where)
            elif line.startswith("[") and line.endswith("]"):
                raise where.error(
                    f"invalid section header {line!r}",
                    field=line,
                    hint="write [group], [group:vars] or [group:children] with no spaces",
                )
            elif self.state == "hosts":
                self._host_line(line, where)
            elif self.state == "vars":
                self._vars_line(line, where)
            else:
                self._child_line(line, where)
        self._check_pending()

    @property
    def label(self) -> str:
        """The current section as written, for error fields: [web], [web:vars]."""
        return f"[{self.group}]" if self.state == "hosts" else f"[{self.group}:{self.state}]"

    def _section(self, group: str, state: str, line: str, where: Where) -> None:
        if state not in _STATES:
            raise where.error(
                f"section {line} has unknown type {state!r}",
                field=line,
                hint="the type after ':' must be vars or children",
            )
        self.group, self.state = group, state
        if group not in self.builder.groups:
            # [g:vars] may come before [g]; remember it and check at the end.
            if state == "vars" and group not in self.pending:
                self.pending[group] = _Pending(where, state)
            self.builder.add_group(group, where)
        declared = self.pending.get(group)
        if declared is not None and state != "vars":
            if declared.state == "children":
                self._add_pending_children(group)
            else:
                del self.pending[group]

    def _add_pending_children(self, group: str) -> None:
        declared = self.pending.pop(group)
        for parent in declared.parents:
            self.builder.add_child(parent, group, declared.where)
            parent_pending = self.pending.get(parent)
            if parent_pending is not None and parent_pending.state == "children":
                self._add_pending_children(parent)

    def _host_line(self, line: str, where: Where) -> None:
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as exc:
            raise where.error(
                f"cannot split host line: {exc}", field=self.label, hint="check the quotes"
            ) from None
        if not tokens:
            return
        names, port = expand_host_entry(tokens[0], where)
        if tokens[0].strip().endswith(":") and port is None:
            raise where.error(
                f"host {tokens[0]!r} ends in ':'",
                field=self.label,
                hint="':' is only for a port, as in web01:2222",
            )
        if "---" in names:
            raise where.error(
                "host '---' looks like YAML", field=self.label, hint="name the file *.yml"
            )
        variables: dict[str, Any] = {}
        for token in tokens[1:]:
            key, equals, value = token.partition("=")
            if not equals:
                raise where.error(
                    f"expected key=value after the host name, got {token!r}",
                    field=self.label,
                    hint="quote values that contain spaces: key='a b'",
                )
            variables[key] = parse_value(value)
        for name in names:
            self.builder.add_host(name, where, group=self.group, port=port)
            for key, value in variables.items():
                self.builder.set_variable(name, key, value, where)

    def _vars_line(self, line: str, where: Where) -> None:
        key, equals, value = line.partition("=")
        if not equals:
            raise where.error(
                f"expected key=value, got {line!r}",
                field=self.label,
                hint="one variable per line: name=value",
            )
        self.builder.set_variable(self.group, key.strip(), parse_value(value.strip()), where)

    def _child_line(self, line: str, where: Where) -> None:
        match = _GROUP_NAME.match(line)
        if not match:
            raise where.error(
                f"expected a group name, got {line!r}",
                field=self.label,
                hint="one child group name per line",
            )
        child = match.group(1)
        if child in self.builder.groups:
            self.builder.add_child(self.group, child, where)
        elif child in self.pending:
            self.pending[child].parents.append(self.group)
        else:
            self.pending[child] = _Pending(where, "children", [self.group])

    def _check_pending(self) -> None:
        for name, declared in self.pending.items():
            if declared.state == "vars":
                raise declared.where.error(
                    f"section [{name}:vars] is for group {name!r}, which is never declared",
                    field=f"[{name}:vars]",
                    hint=f"add a [{name}] or [{name}:children] section, or fix the name",
                )
            raise declared.where.error(
                f"section [{declared.parents[-1]}:children] names group {name!r}, "
                "which is never declared",
                field=f"[{declared.parents[-1]}:children]",
                hint=f"add a [{name}] section (it may be empty), or fix the name",
            )


def read_ini_inventory(text: str, path: Path, builder: InventoryBuilder) -> None:
    """Add the groups, hosts and vars of one INI inventory to ``builder``."""
    _IniReader(path, builder).read(text)


def parse_value(text: str) -> Any:
    """Type an INI value as Ansible does: a Python literal if it is one, else the string."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return _coerce(value)


def _coerce(value: Any) -> Any:
    """Keep only types a variable may hold (tuples and sets become lists, like Ansible)."""
    if isinstance(value, list | tuple | set):
        return [_coerce(item) for item in value]
    if isinstance(value, dict):
        return {key: _coerce(item) for key, item in value.items()}
    if value is Ellipsis:
        return "..."
    if isinstance(value, complex):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="surrogateescape")
    return value
