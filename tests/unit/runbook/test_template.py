"""The sandboxed template engine: quoting, raw, strict undefined, sandbox, name analysis."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from orchestrator.runbook.template import (
    Raw,
    RenderError,
    TemplateSyntaxError,
    evaluate,
    referenced_names,
    referenced_var_keys,
    render,
    render_value,
)

INJECTIONS = [
    "; rm -rf /",
    "$(id)",
    "`reboot`",
    "a b",
    "x' ; echo 'y",
    "&& halt",
    "|| true",
    "\n ls",
]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_shell_quote_turns_every_injection_into_one_literal_word(evil: str) -> None:
    command = render("ls -l {{ path }}", {"path": evil}, shell_quote=True)
    assert shlex.split(command) == ["ls", "-l", evil]


def test_quoted_injection_is_inert_in_a_real_shell() -> None:
    """End to end through /bin/sh: the payload is printed, not executed."""
    command = render(
        "printf '%s\\n' {{ a }} {{ b }}",
        {"a": "$(echo pwned)", "b": "; echo pwned"},
        shell_quote=True,
    )
    out = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["$(echo pwned)", "; echo pwned"]


def test_static_text_is_never_quoted() -> None:
    text = "df -P / | awk 'NR==2 {print $5+0}' && echo $HOME"
    assert render(text, {}, shell_quote=True) == text


def test_raw_filter_and_raw_values_are_not_quoted() -> None:
    context = {"opts": "-x tmpfs -x devtmpfs", "flags": Raw("-a -b"), "mounts": ["/", "/var"]}
    rendered = render(
        "df {{ opts | raw }} {{ flags }} {{ mounts | join(' ') | raw }} {{ opts }}",
        context,
        shell_quote=True,
    )
    assert rendered == "df -x tmpfs -x devtmpfs -a -b / /var '-x tmpfs -x devtmpfs'"


def test_non_strings_are_stringified_then_quoted() -> None:
    assert render("sleep {{ n }} {{ items }}", {"n": 5, "items": [1, 2]}, shell_quote=True) == (
        "sleep 5 '[1, 2]'"
    )
    assert render("echo {{ e }}", {"e": ""}, shell_quote=True) == "echo ''"


def test_without_shell_quote_values_are_printed_as_is() -> None:
    assert render("show run | i {{ pat }}", {"pat": "a b; c"}) == "show run | i a b; c"


def test_undefined_variable_is_an_error_naming_it() -> None:
    with pytest.raises(RenderError, match="'disk_wran' is undefined"):
        render("{{ disk_wran }}", {"disk_warn": 80})
    with pytest.raises(RenderError, match="has no attribute 'stdout'"):
        render("{{ r.stdout }}", {"r": {}})


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ f.__globals__ }}",
        "{{ items.append(3) }}",
        "{{ d.update({'a': 1}) }}",
    ],
)
def test_sandbox_blocks_unsafe_access(source: str) -> None:
    context = {"f": test_sandbox_blocks_unsafe_access, "items": [1], "d": {}}
    with pytest.raises(RenderError, match="unsafe"):
        render(source, context)
    assert context["items"] == [1]
    assert context["d"] == {}


def test_sandbox_blocks_unsafe_access_in_expressions() -> None:
    with pytest.raises(RenderError, match="unsafe"):
        evaluate("''.__class__", {})


def test_template_errors_of_all_kinds_become_render_errors() -> None:
    for source in ("{{ 1 / 0 }}", "{{ 'a' + 1 }}", "{{ x", "{{ x | nosuchfilter }}"):
        with pytest.raises(RenderError, match="cannot render"):
            render(source, {"x": 1})


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("host.kind == 'linux'", True),
        ("rootfs.rc == 0 and disk_warn > 50", True),
        ("parsed.use | int", 85),
        ("stdout.split() | length", 3),
        ("none", None),
        ("parsed", {"use": "85"}),
    ],
)
def test_evaluate_returns_python_values(expression: str, expected: object) -> None:
    context = {
        "host": {"kind": "linux"},
        "rootfs": {"rc": 0},
        "disk_warn": 80,
        "parsed": {"use": "85"},
        "stdout": "a b c",
    }
    assert evaluate(expression, context) == expected


def test_evaluate_undefined_and_syntax_errors() -> None:
    with pytest.raises(RenderError, match="'missing' is undefined"):
        evaluate("missing", {})
    with pytest.raises(RenderError, match="'missing' is undefined"):
        evaluate("missing == 1", {})
    with pytest.raises(RenderError, match="syntax error: unexpected 'b' after the expression"):
        evaluate("a b", {"a": 1})


def test_evaluate_allows_defined_tests_for_optional_values() -> None:
    assert evaluate("x is defined", {}) is False
    assert evaluate("x | default(3)", {}) == 3


def test_render_value_renders_nested_strings() -> None:
    args = {"name": "{{ pkg }}", "state": "present", "list": ["{{ pkg }}-doc", 3], "n": 1}
    assert render_value(args, {"pkg": "chrony"}) == {
        "name": "chrony",
        "state": "present",
        "list": ["chrony-doc", 3],
        "n": 1,
    }


@pytest.mark.parametrize(
    ("source", "expression", "names"),
    [
        ("echo {{ a }} {{ b.c }} {{ d | default(e) }}", False, {"a", "b", "d", "e"}),
        ("{% for m in mounts %}{{ m }} {{ loop.index }}{% endfor %}", False, {"mounts"}),
        ("{% set x = 1 %}{{ x }} {{ range(3) | list }} {{ dict(a=1) }}", False, set()),
        ("host.kind == 'linux' and rootfs.rc == 0", True, {"host", "rootfs"}),
        ("stdout | int > true", True, {"stdout"}),
        ("plain text, no markup", False, set()),
    ],
)
def test_referenced_names(source: str, expression: bool, names: set[str]) -> None:
    assert referenced_names(source, expression=expression) == names


def test_referenced_var_keys() -> None:
    assert referenced_var_keys("{{ vars.a }} {{ vars['b-c'] }} {{ vars[k] }} {{ x.y }}") == {
        "a",
        "b-c",
    }
    assert referenced_var_keys("vars.limit > 3", expression=True) == {"limit"}


def test_referenced_names_raise_syntax_errors_with_line() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        referenced_names("line one\n{{ x y }}")
    assert caught.value.lineno == 2
    with pytest.raises(TemplateSyntaxError):
        referenced_names("{{ x }}", expression=True)
    with pytest.raises(TemplateSyntaxError, match="No filter named"):
        referenced_names("{{ x | nosuchfilter }}")


def test_raw_filter_name_does_not_clash_with_raw_block() -> None:
    assert (
        render("{% raw %}{{ x }}{% endraw %} {{ y | raw }}", {"y": "a b"}, shell_quote=True)
        == "{{ x }} a b"
    )


def test_compiled_templates_are_cached_across_hosts() -> None:
    from orchestrator.runbook import template

    source = "uptime # {{ host.name }} cache-probe"
    before = template._compile.cache_info()
    for name in ("web01", "web02", "web03"):
        assert render(source, {"host": {"name": name}}, shell_quote=True).endswith(
            f"{name} cache-probe"
        )
    after = template._compile.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 2
