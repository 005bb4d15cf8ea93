"""The commands that would bring a network device's running configuration back to a backup.

A dry run: nothing here talks to a device. Both configurations are read as trees
(indented lines are children of the line above them, as on IOS, EOS, NX-OS, VRP
and Comware); comment/separator lines and the volatile lines ``diff`` ignores are
left out. For every section present now but not in the backup the plan negates it
(``no …`` on Cisco-like platforms, ``undo …`` on Huawei/H3C); for every section of
the backup missing now it adds the section with its children; sections in both are
compared child by child, inside their own context. Secrets are masked in what is
shown (``secrets.mask``): the plan is for review; a restore applies the stored copy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from orchestrator.backups.diff import VOLATILE
from orchestrator.backups.secrets import mask

# netmiko device_type -> how a configuration line is negated and how config mode is entered.
_VRP = ("huawei", "hp_comware", "hp_procurve_ssh")
_CISCO = ("cisco", "arista", "dell", "extreme", "brocade", "ruckus", "mellanox", "ubiquiti")
_COMMENT = re.compile(r"^\s*(?:!|#|end$|return$)")


@dataclass
class _Node:
    line: str
    children: list[_Node] = field(default_factory=list)


@dataclass(frozen=True)
class RestorePlan:
    platform: str
    commands: tuple[str, ...]  # in order, secrets masked
    removed: int = 0  # lines negated
    added: int = 0  # lines (re)added
    note: str = ""  # why there is no plan, when the platform is not supported

    @property
    def in_sync(self) -> bool:
        return not self.note and not self.removed and not self.added

    @property
    def supported(self) -> bool:
        return not self.note


@dataclass(frozen=True)
class _Dialect:
    enter: str
    leave_section: str
    leave: str
    negate_word: str


_DIALECTS = {
    "cisco": _Dialect("configure terminal", "exit", "end", "no"),
    "vrp": _Dialect("system-view", "quit", "return", "undo"),
}


def dialect_of(platform: str) -> str | None:
    if platform.startswith(_VRP):
        return "vrp"
    if platform.startswith(_CISCO):
        return "cisco"
    return None


def parse_tree(text: str) -> list[_Node]:
    """Configuration text as a tree of lines by indentation (comments and volatile lines out)."""
    root = _Node("")
    stack: list[tuple[int, _Node]] = [(-1, root)]
    for raw in text.splitlines():
        line = raw.rstrip()
        if line in ("!", "#"):  # a separator in column 0 ends every open section
            del stack[1:]
            continue
        if not line.strip() or _COMMENT.match(line) or any(p.search(line) for p in VOLATILE):
            continue
        indent = len(line) - len(line.lstrip())
        while stack[-1][0] >= indent:
            stack.pop()
        node = _Node(line.strip())
        stack[-1][1].children.append(node)
        stack.append((indent, node))
    return root.children


def _negate(line: str, word: str) -> str:
    prefix = word + " "
    return line[len(prefix) :] if line.startswith(prefix) else f"{prefix}{line}"


def _subtree(node: _Node, depth: int) -> list[str]:
    lines = [" " * depth + node.line]
    for child in node.children:
        lines += _subtree(child, depth + 1)
    return lines


class _Planner:
    def __init__(self, dialect: _Dialect) -> None:
        self.dialect = dialect
        self.commands: list[str] = []
        self.removed = 0
        self.added = 0

    def compare(self, now: Sequence[_Node], backup: Sequence[_Node], path: tuple[str, ...]) -> None:
        current = {n.line: n for n in now}
        wanted = {n.line: n for n in backup}
        body: list[str] = []
        depth = len(path)
        for node in now:
            if node.line not in wanted:
                body.append(" " * depth + _negate(node.line, self.dialect.negate_word))
                self.removed += 1 + _count(node.children)
        for node in backup:
            if node.line not in current:
                body += _subtree(node, depth)
                self.added += 1 + _count(node.children)
        if body:
            self._emit(path, body)
        for node in backup:
            if node.line in current and (node.children or current[node.line].children):
                self.compare(current[node.line].children, node.children, (*path, node.line))

    def _emit(self, path: tuple[str, ...], body: list[str]) -> None:
        self.commands += [" " * i + line for i, line in enumerate(path)]
        self.commands += body
        self.commands += [
            " " * (i - 1) + self.dialect.leave_section for i in range(len(path), 0, -1)
        ]


def _count(nodes: Sequence[_Node]) -> int:
    return sum(1 + _count(n.children) for n in nodes)


def restore_plan(platform: str, current: str, backup: str) -> RestorePlan:
    """The commands that turn ``current`` (the running config now) into ``backup``."""
    family = dialect_of(platform)
    if family is None:
        return RestorePlan(
            platform,
            (),
            note=f"no line-by-line restore plan for platform {platform!r}: restore the stored "
            "copy whole (e.g. configure replace / load override)",
        )
    dialect = _DIALECTS[family]
    planner = _Planner(dialect)
    planner.compare(parse_tree(current), parse_tree(backup), ())
    if not planner.commands:
        return RestorePlan(platform, ())
    shown = mask("\n".join([dialect.enter, *planner.commands, dialect.leave])).text
    return RestorePlan(platform, tuple(shown.split("\n")), planner.removed, planner.added)
