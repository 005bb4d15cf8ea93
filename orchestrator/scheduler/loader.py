"""schedules.yml: validated before anything is synced, every problem with file:line.

```yaml
timezone: Asia/Shanghai          # optional: default zone of the cron expressions
schedules:
  - name: daily-inspection       # unique; the job id and the idempotency key's first half
    runbook: daily-inspection
    cron: "0 2 * * *"            # minute hour day month weekday (0 or 7 = Sunday)
    timezone: Asia/Shanghai      # optional, per schedule
    limit: critical              # optional host pattern narrowing the runbook's targets
    change: CHG-20261130-001     # optional: a template or a normal change (mutating runbooks)
    misfire_grace: 2h            # how late a slot may still start (default 1h)
    enabled: true
    notify: critical             # never | failed | critical | warning | always
    description: 日常巡检
```
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.changes.moments import zone
from orchestrator.errors import Problem
from orchestrator.runbook.durations import DURATION_HINT
from orchestrator.runbook.fields import Problems, Section
from orchestrator.scheduler.cron import cron_trigger
from orchestrator.scheduler.model import DEFAULT_GRACE, NotifyWhen, ScheduleError
from orchestrator.store.schedules import ScheduleSpec
from orchestrator.yamlfile import LineDict, LineList, load_yaml

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_CHANGE_ID = re.compile(r"^CHG-\d{8}-\d{3,}$")
_TOP_KEYS = {"timezone", "schedules"}
_KEYS = {
    "name",
    "runbook",
    "cron",
    "timezone",
    "limit",
    "change",
    "misfire_grace",
    "enabled",
    "notify",
    "description",
}
MAX_GRACE = 7 * 24 * 3600
CRON_HINT = "five fields: minute hour day month weekday, e.g. '0 2 * * *' (02:00 daily)"


@dataclass(frozen=True)
class ScheduleFile:
    path: Path
    specs: tuple[ScheduleSpec, ...]

    def names(self) -> list[str]:
        return [s.name for s in self.specs]


def load_schedules(path: Path, default_timezone: str) -> ScheduleFile:
    """Read and validate ``path``; ScheduleError lists every problem."""
    if not path.is_file():
        raise ScheduleError(
            [
                Problem(
                    "schedules file not found",
                    file=path,
                    hint="create it (see docs/scheduler.md) or point `schedules` in "
                    "orchestrator.toml / ORCH_SCHEDULES at it",
                )
            ]
        )
    data = load_yaml(path)
    problems = Problems(path)
    if data is None:
        data = LineDict()
        data.line, data.lines = 1, {}
    if not isinstance(data, LineDict):
        raise ScheduleError(
            [Problem("must be a mapping", file=path, line=1, hint="start with 'schedules:'")]
        )
    top = Section(problems, data)
    top.only(_TOP_KEYS)
    default = _zone(top, "timezone") or default_timezone
    specs = _schedules(top, path, default)
    if problems:
        raise ScheduleError(problems.items)
    return ScheduleFile(path, tuple(specs))


def _zone(section: Section, key: str) -> str | None:
    name = section.text(key)
    if name is None:
        return None
    try:
        zone(name)
    except ValueError as exc:
        section.error(key, str(exc), "an IANA zone name such as Asia/Shanghai or UTC")
        return None
    return name


def _schedules(top: Section, path: Path, default_tz: str) -> list[ScheduleSpec]:
    items = top.get("schedules", LineList, required=True, hint="add 'schedules:' with a list")
    if items is None:
        return []
    specs: list[ScheduleSpec] = []
    first_line: dict[str, int | None] = {}
    for index, item in enumerate(items):
        where = f"schedules[{index}]"
        if not isinstance(item, LineDict):
            top.problems.add(
                "must be a mapping",
                line=items.line_of(index),
                field=where,
                hint="each schedule is name:, runbook:, cron: … indented under '- '",
            )
            continue
        section = Section(top.problems, item, where)
        name = item.get("name")
        if isinstance(name, str) and name in first_line:
            section.error(
                "name",
                f"duplicate schedule name {name!r} (first at line {first_line[name]})",
                "names are unique: they key the jobs and the fire records",
            )
            continue
        if isinstance(name, str):
            first_line[name] = section.line("name")
        spec = _schedule(section, path, default_tz)
        if spec is not None:
            specs.append(spec)
    return specs


def _schedule(section: Section, path: Path, default_tz: str) -> ScheduleSpec | None:
    section.only(_KEYS)
    before = len(section.problems)
    name = _named(section, "name")
    runbook = _named(section, "runbook")
    timezone = _zone(section, "timezone") or default_tz
    cron = _cron(section, timezone)
    change = _change(section)
    grace = _grace(section)
    notify = section.choice("notify", NotifyWhen, NotifyWhen.CRITICAL)
    spec_args: dict[str, Any] = {
        "limit": section.text("limit"),
        "enabled": section.flag("enabled", True),
        "description": section.text("description") or "",
    }
    if len(section.problems) > before or name is None or runbook is None or cron is None:
        return None
    return ScheduleSpec(
        name=name,
        runbook=runbook,
        cron=cron,
        timezone=timezone,
        misfire_grace=grace,
        change_id=change,
        notify=notify.value,
        source=f"{path}:{section.line()}",
        **spec_args,
    )


def _named(section: Section, key: str) -> str | None:
    value = section.text(key, required=True)
    if value is not None and not _NAME.match(value):
        section.error(
            key,
            f"{value!r} is not a valid {key}",
            "letters, digits, '.', '_' and '-' (a runbook is named by its file stem)",
        )
        return None
    return value


def _cron(section: Section, timezone: str) -> str | None:
    expression = section.text("cron", required=True, hint=f"add cron: '0 2 * * *' ({CRON_HINT})")
    if expression is None:
        return None
    expression = " ".join(expression.split())
    try:
        cron_trigger(expression, timezone)
    except ValueError as exc:
        section.error("cron", str(exc), CRON_HINT)
        return None
    return expression


def _change(section: Section) -> str | None:
    change = section.text("change")
    if change is not None and not _CHANGE_ID.match(change.strip()):
        section.error(
            "change",
            f"{change!r} is not a change id",
            "a standard template or an approved normal change, e.g. CHG-20261130-001 "
            "(see `orchestrator change list`)",
        )
        return None
    return change.strip() if change else None


def _grace(section: Section) -> int:
    seconds = section.seconds("misfire_grace")
    if seconds is None:
        return DEFAULT_GRACE
    if seconds > MAX_GRACE:
        section.error(
            "misfire_grace",
            f"at most 7 days, got {seconds:g} s",
            "a slot missed for longer than that is better recorded as missed",
        )
        return DEFAULT_GRACE
    if seconds < 1:
        section.error("misfire_grace", "must be at least 1 second", DURATION_HINT)
        return DEFAULT_GRACE
    return math.ceil(seconds)
