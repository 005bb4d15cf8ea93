"""The benchmark's own lab, beside the shared one, and a description of the machine.

The shared lab (12 hosts, LAB_DIR=/var/tmp/orchestrator-lab) stays untouched: other
work tests against it. The benchmark starts a second instance with its own names,
subnet and directory (lab/lab-lib.sh reads them from the environment), no fake
network devices, and stops it at the end. Its hosts share the cached root filesystem
of the shared lab through hard links (no second debootstrap, and the shared lab can
rebuild its own copy at any time).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "lab"
SHARED_DIR = Path("/var/tmp/orchestrator-lab")
ENV = {
    "LAB_NAME": "bench",
    "LAB_NET": "97",
    "LAB_DIR": "/var/tmp/orchestrator-bench",
    "DEVICE_BASE_PORT": "7001",
    "LAB_DEVICES": "",
}
LAB_DIR = Path(ENV["LAB_DIR"])
PACKAGES = (
    "paramiko",
    "fabric",
    "asyncssh",
    "ansible-core",
    "ansible-runner",
    "SQLAlchemy",
    "cryptography",
)


def lab_env() -> dict[str, str]:
    return {**os.environ, **ENV}


def _script(name: str, *args: str, check: bool = True) -> None:
    subprocess.run(["bash", str(LAB / name), *args], env=lab_env(), check=check)


def size_for(healthy: int) -> int:
    """The smallest lab (host count) with at least ``healthy`` hosts in the healthy state."""
    count = healthy
    while True:
        plan = subprocess.run(
            [sys.executable, str(LAB / "lab-layout.py"), "plan", str(count)],
            env=lab_env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if sum(line.split()[3] == "healthy" for line in plan.splitlines()) >= healthy:
            return count
        count += 1


def seed_rootfs() -> None:
    """Hard-link the shared lab's cached rootfs (and its recipe stamp) into ours, unless
    ours is the same already or our hosts are mounted on it."""
    ours, shared = LAB_DIR / "rootfs.recipe.sha256", SHARED_DIR / "rootfs.recipe.sha256"
    if not shared.exists() or not (SHARED_DIR / "rootfs" / "usr" / "sbin" / "sshd").exists():
        return  # up.sh builds one (about a minute)
    if ours.exists() and ours.read_text() == shared.read_text():
        return
    if f" {LAB_DIR}/hosts/" in Path("/proc/mounts").read_text():
        return
    LAB_DIR.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(LAB_DIR / "rootfs", ignore_errors=True)
    subprocess.run(["cp", "-al", str(SHARED_DIR / "rootfs"), str(LAB_DIR / "rootfs")], check=True)
    shutil.copy(shared, ours)


def up(count: int) -> dict[str, Any]:
    seed_rootfs()
    _script("up.sh", str(count))
    manifest: dict[str, Any] = json.loads((LAB_DIR / "lab.json").read_text())
    return manifest


def down() -> None:
    _script("down.sh", check=False)


def namespace_pids(manifest: dict[str, Any]) -> list[int]:
    """Every process in the lab's host namespaces (sshd, cron, ...)."""
    pids = []
    for host in manifest["hosts"]:
        out = subprocess.run(
            ["ip", "netns", "pids", host["namespace"]], capture_output=True, text=True, check=False
        ).stdout
        pids += [int(p) for p in out.split()]
    return pids


def sshd_kex() -> str:
    """The KexAlgorithms line the lab's sshd runs with."""
    conf = LAB_DIR / "rootfs" / "etc" / "ssh" / "sshd_config.d" / "lab.conf"
    found = re.search(r"(?m)^KexAlgorithms\s+(\S+)", conf.read_text()) if conf.exists() else None
    return found.group(1) if found else "OpenSSH default"


def _first(path: str, pattern: str) -> str:
    try:
        found = re.search(pattern, Path(path).read_text(), re.MULTILINE)
    except OSError:
        return "?"
    return found.group(1).strip() if found else "?"


def _dpkg_version(package: str) -> str:
    status = LAB_DIR / "rootfs" / "var" / "lib" / "dpkg" / "status"
    text = status.read_text() if status.exists() else ""
    found = re.search(rf"(?ms)^Package: {re.escape(package)}\n.*?^Version: (\S+)", text)
    return found.group(1) if found else "?"


def machine() -> dict[str, Any]:
    mem_kb = int(_first("/proc/meminfo", r"^MemTotal:\s+(\d+)") or 0)
    ssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True, check=False)
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": _first("/proc/cpuinfo", r"^model name\s*:\s*(.+)$"),
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "debian": _first("/etc/debian_version", r"(.+)"),
        "python": platform.python_version(),
        "openssh_client": (ssh.stderr or ssh.stdout).strip(),
        "openssh_server_lab": _dpkg_version("openssh-server"),
        "sshd_kex": sshd_kex(),
        "packages": versions,
    }
