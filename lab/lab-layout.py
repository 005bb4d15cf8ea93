"""The lab's layout (which host is in which state, role and group) and its client files.

Usage (by lab/up.sh; stdlib only, so any python3 can run it):
  lab-layout.py plan N     print "name index address state role criticality" per host
  lab-layout.py wait N     wait (up to 60 s) until every reachable host sends its SSH banner
  lab-layout.py write N    write known_hosts, ssh_config, inventory/ and lab.json into $LAB_DIR

This file is the single source of the host states the tests rely on (LAB_STATES=healthy:
every host healthy):
  h3 full_disk, h4 service_stopped, the last host unreachable (when N >= 5), others healthy,
  except the hosts planted for the inspections (PLANTED; host-boot.sh makes them real):
  h6 zombie_process, h7 auth_failures, h8 weekly_findings, h9 security_update.
Device states (healthy, unsaved_config, port_problems) come from the devices' specs
(LAB_DEVICES in lab-lib.sh, device_model.py).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

LAB_DIR = Path(os.environ.get("LAB_DIR", "/var/tmp/orchestrator-lab").rstrip("/") or "/")
# Names and subnet of this lab instance; the same defaults and formulas as lab-lib.sh.
LAB_NAME = os.environ.get("LAB_NAME") or "orch"
LAB_NET = int(os.environ.get("LAB_NET") or "98")
BRIDGE_ADDR = f"10.{LAB_NET}.0.1"
ROLES = ("app", "web", "db")  # index % 3
VERSION_COMMAND = {"huawei": "display version", "hp_comware": "display version"}
CONFIG_COMMAND = {
    "huawei": "display current-configuration",
    "hp_comware": "display current-configuration",
}


def address(index: int) -> str:
    """Same formula as host_addr in lab-lib.sh: h1 -> 10.98.0.10."""
    k = index + 9
    return f"10.{LAB_NET}.{k // 256}.{k % 256}"


# What the inspections must find, one problem family per host (h8 is not critical: the weekly
# inspection's items). Not planted on the last host, which is unreachable.
PLANTED = {6: "zombie_process", 7: "auth_failures", 8: "weekly_findings", 9: "security_update"}


# LAB_STATES=healthy: no planted problem on any host (the patch-rollout tests' own lab).
ALL_HEALTHY = os.environ.get("LAB_STATES") == "healthy"


def state(index: int, count: int) -> str:
    if ALL_HEALTHY:
        return "healthy"
    if count >= 5 and index == count:
        return "unreachable"
    if index == 3:
        return "full_disk"
    if index == 4:
        return "service_stopped"
    return PLANTED.get(index, "healthy")


def hosts(count: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(1, count + 1):
        # Most hosts are critical so the daily inspection (critical hosts) covers
        # >= 10 of the default 12, abnormal ones included; every 6th from h2 is normal.
        critical = i in (3, 4) or (count >= 5 and i == count) or i % 6 != 2
        rows.append(
            {
                "name": f"h{i}",
                "index": i,
                "address": address(i),
                "port": 22,
                "state": state(i, count),
                "role": ROLES[i % 3],
                "criticality": "critical" if critical else "normal",
                "namespace": f"{LAB_NAME}-h{i}",
            }
        )
    return rows


def devices() -> list[dict[str, Any]]:
    path = LAB_DIR / "devices.json"
    if not path.exists():
        return []
    rows: list[dict[str, Any]] = json.loads(path.read_text())["devices"]
    for i, dev in enumerate(rows):
        # Devices planted with a problem are in states other than healthy (devices.py);
        # the unsaved_config one is critical so the daily inspection grades it.
        dev.setdefault("state", "healthy")
        critical = i == 0 or dev["state"] == "unsaved_config"
        dev["criticality"] = "critical" if critical else "normal"
        dev["version_command"] = VERSION_COMMAND.get(dev["platform"], "show version")
        dev["config_command"] = CONFIG_COMMAND.get(dev["platform"], "show running-config")
    return rows


def write(path: Path, text: str) -> None:
    """Atomic: readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def known_hosts(hs: list[dict[str, Any]], devs: list[dict[str, Any]]) -> str:
    lines = []
    for h in hs:
        pub = (LAB_DIR / "hostkeys" / f"{h['name']}.pub").read_text().split()
        lines.append(f"{h['name']},{h['address']} {pub[0]} {pub[1]}")
    lines += [f"[{d['address']}]:{d['port']} {d['host_key']}" for d in devs]
    return "\n".join(lines) + "\n"


