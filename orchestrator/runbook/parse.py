"""Turn a step's text output into data for checks and later steps (``parsed``).

Regex named groups, JSON, a TextFSM template file, or the ntc-templates
library looked up by netmiko platform + command. textfsm and ntc_templates
are third-party and live only here. Captured text stays text: checks decide
what is a number.
"""

from __future__ import annotations

import io
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import textfsm
from ntc_templates.parse import ParsingException
from ntc_templates.parse import parse_output as ntc_parse_output

from orchestrator.errors import OrchestratorError
from orchestrator.runbook.model import ParseKind, ParseSpec

__all__ = ["ParseError", "compile_regex", "load_textfsm", "parse_output"]

_EXCERPT = 80


class ParseError(OrchestratorError):
    """Output did not have the shape the runbook's ``parse`` expects."""

    exit_code = 1


@lru_cache(maxsize=512)
def compile_regex(pattern: str) -> re.Pattern[str]:
    """Compile a parse regex (MULTILINE, so ``^``/``$`` match at each line)."""
    return re.compile(pattern, re.MULTILINE)


def load_textfsm(path: Path) -> str:
    """Read and compile a TextFSM template; raises ``ParseError`` if unusable. Returns its text."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParseError(f"cannot read TextFSM template {path}: {exc.strerror}") from None
    try:
        textfsm.TextFSM(io.StringIO(text))
    except textfsm.Error as exc:
        raise ParseError(f"invalid TextFSM template {path}: {exc}") from None
    return text


def parse_output(
    spec: ParseSpec,
    output: str,
    *,
    platform: str | None = None,
    command: str = "",
    base_dir: Path | None = None,
) -> Any:
    """Parse ``output`` as ``spec`` says; raises ``ParseError`` when it does not fit.

    regex: the named groups of the first match (a dict), or with ``multi`` a list
    of them (empty when nothing matches); json: the decoded value; textfsm: a list
    of row dicts with lower-case keys, from ``spec.pattern`` (relative to
    ``base_dir``) or, with ``ntc``, from ntc-templates for ``platform`` + ``command``.
    """
    if spec.kind is ParseKind.REGEX:
        return _parse_regex(spec, output)
    if spec.kind is ParseKind.JSON:
        return _parse_json(output)
    if spec.ntc:
        return _parse_ntc(output, platform, command)
    return _parse_textfsm(spec, output, base_dir)


def _parse_regex(spec: ParseSpec, output: str) -> Any:
    if spec.pattern is None:
        raise ParseError("regex parse without a pattern")
    try:
        regex = compile_regex(spec.pattern)
    except re.error as exc:
        raise ParseError(f"invalid regex {spec.pattern!r}: {exc}") from None
    if spec.multi:
        return [match.groupdict() for match in regex.finditer(output)]
    match = regex.search(output)
    if match is None:
        raise ParseError(f"regex {spec.pattern!r} does not match the output {_excerpt(output)}")
    return match.groupdict()


def _parse_json(output: str) -> Any:
    try:
        return json.loads(output)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"output is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            f" {_excerpt(output)}"
        ) from None


def _parse_textfsm(spec: ParseSpec, output: str, base_dir: Path | None) -> list[dict[str, Any]]:
    if spec.pattern is None:
        raise ParseError("textfsm parse without a template path")
    path = Path(spec.pattern)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    fsm = textfsm.TextFSM(io.StringIO(load_textfsm(path)))
    try:
        rows = fsm.ParseText(output)
    except textfsm.Error as exc:
        raise ParseError(f"TextFSM template {path} failed on the output: {exc}") from None
    header = [name.lower() for name in fsm.header]
    return [dict(zip(header, row, strict=True)) for row in rows]


# netmiko device_type -> ntc-templates platform, where the two projects name it differently.
NTC_PLATFORM = {"huawei": "huawei_vrp", "huawei_vrpv8": "huawei_vrp"}


def _parse_ntc(output: str, platform: str | None, command: str) -> list[dict[str, Any]]:
    if not platform:
        raise ParseError("ntc-templates need the device platform (inventory var 'platform')")
    try:
        rows: list[dict[str, Any]] = ntc_parse_output(
            platform=NTC_PLATFORM.get(platform, platform), command=command, data=output
        )
    except ParsingException as exc:
        raise ParseError(f"ntc-templates: {exc}") from None
    except textfsm.Error as exc:
        raise ParseError(f"ntc-templates: template failed on the output: {exc}") from None
    return rows


def _excerpt(output: str) -> str:
    text = output.strip()
    if not text:
        return "(output is empty)"
    return repr(text if len(text) <= _EXCERPT else text[:_EXCERPT] + "...")
