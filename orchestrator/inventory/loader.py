"""Load an Ansible inventory, unchanged, into the model — same hosts and vars as ansible-core.

``load_inventory(path)`` accepts what ``ansible-inventory -i PATH`` accepts for
static inventories:

- a YAML file (``.yml``, ``.yaml``, ``.json``; see ``yaml_source``),
- an INI file (any other extension; see ``ini_source``),
- a file without extension: YAML if it parses as a YAML mapping, else INI,
- a directory: every inventory file in it, recursively, in sorted order, skipping
  hidden files, ``group_vars``/``host_vars``/``vars_plugins`` and the extensions
  Ansible ignores (``.md``, ``.txt``, ``.cfg``, ``.bak``, ``~`` ...).

``group_vars/`` and ``host_vars/`` are read beside the inventory file (or inside the
directory); precedence is Ansible's (see ``variables``). Values are not templated:
``"{{ x }}"`` stays that string, as in ``ansible-inventory --list``.

Not supported: inventory plugins and dynamic inventory scripts, TOML inventories,
vault-encrypted files. Where Ansible would only warn and carry on with fewer
hosts (a file it cannot parse, an unknown key in a YAML group) we raise
``InventoryError`` naming file, line, field and a hint: running a change on a
silently shrunken inventory is worse than stopping.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from orchestrator.errors import InventoryError, ValidationError
from orchestrator.inventory.builder import InventoryBuilder
from orchestrator.inventory.ini_source import read_ini_inventory
from orchestrator.inventory.location import Where
from orchestrator.inventory.model import Inventory
from orchestrator.inventory.resolution import resolve_inventory
from orchestrator.inventory.validation import check_hosts
from orchestrator.inventory.yaml_source import read_yaml_inventory
from orchestrator.yamlfile import parse_yaml

log = logging.getLogger(__name__)

YAML_SUFFIXES = (".yml", ".yaml", ".json")
IGNORED_NAMES = frozenset({"group_vars", "host_vars", "vars_plugins"})
# ansible-core's default INVENTORY_IGNORE_EXTS (REJECT_EXTS + .orig, .cfg, .retry).
IGNORED_SUFFIXES = (
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
)  # fmt: skip


def load_inventory(path: Path) -> Inventory:
    """Read the inventory at ``path`` (file or directory); ``InventoryError`` if it is bad."""
    path = Path(path)
    if not path.exists():
        raise Where(path).error(
            "no such inventory file or directory",
            hint="point `inventory` in orchestrator.toml (or --inventory) at your hosts.yml",
        )
    files = inventory_files(path)
    if not files:
        raise Where(path).error(
            "no inventory files in this directory",
            hint="add a hosts.yml (files named *.md, *.txt, *.cfg ... are ignored)",
        )
    builder = InventoryBuilder(Where(files[0], 1))
    for file in files:
        read_inventory_file(file, builder)
    builder.reconcile()
    base = path if path.is_dir() else path.parent
    resolved = resolve_inventory(builder, base, path)
    problems = check_hosts(resolved.layers, {n: h.where for n, h in builder.hosts.items()})
    if problems:
        raise InventoryError(problems)
    log.debug(
        "inventory %s: %d hosts, %d groups",
        path,
        len(resolved.inventory),
        len(resolved.inventory.groups),
    )
    return resolved.inventory


def inventory_files(path: Path) -> list[Path]:
    """The files ``path`` stands for: itself, or the inventory files under a directory."""
    if not path.is_dir():
        return [path]
    files: list[Path] = []
    for entry in sorted(path.iterdir(), key=lambda p: p.name):
        if _ignored(entry.name):
            continue
        files.extend(inventory_files(entry))
    return files


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES)


def read_inventory_file(path: Path, builder: InventoryBuilder) -> None:
    """Add one inventory file to ``builder``, choosing YAML or INI as Ansible would."""
    text = _read_text(path)
    if path.suffix == ".toml":
        raise Where(path).error(
            "TOML inventories are not supported", hint="convert it to YAML (hosts.yml)"
        )
    if path.suffix in YAML_SUFFIXES:
        read_yaml_inventory(_parse_yaml(text, path), path, builder)
        return
    if not path.suffix:
        data = _yaml_mapping_or_none(text, path)
        if data is not None:
            read_yaml_inventory(data, path, builder)
            return
    read_ini_inventory(text, path, builder)


def _read_text(path: Path) -> str:
    try:
        # utf-8-sig: editors on Windows like to start files with a byte-order mark
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Where(path).error(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})", hint="save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise Where(path).error(
            f"cannot read inventory: {exc.strerror}", hint="check the path and its permissions"
        ) from None


def _parse_yaml(text: str, path: Path) -> Any:
    try:
        return parse_yaml(text, path)
    except InventoryError:
        raise
    except ValidationError as exc:
        raise InventoryError(exc.problems) from None


def _yaml_mapping_or_none(text: str, path: Path) -> dict[str, Any] | None:
    """The YAML mapping in ``text``, or None when it is not one (then it is INI)."""
    try:
        data = parse_yaml(text, path)
    except ValidationError:
        return None
    return data if isinstance(data, dict) and data else None
