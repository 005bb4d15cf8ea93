"""Every way an inventory can be refused: the error names file, line, field and a hint."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.errors import InventoryError
from orchestrator.inventory import load_inventory

ERRORS = Path(__file__).parents[2] / "data" / "inventories" / "errors"

# file, line the problem is reported at, field (None: the whole document), words in the message
CASES = [
    ("bad_yaml.yml", 6, None, "invalid YAML"),
    ("duplicate_key.yml", 4, None, "duplicate key 'hosts'"),
    ("empty.yml", 1, None, "empty"),
    ("plugin.yml", 1, "plugin", "plugin configurations are not supported"),
    ("hosts_list.yml", 4, "hosts", "must be a mapping, not a list"),
    ("group_not_mapping.yml", 6, "webservers", "must be a mapping"),
    ("unknown_key.yml", 4, "host", "unexpected key 'host'"),
    ("int_host.yml", 3, "hosts", "must be a string"),
    ("host_vars_list.yml", 3, "web01", "vars of host 'web01' must be a mapping"),
    ("bad_range.yml", 6, "hosts", "begin:end or begin:end:step"),
    ("bad_range.ini", 3, "hosts", "same width"),
    ("cycle.yml", 5, "b", "creates a loop"),
    ("self_child.yml", 5, "web", "child of itself"),
    ("ini_cycle.ini", 5, "a", "creates a loop"),
    ("priority_not_int.yml", 5, "ansible_group_priority", "must be an integer"),
    ("bad_kind.yml", 5, "kind", "not 'windows' (hosts w1, w2)"),
    ("no_platform.yml", 7, "platform", "required for kind: network (host sw01)"),
    ("bad_platform.yml", 5, "platform", "netmiko device_type"),
    ("bad_criticality.ini", 5, "criticality", "not 'urgent'"),
    ("bad_port.yml", 4, "ansible_port", "port number"),
    ("ini_bad_section.ini", 1, "[web servers]", "invalid section header"),
    ("ini_unknown_section_type.ini", 3, "[web:hostvars]", "unknown type 'hostvars'"),
    ("ini_vars_undeclared.ini", 4, "[ghost:vars]", "never declared"),
    ("ini_children_undeclared.ini", 6, "[prod:children]", "names group 'ghost'"),
    ("ini_no_equals.ini", 2, "[web]", "expected key=value"),
    ("ini_vars_no_equals.ini", 3, "[web:vars]", "expected key=value"),
    ("ini_trailing_colon.ini", 2, "[web]", "ends in ':'"),
    ("ini_bad_quotes.ini", 2, "[web]", "No closing quotation"),
]


@pytest.mark.parametrize(("name", "line", "field", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_inventory_is_refused_with_location(
    name: str, line: int, field: str | None, words: str
) -> None:
    with pytest.raises(InventoryError) as caught:
        load_inventory(ERRORS / name)
    problem = caught.value.problems[0]
    assert (Path(str(problem.file)), problem.line, problem.field) == (ERRORS / name, line, field)
    assert words in problem.message
    assert problem.hint
    assert f"{ERRORS / name}:{line}: " in str(caught.value)


def test_every_error_file_has_a_case() -> None:
    assert {p.name for p in ERRORS.iterdir()} - {c[0] for c in CASES} == {"hosts.toml"}


def test_toml_is_refused() -> None:
    with pytest.raises(InventoryError, match=r"hosts\.toml: TOML inventories are not supported"):
        load_inventory(ERRORS / "hosts.toml")


def test_one_problem_per_bad_value_naming_all_hosts(tmp_path: Path) -> None:
    path = tmp_path / "hosts.ini"
    path.write_text("[net]\nsw[1:5] kind=network\n[db]\ndb1 criticality=high\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == 2
    assert "(hosts sw1, sw2, sw3 and 2 more)" in messages[0]
    assert "not 'high' (host db1)" in messages[1]


def test_bad_value_in_group_vars_file_points_at_that_file(tmp_path: Path) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "web.yml").write_text("# web\nhttp_port: 80\nkind: unix\n")
    (tmp_path / "hosts.ini").write_text("[web]\nw1\n")
    with pytest.raises(InventoryError, match=r"group_vars/web\.yml:3: kind: must be one of"):
        load_inventory(tmp_path / "hosts.ini")


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        ("- a\n- b\n", 1, "must hold a mapping"),
        ("x: [1,\n", 2, "invalid YAML"),
        ("1: one\n", 1, "invalid variable name 1"),
        ("$ANSIBLE_VAULT;1.1;AES256\n6162\n", None, "vault-encrypted"),
    ],
)
def test_bad_vars_file(tmp_path: Path, content: str, line: int | None, words: str) -> None:
    (tmp_path / "host_vars").mkdir()
    bad = tmp_path / "host_vars" / "w1.yml"
    bad.write_text(content)
    (tmp_path / "hosts.ini").write_text("w1\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path / "hosts.ini")
    problem = caught.value.problems[0]
    assert (Path(str(problem.file)), problem.line) == (bad, line)
    assert words in problem.message


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=r"nope\.yml: no such inventory file"):
        load_inventory(tmp_path / "nope.yml")


def test_directory_without_inventory_files(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("web01\n")
    (tmp_path / "group_vars").mkdir()
    with pytest.raises(InventoryError, match="no inventory files in this directory"):
        load_inventory(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "hosts.ini"
    path.write_bytes(b"[web]\nw\xe9b01\n")
    with pytest.raises(InventoryError, match=r"hosts\.ini: not UTF-8 text"):
        load_inventory(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file; run as a normal user")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text("all:\n")
    path.chmod(0)
    with pytest.raises(InventoryError, match=r"hosts\.yml: cannot read inventory"):
        load_inventory(path)


def test_ini_vars_may_name_a_group_from_an_earlier_file_of_the_directory(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("all:\n  children:\n    web:\n      hosts:\n        w1:\n")
    (tmp_path / "b.ini").write_text("[web:vars]\nx=1\n")
    assert load_inventory(tmp_path).host("w1").vars == {"x": 1}
    (tmp_path / "0.ini").write_text("[late:vars]\nx=1\n")
    with pytest.raises(InventoryError, match=r"0\.ini:1: .*\[late:vars\]"):
        load_inventory(tmp_path)
