"""Loading and validating runbooks: YAML file -> ``Runbook``, or a ``RunbookError`` listing
every problem (file, line, field, hint) before anything runs.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.errors import NotFoundError, Problem, RunbookError, ValidationError
from orchestrator.runbook.fields import Problems, Section, describe_type, plain, suggest
from orchestrator.runbook.model import (
    MUTATES_BY_DEFAULT,
    ChangePolicy,
    Runbook,
    RunbookKind,
    Step,
)
from orchestrator.runbook.rollout_fields import (
    STEP_LISTS,
    check_lists,
    read_evidence,
    read_strategy,
)
from orchestrator.runbook.scope import RESERVED_NAMES, NameChecker, free_variables
from orchestrator.runbook.steps import IDENTIFIER, StepReader
from orchestrator.yamlfile import LineDict, LineList, load_yaml

__all__ = ["RunbookCatalog", "free_variables", "load_runbook"]

log = logging.getLogger(__name__)

TOP_KEYS = frozenset(
    {
        "name",
        "description",
        "kind",
        "change",
        "mutates",
        "targets",
        "timeout",
        "strategy",
        "vars",
        "steps",
        *STEP_LISTS,
        "evidence",
    }
)
SUFFIXES = (".yml", ".yaml")


def load_runbook(path: Path, *, known_vars: Collection[str] | None = None) -> Runbook:
    """Load and validate one runbook; raise ``RunbookError`` listing every problem.

    ``known_vars`` are the inventory's variable names: templates may use them.
    None skips that check (names that are not otherwise defined are then taken
    to come from the inventory; see ``free_variables``).
    """
    try:
        data = load_yaml(path)
    except ValidationError as exc:
        raise RunbookError(exc.problems) from None
    if not isinstance(data, LineDict):
        what = "the file is empty" if data is None else f"got {describe_type(data)}"
        raise RunbookError(
            [
                Problem(
                    f"a runbook must be a mapping of keys; {what}",
                    file=path,
                    line=getattr(data, "line", None) or 1,
                    hint="start with 'name:', 'targets:' and 'steps:'",
                )
            ]
        )
    problems = Problems(path)
    runbook = _read(Section(problems, data), path, known_vars)
    if problems or runbook is None:
        items = sorted(problems.items, key=lambda p: p.line or 0)
        raise RunbookError(items or [Problem("runbook is invalid", file=path)])
    log.debug("loaded runbook %s from %s (%d steps)", runbook.name, path, len(runbook.steps))
    return runbook


def _read(top: Section, path: Path, known_vars: Collection[str] | None) -> Runbook | None:
    top.only(TOP_KEYS)
    name = _name(top, path)
    kind = top.choice("kind", RunbookKind, RunbookKind.CUSTOM)
    change = top.choice("change", ChangePolicy, ChangePolicy.REQUIRED)
    mutates = top.flag("mutates", MUTATES_BY_DEFAULT[kind])
    if change is ChangePolicy.NONE and mutates:
        top.error(
            "change",
            "change: none is only allowed for read-only runbooks",
            "use change: required (or set mutates: false if it truly changes nothing)",
        )
    targets = top.text(
        "targets", required=True, hint='add targets: with an Ansible host pattern, e.g. "linux"'
    )
    description = top.get("description", str)
    timeout = top.seconds("timeout")
    strategy = read_strategy(top)
    runbook_vars = _vars(top)
    lists = _steps(top, path, runbook_vars, known_vars)
    if name is None or targets is None or lists is None:
        return None
    check_lists(top, lists.by_key, mutates)
    return Runbook(
        name=name,
        kind=kind,
        change=change,
        targets=targets,
        steps=lists.by_key["steps"],
        pre_checks=lists.by_key["pre_checks"],
        post_checks=lists.by_key["post_checks"],
        rollback=lists.by_key["rollback"],
        evidence=lists.evidence,
        description=description or "",
        mutates=mutates,
        vars=runbook_vars,
        strategy=strategy,
        timeout=timeout,
        path=path,
    )


def _name(top: Section, path: Path) -> str | None:
    name = top.get("name", str, required=True, hint=f"add name: {path.stem} (the file name)")
    if name is not None and name != path.stem:
        top.error(
            "name",
            f"name {name!r} differs from the file name {path.name!r}",
            f"rename the file to {name}{path.suffix or '.yml'} or set name: {path.stem}",
        )
    return name  # type: ignore[no-any-return]


def _vars(top: Section) -> dict[str, Any]:
    section = top.section("vars")
    if section is None:
        return {}
    for key in section.data:
        if not isinstance(key, str) or not IDENTIFIER.fullmatch(key):
            section.error(
                key if isinstance(key, str) else None,
                f"variable name {key!r} is not a valid name",
                "use letters, digits and _, not starting with a digit",
            )
        elif key in RESERVED_NAMES:
            section.error(key, f"variable name {key!r} is reserved", "choose another name")
    return plain(section.data)  # type: ignore[no-any-return]


@dataclass
class _StepLists:
    """The step lists read so far (by key, in ``STEP_LISTS`` order) and the evidence."""

    by_key: dict[str, tuple[Step, ...]]
    evidence: dict[str, str]


@dataclass
class _Seen:
    """Step names and registers over every list: unique in the whole runbook."""

    names: dict[str, str]  # name -> field of the step that has it
    registers: dict[str, tuple[int, str]]  # register -> (position in run order, step name)
    fields: dict[int, str]  # position in run order -> field


def _steps(
    top: Section, path: Path, runbook_vars: dict[str, Any], known_vars: Collection[str] | None
) -> _StepLists | None:
    """Every step list (pre_checks, steps, post_checks, rollback); positions run on across
    them, so a template may use the registers of any earlier step, whatever its list."""
    reader = StepReader(path.parent)
    seen = _Seen({}, {}, {})
    lists: dict[str, tuple[Step, ...] | None] = {}
    offset = 0
    for key in STEP_LISTS:
        lists[key], offset = _step_list(top, key, reader, seen, runbook_vars, offset)
    checker = NameChecker(
        top.problems, runbook_vars=runbook_vars, registers=seen.registers, known_vars=known_vars
    )
    for use in reader.uses:
        checker.check(use)
    evidence = read_evidence(top, seen.registers)
    complete = {key: found for key, found in lists.items() if found is not None}
    if len(complete) != len(lists):
        return None
    return _StepLists(complete, evidence)


def _step_list(
    top: Section,
    key: str,
    reader: StepReader,
    seen: _Seen,
    runbook_vars: dict[str, Any],
    offset: int,
) -> tuple[tuple[Step, ...] | None, int]:
    main = key == "steps"
    hint = "add steps: with at least one '- name: ...'" if main else "a list of steps"
    items = top.get(key, list, required=main, hint=hint)
    if items is None:
        return (None if main else ()), offset
    if not items and main:
        top.error("steps", "a runbook needs at least one step", "add a list item: - name: ...")
        return None, offset
    steps: list[Step | None] = []
    for index, item in enumerate(items):
        field = f"{key}[{index}]"
        if not isinstance(item, LineDict):
            top.problems.add(
                f"a step must be a mapping, got {describe_type(item)}",
                line=_item_line(items, index),
                field=field,
                hint="each step starts with '- name: ...'",
            )
            steps.append(None)
            continue
        step = reader.read(Section(top.problems, item, field), offset + index)
        steps.append(step)
        seen.fields[offset + index] = field
        _note_unique(top, item, field, seen=seen, runbook_vars=runbook_vars, index=offset + index)
    end = offset + len(items)
    if any(step is None for step in steps):
        return None, end
    return tuple(step for step in steps if step is not None), end


def _note_unique(
    top: Section,
    item: LineDict,
    field: str,
    *,
    seen: _Seen,
    runbook_vars: dict[str, Any],
    index: int,
) -> None:
    """Report a step name or register already used; remember this step's."""
    name, register = item.get("name"), item.get("register")
    names, registers = seen.names, seen.registers
    if isinstance(name, str):
        if name in names:
            top.problems.add(
                f"step name {name!r} repeats (first at {names[name]})",
                line=item.line_of("name"),
                field=f"{field}.name",
                hint="step names must be unique within a runbook",
            )
        names.setdefault(name, field)
    if not isinstance(register, str) or not IDENTIFIER.fullmatch(register):
        return
    if register in registers:
        first, first_name = registers[register]
        top.problems.add(
            f"register {register!r} is already used by step {first_name!r} ({seen.fields[first]})",
            line=item.line_of("register"),
            field=f"{field}.register",
            hint="give each register its own name",
        )
    elif register in runbook_vars:
        top.problems.add(
            f"register {register!r} would hide the runbook variable {register!r}",
            line=item.line_of("register"),
            field=f"{field}.register",
            hint="choose another register name",
        )
    else:
        registers[register] = (index, name if isinstance(name, str) else field)


