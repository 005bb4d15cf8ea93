"""Parity with ansible-core: our loader and patterns against the real Ansible CLIs.

For every data inventory (tests/data/inventories) and the example inventory, run
``ansible-inventory --list`` (and ``--graph``, ``--host`` for some) and
``ansible-playbook --list-hosts`` with one play per host pattern, in a clean
environment (empty generated ansible.cfg, ANSIBLE_HOME and cwd in a temp dir), and
require the same hosts, group membership, per-host variables and pattern results.
Needs only the ansible-core that pyproject installs: no root, no network.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator.inventory import Inventory, graph_lines, load_inventory, select_hosts

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data" / "inventories"
EXAMPLE = ROOT / "inventories" / "example" / "hosts.yml"
BIN = Path(sys.executable).parent

SOURCES = [
    DATA / "site" / "hosts.yml",
    DATA / "site" / "hosts.ini",
    DATA / "precedence" / "hosts.yml",
    DATA / "ranges" / "hosts.yml",
    DATA / "ranges" / "hosts.ini",
    DATA / "inventory_dir",
    DATA / "clash" / "hosts.yml",
    DATA / "ini_values" / "hosts.ini",
    DATA / "formats" / "hosts.json",
    DATA / "formats" / "hosts-noext-yaml",
    DATA / "formats" / "hosts-noext-ini",
    EXAMPLE,
]
GRAPHED = [DATA / "site" / "hosts.ini", DATA / "clash" / "hosts.yml", EXAMPLE]
HOST_CHECKS = [(DATA / "precedence" / "hosts.yml", "p1"), (EXAMPLE, "edge-fw01")]

SITE_PATTERNS = [
    "web", "linux", "web01", "db,web", "web:db", " web , db ", "linux:&critical", "linux:!db",
    "!db", "&critical", "critical:!network:linux", "!network:&critical:web", "web,db:&critical",
    "web0*", "web0?", "*-canary", "l*", "db-[a:b]", "~web0[12]", "~^(db|sw)", "~eb", "web[0]",
    "web[-1]", "web[1:2]", "web[3:]", "db[0],network[1]", "linux[5]", "nothing", "web01:22",
]  # fmt: skip
GENERIC_PATTERNS = ["all", "*", "ungrouped", "!ungrouped", "~.*1$", "*a*", "!*a*", "all:!*1"]
# Keys ansible-inventory may add on its own; not part of the inventory's vars.
ANSIBLE_OWN_KEYS = {"inventory_file", "inventory_dir", "playbook_dir", "groups", "omit"}


@dataclass(frozen=True)
class Ansible:
    """Runs ansible CLIs in a clean, throw-away environment."""

    home: Path

    def run(self, tool: str, *args: str) -> str:
        executable = BIN / tool
        if not executable.exists():
            pytest.skip(f"{executable} missing: install the project with `pip install -e .[dev]`")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "LC_ALL": "C.UTF-8",
            "ANSIBLE_CONFIG": str(self.home / "ansible.cfg"),
            "ANSIBLE_HOME": str(self.home / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(self.home / "tmp"),
            "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true",
            "ANSIBLE_NOCOLOR": "1",
        }
        done = subprocess.run(
            [str(executable), *args], cwd=self.home, env=env, capture_output=True,
            text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{tool} {' '.join(args)} failed:\n{done.stderr}"
        return done.stdout

    def list_inventory(self, source: Path) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(
            self.run("ansible-inventory", "-i", str(source), "--list")
        )
        return result

    def pattern_hosts(self, source: Path, patterns: list[str]) -> dict[str, list[str]]:
        """Hosts of each pattern, from one ``ansible-playbook --list-hosts`` run."""
        plays = [
            {"name": f"p{i}", "hosts": pattern, "gather_facts": False, "tasks": []}
            for i, pattern in enumerate(patterns)
        ]
        playbook = self.home / f"patterns-{abs(hash((source, tuple(patterns))))}.yml"
        playbook.write_text(json.dumps(plays))  # JSON is YAML
        out = self.run("ansible-playbook", "-i", str(source), "--list-hosts", str(playbook))
        return {patterns[i]: hosts for i, hosts in _parse_list_hosts(out).items()}


def _parse_list_hosts(out: str) -> dict[int, list[str]]:
    lines = out.splitlines()
    found: dict[int, list[str]] = {}
    for index, line in enumerate(lines):
        play = re.match(r"\s+play #\d+ \(.*\): p(\d+)\s", line)
        if play:
            count_line = next(x for x in lines[index + 1 :] if "hosts (" in x)
            count = int(re.search(r"hosts \((\d+)\)", count_line).group(1))  # type: ignore[union-attr]
            start = lines.index(count_line, index) + 1
            found[int(play.group(1))] = [x.strip() for x in lines[start : start + count]]
    return found


@pytest.fixture(scope="module")
def ansible(tmp_path_factory: pytest.TempPathFactory) -> Ansible:
    home = tmp_path_factory.mktemp("ansible")
    (home / "ansible.cfg").write_text("# generated by test_inventory_parity: all defaults\n")
    (home / "tmp").mkdir()
    return Ansible(home)


@dataclass(frozen=True)
class Reference:
    """What Ansible says about one inventory source."""

    listed: dict[str, Any]  # ansible-inventory --list
    patterns: dict[str, list[str]]  # pattern -> hosts, from ansible-playbook --list-hosts


@pytest.fixture(scope="module")
def reference(ansible: Ansible) -> Callable[[Path], Reference]:
    """Ansible's view of a source, computed once; its two CLI runs go in parallel."""
    cache: dict[Path, Reference] = {}

    def get(source: Path) -> Reference:
        if source not in cache:
            patterns = patterns_for(source, load_inventory(source))
            with ThreadPoolExecutor(max_workers=2) as pool:
                listed = pool.submit(ansible.list_inventory, source)
                hosts = pool.submit(ansible.pattern_hosts, source, patterns)
                cache[source] = Reference(listed.result(), hosts.result())
        return cache[source]

    return get


