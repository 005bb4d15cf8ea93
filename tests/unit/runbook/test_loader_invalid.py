"""Every invalid runbook under tests/data/runbooks/invalid/ fails with exactly the problems
listed in its trailing ``# expect: LINE FIELD | message fragment | hint fragment`` comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator.errors import Problem, RunbookError
from orchestrator.runbook.loader import load_runbook

INVALID = Path(__file__).parents[2] / "data" / "runbooks" / "invalid"
KNOWN_VARS = frozenset({"ntp_server", "site"})


@dataclass(frozen=True)
class Expected:
    line: int
    field: str | None
    message: str
    hint: str

    def matches(self, problem: Problem) -> bool:
        return (
            problem.line == self.line
            and problem.field == self.field
            and self.message in problem.message
            and self.hint in (problem.hint or "")
        )


def expectations(path: Path) -> list[Expected]:
    found = []
    for text in path.read_text(encoding="utf-8").splitlines():
        if not text.startswith("# expect: "):
            continue
        where, message, hint = (part.strip() for part in text[len("# expect: ") :].split(" | "))
        line, field = where.split(" ", 1)
        found.append(Expected(int(line), None if field == "-" else field, message, hint))
    return found


CASES = sorted(INVALID.glob("*.yml"))


def test_there_are_invalid_cases_with_expectations() -> None:
    assert len(CASES) >= 20
    for path in CASES:
        assert expectations(path), f"{path.name} has no '# expect:' lines"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_invalid_runbook_reports_exactly_the_expected_problems(path: Path) -> None:
    with pytest.raises(RunbookError) as caught:
        load_runbook(path, known_vars=KNOWN_VARS)
    problems = list(caught.value.problems)
    expected = expectations(path)
    for want in expected:
        matching = [p for p in problems if want.matches(p)]
        assert matching, f"no problem matches {want}; got:\n" + "\n".join(map(str, problems))
        problems.remove(matching[0])
    assert not problems, "unexpected extra problems:\n" + "\n".join(map(str, problems))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_every_problem_names_the_file_and_has_a_hint(path: Path) -> None:
    with pytest.raises(RunbookError) as caught:
        load_runbook(path, known_vars=KNOWN_VARS)
    for problem in caught.value.problems:
        assert problem.file == path
        assert problem.line is not None
        assert problem.line >= 1
        assert problem.hint
    assert str(path) in str(caught.value)


def test_problems_are_listed_in_line_order() -> None:
    with pytest.raises(RunbookError) as caught:
        load_runbook(INVALID / "wrong-types.yml")
    lines = [p.line or 0 for p in caught.value.problems]
    assert lines == sorted(lines)


def test_without_known_vars_only_inventory_names_are_not_checked() -> None:
    """known_vars=None skips the inventory check, not the ordering and scope rules."""
    with pytest.raises(RunbookError) as caught:
        load_runbook(INVALID / "names.yml", known_vars=None)
    messages = [p.message for p in caught.value.problems]
    assert any("used before step 'registers later'" in m for m in messages)
    assert any("registered by this step" in m for m in messages)
    assert any("'stdout' is only defined inside" in m for m in messages)
    assert not any("undefined variable" in m for m in messages)
    assert len(messages) == 3


def test_empty_known_vars_checks_every_name(tmp_path: Path) -> None:
    path = tmp_path / "ping.yml"
    path.write_text("name: ping\ntargets: all\nsteps:\n  - name: p\n    command: ping {{ gw }}\n")
    assert load_runbook(path, known_vars={"gw"}).steps[0].action == "ping {{ gw }}"
    with pytest.raises(RunbookError, match="undefined variable 'gw'") as caught:
        load_runbook(path, known_vars=())
    assert caught.value.problems[0].line == 5
    assert caught.value.problems[0].field == "steps[0].command"


def test_missing_file_is_a_runbook_error(tmp_path: Path) -> None:
    with pytest.raises(RunbookError, match="cannot read file"):
        load_runbook(tmp_path / "nope.yml")
