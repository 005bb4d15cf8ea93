"""graph_lines: the ansible-inventory --graph tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import NotFoundError
from orchestrator.inventory import graph_lines, load_inventory

DATA = Path(__file__).parents[2] / "data" / "inventories"


def test_graph_of_site() -> None:
    inv = load_inventory(DATA / "site" / "hosts.ini")
    assert graph_lines(inv) == [
        "@all:",
        "  |--@ungrouped:",
        "  |  |--jump01",
        "  |--@linux:",
        "  |  |--@web:",
        "  |  |  |--web01",
        "  |  |  |--web02",
        "  |  |  |--web03",
        "  |  |  |--web04",
        "  |  |  |--web-canary",
        "  |  |--@db:",
        "  |  |  |--db-a",
        "  |  |  |--db-b",
        "  |  |  |--db-c",
        "  |--@network:",
        "  |  |--sw01",
        "  |  |--fw01",
        "  |--@critical:",
        "  |  |--db-a",
        "  |  |--sw01",
    ]


def test_graph_from_a_group_with_child_groups_before_hosts() -> None:
    inv = load_inventory(DATA / "precedence" / "hosts.yml")
    assert graph_lines(inv, "parent") == ["@parent:", "  |--@child:", "  |  |--p1", "  |  |--p2"]


def test_graph_with_vars_masks_secrets(tmp_path: Path) -> None:
    path = tmp_path / "hosts.ini"
    path.write_text(
        "[net]\nsw1 ansible_password=s3cret platform=cisco_ios\n[net:vars]\nkind=network\n"
    )
    lines = graph_lines(load_inventory(path), "net", show_vars=True)
    assert lines == [
        "@net:",
        "  |--sw1",
        "  |  |--{ansible_password = ********}",
        "  |  |--{kind = network}",
        "  |  |--{platform = cisco_ios}",
        "  |--{kind = network}",
    ]


def test_unknown_group() -> None:
    inv = load_inventory(DATA / "site" / "hosts.yml")
    with pytest.raises(NotFoundError, match="no group 'nope'"):
        graph_lines(inv, "nope")
