"""Validation of one runbook step (its action, parse spec and checks) into a ``Step``.

Problems are recorded, not raised, so the loader can report every one. Each
template or expression met is recorded as a ``TemplateUse``; the loader checks
their names once all registers are known.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from orchestrator.runbook.artifact_fields import (
    ArtifactSpecReader,
    check_artifact_options,
    read_save,
)
from orchestrator.runbook.checks import (
    THRESHOLD_HINT,
    inconsistency,
    parse_threshold,
    templated_threshold,
)
from orchestrator.runbook.fields import Section, describe_type, plain
from orchestrator.runbook.model import ARTIFACT_KINDS, Check, Step, StepKind, Threshold
from orchestrator.runbook.parse_fields import read_parse
from orchestrator.runbook.rollout_fields import RebootSpecReader
from orchestrator.runbook.scope import CHECK_NAMES, LOOP_NAMES, RESERVED_NAMES, TemplateUse
from orchestrator.runbook.template import is_template
from orchestrator.yamlfile import LineDict

STEP_KEYS = frozenset(
    {
        "name",
        "command",
        "cli",
        "ansible",
        "when",
        "changed_when",
        "register",
        "timeout",
        "retries",
        "retry_delay",
        "ignore_errors",
        "raw",
        "parse",
        "checks",
        "save",
        "reboot",
        *(kind.value for kind in ARTIFACT_KINDS),
    }
)
CHECK_KEYS = frozenset({"name", "value", "warn", "crit", "unit", "hint", "loop", "label"})
ANSIBLE_KEYS = frozenset({"module", "args", "playbook"})
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ACTION_HINT = (
    "give exactly one of command: (shell, linux hosts), cli: (network devices)"
    " or ansible: ({module: ..., args: ...} or {playbook: ...}); backups: fetch:, archive:,"
    " restore:, backup: (docs/backups.md)"
)


class StepReader:
    """Reads the steps of one runbook; ``uses`` collects every template met."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.uses: list[TemplateUse] = []

    def read(self, section: Section, index: int) -> Step | None:
        section.only(STEP_KEYS)
        name = section.text("name", required=True)
        kind, action = self._action(section, index)
        raw = section.flag("raw", False)
        if raw and kind not in (None, StepKind.COMMAND):
            section.error(
                "raw",
                "raw only applies to command: steps",
                "remove raw: (cli and ansible values are never shell-quoted)",
            )
        when = self._expression(section, "when", index)
        changed_when = self._expression(section, "changed_when", index, CHECK_NAMES)
        register = self._register(section)
        timeout = section.seconds("timeout")
        retries = section.integer("retries", low=0, high=10, default=0)
        retry_delay = section.seconds("retry_delay", allow_zero=True)
        parse = read_parse(section, kind, self.base_dir)
        check_artifact_options(section, kind)
        save = read_save(section, kind)
        checks = self._checks(section, index, name or "")
        ignore_errors = section.flag("ignore_errors", False)
        if name is None or kind is None or action is None:
            return None
        return Step(
            name=name,
            kind=kind,
            action=action,
            when=when,
            changed_when=changed_when,
            register=register,
            timeout=timeout,
            retries=retries or 0,
            retry_delay=1.0 if retry_delay is None else retry_delay,
            parse=parse,
            checks=checks,
            ignore_errors=ignore_errors,
            raw=raw,
            save=save,
            line=section.line(),
        )

    # --- action ------------------------------------------------------------------------------

    def _action(self, section: Section, index: int) -> tuple[StepKind | None, Any]:
        given = [kind for kind in StepKind if section.has(kind.value)]
        if len(given) != 1:
            which = " and ".join(k.value for k in given) if given else "none of them"
            section.error(None, f"a step needs exactly one action; it has {which}", _ACTION_HINT)
            return None, None
        kind = given[0]
        if kind is StepKind.ANSIBLE:
            return kind, self._ansible(section, index)

        def use(where: Section, key: str, source: str) -> None:
            self._use(where, key, source, index, expression=False)

        if kind in ARTIFACT_KINDS:
            return kind, ArtifactSpecReader(section, kind, use).read()
        if kind is StepKind.REBOOT:
            return kind, RebootSpecReader(section, use).read()
        text = section.text(kind.value)
        if text is not None:
            self._use(section, kind.value, text, index, expression=False)
        return kind, text

    def _ansible(self, section: Section, index: int) -> dict[str, Any] | None:
        spec = section.section("ansible")
        if spec is None:
            return None
        spec.only(ANSIBLE_KEYS)
        if spec.has("playbook") == spec.has("module"):
            spec.error(
                None,
                "ansible: needs either module: or playbook:",
                "e.g. {module: ping} or {playbook: playbooks/ntp.yml}",
            )
            return None
        if spec.has("playbook"):
            if spec.has("args"):
                spec.error(
                    "args",
                    "args only go with module:, not with playbook:",
                    "pass playbook variables through the inventory or the runbook's vars:",
                )
            return self._playbook(spec)
        module = spec.text("module")
        args = spec.get("args", (dict, str))
        for text in _strings(args):
            if is_template(text):
                self._use(spec, "args", text, index, expression=False)
        if module is None:
            return None
        return {"module": module} if args is None else {"module": module, "args": plain(args)}

    def _playbook(self, spec: Section) -> dict[str, Any] | None:
        text = spec.text("playbook")
        if text is None:
            return None
        path = (self.base_dir / text).resolve()
        if not path.is_file():
            spec.error(
                "playbook",
                f"playbook {text!r} not found (looked at {path})",
                "paths are relative to the runbook's directory",
            )
            return None
        return {"playbook": str(path)}

    # --- when / register -----------------------------------------------------------------------

    def _expression(
        self, section: Section, key: str, index: int, extra: frozenset[str] = frozenset()
    ) -> str | None:
        value = section.get(key, (str, bool))
        if isinstance(value, bool):  # `when: false` is a fine expression
            return "true" if value else "false"
        if value is None:
            return None
        if not value.strip():
            section.error(key, "must not be empty", "write an expression or remove the key")
            return None
        self._use(section, key, value, index, expression=True, extra=extra)
        return str(value)

    def _register(self, section: Section) -> str | None:
        value = section.text("register")
        if value is None:
            return None
        if not IDENTIFIER.fullmatch(value):
            section.error(
                "register",
                f"{value!r} is not a valid name",
                "use letters, digits and _, not starting with a digit",
            )
            return None
        if value in RESERVED_NAMES:
            section.error("register", f"{value!r} is a reserved name", "choose another name")
            return None
        return value

    # --- checks ----------------------------------------------------------------------------------

    def _checks(self, section: Section, index: int, step_name: str) -> tuple[Check, ...]:
        items = section.get("checks", list)
        if items is None:
            return ()
        checks: list[Check] = []
        seen: dict[str, int] = {}
        for position, item in enumerate(items):
            path = f"{section.field('checks')}[{position}]"
            if not isinstance(item, LineDict):
                section.problems.add(
                    f"a check must be a mapping, got {describe_type(item)}",
                    line=items.line_of(position),
                    field=path,
                    hint='e.g. {warn: ">= 80", crit: ">= 90"}',
                )
                continue
            check = self._check(Section(section.problems, item, path), index, step_name)
            if check is None:
                continue
            if check.name in seen:
                section.problems.add(
                    f"check name {check.name!r} repeats (first at checks[{seen[check.name]}])",
                    line=check.line,
                    field=path,
                    hint="give each check its own name:",
                )
            seen.setdefault(check.name, position)
            checks.append(check)
        return tuple(checks)

    def _check(self, check: Section, index: int, step_name: str) -> Check | None:
        check.only(CHECK_KEYS)
        looped = check.has("loop")
        if check.has("label") and not looped:
            check.error(
                "label",
                "label without loop has nothing to name",
                "add loop: (an expression giving a list), or remove label:",
            )
        extra = CHECK_NAMES | (LOOP_NAMES if looped else frozenset())
        loop = self._expression(check, "loop", index, CHECK_NAMES)
        value = self._expression(check, "value", index, extra)
        label = self._expression(check, "label", index, extra) if looped else None
        warn = self._threshold(check, "warn", index, extra)
        crit = self._threshold(check, "crit", index, extra)
        if not check.has("warn") and not check.has("crit"):
            check.error(None, "a check needs warn:, crit: or both", THRESHOLD_HINT)
        elif warn is not None and crit is not None and (why := inconsistency(warn, crit)):
            check.error("crit", why, "critical must be the worse side of warning")
        name = check.text("name")
        unit, hint = check.get("unit", str), check.get("hint", str)
        return Check(
            name=name or step_name,
            warn=warn,
            crit=crit,
            value=value,
            unit=unit or "",
            hint=hint or "",
            loop=loop,
            label=label,
            line=check.line(),
        )

    def _threshold(
        self, check: Section, key: str, index: int, extra: frozenset[str]
    ) -> Threshold | None:
        if not check.has(key):
            return None
        value = check.data[key]
        if not isinstance(value, str):
            number = isinstance(value, int | float) and not isinstance(value, bool)
            hint = f'quote it with an operator: ">= {value}"' if number else THRESHOLD_HINT
            check.error(key, f"must be text like '>= 90', got {describe_type(value)}", hint)
            return None
        if is_template(value):
            self._use(check, key, value, index, expression=False, extra=extra)
            return templated_threshold(value)
        try:
            return parse_threshold(value)
        except ValueError as exc:
            check.error(key, f"bad threshold: {exc}", THRESHOLD_HINT)
            return None

    def _use(
        self,
        section: Section,
        key: str,
        source: str,
        index: int,
        *,
        expression: bool,
        extra: frozenset[str] = frozenset(),
    ) -> None:
        self.uses.append(
            TemplateUse(source, expression, index, extra, section.field(key), section.line(key))
        )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
