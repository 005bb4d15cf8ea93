"""Validation of the backup step kinds (``fetch``, ``archive``, ``restore``, ``backup``) and of
``save:`` on command/cli steps. Shapes are checked here, at load time; values that are
templates are checked for their names like any template and rendered per host.

A string that is exactly one ``{{ expression }}`` renders to the expression's value
(a list stays a list, as in Ansible), so a spec can come from inventory vars:
``archive: "{{ datasets }}"``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from orchestrator.runbook.fields import Section, describe_type, plain
from orchestrator.runbook.model import StepKind
from orchestrator.runbook.template import is_template
from orchestrator.yamlfile import LineDict, LineList

# (section, key, template source) -> records the template for the name check
UseTemplate = Callable[[Section, str, str], None]

FETCH_ITEM_KEYS = frozenset({"path", "name", "optional"})
RESTORE_KEYS = frozenset(
    {"source", "dataset", "artifact", "version", "to", "keep", "max_age", "probes"}
)
DATASET_KEYS = frozenset({"name", "path", "dump", "max_age", "record", "probes"})
ARTIFACT_NAME = re.compile(r"[A-Za-z0-9_./:@+-]{1,200}")
SAVE_HINT = "a short name such as running-config or packages (letters, digits, - _ . / :)"

_HINTS = {
    StepKind.FETCH: "fetch: a path, a list of paths, or items {path, name, optional}; "
    'globs (/etc/cron.d/*) are expanded on the host; or "{{ var }}" giving such a list',
    StepKind.ARCHIVE: "archive: a data set {name, path, dump, max_age, record, probes}, a list "
    'of them, or "{{ datasets }}" (a host var)',
    StepKind.RESTORE: "restore: {source: HOST, dataset: NAME, version: latest} on a linux "
    "verification host, {artifact: running-config} on a network device, a list of these, "
    'or "{{ var }}"',
    StepKind.BACKUP: "backup: a list of running-config / startup-config (network devices) "
    "and file paths (linux hosts)",
}


def hint_for(kind: StepKind) -> str:
    return _HINTS[kind]


def is_whole_expression(text: str) -> bool:
    """``"{{ x }}"`` alone: renders natively (a list stays a list)."""
    stripped = text.strip()
    return (
        stripped.startswith("{{")
        and stripped.endswith("}}")
        and stripped.count("{{") == 1
        and "{%" not in stripped
    )


class ArtifactSpecReader:
    """Reads one backup step's value; problems go to the section, templates to ``use``."""

    def __init__(self, section: Section, kind: StepKind, use: UseTemplate) -> None:
        self.section = section
        self.kind = kind
        self.use = use
        self.key = kind.value

    def read(self) -> Any:
        value = self.section.data.get(self.key)
        if isinstance(value, str):
            return self._string(value)
        if self.kind is StepKind.ARCHIVE:
            return self._items(value, self._dataset)
        if self.kind is StepKind.RESTORE:
            return self._items(value, self._restore)
        return self._items(value, self._path_item)

    def _bad(self, message: str) -> None:
        self.section.error(self.key, message, hint_for(self.kind))

    def _string(self, value: str) -> Any:
        if not value.strip():
            self._bad("must not be empty")
            return None
        if is_template(value):
            self.use(self.section, self.key, value)
            return value
        if self.kind in (StepKind.ARCHIVE, StepKind.RESTORE):
            self._bad(f"takes a mapping or a list, got text {value!r}")
            return None
        return self._path_text(value, self.section, self.key)

    def _items(self, value: Any, one: Callable[[Any, Section | None, str], Any]) -> Any:
        if isinstance(value, LineDict):
            return one(
                value, Section(self.section.problems, value, self.section.field(self.key)), ""
            )
        if not isinstance(value, LineList) or not value:
            self._bad(f"must be a mapping, a list or a template, got {describe_type(value)}")
            return None
        items = []
        for position, item in enumerate(value):
            path = f"{self.section.field(self.key)}[{position}]"
            inner = (
                Section(self.section.problems, item, path) if isinstance(item, LineDict) else None
            )
            items.append(one(item, inner, path))
        return None if any(i is None for i in items) else items

    # --- fetch / backup items -------------------------------------------------------------

    def _path_text(self, text: str, section: Section, key: str) -> str | None:
        if is_template(text):
            self.use(section, key, text)
            return text
        artifact = self.kind is StepKind.BACKUP and text in ("running-config", "startup-config")
        if not artifact and not text.startswith("/"):
            section.error(key, f"{text!r} is not an absolute path", hint_for(self.kind))
            return None
        return text

    def _path_item(self, item: Any, inner: Section | None, path: str) -> Any:
        if isinstance(item, str):
            return self._path_text(item, self.section, self.key)
        if inner is None:
            self.section.problems.add(
                f"an item must be a path or a mapping, got {describe_type(item)}",
                line=self.section.line(self.key),
                field=path,
                hint=hint_for(self.kind),
            )
            return None
        inner.only(FETCH_ITEM_KEYS)
        text = inner.text("path", required=True, hint="the file (or glob) to back up")
        name = inner.text("name")
        optional = inner.flag("optional", False)
        if text is None or self._path_text(text, inner, "path") is None:
            return None
        if name is not None and not is_template(name) and not ARTIFACT_NAME.fullmatch(name):
            inner.error("name", f"{name!r} is not a valid artifact name", SAVE_HINT)
            return None
        if name is not None and is_template(name):
            self.use(inner, "name", name)
        return {"path": text, "name": name, "optional": optional}

    # --- archive ------------------------------------------------------------------------------

    def _dataset(self, item: Any, inner: Section | None, path: str) -> Any:
        if inner is None:
            self.section.problems.add(
                f"a data set must be a mapping, got {describe_type(item)}",
                line=self.section.line(self.key),
                field=path,
                hint=hint_for(self.kind),
            )
            return None
        inner.only(DATASET_KEYS)
        inner.text("name", required=True, hint="name the data set, e.g. name: appdata")
        inner.text("path", required=True, hint="the directory to archive, e.g. /srv/appdata")
        self._templates(inner, inner.data)
        return plain(inner.data)

    # --- restore -------------------------------------------------------------------------------

    def _restore(self, item: Any, inner: Section | None, path: str) -> Any:
        if inner is None:
            self.section.problems.add(
                f"a restore must be a mapping, got {describe_type(item)}",
                line=self.section.line(self.key),
                field=path,
                hint=hint_for(self.kind),
            )
            return None
        inner.only(RESTORE_KEYS)
        if inner.has("max_age") and not is_template(str(inner.data["max_age"])):
            inner.seconds("max_age")
        self._templates(inner, inner.data)
        return plain(inner.data)

    def _templates(self, section: Section, data: Any, key: str | None = None) -> None:
        if isinstance(data, str):
            if is_template(data):
                self.use(section, key or self.key, data)
        elif isinstance(data, dict):
            for k, v in data.items():
                self._templates(section, v, str(k) if key is None else key)
        elif isinstance(data, list):
            for v in data:
                self._templates(section, v, key)


def read_save(section: Section, kind: StepKind | None) -> str | None:
    """A command/cli step's ``save:`` artifact name."""
    name = section.text("save")
    if name is None:
        return None
    if kind not in (None, StepKind.COMMAND, StepKind.CLI):
        section.error(
            "save", "save only applies to command: and cli: steps", "fetch/archive store already"
        )
        return None
    if not ARTIFACT_NAME.fullmatch(name):
        section.error("save", f"{name!r} is not a valid artifact name", SAVE_HINT)
        return None
    return name


def check_artifact_options(section: Section, kind: StepKind | None) -> None:
    """Options that make no sense on the backup step kinds."""
    if kind is None or kind.value not in _KINDS:
        return
    if section.has("parse"):
        section.error(
            "parse",
            f"{kind.value}: steps give their own parsed result",
            "remove parse:; checks read parsed directly (docs/backups.md)",
        )


_KINDS = frozenset(k.value for k in _HINTS)
