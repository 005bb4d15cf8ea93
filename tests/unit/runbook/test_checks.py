"""Thresholds and grading (checks.py): boundaries, loops, strings, templated thresholds, unknown."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.runbook.checks import (
    grade_checks,
    inconsistency,
    parse_threshold,
    templated_threshold,
    to_number,
)
from orchestrator.runbook.model import Check, CheckResult, Comparison, Grade, Threshold


@pytest.mark.parametrize(
    ("text", "op", "operand"),
    [
        (">= 90", Comparison.GE, 90.0),
        (">90", Comparison.GT, 90.0),
        ("  <= 0.5 ", Comparison.LE, 0.5),
        ("< -3", Comparison.LT, -3.0),
        ("== 1e3", Comparison.EQ, 1000.0),
        ('!= "ok"', Comparison.NE, "ok"),
        ("== 'up'", Comparison.EQ, "up"),
        ('== ""', Comparison.EQ, ""),
    ],
)
def test_parse_threshold(text: str, op: Comparison, operand: float | str) -> None:
    threshold = parse_threshold(text)
    assert (threshold.op, threshold.operand, threshold.source) == (op, operand, text.strip())
    assert str(threshold) == text.strip()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("90", "does not start with a comparison operator"),
        (">> 90", "unknown operator '>>'"),
        ("=> 90", "unknown operator '=>'"),
        ("= 90", "unknown operator '='"),
        (">=", "has no operand after '>='"),
        (">= ninety", "operand 'ninety' is neither a number nor a quoted string"),
        ('>= "a"', "text can only be compared with == or !="),
        ("== 'unclosed", "neither a number nor a quoted string"),
        ("", "does not start with a comparison operator"),
    ],
)
def test_parse_threshold_errors_are_precise(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_threshold(text)


def test_parse_threshold_rejects_non_text() -> None:
    with pytest.raises(ValueError, match="got int 90"):
        parse_threshold(90)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("warn", "crit", "problem"),
    [
        (">= 80", ">= 90", None),
        (">= 90", ">= 90", None),
        ("> 80", ">= 90", None),
        (">= 90", ">= 80", "below warn"),
        ("< 20", "< 10", None),
        ("<= 10", "< 20", "above warn"),
        (">= 80", "<= 5", "opposite directions"),
        ('!= "ok"', '== "down"', None),
        (">= 80", "== 100", None),
    ],
)
def test_inconsistency(warn: str, crit: str, problem: str | None) -> None:
    why = inconsistency(parse_threshold(warn), parse_threshold(crit))
    assert (why is None) if problem is None else (why is not None and problem in why)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (85, 85),
        (85.0, 85),
        ("85", 85),
        (" 85.5\n", 85.5),
        ("-2", -2),
        ("1e2", 100),
        (True, None),
        ("85%", None),
        ("nan", None),
        ("inf", None),
        (None, None),
        ([1], None),
    ],
)
def test_to_number(value: Any, number: float | None) -> None:
    result = to_number(value)
    assert result == number
    if isinstance(number, int):
        assert type(result) is int


def grade(check: Check, **context: Any) -> tuple[CheckResult, ...]:
    return grade_checks([check], context)


DISK = Check(
    name="disk",
    warn=parse_threshold(">= 80"),
    crit=parse_threshold(">= 90"),
    unit="%",
    hint="clean up",
)


@pytest.mark.parametrize(
    ("stdout", "grade_", "threshold", "value"),
    [
        ("79", Grade.NORMAL, "warn >= 80, crit >= 90", 79),
        ("79.99", Grade.NORMAL, "warn >= 80, crit >= 90", 79.99),
        ("80", Grade.WARNING, ">= 80", 80),
        ("89.9\n", Grade.WARNING, ">= 80", 89.9),
        ("90", Grade.CRITICAL, ">= 90", 90),
        ("100.0", Grade.CRITICAL, ">= 90", 100),
        ("-5", Grade.NORMAL, "warn >= 80, crit >= 90", -5),
    ],
)
def test_grade_boundaries_on_stdout(
    stdout: str, grade_: Grade, threshold: str, value: float
) -> None:
    (result,) = grade(DISK, stdout=stdout)
    assert (result.name, result.grade, result.threshold, result.unit) == (
        "disk",
        grade_,
        threshold,
        "%",
    )
    assert result.value == value
    assert type(result.value) is type(value)
    assert result.message == ("" if grade_ is Grade.NORMAL else "clean up")


def test_lower_thresholds() -> None:
    check = Check(name="free", warn=parse_threshold("< 20"), crit=parse_threshold("<= 5"))
    grades = [grade(check, stdout=s)[0].grade for s in ("20", "19", "5.1", "5", "0")]
    assert grades == [Grade.NORMAL, Grade.WARNING, Grade.WARNING, Grade.CRITICAL, Grade.CRITICAL]


def test_only_one_threshold() -> None:
    crit_only = Check(name="procs", crit=parse_threshold("< 1"))
    assert grade(crit_only, stdout="0")[0].grade is Grade.CRITICAL
    normal = grade(crit_only, stdout="2")[0]
    assert (normal.grade, normal.threshold) == (Grade.NORMAL, "crit < 1")


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        ("", "printed nothing"),
        ("  \n", "printed nothing"),
        ("85%", "value '85%' is not a number (threshold >= 90)"),
        ("Filesystem not found", "is not a number"),
    ],
)
def test_unknown_when_the_value_is_not_comparable(stdout: str, expected: str) -> None:
    (result,) = grade(DISK, stdout=stdout)
    assert result.grade is Grade.UNKNOWN
    assert expected in result.message
    assert result.threshold == "warn >= 80, crit >= 90"


def test_string_thresholds_compare_text() -> None:
    check = Check(
        name="state",
        warn=parse_threshold('!= "active"'),
        crit=parse_threshold('== "failed"'),
        value="parsed.state",
    )
    assert grade(check, parsed={"state": "active"})[0].grade is Grade.NORMAL
    assert grade(check, parsed={"state": "activating"})[0].grade is Grade.WARNING
    failed = grade(check, parsed={"state": "failed"})[0]
    assert (failed.grade, failed.value, failed.threshold) == (
        Grade.CRITICAL,
        "failed",
        '== "failed"',
    )


def test_string_threshold_against_a_number_compares_its_text() -> None:
    check = Check(name="rc", crit=parse_threshold("!= '0'"), value="rc")
    assert grade(check, rc=0)[0].grade is Grade.NORMAL
    assert grade(check, rc=2)[0].grade is Grade.CRITICAL


def test_value_expression_and_numeric_text_from_regex() -> None:
    check = Check(name="use", warn=parse_threshold(">= 80"), value="parsed.use")
    (result,) = grade(check, parsed={"use": "85"})
    assert (result.grade, result.value) == (Grade.WARNING, 85)


@pytest.mark.parametrize(
    ("value_expr", "context", "message"),
    [
        ("parsed.use", {"parsed": {}}, "has no attribute 'use'"),
        ("parsed.use", {"parsed": None}, "value:"),
        ("missing", {}, "'missing' is undefined"),
        ("none", {}, "is empty"),
        ("parsed", {"parsed": {"a": 1}}, "is not a number"),
    ],
)
def test_unknown_when_the_value_expression_fails(
    value_expr: str, context: dict[str, Any], message: str
) -> None:
    check = Check(name="use", warn=parse_threshold(">= 80"), value=value_expr)
    (result,) = grade_checks([check], context)
    assert result.grade is Grade.UNKNOWN
    assert message in result.message


FS_ROWS = [
    {"mount": "/", "use": "85"},
    {"mount": "/boot", "use": "12"},
    {"mount": "/var", "use": "97"},
    {"mount": "/tmp", "use": "n/a"},
]


def test_loop_gives_one_item_per_element_named_by_label() -> None:
    check = Check(
        name="fs use",
        warn=parse_threshold(">= 80"),
        crit=parse_threshold(">= 90"),
        value="item.use",
        loop="parsed",
        label="item.mount",
        unit="%",
        hint="grow it",
    )
    results = grade(check, parsed=FS_ROWS)
    assert [(r.name, r.grade, r.value) for r in results] == [
        ("fs use /", Grade.WARNING, 85),
        ("fs use /boot", Grade.NORMAL, 12),
        ("fs use /var", Grade.CRITICAL, 97),
        ("fs use /tmp", Grade.UNKNOWN, "n/a"),
    ]
    assert results[0].message == "grow it"
    assert results[1].message == ""


def test_loop_without_label_uses_scalars_or_positions() -> None:
    procs = Check(
        name="proc",
        crit=parse_threshold("< 1"),
        loop="wanted",
        value="stdout.split() | select('equalto', item) | list | length",
    )
    results = grade(procs, wanted=["sshd", "cron"], stdout="systemd\nsshd\nbash\n")
    assert [(r.name, r.grade) for r in results] == [
        ("proc sshd", Grade.NORMAL),
        ("proc cron", Grade.CRITICAL),
    ]
    rows = Check(name="row", warn=parse_threshold(">= 50"), loop="parsed", value="item.use")
    assert [r.name for r in grade(rows, parsed=FS_ROWS[:2])] == ["row #1", "row #2"]


@pytest.mark.parametrize(
    ("parsed", "message"),
    [
        ([], "gave no items"),
        ("text", "expected a list, got str"),
        ({"a": 1}, "expected a list, got dict"),
        (None, "expected a list, got NoneType"),
    ],
)
def test_loop_that_gives_no_list_is_one_unknown_item(parsed: Any, message: str) -> None:
    check = Check(name="fs", warn=parse_threshold(">= 1"), loop="parsed")
    (result,) = grade(check, parsed=parsed)
    assert (result.name, result.grade) == ("fs", Grade.UNKNOWN)
    assert message in result.message


def test_loop_label_failure_makes_that_item_unknown() -> None:
    check = Check(
        name="fs", warn=parse_threshold(">= 1"), loop="parsed", label="item.mount", value="item.use"
    )
    results = grade(check, parsed=[{"use": "3"}, {"mount": "/", "use": "0"}])
    assert [(r.name, r.grade) for r in results] == [
        ("fs #1", Grade.UNKNOWN),
        ("fs /", Grade.NORMAL),
    ]
    assert "label:" in results[0].message


def test_templated_thresholds_are_rendered_per_host() -> None:
    check = Check(
        name="disk", warn=templated_threshold(">= {{ disk_warn }}"), crit=parse_threshold(">= 95")
    )
    assert check.warn is not None
    assert check.warn.op is Comparison.GE
    web = grade(check, stdout="85", disk_warn=80)[0]
    db = grade(check, stdout="85", disk_warn=90)[0]
    assert (web.grade, web.threshold) == (Grade.WARNING, ">= 80")
    assert (db.grade, db.threshold) == (Grade.NORMAL, "warn >= 90, crit >= 95")


def test_templated_thresholds_may_use_loop_items() -> None:
    check = Check(
        name="fs",
        warn=templated_threshold(">= {{ item.limit | default(80) }}"),
        loop="parsed",
        label="item.mount",
        value="item.use",
    )
    results = grade(
        check, parsed=[{"mount": "/", "use": "85"}, {"mount": "/data", "use": "85", "limit": 95}]
    )
    assert [r.grade for r in results] == [Grade.WARNING, Grade.NORMAL]


@pytest.mark.parametrize(
    ("warn", "crit", "context", "message"),
    [
        (
            ">= {{ disk_warn }}",
            ">= 90",
            {"disk_warn": "high"},
            "warn threshold '>= {{ disk_warn }}' rendered to '>= high'",
        ),
        (">= {{ disk_warn }}", ">= 90", {}, "'disk_warn' is undefined"),
        ("{{ rule }}", ">= 90", {"rule": "80"}, "does not start with a comparison operator"),
        (">= {{ disk_warn }}", ">= 90", {"disk_warn": 95}, "crit '>= 90' is below warn '>= 95'"),
    ],
)
def test_bad_rendered_threshold_makes_the_item_unknown(
    warn: str, crit: str, context: dict[str, Any], message: str
) -> None:
    check = Check(name="disk", warn=templated_threshold(warn), crit=parse_threshold(crit))
    (result,) = grade_checks([check], {"stdout": "85", **context})
    assert result.grade is Grade.UNKNOWN
    assert message in result.message
    assert result.value == 85


def test_every_check_of_a_step_is_graded_in_order() -> None:
    checks = [
        Check(name="a", crit=parse_threshold("> 1"), value="rc"),
        Check(name="b", warn=parse_threshold("== 'x'"), value="stdout"),
    ]
    results = grade_checks(checks, {"rc": 2, "stdout": "x"})
    assert [(r.name, r.grade) for r in results] == [("a", Grade.CRITICAL), ("b", Grade.WARNING)]
    assert grade_checks([], {}) == ()


def test_threshold_model_keeps_source() -> None:
    assert templated_threshold("{{ rule }}") == Threshold(Comparison.EQ, "{{ rule }}", "{{ rule }}")
