"""The variable precedence ladder (tests/data/inventories/precedence), rung by rung.

Expected values follow Ansible's documented order (intro_inventory.html#how-variables-are-merged
and ansible/vars/manager.py); the parity test checks the same file against ansible-inventory.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.inventory import load_inventory

DATA = Path(__file__).parents[2] / "data" / "inventories" / "precedence"


@pytest.fixture(scope="module")
def hostvars() -> dict[str, dict[str, object]]:
    return {h.name: dict(h.vars) for h in load_inventory(DATA / "hosts.yml")}


@pytest.mark.parametrize(
    ("host", "var", "expected"),
    [
        ("p1", "v_all", "all"),  # only group all sets it
        ("p1", "v_parent", "parent"),  # parent group beats all
        ("p1", "v_child", "child"),  # child group beats parent
        ("p1", "v_gv_all", "group_vars_all"),  # group_vars/all beats any inventory group var
        ("p1", "v_gv_parent", "group_vars_parent"),  # group_vars/parent beats child inventory
        ("p1", "v_host", "host"),  # host var beats every group var
        ("p1", "v_host_vars", "host_vars"),  # host_vars/ beats the inventory host var
        ("p2", "v_host_vars", "json"),  # host_vars/p2.json
        ("p1", "v_child_files", "second"),  # group_vars/child/: later file wins
        ("p1", "v_child_first", "first"),
        ("p1", "v_child_nested", "nested"),  # sub-directories are read
        ("p2", "v_prio", "alpha"),  # same depth: ansible_group_priority 10 beats 1
        ("p3", "v_prio", "alpha"),
        ("p2", "v_name", "beta"),  # child (deeper) does not set it; beta is the only one
        ("p3", "v_name", "gamma"),  # same depth and priority: later name wins
        ("p3", "v_gamma_twice", "second"),  # a group defined twice: later value wins
        ("p3", "v_gamma_file", "plain"),  # group_vars/gamma is found before gamma.yml
        ("p3", "v_gv_parent", "all"),  # p3 is not under parent
    ],
)
def test_ladder(hostvars: dict[str, dict[str, object]], host: str, var: str, expected: str) -> None:
    assert hostvars[host][var] == expected


def test_dicts_are_replaced_not_merged(hostvars: dict[str, dict[str, object]]) -> None:
    assert hostvars["p1"]["v_dict"] == {"d": 4}  # host_vars dict replaces the host's {c: 3}
    assert hostvars["p2"]["v_dict"] == {"a": 1, "b": 2}


def test_ignored_vars_files_are_not_read(hostvars: dict[str, dict[str, object]]) -> None:
    values = {str(v) for h in hostvars.values() for v in h.values()}
    assert not any(v.startswith("ignored-because") for v in values)


def test_priority_var_in_inventory_is_not_a_host_var(
    hostvars: dict[str, dict[str, object]],
) -> None:
    # ansible_group_priority written in the inventory orders groups and is not a var;
    # written in group_vars/beta.yml it is an ordinary var and orders nothing.
    assert "ansible_group_priority" not in hostvars["p1"]
    assert hostvars["p2"]["ansible_group_priority"] == 100


def test_host_groups_are_in_precedence_order() -> None:
    inv = load_inventory(DATA / "hosts.yml")
    assert inv.host("p2").groups == ("all", "beta", "parent", "alpha", "child")
    assert inv.host("p3").groups == ("all", "beta", "gamma", "alpha")
    assert inv.groups["alpha"].vars == {"v_prio": "alpha", "ansible_group_priority": 10}
