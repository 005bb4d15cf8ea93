"""Thresholds and grading: turn a step's output into normal / warning / critical items.

A threshold is ``OP operand`` (``>= 90``, ``!= "ok"``) and is *breached* when
``value OP operand`` holds. A check is CRITICAL if its ``crit`` threshold is
breached, else WARNING if ``warn`` is, else NORMAL; UNKNOWN when the value
cannot be measured or compared. Thresholds written with ``{{ }}`` (tuned by
inventory vars) are rendered per host, then parsed and checked like static ones.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from orchestrator.runbook.model import Check, CheckResult, Comparison, Grade, Threshold
from orchestrator.runbook.template import RenderError, evaluate, is_template, render

__all__ = [
    "THRESHOLD_HINT",
    "grade_checks",
    "inconsistency",
    "is_templated",
    "parse_threshold",
    "templated_threshold",
    "to_number",
]

THRESHOLD_HINT = 'write an operator and an operand, e.g. ">= 90", "< 0.5" or "!= \\"ok\\""'

_THRESHOLD = re.compile(r"\s*(>=|<=|==|!=|>|<)(?![<>=!])\s*(.*?)\s*", re.DOTALL)
_OPERATOR_LIKE = re.compile(r"\s*([<>=!]+)")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_UPPER = (Comparison.GE, Comparison.GT)  # breached by high values
_LOWER = (Comparison.LE, Comparison.LT)  # breached by low values
_COMPARE: Mapping[Comparison, Callable[[Any, Any], bool]] = {
    Comparison.GE: operator.ge,
    Comparison.GT: operator.gt,
    Comparison.LE: operator.le,
    Comparison.LT: operator.lt,
    Comparison.EQ: operator.eq,
    Comparison.NE: operator.ne,
}


def parse_threshold(text: str) -> Threshold:
    """Parse ``OP operand``; raises ``ValueError`` saying exactly what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"a threshold is text like '>= 90', got {type(text).__name__} {text!r}")
    match = _THRESHOLD.fullmatch(text)
    if match is None and (bad := _OPERATOR_LIKE.match(text)):
        raise ValueError(f"{text!r}: unknown operator {bad.group(1)!r} (use >=, >, <=, <, ==, !=)")
    if match is None:
        raise ValueError(
            f"{text!r} does not start with a comparison operator (>=, >, <=, <, ==, !=)"
        )
    op, operand_text = Comparison(match.group(1)), match.group(2)
    if not operand_text:
        raise ValueError(f"{text!r} has no operand after {op.value!r}")
    operand: float | str
    if _NUMBER.fullmatch(operand_text):
        operand = float(operand_text)
    elif quoted := _QUOTED.fullmatch(operand_text):
        operand = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
        if op not in (Comparison.EQ, Comparison.NE):
            raise ValueError(f"{text!r}: text can only be compared with == or !=")
    else:
        raise ValueError(
            f"{text!r}: operand {operand_text!r} is neither a number nor a quoted string"
            f' (to compare text write {op.value} "{operand_text}")'
        )
    return Threshold(op, operand, text.strip())


def templated_threshold(text: str) -> Threshold:
    """A threshold whose text has ``{{ }}``: kept as source, parsed per host by ``grade_checks``.

    ``op`` is the operator when it is written literally (else ``==`` as a
    placeholder) and ``operand`` the unrendered rest; only ``source`` is meaningful.
    """
    match = _THRESHOLD.fullmatch(text)
    if match is not None:
        return Threshold(Comparison(match.group(1)), match.group(2), text.strip())
    return Threshold(Comparison.EQ, text.strip(), text.strip())


def is_templated(threshold: Threshold) -> bool:
    return is_template(threshold.source)


def inconsistency(warn: Threshold, crit: Threshold) -> str | None:
    """Why ``warn`` and ``crit`` contradict each other, or None when they are consistent."""
    if not (isinstance(warn.operand, float) and isinstance(crit.operand, float)):
        return None
    if warn.op in _UPPER and crit.op in _UPPER and crit.operand < warn.operand:
        return (
            f"crit {crit.source!r} is below warn {warn.source!r}: "
            "for >=/> the crit operand must be >= the warn operand"
        )
    if warn.op in _LOWER and crit.op in _LOWER and crit.operand > warn.operand:
        return (
            f"crit {crit.source!r} is above warn {warn.source!r}: "
            "for <=/< the crit operand must be <= the warn operand"
        )
    if (warn.op in _UPPER and crit.op in _LOWER) or (warn.op in _LOWER and crit.op in _UPPER):
        return f"warn {warn.source!r} and crit {crit.source!r} point in opposite directions"
    return None