def patterns_for(source: Path, inventory: Inventory) -> list[str]:
    site = SITE_PATTERNS if source.parent.name == "site" else []
    return GENERIC_PATTERNS + sorted(inventory.groups) + site


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def test_every_data_inventory_is_compared() -> None:
    cases = {p.parent if p.is_file() else p for p in SOURCES if DATA in p.parents}
    assert {p for p in DATA.iterdir() if p.is_dir()} - cases == {DATA / "errors"}


@pytest.mark.parametrize("source", SOURCES, ids=_ids(SOURCES))
def test_same_hosts_and_groups(source: Path, reference: Callable[[Path], Reference]) -> None:
    ours = load_inventory(source)
    theirs = reference(source).listed
    assert sorted(ours.hosts) == sorted(reference(source).patterns["all"])
    for name, group in ours.groups.items():
        listed = theirs.get(name, {})  # ansible-inventory leaves empty groups out
        assert list(group.children) == listed.get("children", []), name
        if name != "all":  # --list never shows hosts directly under all
            assert list(group.hosts) == listed.get("hosts", []), name
    assert set(theirs) - {"_meta"} <= set(ours.groups)
    membership = _membership(theirs, list(ours.hosts))
    for host in ours:
        assert set(host.groups) == membership[host.name], host.name
        assert host.groups[0] == "all"
        assert len(set(host.groups)) == len(host.groups)


def _membership(listed: dict[str, Any], hosts: list[str]) -> dict[str, set[str]]:
    """Every group containing each host, from --list output (children followed)."""
    children = {name: group.get("children", []) for name, group in listed.items()}
    direct = {name: group.get("hosts", []) for name, group in listed.items()}

    def members(group: str) -> set[str]:
        found = set(direct.get(group, []))
        for child in children.get(group, []):
            found |= members(child)
        return found

    result = {host: {"all"} for host in hosts}
    for group in set(listed) - {"_meta", "all"}:
        for host in members(group):
            result[host].add(group)
    return result


@pytest.mark.parametrize("source", SOURCES, ids=_ids(SOURCES))
def test_same_host_vars(source: Path, reference: Callable[[Path], Reference]) -> None:
    ours = load_inventory(source)
    hostvars = reference(source).listed["_meta"]["hostvars"]
    for host in ours:
        expected = {
            k: v for k, v in hostvars.get(host.name, {}).items() if k not in ANSIBLE_OWN_KEYS
        }
        assert json.loads(json.dumps(dict(host.vars))) == expected, host.name


@pytest.mark.parametrize("source", SOURCES, ids=_ids(SOURCES))
def test_same_pattern_results(source: Path, reference: Callable[[Path], Reference]) -> None:
    inventory = load_inventory(source)
    results = reference(source).patterns
    assert set(results) == set(patterns_for(source, inventory))
    for pattern, expected in results.items():
        ours = [h.name for h in select_hosts(inventory, pattern)]
        assert len(ours) == len(set(ours)), pattern
        assert sorted(ours) == sorted(expected), pattern


@pytest.mark.parametrize("source", GRAPHED, ids=_ids(GRAPHED))
def test_same_graph(source: Path, ansible: Ansible) -> None:
    expected = ansible.run("ansible-inventory", "-i", str(source), "--graph").splitlines()
    assert graph_lines(load_inventory(source)) == expected


@pytest.mark.parametrize(("source", "host"), HOST_CHECKS, ids=[h for _, h in HOST_CHECKS])
def test_same_vars_for_one_host(source: Path, host: str, ansible: Ansible) -> None:
    expected = json.loads(ansible.run("ansible-inventory", "-i", str(source), "--host", host))
    ours = load_inventory(source).host(host).vars
    assert json.loads(json.dumps(dict(ours))) == {
        k: v for k, v in expected.items() if k not in ANSIBLE_OWN_KEYS
    }


def test_ansible_adhoc_list_hosts_agrees(ansible: Ansible) -> None:
    source = DATA / "site" / "hosts.yml"
    out = ansible.run("ansible", "linux:&critical:!web", "-i", str(source), "--list-hosts")
    expected = [line.strip() for line in out.splitlines()[1:] if line.strip()]
    assert [
        h.name for h in select_hosts(load_inventory(source), "linux:&critical:!web")
    ] == expected
    assert expected == ["db-a"]
