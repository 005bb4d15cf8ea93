"""Settings: `orchestrator.toml` plus ORCH_* environment overrides, validated up front.

Lookup order for the file: the explicit path (``--config``), ``$ORCH_CONFIG``,
``./orchestrator.toml``; with none present the embedded defaults apply (SQLite
under ``./var``, inventory ``inventories/hosts.yml``, runbooks ``runbooks/``).
Relative paths in the file are relative to the file's directory; relative paths
from the environment or defaults are relative to the working directory.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from orchestrator.backups.retention import RetentionPolicy
from orchestrator.changes.model import FreezePeriod, Risk, Role
from orchestrator.changes.moments import zone
from orchestrator.changes.rules import (
    DEFAULT_APPROVALS,
    ChangeRules,
    parse_approvals,
    parse_freezes,
    parse_roles,
)
from orchestrator.errors import Problem, SettingsError
from orchestrator.notify.config import NotifyConfig, parse_notify
from orchestrator.reports.i18n import LANGUAGES

ENV_PREFIX = "ORCH_"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    db_url: str = ""  # empty = sqlite:///<data_dir>/orchestrator.db
    inventory: Path = Path("inventories/hosts.yml")
    runbooks: Path = Path("runbooks")
    known_hosts: Path = Path("~/.ssh/known_hosts")
    ssh_user: str | None = None  # default when the inventory gives no ansible_user
    ssh_key: Path | None = None  # default when the inventory gives no key file
    forks: int = 20
    connect_timeout: float = 10.0
    step_timeout: float = 60.0
    trust_new_host_keys: bool = False
    timezone: str = "Asia/Shanghai"
    # Language of the report `run` writes (en | zh); the first users are Chinese ops teams.
    report_lang: str = "zh"
    # Backups (docs/backups.md): where the objects live, what `backup prune` keeps (per target
    # and artifact, restic-like), and the most a backup step fetches per file or archive.
    backup_dir: Path = Path("backups")
    backup_keep_last: int = 1
    backup_keep_daily: int = 7
    backup_keep_weekly: int = 4
    backup_keep_monthly: int = 12
    backup_max_bytes: int = 256 * 1024 * 1024
    # Change rules (see changes/rules.py); from the settings file only, never ORCH_*.
    allow_user_override: bool = False  # honour ORCH_USER as the acting user
    allow_unrecorded_readonly: bool = False  # lab use: read-only runs without a record
    roles: Mapping[str, frozenset[Role]] = field(default_factory=dict)
    approvals: Mapping[Risk, int] = field(default_factory=lambda: dict(DEFAULT_APPROVALS))
    freeze: tuple[FreezePeriod, ...] = ()
    # The scheduler (docs/scheduler.md): schedules file, leader lease and poll, in seconds.
    schedules: Path = Path("schedules.yml")
    scheduler_lease: float = 30.0
    scheduler_poll: float = 1.0
    notify: NotifyConfig = field(default_factory=NotifyConfig)  # [notify]: e-mail, webhook
    source: Path | None = field(default=None, compare=False)

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.data_dir / 'orchestrator.db'}"

    @property
    def output_dir(self) -> Path:
        return self.data_dir / "output"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    @property
    def change_rules(self) -> ChangeRules:
        return ChangeRules(
            roles=self.roles,
            approvals=self.approvals,
            freezes=self.freeze,
            allow_unrecorded_readonly=self.allow_unrecorded_readonly,
            timezone=self.timezone,
        )

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def retention(self) -> RetentionPolicy:
        return RetentionPolicy(
            keep_last=self.backup_keep_last,
            keep_daily=self.backup_keep_daily,
            keep_weekly=self.backup_keep_weekly,
            keep_monthly=self.backup_keep_monthly,
        )


_PATHS = {"data_dir", "inventory", "runbooks", "known_hosts", "ssh_key", "schedules"}
_PATHS |= {"backup_dir"}
_FLOATS = {"connect_timeout", "step_timeout", "scheduler_lease", "scheduler_poll"}
_BOOLS = {"trust_new_host_keys", "allow_user_override", "allow_unrecorded_readonly"}
_INTS = {"forks", "backup_keep_last", "backup_max_bytes"}
_COUNTS = {"backup_keep_daily", "backup_keep_weekly", "backup_keep_monthly"}  # 0 allowed
_CHOICES: dict[str, tuple[str, ...]] = {"report_lang": LANGUAGES}
_TABLES = {"roles", "approvals", "freeze", "notify"}
# Who may approve, and whether identity or the gate can be relaxed, is not for an
# environment variable to decide: these come from the settings file only.
_FILE_ONLY = _TABLES | {"allow_user_override", "allow_unrecorded_readonly"}
_KNOWN = {f.name for f in fields(Settings)} - {"source"}


def _coerce(name: str, value: Any, origin: str, base: Path | None) -> Any:
    """Turn a raw TOML/env value into the field's type or raise a located problem."""

    def bad(expected: str) -> SettingsError:
        return SettingsError(
            [Problem(f"expected {expected}, got {value!r}", file=origin, field=name)]
        )

    if name in _PATHS:
        if not isinstance(value, str) or not value:
            raise bad("a path string")
        path = Path(value).expanduser()
        return path if path.is_absolute() or base is None else base / path
    if name in _BOOLS:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "0", "false", "no"}:
            return value.lower() in {"1", "true", "yes"}
        raise bad("true or false")
    if name == "roles":
        return parse_roles(value, origin)
    if name == "approvals":
        return parse_approvals(value, origin)
    if name == "notify":
        return parse_notify(value, origin)
    if name in _INTS | _FLOATS | _COUNTS:
        try:
            number = float(value) if name in _FLOATS else int(value)
        except (TypeError, ValueError):
            raise bad("a number") from None
        if number < 0 or (number == 0 and name not in _COUNTS):
            raise bad("a number >= 0" if name in _COUNTS else "a positive number")
        return number
    if not isinstance(value, str):
        raise bad("a string")
    if name == "timezone":
        try:
            zone(value)
        except ValueError as exc:
            raise SettingsError([Problem(str(exc), file=origin, field=name)]) from None
    if name in _CHOICES and value not in _CHOICES[name]:
        raise bad("one of " + ", ".join(_CHOICES[name]))
    return value


