"""Data sets: what ``archive:`` backs up on a host and what ``restore:`` proves about it.

A data set is declared in inventory vars (or inline in a runbook)::

    datasets:
      - name: appdata
        path: /srv/appdata                 # the directory archived
        dump: appdata-dump                 # optional: run first (e.g. a consistent DB dump)
        max_age: 26h                       # RPO: the newest backup may not be older
        record:                            # values measured at backup time, kept with it
          rows: sqlite3 /srv/appdata/app.db 'select count(*) from orders'
        probes:                            # run against the restored copy ({dir})
          - {name: integrity, command: "sqlite3 {dir}/app.db 'PRAGMA integrity_check'", expect: ok}
          - {name: rows, command: "sqlite3 {dir}/app.db 'select count(*) from orders'",
             expect_recorded: rows}

The definition is stored with every backup version, so a restore checks what the
data set promised when it was backed up, wherever it is verified.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.runbook.durations import parse_duration

DATASET_KEYS = frozenset({"name", "path", "dump", "max_age", "record", "probes"})
PROBE_KEYS = frozenset({"name", "command", "expect", "expect_recorded"})
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class DataSetError(ValueError):
    """A data set or probe definition is wrong; the message names the field."""


@dataclass(frozen=True)
class Probe:
    name: str
    command: str  # shell; {dir}: the restored directory, {file}: a restored file (shell-quoted)
    expect: str | None = None  # stdout (stripped) must equal this
    expect_recorded: str | None = None  # stdout must equal this value recorded at backup time

    def command_for(self, directory: str, file: str = "") -> str:
        command = self.command.replace("{dir}", shlex.quote(directory))
        return command.replace("{file}", shlex.quote(file)) if file else command


@dataclass(frozen=True)
class DataSet:
    name: str
    path: str
    dump: str | None = None
    max_age: float | None = None  # seconds
    record: Mapping[str, str] = field(default_factory=dict)  # key -> shell command
    probes: tuple[Probe, ...] = ()

    def to_meta(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "dump": self.dump,
            "max_age": self.max_age,
            "record": dict(self.record),
            "probes": [
                {
                    "name": p.name,
                    "command": p.command,
                    "expect": p.expect,
                    "expect_recorded": p.expect_recorded,
                }
                for p in self.probes
            ],
        }


def _text(data: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise DataSetError(f"{where}: missing {key}:")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DataSetError(f"{where}.{key}: must be text, got {type(value).__name__}")
    text = str(value).strip()
    if required and not text:
        raise DataSetError(f"{where}.{key}: must not be empty")
    return text or None


def _unknown(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    extra = sorted(str(k) for k in data if k not in allowed)
    if extra:
        raise DataSetError(
            f"{where}: unknown key(s) {', '.join(extra)} (allowed: {', '.join(sorted(allowed))})"
        )


def read_probe(data: Any, where: str) -> Probe:
    if not isinstance(data, Mapping):
        raise DataSetError(f"{where}: a probe is a mapping {{name, command, expect}}")
    _unknown(data, PROBE_KEYS, where)
    command = _text(data, "command", where, required=True)
    assert command is not None
    if "{dir}" not in command and "{file}" not in command:
        raise DataSetError(
            f"{where}.command: must use {{dir}} (the restored directory) or {{file}} "
            "(a restored file)"
        )
    return Probe(
        name=_text(data, "name", where) or command[:40],
        command=command,
        expect=_text(data, "expect", where),
        expect_recorded=_text(data, "expect_recorded", where),
    )


def read_dataset(data: Any, where: str = "dataset") -> DataSet:
    """A validated data set from a mapping (inventory var or inline); DataSetError if wrong."""
    if not isinstance(data, Mapping):
        raise DataSetError(f"{where}: a data set is a mapping {{name, path, ...}}")
    _unknown(data, DATASET_KEYS, where)
    name = _text(data, "name", where, required=True)
    path = _text(data, "path", where, required=True)
    assert name is not None
    assert path is not None
    if not NAME.fullmatch(name):
        raise DataSetError(f"{where}.name: {name!r} is not a valid name (letters, digits, _.-)")
    if not path.startswith("/") or path.rstrip("/") == "":
        raise DataSetError(f"{where}.path: must be an absolute directory other than /")
    max_age = None
    if data.get("max_age") is not None:
        try:
            max_age = parse_duration(data["max_age"])
        except ValueError as exc:
            raise DataSetError(f"{where}.max_age: {exc}") from None
    record = data.get("record") or {}
    if not isinstance(record, Mapping):
        raise DataSetError(f"{where}.record: a mapping of name: command")
    probes = data.get("probes") or []
    if not isinstance(probes, list):
        raise DataSetError(f"{where}.probes: a list of probes")
    return DataSet(
        name=name,
        path=path.rstrip("/"),
        dump=_text(data, "dump", where),
        max_age=max_age,
        record={str(k): str(v) for k, v in record.items()},
        probes=tuple(read_probe(p, f"{where}.probes[{i}]") for i, p in enumerate(probes)),
    )


def read_datasets(value: Any) -> list[DataSet]:
    """One data set (a mapping) or a list of them; names must be unique."""
    items = value if isinstance(value, list) else [value]
    sets = [read_dataset(item, f"datasets[{i}]") for i, item in enumerate(items)]
    names = [s.name for s in sets]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataSetError(f"data set name(s) repeated: {', '.join(repeated)}")
    return sets


def inside(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or below it (textually, both absolute)."""
    path, directory = path.rstrip("/") or "/", directory.rstrip("/") or "/"
    return path == directory or path.startswith(directory + "/") or directory == "/"
