"""load_inventory on the data inventories: formats, groups, implicit groups, value typing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from orchestrator.inventory import Criticality, HostKind, Inventory, load_inventory

DATA = Path(__file__).parents[2] / "data" / "inventories"


def snapshot(inventory: Inventory) -> dict[str, object]:
    """Everything that must not depend on the file format.

    Direct members of ``all`` are left out: YAML can list a host under ``all`` itself,
    INI cannot (Ansible, too, shows such hosts only under ``ungrouped``).
    """
    return {
        "hosts": [(h.name, dict(h.vars), h.groups) for h in inventory],
        "groups": {
            name: (set(g.hosts) if name != "all" else None, set(g.children), dict(g.vars))
            for name, g in inventory.groups.items()
        },
    }


@pytest.mark.parametrize(
    ("yaml_file", "ini_file"),
    [("site/hosts.yml", "site/hosts.ini"), ("ranges/hosts.yml", "ranges/hosts.ini")],
)
def test_yaml_and_ini_variants_load_identically(yaml_file: str, ini_file: str) -> None:
    from_yaml = load_inventory(DATA / yaml_file)
    from_ini = load_inventory(DATA / ini_file)
    assert len(from_yaml) > 3
    assert snapshot(from_yaml) == snapshot(from_ini)


def test_site_hosts_groups_and_vars() -> None:
    inv = load_inventory(DATA / "site" / "hosts.yml")
    assert list(inv.hosts) == [
        "jump01", "web01", "web02", "web03", "web04", "web-canary",
        "db-a", "db-b", "db-c", "sw01", "fw01",
    ]  # fmt: skip
    assert inv.host("jump01").groups == ("all", "ungrouped")
    # ancestors included, 'all' first, then by depth
    assert inv.host("db-a").groups == ("all", "critical", "linux", "db")
    assert inv.groups["linux"].children == ("web", "db")
    assert inv.groups["linux"].hosts == ()
    assert [h.name for h in inv.group_hosts("linux")][:2] == ["web01", "web02"]
    assert set(inv.groups["all"].children) == {"ungrouped", "linux", "network", "critical"}
    web04 = inv.host("web04")
    assert web04.vars["http_port"] == 8081  # host_vars beats the inventory's 8080
    assert web04.vars["tls"] is True  # group_vars/web/20-tls.yaml beats 10-http.yml
    assert web04.criticality is Criticality.LOW
    assert inv.host("web01").vars["http_port"] == 8080  # host vars beat group_vars/web
    assert inv.host("web-canary").vars["http_port"] == 80  # group_vars/web
    assert inv.host("web-canary").port == 2222
    sw01 = inv.host("sw01")
    assert (sw01.kind, sw01.platform, sw01.user) == (HostKind.NETWORK, "cisco_ios", "netops")
    assert sw01.criticality is Criticality.CRITICAL
    assert inv.host("fw01").platform == "huawei"
    assert inv.host("jump01").address == "10.98.0.10"
    assert inv.host("db-b").vars["ntp_servers"] == ["10.98.0.1", "10.98.0.2"]


def test_ungrouped_holds_only_hosts_without_another_group() -> None:
    inv = load_inventory(DATA / "formats" / "hosts-noext-ini")
    assert inv.groups["ungrouped"].hosts == ("plain2",)
    assert inv.host("web1").groups == ("all", "web")
    assert inv.groups["all"].children[0] == "ungrouped"


def test_ranges_expand_in_both_formats() -> None:
    inv = load_inventory(DATA / "ranges" / "hosts.ini")
    assert inv.groups["web"].hosts == ("web01", "web04", "web07", "web10")
    assert inv.groups["db"].hosts == ("db-a-1", "db-a-2", "db-b-1", "db-b-2", "db-c-1", "db-c-2")
    assert inv.groups["app"].hosts[:4] == ("app8", "app9", "app10", "app11")
    assert inv.host("app10").port == 2222
    assert "ansible_port" not in inv.host("10.98.2.3").vars
    assert inv.groups["misc"].hosts[:4] == ("nodeA", "nodeB", "nodeC", "x0.lab.example")
    assert inv.host("web07").vars == {"tier": "front"}


def test_ini_values_are_typed_like_ansible() -> None:
    h1 = load_inventory(DATA / "ini_values" / "hosts.ini").host("h1").vars
    assert (h1["int"], h1["neg"], h1["float"], h1["hex"]) == (80, -5, 1.5, 31)
    assert h1["bool"] is True
    assert h1["null"] is None
    assert h1["word"] == "yes"  # not a Python literal: stays a string
    assert h1["str"] == "a b"
    assert h1["quoted_num"] == 5  # host lines drop the quotes first
    assert h1["v_quoted_num"] == "42"  # :vars lines keep them
    assert h1["list"] == [1, "two"]
    assert h1["tuple"] == [1, 2]
    assert h1["mapping"] == {"k": 1}
    assert h1["empty"] == ""
    assert h1["octal"] == "017"
    assert h1["path"] == "/srv/app"  # the trailing '# a comment' is dropped on host lines
    assert h1["v_comment"] == "value # not a comment here"
    assert h1["v_spaces"] == "a b c"
    assert h1["v_equals"] == "a=b"


def test_templates_are_kept_as_strings() -> None:
    h2 = load_inventory(DATA / "ini_values" / "hosts.ini").host("h2")
    assert h2.vars["jinja"] == "{{ inventory_hostname }}"
    assert h2.vars["v_jinja"] == "{{ some_var }}"


def test_json_and_extensionless_files() -> None:
    json_inv = load_inventory(DATA / "formats" / "hosts.json")
    assert json_inv.host("web1").vars == {"ansible_user": "ops", "http_port": 80}
    assert json_inv.host("web2").groups == ("all", "web")
    yaml_inv = load_inventory(DATA / "formats" / "hosts-noext-yaml")
    assert yaml_inv.host("plain1").vars == {"colour": "blue"}


def test_directory_reads_every_inventory_file_but_ignored_ones() -> None:
    inv = load_inventory(DATA / "inventory_dir")
    assert list(inv.hosts) == ["lin1", "lin2", "lin3", "sw1", "sw2", "lin4"]
    assert inv.host("lin3").vars == {"kind": "linux", "extra": True, "os_family": "debian"}
    sw2 = inv.host("sw2")
    assert (sw2.kind, sw2.port, sw2.user) == (HostKind.NETWORK, 830, "netops")
    assert inv.source == DATA / "inventory_dir"


def test_host_listed_twice_keeps_first_position_and_merges_vars(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(
        "all:\n"
        "  children:\n"
        "    a:\n"
        "      hosts:\n"
        "        h1: {x: 1, y: 1}\n"
        "        h2:\n"
        "    b:\n"
        "      hosts:\n"
        "        h1: {y: 2}\n"
    )
    inv = load_inventory(path)
    assert list(inv.hosts) == ["h1", "h2"]
    assert inv.host("h1").vars == {"x": 1, "y": 2}
    assert inv.host("h1").groups == ("all", "a", "b")


def test_name_clash_follows_ansible_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        inv = load_inventory(DATA / "clash" / "hosts.yml")
    assert "both a group and a host named 'web'" in caplog.text
    # vars written on host 'web' went to group 'web', whose members inherit them
    assert inv.host("w1").vars == {"z": 3}
    assert inv.host("web").vars == {}
    assert inv.host("web").groups == ("all",)
    assert inv.groups["ungrouped"].children == ("web",)


def test_network_host_with_platform_in_host_vars(tmp_path: Path) -> None:
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "sw9.yml").write_text("platform: arista_eos\n")
    (tmp_path / "hosts").write_text("[net]\nsw9 kind=network\n")
    assert load_inventory(tmp_path / "hosts").host("sw9").platform == "arista_eos"


def test_group_vars_file_matching_no_group_is_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "webservers.yml").write_text("x: 1\n")
    (tmp_path / "hosts.ini").write_text("[web]\nw1\n")
    with caplog.at_level(logging.WARNING):
        inv = load_inventory(tmp_path / "hosts.ini")
    assert "webservers.yml matches no name" in caplog.text
    assert inv.host("w1").vars == {}


def test_byte_order_mark_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "hosts.ini"
    path.write_bytes("\ufeff[web]\r\nweb01 http_port=80\r\n".encode())
    inv = load_inventory(path)
    assert inv.host("web01").groups == ("all", "web")
    assert inv.host("web01").vars == {"http_port": 80}