def to_number(value: Any) -> int | float | None:
    """``value`` as a number (int when integral), or None when it is not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value.strip())
    else:
        return None
    return int(number) if number.is_integer() else number


class _Unknown(Exception):
    """The item cannot be graded; the message says why."""


def grade_checks(checks: Sequence[Check], context: Mapping[str, Any]) -> tuple[CheckResult, ...]:
    """Grade every check (every ``loop`` item) of one step against ``context``.

    ``context`` is the host's template context plus the step's ``stdout``,
    ``stderr``, ``rc``, ``parsed`` and ``status``. Never raises for bad data:
    what cannot be graded is an UNKNOWN item with the reason.
    """
    results: list[CheckResult] = []
    for check in checks:
        if check.loop is None:
            results.append(_grade_item(check, check.name, context))
        else:
            results.extend(_grade_loop(check, check.loop, context))
    return tuple(results)


def _grade_loop(check: Check, loop: str, context: Mapping[str, Any]) -> Iterable[CheckResult]:
    try:
        items = _loop_items(evaluate(loop, context))
    except (RenderError, _Unknown) as exc:
        return [_unknown(check, check.name, f"loop: {exc}")]
    if not items:
        return [_unknown(check, check.name, f"loop {loop!r} gave no items")]
    results = []
    for index, item in enumerate(items):
        item_context = {**context, "item": item}
        try:
            label = _label(check, item, index, item_context)
        except RenderError as exc:
            results.append(_unknown(check, f"{check.name} #{index + 1}", f"label: {exc}"))
            continue
        results.append(_grade_item(check, f"{check.name} {label}", item_context))
    return results


def _loop_items(value: Any) -> list[Any]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise _Unknown(f"expected a list, got {type(value).__name__} {_short(value)}")
    return list(value)


def _label(check: Check, item: Any, index: int, context: Mapping[str, Any]) -> str:
    if check.label is not None:
        return str(evaluate(check.label, context))
    if isinstance(item, str | int | float):
        return str(item)
    return f"#{index + 1}"


def _grade_item(check: Check, name: str, context: Mapping[str, Any]) -> CheckResult:
    value: Any = None
    try:
        value = _measure(check, context)
        warn = _resolve("warn", check.warn, context)
        crit = _resolve("crit", check.crit, context)
        if warn is not None and crit is not None and (why := inconsistency(warn, crit)):
            raise _Unknown(why)
        if crit is not None and _breached(crit, value):
            return CheckResult(name, Grade.CRITICAL, value, check.unit, crit.source, check.hint)
        if warn is not None and _breached(warn, value):
            return CheckResult(name, Grade.WARNING, value, check.unit, warn.source, check.hint)
    except _Unknown as exc:
        return CheckResult(name, Grade.UNKNOWN, value, check.unit, _both(check), str(exc))
    return CheckResult(name, Grade.NORMAL, value, check.unit, _both(check, warn, crit))


def _unknown(check: Check, name: str, message: str) -> CheckResult:
    return CheckResult(name, Grade.UNKNOWN, None, check.unit, _both(check), message)


def _both(check: Check, warn: Threshold | None = None, crit: Threshold | None = None) -> str:
    warn, crit = warn or check.warn, crit or check.crit
    parts = [f"{label} {t.source}" for label, t in (("warn", warn), ("crit", crit)) if t]
    return ", ".join(parts)


def _measure(check: Check, context: Mapping[str, Any]) -> Any:
    if check.value is None:
        stdout = str(context.get("stdout") or "").strip()
        if not stdout:
            raise _Unknown("the step printed nothing to measure")
        number = to_number(stdout)
        return stdout if number is None else number
    try:
        value = evaluate(check.value, context)
    except RenderError as exc:
        raise _Unknown(f"value: {exc}") from None
    if value is None:
        raise _Unknown(f"value {check.value!r} is empty (none)")
    number = to_number(value)
    return value if number is None else number


def _resolve(
    which: str, threshold: Threshold | None, context: Mapping[str, Any]
) -> Threshold | None:
    if threshold is None or not is_templated(threshold):
        return threshold
    try:
        text = render(threshold.source, context)
    except RenderError as exc:
        raise _Unknown(f"{which} threshold: {exc}") from None
    try:
        return parse_threshold(text)
    except ValueError as exc:
        raise _Unknown(
            f"{which} threshold {threshold.source!r} rendered to {text!r}: {exc}"
        ) from None


def _breached(threshold: Threshold, value: Any) -> bool:
    if isinstance(threshold.operand, str):
        number = to_number(value)
        text = str(number) if number is not None else str(value)
        return _COMPARE[threshold.op](text, threshold.operand)
    number = to_number(value)
    if number is None:
        raise _Unknown(f"value {_short(value)} is not a number (threshold {threshold.source})")
    return _COMPARE[threshold.op](number, threshold.operand)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
