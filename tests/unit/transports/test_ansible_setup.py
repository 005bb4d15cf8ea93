"""What the ansible transport hands to ansible: inventory, play, environment."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.errors import TransportError
from orchestrator.inventory.model import Host
from orchestrator.transports.ansible import (
    AnsibleConnector,
    inventory_for,
    module_play,
    runner_env,
    ssh_common_args,
)

KNOWN_HOSTS = Path("/srv/orch state/known_hosts")  # a space, to prove the quoting

WEB1 = Host(
    "web1",
    {
        "ansible_host": "10.98.0.10",
        "ansible_user": "deploy",
        "ansible_ssh_common_args": "-o ProxyJump=bastion -o StrictHostKeyChecking=no",
        "ntp_server": "10.98.0.1",
        "kind": "linux",
    },
    groups=("all", "linux", "web", "ungrouped"),
)


def test_inventory_holds_the_host_its_vars_and_its_groups() -> None:
    inv = inventory_for(WEB1, known_hosts=KNOWN_HOSTS, python_interpreter="/usr/bin/python3")
    hostvars = inv["all"]["hosts"]["web1"]
    assert hostvars["ansible_host"] == "10.98.0.10"
    assert hostvars["ansible_user"] == "deploy"
    assert hostvars["ntp_server"] == "10.98.0.1"
    assert hostvars["ansible_python_interpreter"] == "/usr/bin/python3"
    assert set(inv["all"]["children"]) == {"linux", "web"}  # all/ungrouped are implicit
    assert inv["all"]["children"]["web"] == {"hosts": {"web1": None}}


def test_our_host_key_options_come_before_the_inventorys() -> None:
    inv = inventory_for(WEB1, known_hosts=KNOWN_HOSTS, python_interpreter="python3")
    args = shlex.split(inv["all"]["hosts"]["web1"]["ansible_ssh_common_args"])
    # OpenSSH keeps the first value of an option: ours must win over StrictHostKeyChecking=no.
    strict = [a for a in args if a.startswith("StrictHostKeyChecking")]
    assert strict == ["StrictHostKeyChecking=yes", "StrictHostKeyChecking=no"]
    assert f"UserKnownHostsFile={KNOWN_HOSTS}" in args
    assert "ProxyJump=bastion" in args
    assert args[:2] == ["-F", "/dev/null"]


def test_defaults_fill_only_what_the_host_lacks(tmp_path: Path) -> None:
    bare = Host("h9", {"kind": "linux"})
    key = tmp_path / "id"
    inv = inventory_for(
        bare,
        known_hosts=KNOWN_HOSTS,
        python_interpreter="py",
        default_user="root",
        default_key_file=key,
    )
    hostvars = inv["all"]["hosts"]["h9"]
    assert hostvars["ansible_user"] == "root"
    assert hostvars["ansible_ssh_private_key_file"] == str(key)
    assert hostvars["ansible_host"] == "h9"
    given = inventory_for(
        WEB1, known_hosts=KNOWN_HOSTS, python_interpreter="py", default_user="root"
    )
    assert given["all"]["hosts"]["web1"]["ansible_user"] == "deploy"


def test_generated_inventory_is_read_by_ansible_as_intended(tmp_path: Path) -> None:
    inv = tmp_path / "inventory.json"
    inv.write_text(
        json.dumps(inventory_for(WEB1, known_hosts=KNOWN_HOSTS, python_interpreter="py"))
    )
    env = runner_env(tmp_path, 10, KNOWN_HOSTS)
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inv), "--list"],
        env=env | {"HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    listed = json.loads(done.stdout)
    assert listed["web"]["hosts"] == ["web1"]
    assert listed["linux"]["hosts"] == ["web1"]
    assert listed["_meta"]["hostvars"]["web1"]["ntp_server"] == "10.98.0.1"


def test_module_play_is_one_task_without_fact_gathering() -> None:
    play = module_play("ansible.builtin.apt", {"name": "nginx", "state": "latest"})
    assert play == [
        {
            "name": "ansible.builtin.apt",
            "hosts": "all",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "ansible.builtin.apt",
                    "ansible.builtin.apt": {"name": "nginx", "state": "latest"},
                }
            ],
        }
    ]
    assert module_play("shell", "uptime")[0]["tasks"][0]["shell"] == "uptime"
    assert module_play("ping", None)[0]["tasks"][0]["ping"] == {}


def test_runner_env_isolates_ansible_and_keeps_host_key_checking_on(tmp_path: Path) -> None:
    env = runner_env(tmp_path, 7.2, KNOWN_HOSTS)
    for name in (
        "ANSIBLE_CONFIG",
        "ANSIBLE_HOME",
        "ANSIBLE_LOCAL_TEMP",
        "ANSIBLE_SSH_CONTROL_PATH_DIR",
        "ANSIBLE_PERSISTENT_CONTROL_PATH_DIR",
    ):
        assert Path(env[name]).parent == tmp_path, name
    # ansible-runner would default this to False, and ansible would then disable checking.
    assert env["ANSIBLE_HOST_KEY_CHECKING"] == "True"
    ssh_args = shlex.split(env["ANSIBLE_SSH_ARGS"])
    assert "ControlMaster=no" in ssh_args
    assert "StrictHostKeyChecking=yes" in ssh_args
    assert f"UserKnownHostsFile={KNOWN_HOSTS}" in ssh_args
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert env["ANSIBLE_TIMEOUT"] == "8"


def test_ssh_common_args_quote_the_path() -> None:
    assert f"-o UserKnownHostsFile={shlex.quote(str(KNOWN_HOSTS))}" in ssh_common_args(KNOWN_HOSTS)


def test_connect_is_lazy_and_for_linux_hosts_only(tmp_path: Path) -> None:
    connector = AnsibleConnector(tmp_path / "work", KNOWN_HOSTS)
    conn = connector.connect(WEB1, timeout=5)  # nothing is contacted
    assert conn.host is WEB1
    assert not (tmp_path / "work").exists()
    with pytest.raises(TypeError, match="ansible actions"):
        conn.run("uptime", timeout=5)
    switch = Host("sw1", {"kind": "network", "platform": "cisco_ios"})
    with pytest.raises(TransportError, match="linux hosts only"):
        connector.connect(switch, timeout=5)
