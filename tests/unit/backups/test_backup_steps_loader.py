"""Runbook validation of the backup step kinds (fetch, archive, restore, backup) and save:."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import RunbookError
from orchestrator.runbook.loader import free_variables, load_runbook
from orchestrator.runbook.model import StepKind

HEAD = "name: book\nkind: backup\nchange: standard\ntargets: all\nsteps:\n"


def load(tmp_path: Path, steps: str, known: set[str] | None = None):  # type: ignore[no-untyped-def]
    path = tmp_path / "book.yml"
    path.write_text(HEAD + steps)
    return load_runbook(path, known_vars=known)


def problems(tmp_path: Path, steps: str) -> list[str]:
    with pytest.raises(RunbookError) as caught:
        load(tmp_path, steps, known={"datasets", "extra"})
    return [f"{p.line} {p.field}: {p.message} ({p.hint})" for p in caught.value.problems]


def test_every_backup_kind_loads_with_its_spec(tmp_path: Path) -> None:
    book = load(
        tmp_path,
        """\
  - name: config
    cli: show running-config
    save: running-config
  - name: files
    fetch: [/etc/fstab, {path: "/etc/cron.d/*", name: cron, optional: true}]
  - name: more files
    fetch: "{{ extra }}"
  - name: data
    archive: "{{ datasets }}"
  - name: inline data
    archive: {name: www, path: /var/www, max_age: 26h}
  - name: restore
    restore: [{source: h2, dataset: appdata, version: latest, max_age: 1h}]
  - name: before change
    backup: [running-config, /etc/nginx/nginx.conf]
""",
        known={"datasets", "extra"},
    )
    kinds = [s.kind for s in book.steps]
    assert kinds == [
        StepKind.CLI,
        StepKind.FETCH,
        StepKind.FETCH,
        StepKind.ARCHIVE,
        StepKind.ARCHIVE,
        StepKind.RESTORE,
        StepKind.BACKUP,
    ]
    assert book.steps[0].save == "running-config"
    assert book.steps[1].action == [
        "/etc/fstab",
        {"path": "/etc/cron.d/*", "name": "cron", "optional": True},
    ]
    assert book.steps[3].action == "{{ datasets }}"
    assert book.steps[5].action == [
        {"source": "h2", "dataset": "appdata", "version": "latest", "max_age": "1h"}
    ]
    # Names inside specs are what the runbook needs from the inventory.
    assert free_variables(book) == {"datasets", "extra"}


def test_shape_mistakes_are_reported_with_line_and_field(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
  - name: relative
    fetch: etc/fstab
  - name: text archive
    archive: /srv/appdata
  - name: typo
    restore: {sourse: h2, dataset: appdata}
  - name: bad item
    fetch: [{name: x}]
  - name: parse on fetch
    fetch: /etc/hosts
    parse: json
  - name: save on ansible
    ansible: {module: ping}
    save: x
  - name: bad save name
    command: cat /etc/hosts
    save: "bad name"
  - name: undefined
    fetch: "{{ nowhere }}"
""",
    )
    expected = [
        "7 steps[0].fetch: 'etc/fstab' is not an absolute path",
        "9 steps[1].archive: takes a mapping or a list",
        "11 steps[2].restore.sourse: unknown key 'sourse' (did you mean 'source'?)",
        "13 steps[3].fetch[0].path: missing required key 'path'",
        "16 steps[4].parse: fetch: steps give their own parsed result",
        "19 steps[5].save: save only applies to command: and cli: steps",
        "22 steps[6].save: 'bad name' is not a valid artifact name",
        "24 steps[7].fetch: undefined variable 'nowhere'",
    ]
    assert len(found) == len(expected), found
    for want, got in zip(expected, found, strict=True):
        assert got.startswith(want), (want, got)
