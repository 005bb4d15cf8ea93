"""Which names a runbook template may use, and the context the engine renders them with.

A name is defined when it is a builtin (``host``, ``vars``, ``run``; inside
checks also ``stdout``, ``stderr``, ``rc``, ``parsed``, ``status``, ``clock``; inside a
looped check ``item``), a Jinja global, a runbook ``vars`` key, the ``register``
of an *earlier* step, or an inventory variable. The loader checks every template
against these rules before anything runs; ``free_variables`` lists what the
runbook needs from the inventory so the engine can check each host up front.
The engine builds the matching context (``orchestrator.engine.context``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.runbook.fields import Problems, suggest
from orchestrator.runbook.model import Runbook, Step, StepKind
from orchestrator.runbook.template import (
    GLOBAL_NAMES,
    TemplateSyntaxError,
    is_template,
    referenced_names,
    referenced_var_keys,
)

HOST_NAMES: frozenset[str] = frozenset({"host", "vars", "run"})
# ``clock`` (started/ended epoch seconds around the command) is set by the engine for checks.
CHECK_NAMES: frozenset[str] = frozenset({"stdout", "stderr", "rc", "parsed", "status", "clock"})
LOOP_NAMES: frozenset[str] = frozenset({"item"})
# Names a runbook var or register may not take: they would hide a builtin.
RESERVED_NAMES: frozenset[str] = (
    HOST_NAMES
    | CHECK_NAMES
    | LOOP_NAMES
    | GLOBAL_NAMES
    | frozenset(
        {
            "true",
            "false",
            "none",
            "True",
            "False",
            "None",
            "and",
            "or",
            "not",
            "in",
            "is",
            "if",
            "else",
            "loop",
            "self",
            "varargs",
            "kwargs",
        }
    )
)


@dataclass(frozen=True)
class TemplateUse:
    """One template or expression found while loading, with where it was written."""

    source: str
    expression: bool
    step: int  # index of the step it belongs to
    extra: frozenset[str]  # builtins defined only here (check names, item)
    field: str
    line: int | None


class NameChecker:
    """Checks every name each ``TemplateUse`` reads; reports into ``problems``."""

    def __init__(
        self,
        problems: Problems,
        *,
        runbook_vars: Collection[str],
        registers: Mapping[str, tuple[int, str]],  # register -> (step index, step name)
        known_vars: Collection[str] | None,
    ) -> None:
        self.problems = problems
        self.runbook_vars = frozenset(runbook_vars)
        self.registers = registers
        self.known_vars = None if known_vars is None else frozenset(known_vars)

    def check(self, use: TemplateUse) -> None:
        try:
            names = referenced_names(use.source, expression=use.expression)
            var_keys = referenced_var_keys(use.source, expression=use.expression)
        except TemplateSyntaxError as exc:
            self._syntax_error(use, exc)
            return
        for name in sorted(names):
            self._check_name(use, name)
        for key in sorted(var_keys):
            if key not in self.runbook_vars and not self._known(key):
                self._report(use, f"undefined variable 'vars.{key}'", self._undefined_hint(key))

    def _syntax_error(self, use: TemplateUse, exc: TemplateSyntaxError) -> None:
        where = f" (line {exc.lineno} of the text)" if exc.lineno and exc.lineno > 1 else ""
        if use.expression and is_template(use.source):
            hint = "this field is a Jinja2 expression: write it without {{ }}"
        else:
            hint = "check the Jinja2 syntax: {{ name }}, {{ x | filter }}, {% if ... %}"
        self._report(use, f"template syntax error: {exc.message}{where}", hint)

    def _check_name(self, use: TemplateUse, name: str) -> None:
        if name in HOST_NAMES or name in use.extra:
            return
        if name in CHECK_NAMES:
            self._report(
                use,
                f"{name!r} is only defined inside a step's checks",
                "use it in checks (value, warn, crit, loop, label) or register the step",
            )
            return
        if name in LOOP_NAMES:
            self._report(
                use,
                "'item' is only defined in a check with 'loop'",
                "add loop: to the check, or read the value another way",
            )
            return
        if name in self.runbook_vars:
            return
        if name in self.registers:
            self._check_order(use, name)
            return
        if not self._known(name):
            self._report(use, f"undefined variable {name!r}", self._undefined_hint(name))

    def _check_order(self, use: TemplateUse, name: str) -> None:
        index, step_name = self.registers[name]
        if index < use.step:
            return
        if index == use.step:
            self._report(
                use,
                f"{name!r} is registered by this step, so only later steps see it",
                "inside this step's checks use stdout, rc, parsed and status",
            )
        else:
            self._report(
                use,
                f"{name!r} is used before step {step_name!r} (steps[{index}]) registers it",
                f"move this step after {step_name!r}",
            )

    def _known(self, name: str) -> bool:
        return self.known_vars is None or name in self.known_vars

    def _undefined_hint(self, name: str) -> str:
        candidates = set(self.runbook_vars) | set(self.registers) | set(HOST_NAMES)
        candidates |= self.known_vars or set()
        return suggest(name, candidates) or (
            "define it under the runbook's vars: or as an inventory host/group variable"
        )

    def _report(self, use: TemplateUse, message: str, hint: str) -> None:
        self.problems.add(message, line=use.line, field=use.field, hint=hint)


def free_variables(runbook: Runbook) -> frozenset[str]:
    """Names the runbook's templates need from the inventory (not builtin, vars or registers)."""
    defined = HOST_NAMES | CHECK_NAMES | LOOP_NAMES | frozenset(runbook.vars)
    defined |= frozenset(s.register for s in runbook.all_steps if s.register)
    needed: set[str] = set()
    for step in runbook.all_steps:
        for source, expression in _templates(step):
            needed |= referenced_names(source, expression=expression) - defined
            needed |= referenced_var_keys(source, expression=expression) - frozenset(runbook.vars)
    return frozenset(needed)


def _templates(step: Step) -> Iterator[tuple[str, bool]]:
    """(source, is_expression) of every template in a validated step."""
    if step.kind is StepKind.ANSIBLE or not isinstance(step.action, str):  # specs: every string
        yield from ((s, False) for s in _strings(step.action) if is_template(s))
    elif isinstance(step.action, str):
        yield step.action, False
    if step.when is not None:
        yield step.when, True
    for check in step.checks:
        yield from ((e, True) for e in (check.value, check.loop, check.label) if e is not None)
        yield from (
            (t.source, False)
            for t in (check.warn, check.crit)
            if t is not None and is_template(t.source)
        )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