def _item_line(items: Any, index: int) -> int | None:
    return items.line_of(index) if isinstance(items, LineList) else None


class RunbookCatalog:
    """The runbooks of one directory, by name (file stem); a name may also be a file path."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        found = {p.stem for p in self.directory.iterdir() if p.suffix in SUFFIXES and p.is_file()}
        return sorted(found)

    def path(self, name: str) -> Path:
        given = Path(name)
        if given.suffix in SUFFIXES and given.is_file():
            return given
        for suffix in SUFFIXES:
            candidate = self.directory / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
        available = self.names()
        hint = suggest(name, available)
        listing = ", ".join(available) if available else "none"
        raise NotFoundError(
            f"no runbook {name!r} in {self.directory}"
            + (f" ({hint})" if hint else "")
            + f"; available: {listing}"
        )

    def load(self, name: str, *, known_vars: Collection[str] | None = None) -> Runbook:
        return load_runbook(self.path(name), known_vars=known_vars)

    def validate_all(
        self, known_vars: Collection[str] | None = None
    ) -> dict[str, RunbookError | Runbook]:
        """Every runbook in the directory, loaded or with the error saying why not."""
        results: dict[str, RunbookError | Runbook] = {}
        for name in self.names():
            try:
                results[name] = self.load(name, known_vars=known_vars)
            except RunbookError as exc:
                results[name] = exc
        return results
