"""The lab itself (lab/up.sh): real sshd hosts in namespaces and fakenos devices.

These tests check the lab is what the other integration tests rely on: the designed host
states are really what tools see (not faked outputs), and host keys are really checked.
They use the system OpenSSH client with the lab's ssh_config, and netmiko for devices.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

pytestmark = pytest.mark.lab

T = TypeVar("T")
R = TypeVar("R")
# A line of each platform's version output (fakenos' canned outputs).
VERSION_MARKER = {
    "cisco_ios": "Cisco IOS",
    "arista_eos": "Software image version: 4.",
    "huawei": "Huawei Versatile Routing Platform",
    "hp_comware": "H3C Comware Software",
}
# Hosts planted for the inspections (lab/lab-layout.py PLANTED), when the lab is big enough.
PLANTED = {6: "zombie_process", 7: "auth_failures", 8: "weekly_findings", 9: "security_update"}
# Saved = running again after each platform's own save command (netmiko's save_config).
CONFIG_DISPLAY = {
    "cisco_ios": ("show running-config", "show startup-config"),
    "arista_eos": ("show running-config", "show startup-config"),
    "huawei": ("display current-configuration", "display saved-configuration"),
    "hp_comware": ("display current-configuration", "display saved-configuration"),
}


def ssh(lab: Any, host: str, command: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ssh", "-F", lab.data["ssh_config"], *extra, host, command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def in_parallel(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(fn, items))


def reachable(lab: Any) -> list[dict[str, Any]]:
    return [h for h in lab.hosts if h["state"] != "unreachable"]


def root_use_percent(lab: Any, host: str) -> int:
    result = ssh(lab, host, "df -P /")
    assert result.returncode == 0, result.stderr
    # "overlay 49152 46696 2456 96% /" -> 96
    return int(result.stdout.splitlines()[-1].split()[4].rstrip("%"))


def netmiko_device(lab: Any, device: dict[str, Any], known_hosts: Path) -> dict[str, Any]:
    return {
        "device_type": device["platform"],
        "host": device["address"],
        "port": device["port"],
        "username": device["username"],
        "password": device["password"],
        "secret": device["password"],
        # Strict host key checking against the lab's known_hosts only.
        "ssh_strict": True,
        "system_host_keys": False,
        "alt_host_keys": True,
        "alt_key_file": str(known_hosts),
        "allow_agent": False,
        "use_keys": False,
        "conn_timeout": 15,
        # As the netmiko transport does: fast_cli's 25 ms prompt probe re-sends RETURN on a
        # busy machine, and Comware sessions (no command echo check) then desynchronise.
        "fast_cli": False,
    }


def test_layout_has_every_designed_state(lab: Any) -> None:
    states = {h["name"]: h["state"] for h in lab.hosts}
    count = len(states)
    assert count >= 5
    assert states["h3"] == "full_disk"
    assert states["h4"] == "service_stopped"
    assert states[f"h{count}"] == "unreachable"
    planted = {i: state for i, state in PLANTED.items() if i < count}
    for i, state in planted.items():
        assert states[f"h{i}"] == state
    others = set(range(1, count)) - {3, 4} - set(planted)
    assert {states[f"h{i}"] for i in others} == {"healthy"}
    assert sum(h["criticality"] == "critical" for h in lab.hosts) >= min(10, count)
    platforms = {d["platform"] for d in lab.devices}
    assert platforms >= {"cisco_ios", "arista_eos", "huawei", "hp_comware"}
    assert len({d["port"] for d in lab.devices}) == len(lab.devices)
    devices = {d["name"]: (d["platform"], d["state"]) for d in lab.devices}
    assert [devices[f"sw{i}"] for i in range(1, 5)] == [
        ("cisco_ios", "healthy"),
        ("cisco_ios", "healthy"),
        ("arista_eos", "healthy"),
        ("huawei", "healthy"),
    ]
    unsaved = [d for d in lab.devices if d["state"] == "unsaved_config"]
    assert [d["criticality"] for d in unsaved] == ["critical"]  # the daily inspection sees it
    assert [d["state"] for d in lab.devices].count("port_problems") == 1


def test_client_files_exist(lab: Any) -> None:
    for key in ("inventory", "known_hosts", "key", "ssh_config"):
        assert Path(lab.data[key]).is_file(), key
    assert (lab.inventory.parent / "group_vars" / "linux.yml").is_file()


def test_inventory_is_read_unchanged_by_ansible(lab: Any) -> None:
    ansible_inventory = Path(sys.executable).parent / "ansible-inventory"
    if not ansible_inventory.exists():
        pytest.skip("ansible-inventory is not in the venv: run `make setup`")
    result = subprocess.run(
        [str(ansible_inventory), "-i", str(lab.inventory), "--list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(result.stdout)
    hostvars = data["_meta"]["hostvars"]
    assert set(data["linux"]["children"]) == {"web", "db", "app"}
    assert set(data["network"]["hosts"]) == {d["name"] for d in lab.devices}
    assert {"h3", "h4", f"h{len(lab.hosts)}"} <= set(data["critical"]["hosts"])
    h1 = lab.host("h1")
    # group_vars/linux.yml is merged in; host vars come from hosts.yml.
    assert hostvars["h1"]["kind"] == "linux"
    assert hostvars["h1"]["ansible_user"] == "root"
    assert hostvars["h1"]["ansible_host"] == h1["address"]
    assert hostvars["h1"]["criticality"] == h1["criticality"]
    for dev in lab.devices:
        assert hostvars[dev["name"]]["kind"] == "network"
        assert hostvars[dev["name"]]["platform"] == dev["platform"]
        assert hostvars[dev["name"]]["ansible_port"] == dev["port"]


def test_reachable_hosts_answer_with_distinct_hostnames(lab: Any) -> None:
    hosts = reachable(lab)
    results = in_parallel(lambda h: ssh(lab, h["name"], "hostname"), hosts)
    names = [r.stdout.strip() for r in results]
    assert [r.returncode for r in results] == [0] * len(hosts), [r.stderr for r in results]
    assert names == [h["name"] for h in hosts]
    assert len(set(names)) == len(hosts)


def test_full_disk_host_really_reports_nearly_full_root(lab: Any) -> None:
    full = lab.hosts_in_state("full_disk")
    assert full
    for host in full:
        assert root_use_percent(lab, host["name"]) >= 90
    # A healthy host, through the same command, is far from full.
    assert root_use_percent(lab, lab.hosts_in_state("healthy")[0]["name"]) < 80


def test_cron_runs_on_healthy_hosts_and_not_on_service_stopped(lab: Any) -> None:
    assert ssh(lab, "h1", "pgrep -x cron").returncode == 0
    stopped = ssh(lab, "h4", "pgrep -x cron")
    assert stopped.returncode == 1, stopped.stderr
    # sshd is the other "required service": it answered, so it runs on h4 too.
    assert ssh(lab, "h4", "pgrep -x sshd").returncode == 0


def test_unreachable_host_refuses_connections_fast(lab: Any) -> None:
    host = lab.hosts_in_state("unreachable")[0]
    started = time.monotonic()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host["address"], host["port"]), timeout=10)
    result = ssh(lab, host["name"], "true")
    assert result.returncode == 255
    assert "Connection refused" in result.stderr
    assert time.monotonic() - started < 5


def test_wrong_host_key_is_refused(lab: Any, tmp_path: Path) -> None:
    # known_hosts where h1 carries h2's key: a man in the middle, as far as ssh can tell.
    lines = lab.known_hosts.read_text().splitlines()
    h2_key = next(line for line in lines if line.startswith("h2,")).split(" ", 1)[1]
    forged = [
        f"h1,{lab.host('h1')['address']} {h2_key}" if line.startswith("h1,") else line
        for line in lines
    ]
    (tmp_path / "known_hosts").write_text("\n".join(forged) + "\n")
    result = ssh(lab, "h1", "true", "-o", f"UserKnownHostsFile={tmp_path / 'known_hosts'}")
    assert result.returncode == 255
    assert "Host key verification failed" in result.stderr
    # An unknown host is refused too, never trusted on first use.
    (tmp_path / "empty").write_text("")
    result = ssh(lab, "h1", "true", "-o", f"UserKnownHostsFile={tmp_path / 'empty'}")
    assert result.returncode == 255
    assert "Host key verification failed" in result.stderr


def test_hosts_cannot_reach_beyond_the_lab(lab: Any) -> None:
    routes = ssh(lab, "h1", "ip route").stdout.splitlines()
    assert routes
    subnet = lab.data.get("bridge", {}).get("subnet", "10.98.0.0/16")  # LAB_NET moves it
    assert all(line.startswith(f"{subnet} ") for line in routes), routes
    # Root in a host runs on the real kernel: setting the (real) clock must be refused.
    clock = ssh(lab, "h1", "date -s @0")
    assert clock.returncode == 1
    assert "Operation not permitted" in clock.stderr


def test_devices_answer_show_version_with_host_key_checking(lab: Any) -> None:
    from netmiko import ConnectHandler

    def version(dev: dict[str, Any]) -> str:
        with ConnectHandler(**netmiko_device(lab, dev, lab.known_hosts)) as conn:
            if dev["platform"] != "huawei":
                conn.enable()  # fakenos' Cisco-likes answer "show" only at the # prompt
            return str(conn.send_command(dev["version_command"]))

    outputs = in_parallel(version, lab.devices)
    for dev, output in zip(lab.devices, outputs, strict=True):
        assert VERSION_MARKER[dev["platform"]] in output, (dev["name"], output[:200])


def test_device_with_wrong_host_key_is_refused(lab: Any, tmp_path: Path) -> None:
    import paramiko
    from netmiko import ConnectHandler

    dev = lab.devices[0]
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(tmp_path / "k")],
        check=True,
    )
    key_type, key_b64 = (tmp_path / "k.pub").read_text().split()[:2]
    forged = tmp_path / "known_hosts"
    forged.write_text(f"[{dev['address']}]:{dev['port']} {key_type} {key_b64}\n")
    # netmiko wraps paramiko's BadHostKeyException in a NetmikoTimeoutException (an SSHException).
    with pytest.raises(paramiko.SSHException, match="does not match"):
        ConnectHandler(**netmiko_device(lab, dev, forged))


def test_planted_host_states_are_real(lab: Any) -> None:
    states = {h["state"]: h["name"] for h in lab.hosts}
    healthy = lab.hosts_in_state("healthy")[0]["name"]
    probes = {
        "zombie_process": "ps -eo stat= | grep -c '^Z'",
        "auth_failures": "lastb -w | grep -c 'ssh:notty'",
        "security_update": "apt-get -s -o Debug::NoLocking=1 -o Dir::Cache::pkgcache= "
        "-o Dir::Cache::srcpkgcache= dist-upgrade | grep '^Inst'",
        "weekly_findings": "echo $(awk -F: '$3 == 0 {print $1}' /etc/passwd); "
        "ss -Hltn | grep -c ':8080 '; chage -l svcbackup | grep '^Password expires'; "
        "stat -c '%s %b' /var/log/app/export.log",
    }
    seen = {state: ssh(lab, states[state], probe) for state, probe in probes.items()}
    assert int(seen["zombie_process"].stdout) >= 3  # a parent that never reaps them
    assert int(seen["auth_failures"].stdout) >= 12  # recorded by the host's own sshd
    assert "Inst labssl [1.0] (1.0+deb12u1 Lab-Security:bookworm-security" in (
        seen["security_update"].stdout
    )
    accounts, listeners, expires, size = seen["weekly_findings"].stdout.splitlines()
    assert accounts.split() == ["root", "toor"]
    assert listeners == "1"
    expiry = datetime.strptime(expires.split(":", 1)[1].strip(), "%b %d, %Y").date()
    assert 0 < (expiry - date.today()).days <= 5
    apparent, blocks = map(int, size.split())
    assert apparent == 1200 * 2**20
    assert blocks * 512 < 2**20  # sparse: it costs the disk nothing
    # None of it on a healthy host.
    clean = ssh(lab, healthy, probes["zombie_process"] + "; " + probes["weekly_findings"])
    assert clean.stdout.splitlines()[:3] == ["0", "root", "0"]


def test_planted_device_states_are_real(lab: Any) -> None:
    from netmiko import ConnectHandler

    def show(dev: dict[str, Any]) -> tuple[str, str, str]:
        running, saved = CONFIG_DISPLAY[dev["platform"]]
        with ConnectHandler(**netmiko_device(lab, dev, lab.known_hosts)) as conn:
            conn.enable()
            interfaces = "display interface brief" if "display" in running else "show interfaces"
            return (
                str(conn.send_command(running)),
                str(conn.send_command(saved)),
                str(conn.send_command(interfaces)),
            )

    devices = [d for d in lab.devices if d["state"] != "healthy"]
    for dev, (running, saved, interfaces) in zip(devices, in_parallel(show, devices), strict=True):
        if dev["state"] == "unsaved_config":
            assert "198.51.100.0" in running
            assert "198.51.100.0" not in saved
        else:
            assert dev["state"] == "port_problems"
            assert re.search(r"^GE1/0/2\s+DOWN\s.*uplink-core-b$", interfaces, re.M), interfaces


@pytest.mark.parametrize("platform", ["cisco_ios", "arista_eos", "huawei", "hp_comware"])
def test_saving_makes_the_saved_configuration_the_running_one(lab: Any, platform: str) -> None:
    from netmiko import ConnectHandler

    dev = next(d for d in lab.devices if d["platform"] == platform and d["state"] == "healthy")
    running, saved = CONFIG_DISPLAY[platform]
    line = f"lab-save-test-{time.monotonic_ns()}"
    lines = {
        "cisco_ios": ["interface Loopback99", f"description {line}"],
        "arista_eos": ["interface Loopback99", f"description {line}"],
        "huawei": ["interface LoopBack99", f"description {line}"],
        "hp_comware": ["interface LoopBack99", f"description {line}"],
    }[platform]
    with ConnectHandler(**netmiko_device(lab, dev, lab.known_hosts)) as conn:
        conn.enable()
        conn.send_config_set(lines)
        assert line in conn.send_command(running)
        assert line not in conn.send_command(saved)
        conn.save_config()
        assert line in conn.send_command(saved)