def _from_mapping(raw: Mapping[str, Any], origin: str, base: Path | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, value in raw.items():
        if name not in _KNOWN:
            problems.append(
                Problem(
                    f"unknown setting {name!r}",
                    file=origin,
                    field=name,
                    hint="known settings: " + ", ".join(sorted(_KNOWN)),
                )
            )
            continue
        if name == "freeze":
            continue  # needs the time zone: parsed below
        try:
            values[name] = _coerce(name, value, origin, base)
        except SettingsError as exc:
            problems.extend(exc.problems)
    if "freeze" in raw and not problems:
        tz = zone(values.get("timezone", Settings.timezone))
        try:
            values["freeze"] = parse_freezes(raw["freeze"], origin, tz)
        except SettingsError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SettingsError(problems)
    return values


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise SettingsError([Problem(f"cannot read settings: {exc.strerror}", file=path)]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([Problem(f"invalid TOML: {exc}", file=path)]) from None
    # Settings may sit at top level or under [orchestrator].
    section = raw.get("orchestrator", raw)
    if not isinstance(section, dict):
        raise SettingsError([Problem("[orchestrator] must be a table", file=path)])
    return _from_mapping(section, str(path), path.parent.resolve())


def _env_values(env: Mapping[str, str]) -> dict[str, Any]:
    origin = "environment (ORCH_*)"
    raw = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :].lower() in _KNOWN
    }
    refused = sorted(set(raw) & _FILE_ONLY)
    if refused:
        raise SettingsError(
            [
                Problem(
                    "may only be set in the settings file",
                    file=origin,
                    field=f"{ENV_PREFIX}{name.upper()}",
                    hint=f"set {name} in orchestrator.toml",
                )
                for name in refused
            ]
        )
    return _from_mapping(raw, origin, None)


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from file (if any) overridden by ORCH_* variables."""
    env = os.environ if env is None else env
    if path is None and env.get("ORCH_CONFIG"):
        path = Path(env["ORCH_CONFIG"])
    if path is None and Path("orchestrator.toml").is_file():
        path = Path("orchestrator.toml")
    settings = Settings()
    if path is not None:
        if not path.is_file():
            raise SettingsError(
                [
                    Problem(
                        "settings file not found",
                        file=path,
                        hint="pass an existing file or drop --config",
                    )
                ]
            )
        settings = replace(settings, source=path, **_read_file(path))
    return replace(settings, **_env_values(env))
