"""Validation of a step's ``parse:`` (regex, json, textfsm, ntc-templates) into a ``ParseSpec``."""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator.runbook.fields import Section
from orchestrator.runbook.model import ParseKind, ParseSpec, StepKind
from orchestrator.runbook.parse import ParseError, compile_regex, load_textfsm

PARSE_KEYS = frozenset({"regex", "multi", "json", "textfsm", "ntc"})


def read_parse(section: Section, kind: StepKind | None, base_dir: Path) -> ParseSpec | None:
    """A step's parse: spec, or None; problems are recorded on the section."""
    value = section.data.get("parse")
    if value is None:
        return None
    spec: ParseSpec | None
    if value in ("json", "ntc"):
        spec = (
            ParseSpec(ParseKind.JSON) if value == "json" else ParseSpec(ParseKind.TEXTFSM, ntc=True)
        )
    elif isinstance(value, str):
        section.error(
            "parse",
            f"unknown parse {value!r}",
            "write parse: json, parse: ntc, or a mapping: {regex: ...}, {textfsm: file}",
        )
        return None
    elif (inner := section.section("parse")) is not None:
        spec = _parse_mapping(inner, base_dir)
    else:
        return None
    if spec is not None and spec.ntc and kind not in (None, StepKind.CLI):
        section.error(
            "parse",
            "ntc-templates parse only cli: steps",
            "platform + command pick the template; use regex or textfsm here",
        )
    return spec


def _parse_mapping(spec: Section, base_dir: Path) -> ParseSpec | None:
    spec.only(PARSE_KEYS)
    kinds = [k for k in ("regex", "json", "textfsm", "ntc") if spec.has(k)]
    if len(kinds) != 1:
        spec.error(
            None,
            "parse needs exactly one of regex, json, textfsm, ntc",
            "e.g. {regex: '(?P<use>\\d+)%'}, json, {textfsm: t.textfsm}, {ntc: true}",
        )
        return None
    multi = spec.flag("multi", False)
    if multi and kinds[0] != "regex":
        spec.error("multi", "multi only goes with regex", "remove multi:")
    if kinds[0] == "regex":
        return _regex(spec, multi)
    if kinds[0] == "textfsm":
        return _textfsm(spec, base_dir)
    if spec.get(kinds[0], bool) is False:
        spec.error(kinds[0], f"{kinds[0]}: false means no parsing", "remove parse:")
        return None
    return (
        ParseSpec(ParseKind.JSON) if kinds[0] == "json" else ParseSpec(ParseKind.TEXTFSM, ntc=True)
    )


def _regex(spec: Section, multi: bool) -> ParseSpec | None:
    pattern = spec.text("regex")
    if pattern is None:
        return None
    try:
        regex = compile_regex(pattern)
    except re.error as exc:
        spec.error(
            "regex",
            f"invalid regex: {exc}",
            "check brackets and escapes; in YAML prefer single quotes around a regex",
        )
        return None
    if not regex.groupindex:
        spec.error("regex", "the regex has no named group", "name what you capture: (?P<use>\\d+)")
        return None
    return ParseSpec(ParseKind.REGEX, pattern=pattern, multi=multi)


def _textfsm(spec: Section, base_dir: Path) -> ParseSpec | None:
    text = spec.text("textfsm")
    if text is None:
        return None
    path = (base_dir / text).resolve()
    try:
        load_textfsm(path)
    except ParseError as exc:
        spec.error("textfsm", str(exc), "paths are relative to the runbook's directory")
        return None
    return ParseSpec(ParseKind.TEXTFSM, pattern=str(path))
