"""Host patterns on tests/data/inventories/site (the parity test checks them against Ansible).

The site inventory: jump01 (ungrouped); web = web01..web04, web-canary; db = db-a..db-c;
linux = web + db; network = sw01, fw01; critical = db-a, sw01.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import InventoryError
from orchestrator.inventory import Inventory, limit_hosts, load_inventory, select_hosts
from orchestrator.inventory.select import order_parts, split_pattern

SITE = Path(__file__).parents[2] / "data" / "inventories" / "site" / "hosts.yml"
WEB = ["web01", "web02", "web03", "web04", "web-canary"]
DB = ["db-a", "db-b", "db-c"]
EVERY = ["jump01", *WEB, *DB, "sw01", "fw01"]

PATTERNS = [
    ("all", EVERY),
    ("*", EVERY),
    ("web", WEB),
    ("linux", WEB + DB),
    ("web01", ["web01"]),
    ("ungrouped", ["jump01"]),
    ("db,web", WEB + DB),  # inventory order, not pattern order
    ("web:db", WEB + DB),
    (" web , db ", WEB + DB),
    ("linux:&critical", ["db-a"]),
    ("linux:!db", WEB),
    ("!db", ["jump01", *WEB, "sw01", "fw01"]),
    ("&critical", ["db-a", "sw01"]),  # only & / ! parts: start from all
    ("critical:!network:linux", WEB + DB),  # unions first, then exclusions
    ("!network:&critical:web", []),  # web, then & critical: nothing left
    ("web,db:&critical", WEB),  # with a comma, ':' no longer separates: "db:&critical" is one name
    ("web0*", ["web01", "web02", "web03", "web04"]),
    ("web0?", ["web01", "web02", "web03", "web04"]),
    ("*-canary", ["web-canary"]),
    ("l*", WEB + DB),  # a glob matching a group name takes its hosts
    ("db-[a:b]", ["db-a", "db-b"]),  # in a pattern, [a:b] is a glob class, not a range
    ("~web0[12]", ["web01", "web02"]),
    ("~^(db|sw)", [*DB, "sw01"]),
    ("~eb", []),  # a regex matches from the start of the name
    ("web[0]", ["web01"]),
    ("web[-1]", ["web-canary"]),
    ("web[1:2]", ["web02", "web03"]),
    ("web[3:]", ["web04", "web-canary"]),
    ("db[0],network[1]", ["db-a", "fw01"]),
    ("linux[5]", ["db-a"]),  # a group's own hosts, then its children's
    ("nothing", []),
    ("web01:22", []),  # one address with a port, matching no host name
]


@pytest.fixture(scope="module")
def site() -> Inventory:
    return load_inventory(SITE)


@pytest.mark.parametrize(("pattern", "expected"), PATTERNS, ids=[p for p, _ in PATTERNS])
def test_select(site: Inventory, pattern: str, expected: list[str]) -> None:
    assert [h.name for h in select_hosts(site, pattern)] == expected


@pytest.mark.parametrize(
    ("targets", "limit", "expected"),
    [
        ("linux", "critical", ["db-a"]),
        ("linux", "all", WEB + DB),
        ("web", "!web01:!web02", ["web03", "web04", "web-canary"]),
        ("web", "~web0[12],db", ["web01", "web02"]),
        ("web", "db", []),
        ("all", "~^sw", ["sw01"]),
    ],
)
def test_limit(site: Inventory, targets: str, limit: str, expected: list[str]) -> None:
    assert [h.name for h in select_hosts(site, targets, limit=limit)] == expected
    narrowed = limit_hosts(site, select_hosts(site, targets), limit)
    assert [h.name for h in narrowed] == expected


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("~web(", "invalid regular expression"),
        ("", "empty"),
        (" , ", "empty"),
        ("web[7]", "out of range"),
    ],
)
def test_invalid_pattern(site: Inventory, pattern: str, words: str) -> None:
    with pytest.raises(InventoryError, match=words) as caught:
        select_hosts(site, pattern)
    assert caught.value.problems[0].hint


def test_empty_limit_is_an_error(site: Inventory) -> None:
    with pytest.raises(InventoryError, match="limit is empty"):
        limit_hosts(site, list(site), "")


@pytest.mark.parametrize(
    ("pattern", "parts"),
    [
        ("a,b[1], c[2:3] , d", ["a", "b[1]", "c[2:3]", "d"]),
        ("web:&db:!web01", ["web", "&db", "!web01"]),
        ("web[1:3]", ["web[1:3]"]),
        ("web[1:3]:&db", ["web[1:3]", "&db"]),
        ("10.0.0.1:22", ["10.0.0.1:22"]),
        ("fe80::1", ["fe80::1"]),
    ],
)
def test_split_pattern(pattern: str, parts: list[str]) -> None:
    assert split_pattern(pattern) == parts


def test_order_parts() -> None:
    assert order_parts(["!a", "&b", "c", "!d", "e"]) == ["c", "e", "&b", "!a", "!d"]
    assert order_parts(["!a"]) == ["all", "!a"]
