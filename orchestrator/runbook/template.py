"""Jinja2 templates and expressions for runbooks, rendered in a sandbox (DESIGN.md §3).

Runbook authors are trusted less than the tool: templates run in an
``ImmutableSandboxedEnvironment`` (no ``''.__class__`` tricks, no mutating
methods) with ``StrictUndefined`` (a missing variable is an error, never an
empty string). Values that go into a shell command can be ``shlex.quote``d as
they are printed (``shell_quote=True``); ``{{ x | raw }}`` or a ``Raw`` value
opts out. This is the only jinja2 importer in the runbook package.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, Undefined, nodes
from jinja2.environment import TemplateExpression
from jinja2.meta import find_undeclared_variables
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from orchestrator.errors import OrchestratorError

__all__ = [
    "GLOBAL_NAMES",
    "Raw",
    "RenderError",
    "TemplateSyntaxError",
    "evaluate",
    "is_template",
    "referenced_names",
    "referenced_var_keys",
    "render",
    "render_value",
]

_CACHE_SIZE = 2048


class RenderError(OrchestratorError):
    """A template or expression could not be rendered (undefined name, sandbox, syntax...)."""

    exit_code = 1


class Raw(str):
    """A string that ``render(..., shell_quote=True)`` prints as is (the author vouches for it)."""

    __slots__ = ()


def _raw_filter(value: Any) -> Raw:
    return Raw(str(value))


def _quote_finalize(value: Any) -> str:
    # Called on every {{ }} output, never on the static text around it.
    if isinstance(value, Raw):
        return str(value)
    return shlex.quote(str(value))


def _make_environment(*, quoting: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_quote_finalize if quoting else None,
    )
    env.filters["raw"] = _raw_filter
    return env


_PLAIN = _make_environment(quoting=False)
_QUOTING = _make_environment(quoting=True)

# Names Jinja itself provides (range, dict, namespace, ...): never "undefined".
GLOBAL_NAMES: frozenset[str] = frozenset(_PLAIN.globals)


def is_template(text: str) -> bool:
    """Whether ``text`` contains Jinja markup (and so must be rendered per host)."""
    return "{{" in text or "{%" in text or "{#" in text


@lru_cache(maxsize=_CACHE_SIZE)
def _compile(source: str, quoting: bool) -> Template:
    env = _QUOTING if quoting else _PLAIN
    return env.from_string(source)


def _parse_expression(source: str) -> nodes.Expr:
    parser = Parser(_PLAIN, source, state="variable")
    expr = parser.parse_expression()
    if not parser.stream.eos:
        raise TemplateSyntaxError(
            f"unexpected {parser.stream.current.value!r} after the expression",
            parser.stream.current.lineno,
        )
    return expr


@lru_cache(maxsize=_CACHE_SIZE)
def _compile_expression(source: str) -> TemplateExpression:
    # As Environment.compile_expression, with a clearer message for trailing text.
    expr = _parse_expression(source)
    expr.set_environment(_PLAIN)
    body = [nodes.Assign(nodes.Name("result", "store"), expr, lineno=1)]
    return TemplateExpression(_PLAIN.from_string(nodes.Template(body, lineno=1)), False)


def _describe(exc: Exception) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"template syntax error: {exc.message} (template line {exc.lineno})"
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, TemplateError):
        return message
    return f"{type(exc).__name__}: {message}"


def render(source: str, context: Mapping[str, Any], *, shell_quote: bool = False) -> str:
    """Render a template; with ``shell_quote`` every ``{{ }}`` output is ``shlex.quote``d."""
    try:
        return _compile(source, shell_quote).render(context)
    # Author-written templates can raise anything (1/0, 'a' + 1): all of it is a RenderError.
    except Exception as exc:
        raise RenderError(f"cannot render {source!r}: {_describe(exc)}") from exc


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """Evaluate a Jinja2 expression (no ``{{ }}``); an undefined result is an error."""
    try:
        result = _compile_expression(expression)(**context)
        if isinstance(result, Undefined):
            str(result)  # StrictUndefined raises here, naming the missing variable
        return result
    except Exception as exc:
        raise RenderError(f"cannot evaluate {expression!r}: {_describe(exc)}") from exc


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every string inside nested mappings/lists (e.g. ansible module args)."""
    if isinstance(value, str):
        return render(value, context) if is_template(value) else value
    if isinstance(value, Mapping):
        return {k: render_value(v, context) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render_value(v, context) for v in value]
    return value


@lru_cache(maxsize=_CACHE_SIZE)
def _tree(source: str, expression: bool) -> nodes.Template:
    if expression:
        tree = nodes.Template([nodes.Output([_parse_expression(source)])], lineno=1)
        tree.set_environment(_PLAIN)
        return tree
    return _PLAIN.parse(source)


def referenced_names(source: str, *, expression: bool = False) -> frozenset[str]:
    """Top-level names a template (or expression) reads; raises ``TemplateSyntaxError``."""
    return frozenset(find_undeclared_variables(_tree(source, expression))) - GLOBAL_NAMES


def referenced_var_keys(source: str, *, expression: bool = False) -> frozenset[str]:
    """Keys read as ``vars.KEY`` or ``vars['KEY']``, so they can be checked like names."""
    keys: set[str] = set()
    tree = _tree(source, expression)
    for attr in tree.find_all(nodes.Getattr):
        if isinstance(attr.node, nodes.Name) and attr.node.name == "vars":
            keys.add(attr.attr)
    for item in tree.find_all(nodes.Getitem):
        if (
            isinstance(item.node, nodes.Name)
            and item.node.name == "vars"
            and isinstance(item.arg, nodes.Const)
            and isinstance(item.arg.value, str)
        ):
            keys.add(item.arg.value)
    return frozenset(keys)
