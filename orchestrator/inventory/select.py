"""Host patterns with Ansible's ``hosts:`` / ``--limit`` semantics.

A pattern is a list of parts separated by ``,`` (or ``:``, kept for old patterns
and still common: ``web:&prod:!web03``). Each part is

- ``all`` or ``*`` — every host;
- a host name or a group name (a group stands for its hosts and its children's);
- a glob (``web*``, ``db-?``) matched against group names and host names, or a
  regular expression (``~web0[1-3]``, matched from the start of the name);
- optionally followed by a subscript on the matches: ``web[0]``, ``web[-1]``,
  ``web[1:3]`` (both ends inclusive), ``web[2:]``;
- prefixed with ``&`` (intersection) or ``!`` (exclusion).

As in ansible-core (``ansible/inventory/manager.py``), all plain parts are unioned
first, then the ``&`` parts intersect, then the ``!`` parts exclude, whatever their
written order; a pattern made only of ``&``/``!`` parts starts from ``all``.

Results come in inventory order without duplicates. Subscripts index the matches
in Ansible's order (a group's own hosts, then its children's, level by level).
A pattern that matches nothing gives an empty list (the caller decides); an
invalid one (bad regular expression, empty pattern, subscript out of range)
raises ``InventoryError``. Unlike Ansible, ``localhost`` is not invented when the
inventory lacks it.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterable, Sequence

from orchestrator.errors import InventoryError, Problem
from orchestrator.inventory.address import parse_address
from orchestrator.inventory.model import Host, Inventory

log = logging.getLogger(__name__)

_COLON_PARTS = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
_SUBSCRIPT = re.compile(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$")
_GLOB_CHARS = (".", "?", "*", "[")


def split_pattern(pattern: str) -> list[str]:
    """The parts of a pattern: ``'a,b[1], c:&d'`` → ``['a', 'b[1]', 'c:&d']`` etc."""
    if "," in pattern:
        parts = pattern.split(",")
    else:
        try:
            parse_address(pattern, allow_ranges=True)
            parts = [pattern]  # one address: its ':' is a port or a range, not a separator
        except ValueError:
            parts = _COLON_PARTS.findall(pattern)
    return [part.strip() for part in parts if part.strip()]


def order_parts(parts: Iterable[str]) -> list[str]:
    """Plain parts first, then ``&`` parts, then ``!`` parts (``all`` if no plain part)."""
    parts = [p for p in parts if p]
    plain = [p for p in parts if p[0] not in "&!"]
    return (
        (plain or ["all"]) + [p for p in parts if p[0] == "&"] + [p for p in parts if p[0] == "!"]
    )


def select_hosts(inventory: Inventory, pattern: str, limit: str | None = None) -> list[Host]:
    """The hosts ``pattern`` selects, narrowed by ``limit`` if given, in inventory order."""
    parts = split_pattern(pattern)
    if not parts:
        raise _error(pattern, "the host pattern is empty", "use `all` to mean every host")
    selected = _evaluate(inventory, parts, pattern)
    if limit is not None:
        selected = limit_hosts(inventory, selected, limit)
    return selected


def limit_hosts(inventory: Inventory, hosts: Sequence[Host], limit: str) -> list[Host]:
    """``--limit``: keep the hosts that ``limit`` also selects (an intersection)."""
    parts = split_pattern(limit)
    if not parts:
        raise _error(limit, "the limit is empty", "leave --limit out to keep every target")
    allowed = {host.name for host in _evaluate(inventory, parts, limit)}
    return [host for host in hosts if host.name in allowed]


def _evaluate(inventory: Inventory, parts: list[str], pattern: str) -> list[Host]:
    chosen: dict[str, None] = {}  # an ordered set of host names
    for part in order_parts(parts):
        if part in inventory.hosts:  # a plain host name wins over a group of that name
            chosen.setdefault(part)
            continue
        matches = set(_match_part(inventory, part[1:] if part[0] in "&!" else part, pattern))
        if part[0] == "!":
            chosen = {name: None for name in chosen if name not in matches}
        elif part[0] == "&":
            chosen = {name: None for name in chosen if name in matches}
        else:
            for name in _in_inventory_order(inventory, matches):
                chosen.setdefault(name)
    return [inventory.hosts[name] for name in _in_inventory_order(inventory, chosen)]


def _in_inventory_order(inventory: Inventory, names: Iterable[str]) -> list[str]:
    wanted = set(names)
    return [name for name in inventory.hosts if name in wanted]


def _match_part(inventory: Inventory, part: str, pattern: str) -> list[str]:
    """Host names one part (without its &/! prefix) matches, in Ansible's order."""
    expression, subscript = _split_subscript(part)
    names = _enumerate(inventory, expression, pattern)
    if subscript is None or not names:
        return names
    start, end = subscript
    if end:
        return names[start : (len(names) if end == -1 else end + 1)]
    try:
        return [names[start]]
    except IndexError:
        raise _error(
            pattern,
            f"subscript [{start}] is out of range: {expression!r} matches {len(names)} hosts",
            "subscripts count from 0; use [-1] for the last host",
        ) from None


def _split_subscript(part: str) -> tuple[str, tuple[int, int] | None]:
    if part.startswith("~"):
        return part, None  # a regex keeps its brackets
    match = _SUBSCRIPT.match(part)
    if not match:
        return part, None
    expression, index, start, separator, end = match.groups()
    if index:
        return expression, (int(index), 0)
    if separator == "-":
        log.warning("host pattern %r: use [x:y] subscripts, [x-y] is obsolete", part)
    # Ansible quirk kept: an explicit end of 0 (web[2:0]) selects just [start].
    return expression, (int(start), int(end) if end else -1)


def _enumerate(inventory: Inventory, expression: str, pattern: str) -> list[str]:
    """Hosts of every group the expression matches, then hosts matching it directly."""
    regex = _compile(expression, pattern)
    groups = [name for name in inventory.groups if regex.match(name)]
    names: list[str] = []
    for group in groups:
        names.extend(_group_members(inventory, group))
    if not groups or expression[0] == "~" or any(c in expression for c in _GLOB_CHARS):
        names.extend(name for name in inventory.hosts if regex.match(name))
    if not names and not groups and expression != "all":
        log.warning("host pattern %r: %r matches no group and no host", pattern, expression)
    return names


def _compile(expression: str, pattern: str) -> re.Pattern[str]:
    if expression.startswith("~"):
        try:
            return re.compile(expression[1:])
        except re.error as exc:
            raise _error(
                pattern,
                f"invalid regular expression {expression[1:]!r}: {exc}",
                "a part starting with ~ is a Python regular expression, e.g. ~web0[1-3]",
            ) from None
    return re.compile(fnmatch.translate(expression))


def _group_members(inventory: Inventory, group: str) -> list[str]:
    """A group's hosts in Ansible's order: its own, then its descendants' level by level."""
    order = [group]
    seen = {group}
    level = [group]
    while level:
        below: list[str] = []
        for name in level:
            for child in inventory.groups[name].children:
                if child not in seen:
                    seen.add(child)
                    below.append(child)
        order.extend(below)
        level = below
    members: dict[str, None] = {}
    for name in order:
        for host in inventory.groups[name].hosts:
            members.setdefault(host)
    return list(members)


def _error(pattern: str, message: str, hint: str) -> InventoryError:
    return InventoryError([Problem(message, field=f"host pattern {pattern!r}", hint=hint)])
