"""YAML loading that remembers where each value came from, so errors can name file:line.

``load_yaml`` returns plain-looking data: mappings are ``LineDict`` (a dict) and
sequences ``LineList`` (a list), each carrying the 1-based line of itself
(``.line``) and of each key / item (``.line_of(key)``). Scalars are plain.
Duplicate keys are an error (PyYAML silently keeps the last one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from orchestrator.errors import Problem, ValidationError


class LineDict(dict[str, Any]):
    line: int = 0
    lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class LineList(list[Any]):
    line: int = 0
    lines: list[int]

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


def line_of(node: Any, key: Any = None) -> int | None:
    """Line of ``node`` (or of ``node[key]``) if it was loaded by this module."""
    if isinstance(node, LineDict | LineList):
        return node.line if key is None else node.line_of(key)
    return None


class _Loader(yaml.SafeLoader):
    """SafeLoader building LineDict/LineList with line numbers."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result.lines:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {result.lines[key]})",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def parse_yaml(text: str, source: Path | str) -> Any:
    """Parse YAML text; syntax errors become a ValidationError naming source:line."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # An unclosed bracket or quote is only noticed at the end of the file; the
        # line where the unclosed thing started is the one to fix.
        if exc.context_mark is not None and mark is not None and mark.line >= text.count("\n"):
            mark = exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p) or str(exc)
        raise ValidationError(
            [
                Problem(
                    f"invalid YAML: {message}",
                    file=source,
                    line=line,
                    hint="check indentation and quoting on that line",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise ValidationError([Problem(f"invalid YAML: {exc}", file=source)]) from None


def load_yaml(path: Path) -> Any:
    """Read and parse a YAML file (see ``parse_yaml``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError([Problem(f"cannot read file: {exc.strerror}", file=path)]) from None
    return parse_yaml(text, path)
