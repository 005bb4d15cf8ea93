"""``group_vars/`` and ``host_vars/`` beside the inventory, found the way Ansible finds them.

For an entity ``NAME`` (group or host) Ansible's ``host_group_vars`` plugin looks, in
this order, for ``NAME``, ``NAME.yml``, ``NAME.yaml``, ``NAME.json`` and uses the
first that exists. If that is a directory, every file in it (recursively, in sorted
order, skipping hidden files, ``*~`` backups and files with other extensions) is
read and later files override earlier ones. Files hold a YAML (or JSON) mapping.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from orchestrator.errors import InventoryError, ValidationError
from orchestrator.inventory.location import Where, kind_of
from orchestrator.inventory.variables import VarLayer
from orchestrator.yamlfile import line_of, parse_yaml

log = logging.getLogger(__name__)

VARS_EXTENSIONS = (".yml", ".yaml", ".json")
_VAULT_HEADER = "$ANSIBLE_VAULT;"


def find_vars_files(directory: Path, name: str) -> list[Path]:
    """The files holding ``name``'s vars under ``directory``, lowest precedence first."""
    for suffix in ("", *VARS_EXTENSIONS):
        candidate = directory / (name + suffix)
        if candidate.is_dir():
            return _files_in(candidate)
        if candidate.exists():
            return [candidate]
    return []


def _files_in(directory: Path) -> list[Path]:
    found: list[Path] = []
    for entry in sorted(directory.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name.endswith("~"):
            continue
        if entry.is_dir() and not entry.suffix:
            found.extend(_files_in(entry))
        elif entry.is_file() and (not entry.suffix or entry.suffix in VARS_EXTENSIONS):
            found.append(entry)
    return found


def read_vars_file(path: Path) -> VarLayer:
    """The variables one vars file sets (an empty file sets none)."""
    where = Where(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise where.error(f"cannot read vars file: {exc}") from None
    if text.startswith(_VAULT_HEADER):
        raise where.error(
            "vault-encrypted vars files are not supported",
            hint="keep secrets in environment variables, ssh keys or the ssh agent",
        )
    data = _parse(text, path)
    layer = VarLayer()
    if not data:  # Ansible ignores empty files (and empty documents)
        return layer
    if not isinstance(data, dict):
        raise where.at(line_of(data)).error(
            f"a vars file must hold a mapping of variable names to values, not {kind_of(data)}",
            hint="write `name: value` lines at the top level",
        )
    for key, value in data.items():
        if not isinstance(key, str) or not key:
            raise where.at(line_of(data, key)).error(
                f"invalid variable name {key!r}", hint="variable names are non-empty strings"
            )
        layer.set(key, value, where.at(line_of(data, key)))
    return layer


def _parse(text: str, path: Path) -> Any:
    try:
        return parse_yaml(text, path)
    except ValidationError as exc:
        # JSON that YAML rejects (tabs, for instance) is still a valid vars file.
        try:
            return json.loads(text)
        except ValueError:
            raise InventoryError(exc.problems) from None


def read_adjacent_vars(directory: Path, names: Iterable[str]) -> dict[str, VarLayer]:
    """Vars for each of ``names`` from ``directory`` (``group_vars`` or ``host_vars``).

    Names without a vars file are left out. A ``directory`` that does not exist
    yields nothing; one that is a file is skipped with a warning, as Ansible does.
    """
    if not directory.exists():
        return {}
    if not directory.is_dir():
        log.warning("%s is not a directory; skipped", directory)
        return {}
    wanted = list(names)
    result: dict[str, VarLayer] = {}
    for name in wanted:
        if name.startswith("/"):
            continue  # Ansible skips chroot-style host names
        files = find_vars_files(directory, name)
        if files:
            layer = VarLayer()
            for path in files:
                layer.update(read_vars_file(path))
            result[name] = layer
    _warn_unmatched(directory, set(wanted))
    return result


def _warn_unmatched(directory: Path, names: set[str]) -> None:
    """A vars file for a name the inventory lacks is usually a typo; say so."""
    for entry in sorted(directory.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name.endswith("~"):
            continue
        stem = entry.name
        for suffix in VARS_EXTENSIONS:
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        if stem not in names:
            log.warning("%s matches no name in the inventory; ignored", entry)