def ssh_config(hs: list[dict[str, Any]], devs: list[dict[str, Any]]) -> str:
    out = [
        "# Written by lab/up.sh: `ssh -F THIS h1`, `ssh -F THIS sw1` (password: lab).",
        "Host h* sw*",
        f"  UserKnownHostsFile {LAB_DIR}/known_hosts",
        "  GlobalKnownHostsFile /dev/null",
        "  StrictHostKeyChecking yes",
        "  UpdateHostKeys no",
        "  ConnectTimeout 5",
        "  LogLevel ERROR",
        "Host h*",
        "  User root",
        f"  IdentityFile {LAB_DIR}/keys/id_ed25519",
        "  IdentitiesOnly yes",
        "  BatchMode yes",
        "Host sw*",
        "  User lab",
        "  PubkeyAuthentication no",
    ]
    for h in hs:
        out += [f"Host {h['name']}", f"  HostName {h['address']}"]
    for d in devs:
        out += [f"Host {d['name']}", f"  HostName {d['address']}", f"  Port {d['port']}"]
    return "\n".join(out) + "\n"


def inventory(hs: list[dict[str, Any]], devs: list[dict[str, Any]]) -> str:
    out = [
        "# Ansible YAML inventory of the orchestrator lab, rewritten by every lab/up.sh.",
        "# Check it with: ansible-inventory -i THIS --list. Shared vars are in group_vars/.",
        "all:",
        "  children:",
        "    linux:",
        "      children:",
    ]
    for role in ("web", "db", "app"):
        out += [f"        {role}:", "          hosts:"]
        for h in (h for h in hs if h["role"] == role):
            out += [
                f"            {h['name']}:",
                f"              ansible_host: {h['address']}",
                f"              criticality: {h['criticality']}",
            ]
    out += ["    network:", "      hosts:"]
    for d in devs:
        out += [
            f"        {d['name']}:",
            f"          ansible_host: {d['address']}",
            f"          ansible_port: {d['port']}",
            f"          platform: {d['platform']}",
            f"          criticality: {d['criticality']}",
        ]
    out += ["    critical:", "      hosts:"]
    out += [f"        {x['name']}:" for x in hs + devs if x["criticality"] == "critical"]
    # Restore verification (runbooks/restore-verify.yml): h1 restores the db hosts' data sets
    # (lab/datasets.sh, group_vars/db.yml) into a scratch directory.
    sources = [h["name"] for h in hs if h["role"] == "db" and h["state"] != "unreachable"]
    out += ["    restore_verify:", "      hosts:", f"        {hs[0]['name']}:", "      vars:"]
    out += ["        restore_datasets:" + ("" if sources else " []")]
    out += [f"          - {{source: {name}, dataset: appdata}}" for name in sources]
    # A backed-up config file, proved usable where it is restored (config-backup stores it).
    out += ["        restore_files:", f"          - source: {hs[0]['name']}"]
    out += ["            artifact: /etc/ssh/sshd_config"]
    out += ["            probes:", "              - name: sshd config valid"]
    out += ['                command: "/usr/sbin/sshd -t -f {file}"']
    return "\n".join(out) + "\n"


