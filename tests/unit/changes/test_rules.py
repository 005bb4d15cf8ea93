"""Change rules from orchestrator.toml: roles, approvals, freezes — file only, located errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.changes.model import Risk, Role
from orchestrator.errors import SettingsError
from orchestrator.settings import Settings, load_settings


def settings_from(tmp_path: Path, text: str, **env: str) -> Settings:
    path = tmp_path / "orchestrator.toml"
    path.write_text(text)
    return load_settings(path, env=env)


def test_roles_approvals_and_freezes(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        """
allow_user_override = true
[roles]
alice = ["operator"]
bob = ["change-manager", "auditor"]
[approvals]
high = 3
[[freeze]]
name = "year-end settlement"
start = 2026-12-25T00:00:00
end = "2027-01-04T00:00:00+08:00"
reason = "financial close"
""",
    )
    rules = settings.change_rules
    assert settings.allow_user_override is True
    assert rules.roles_of("bob") == {Role.CHANGE_MANAGER, Role.AUDITOR}
    assert rules.roles_of("nobody") == frozenset()
    assert rules.approvals[Risk.HIGH] == 3
    assert rules.approvals[Risk.LOW] == 1
    (freeze,) = rules.freezes
    assert freeze.start == datetime(2026, 12, 24, 16, 0, tzinfo=UTC)  # local = Asia/Shanghai
    assert freeze.end == datetime(2027, 1, 3, 16, 0, tzinfo=UTC)
    assert freeze.id is None  # from settings: not removable with the CLI


def test_local_freeze_times_use_the_configured_zone(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        'timezone = "UTC"\n[[freeze]]\nname = "x"\nstart = 2026-12-25\nend = 2026-12-26\n',
    )
    assert settings.freeze[0].start == datetime(2026, 12, 25, tzinfo=UTC)


def test_defaults_are_strict(tmp_path: Path) -> None:
    rules = settings_from(tmp_path, "").change_rules
    assert rules.roles == {}
    assert rules.allow_unrecorded_readonly is False
    assert dict(rules.approvals) == {Risk.LOW: 1, Risk.MEDIUM: 1, Risk.HIGH: 2}


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ('[roles]\nalice = ["approver"]\n', "roles.alice", "unknown role"),
        ("[roles]\nalice = []\n", "roles.alice", "list of roles"),
        ("[approvals]\nhigh = 0\n", "approvals.high", "1..10"),
        ("[approvals]\ncritical = 2\n", "approvals.critical", "unknown risk"),
        ('[[freeze]]\nname = "x"\nstart = 2026-12-25\n', "freeze[0]", "needs name, start and end"),
        ('[[freeze]]\nname = "x"\nstart = 2026-12-25\nend = 2026-12-24\n', "freeze[0]", "before"),
        ('[[freeze]]\nname = "x"\nstart = "soon"\nend = 2026-12-24\n', "freeze[0].start", "date"),
        ('timezone = "Mars/Olympus"\n', "timezone", "unknown time zone"),
    ],
)
def test_bad_tables_name_file_and_field(
    tmp_path: Path, text: str, field: str, fragment: str
) -> None:
    with pytest.raises(SettingsError) as info:
        settings_from(tmp_path, text)
    (problem,) = info.value.problems
    assert problem.file == str(tmp_path / "orchestrator.toml")
    assert problem.field == field
    assert fragment in problem.message


@pytest.mark.parametrize(
    "name", ["ORCH_ALLOW_USER_OVERRIDE", "ORCH_ALLOW_UNRECORDED_READONLY", "ORCH_ROLES"]
)
def test_the_environment_cannot_relax_the_rules(tmp_path: Path, name: str) -> None:
    with pytest.raises(SettingsError, match="may only be set in the settings file") as info:
        settings_from(tmp_path, "", **{name: "true"})
    assert info.value.problems[0].field == name
