"""Host range expansion and host[:port] parsing, table-driven."""

from __future__ import annotations

import pytest

from orchestrator.inventory.address import parse_address
from orchestrator.inventory.ranges import HostRangeError, expand_host_range


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("web01", ["web01"]),
        ("web[1:3]", ["web1", "web2", "web3"]),
        ("web[01:03]", ["web01", "web02", "web03"]),
        ("web[08:11]", ["web08", "web09", "web10", "web11"]),
        ("web[1:10:4]", ["web1", "web5", "web9"]),
        ("web[01:09:4].lab", ["web01.lab", "web05.lab", "web09.lab"]),
        ("db-[a:c]", ["db-a", "db-b", "db-c"]),
        ("db-[a:e:2]", ["db-a", "db-c", "db-e"]),
        ("n[y:B]", ["ny", "nz", "nA", "nB"]),  # ascii_letters order (a-z then A-Z), like Ansible
        ("x[:2]", ["x0", "x1", "x2"]),
        ("r[1:2]-u[a:b]", ["r1-ua", "r1-ub", "r2-ua", "r2-ub"]),
        ("10.0.[1:2].[5:6]", ["10.0.1.5", "10.0.1.6", "10.0.2.5", "10.0.2.6"]),
        ("h[7:7]", ["h7"]),
    ],
)
def test_expand(name: str, expected: list[str]) -> None:
    assert expand_host_range(name) == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("web[1]", "begin:end"),
        ("web[1:2:3:4]", "begin:end"),
        ("web[1:]", "end value"),
        ("web[01:100]", "same width"),
        ("web[5:1]", "greater than end"),
        ("web[c:a]", "not come after"),
        ("web[1:a]", "numbers or single letters"),
        ("web[aa:bb]", "numbers or single letters"),
        ("web[1:5:0]", "step"),
        ("web[1:5:x]", "step"),
        ("web[1:3", "unbalanced"),
        ("web]1:3[", "unbalanced"),
        ("web[0:999999]", "more than"),
    ],
)
def test_invalid_ranges(name: str, message: str) -> None:
    with pytest.raises(HostRangeError, match=message):
        expand_host_range(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("web01", ("web01", None)),
        ("web01:2222", ("web01", 2222)),
        ("web[01:03]:22", ("web[01:03]", 22)),
        ("10.0.0.1:22", ("10.0.0.1", 22)),
        ("10.0.0.[1:3]", ("10.0.0.[1:3]", None)),
        ("fe80::1", ("fe80::1", None)),
        ("[fe80::1]:2222", ("fe80::1", 2222)),
        ("[web01]:22", ("web01", 22)),
        ("under_score.example", ("under_score.example", None)),
    ],
)
def test_parse_address(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["web:db", "web*", "-web", "web-", "a b", "web:&db", "~web.*"])
def test_not_an_address(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid"):
        parse_address(text)


def test_ranges_can_be_refused() -> None:
    with pytest.raises(ValueError, match="ranges"):
        parse_address("web[1:2]", allow_ranges=False)