GROUP_VARS = {
    "all.yml": "site: orchestrator-lab\nntp_server: {bridge}\n",
    "linux.yml": """kind: linux
ansible_user: root
ansible_ssh_private_key_file: {lab}/keys/id_ed25519
ansible_python_interpreter: /usr/bin/python3
# All lab hosts share this machine's kernel, so /proc/loadavg is the whole (busy, 2-core)
# machine's load: the inspection's load thresholds are raised for the lab group here.
load_warn: 4.0
load_crit: 8.0
# The same shared kernel: /proc/uptime is the machine's boot, not a lab host's, so "restarted
# recently" says nothing about a host here (0 = never warn).
reboot_warn_days: 0
# The same shared kernel: its boot id never changes either. Each lab boot writes its own
# (lab/host-boot.sh); patch-packages waits for this one to change after a reboot.
boot_id_file: /run/lab-boot-id
# /srv/labrepo is a read-only bind mount of the machine's disk (the lab apt repo): its use is
# the machine's, not the host's.
fs_exclude: [/srv/labrepo]
# The lab's service account (h8 plants one whose password expires soon).
service_accounts: [root, svcbackup]
# Host key checking stays on: the lab's real host keys are in this known_hosts.
ansible_ssh_common_args: -o UserKnownHostsFile={lab}/known_hosts -o StrictHostKeyChecking=yes
""",
    "network.yml": """kind: network
# Throwaway credential of the lab's fake devices (fakenos); this file lives outside the repo.
ansible_user: lab
ansible_password: lab
""",
    # The data set lab/datasets.sh writes on every db host (runbooks/data-backup.yml archives
    # it; restore-verify.yml restores it). No sqlite3 CLI in the hosts: probes use python3.
    "db.yml": """datasets:
  - name: appdata
    path: /srv/appdata
    max_age: 26h
    record:
      orders: >-
        python3 -c 'import sys, sqlite3; db = sqlite3.connect(sys.argv[1]);
        print(db.execute("select count(*) from orders").fetchone()[0])' /srv/appdata/app.db
    probes:
      - name: sqlite integrity
        command: >-
          python3 -c 'import sys, sqlite3; db = sqlite3.connect(sys.argv[1]);
          print(db.execute("PRAGMA integrity_check").fetchone()[0])' {{dir}}/app.db
        expect: ok
      - name: orders count
        command: >-
          python3 -c 'import sys, sqlite3; db = sqlite3.connect(sys.argv[1]);
          print(db.execute("select count(*) from orders").fetchone()[0])' {{dir}}/app.db
        expect_recorded: orders
      - name: config readable
        command: python3 -m json.tool {{dir}}/config.json
""",
}


def write_all(count: int) -> None:
    hs, devs = hosts(count), devices()
    write(LAB_DIR / "known_hosts", known_hosts(hs, devs))
    write(LAB_DIR / "ssh_config", ssh_config(hs, devs))
    inv = LAB_DIR / "inventory"
    write(inv / "hosts.yml", inventory(hs, devs))
    for name, text in GROUP_VARS.items():
        write(inv / "group_vars" / name, text.format(lab=LAB_DIR, bridge=BRIDGE_ADDR))
    manifest = {
        "lab_dir": str(LAB_DIR),
        "inventory": str(inv / "hosts.yml"),
        "known_hosts": str(LAB_DIR / "known_hosts"),
        "key": str(LAB_DIR / "keys" / "id_ed25519"),
        "ssh_config": str(LAB_DIR / "ssh_config"),
        "repo": str(LAB_DIR / "repo"),
        "bridge": {
            "name": f"{LAB_NAME}br0",
            "address": BRIDGE_ADDR,
            "subnet": f"10.{LAB_NET}.0.0/16",
        },
        "hosts": [{k: v for k, v in h.items() if k != "index"} for h in hs],
        "devices": [{k: v for k, v in d.items() if k != "host_key"} for d in devs],
    }
    # Last: its presence tells the tests the lab is up.
    write(LAB_DIR / "lab.json", json.dumps(manifest, indent=2) + "\n")


def answers_ssh(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1) as conn:
            conn.settimeout(5)
            return conn.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def wait(count: int, timeout: float = 60) -> int:
    """One process polling every host beats a bash loop forking per host (200 hosts)."""
    deadline = time.monotonic() + timeout
    pending = [h for h in hosts(count) if h["state"] != "unreachable"]
    while pending:
        pending = [h for h in pending if not answers_ssh(h["address"], h["port"])]
        if pending and time.monotonic() > deadline:
            names = " ".join(h["name"] for h in pending[:20])
            print(f"lab: no SSH answer after {timeout:.0f} s from: {names}", file=sys.stderr)
            return 1
        if pending:
            time.sleep(0.1)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("plan", "wait", "write") or not argv[2].isdigit():
        print(__doc__, file=sys.stderr)
        return 2
    count = int(argv[2])
    if argv[1] == "plan":
        for h in hosts(count):
            print(h["name"], h["index"], h["address"], h["state"], h["role"], h["criticality"])
    elif argv[1] == "wait":
        return wait(count)
    else:
        write_all(count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
