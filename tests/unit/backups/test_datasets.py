"""Data set definitions: validation with the field named, probes, path containment."""

from __future__ import annotations

import pytest

from orchestrator.backups.datasets import DataSetError, inside, read_dataset, read_datasets

GOOD = {
    "name": "appdata",
    "path": "/srv/appdata/",
    "dump": "appdata-dump",
    "max_age": "26h",
    "record": {"rows": "sqlite3 /srv/appdata/app.db 'select count(*) from t'"},
    "probes": [
        {
            "name": "integrity",
            "command": "sqlite3 {dir}/app.db 'PRAGMA integrity_check'",
            "expect": "ok",
        },
        {"command": "wc -l < {dir}/x", "expect_recorded": "rows"},
    ],
}


def test_a_full_definition_is_read() -> None:
    dataset = read_dataset(GOOD)
    assert dataset.path == "/srv/appdata"
    assert dataset.max_age == 26 * 3600
    assert dataset.record == {"rows": GOOD["record"]["rows"]}  # type: ignore[index]
    assert [p.name for p in dataset.probes] == ["integrity", "wc -l < {dir}/x"]
    assert read_dataset(dataset.to_meta()) == dataset


def test_probe_commands_get_the_restored_directory_shell_quoted() -> None:
    probe = read_dataset(GOOD).probes[0]
    assert probe.command_for("/var/tmp/orch restore.1/data") == (
        "sqlite3 '/var/tmp/orch restore.1/data'/app.db 'PRAGMA integrity_check'"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": None}, r"dataset: missing name:"),
        ({"path": "relative"}, r"dataset.path: must be an absolute directory"),
        ({"path": "/"}, r"dataset.path: must be an absolute directory other than /"),
        ({"name": "bad name"}, r"dataset.name: 'bad name' is not a valid name"),
        ({"max_age": "2 days"}, r"dataset.max_age: "),
        ({"extra": 1}, r"unknown key\(s\) extra"),
        ({"probes": [{"command": "true"}]}, r"probes\[0\].command: must use \{dir\}"),
        ({"probes": "x"}, r"dataset.probes: a list"),
        ({"record": ["x"]}, r"dataset.record: a mapping"),
    ],
)
def test_mistakes_name_the_field(change: dict[str, object], message: str) -> None:
    data = {**GOOD, **change}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(DataSetError, match=message):
        read_dataset(data)


def test_names_must_be_unique_in_a_list() -> None:
    with pytest.raises(DataSetError, match="repeated: appdata"):
        read_datasets([GOOD, GOOD])
    assert len(read_datasets(GOOD)) == 1


def test_inside() -> None:
    assert inside("/srv/appdata", "/srv/appdata/")
    assert inside("/srv/appdata/x", "/srv/appdata")
    assert not inside("/srv/appdata2", "/srv/appdata")
    assert not inside("/var/tmp", "/srv/appdata")
    assert inside("/anything", "/")
