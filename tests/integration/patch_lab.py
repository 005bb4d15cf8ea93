"""The patch-rollout tests' own lab: 13 healthy hosts beside the shared one.

Patching changes hosts (packages, reboots), so these tests never touch the shared lab that
every other test reads. A second lab instance (lab/lab-lib.sh: LAB_NAME, LAB_NET, LAB_DIR)
with every host healthy (LAB_STATES=healthy) is started fresh for the module and stopped
after it; its hosts share the shared lab's cached root filesystem through hard links.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import LAB_DIR as SHARED_DIR
from tests.conftest import Lab

ROOT = Path(__file__).resolve().parents[2]
HOSTS = 13
ENV = {
    "LAB_NAME": "patch",
    "LAB_NET": "96",
    "LAB_DIR": "/var/tmp/orchestrator-patch",
    "DEVICE_BASE_PORT": "7201",
    "LAB_DEVICES": "",
    "LAB_STATES": "healthy",
    "LAB_REBOOT_DELAY": "2",
}
PATCH_DIR = Path(ENV["LAB_DIR"])


def _script(name: str, *args: str) -> None:
    env = {**os.environ, **ENV}
    proc = subprocess.run(
        ["bash", str(ROOT / "lab" / name), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"lab/{name} failed:\n{proc.stdout}\n{proc.stderr}"


def _seed_rootfs() -> None:
    """Hard-link the shared lab's cached rootfs (no second debootstrap) unless ours matches."""
    shared = SHARED_DIR / "rootfs.recipe.sha256"
    ours = PATCH_DIR / "rootfs.recipe.sha256"
    if not shared.exists() or not (SHARED_DIR / "rootfs" / "usr" / "sbin" / "sshd").exists():
        return  # up.sh builds its own
    if ours.exists() and ours.read_text() == shared.read_text():
        return
    PATCH_DIR.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(PATCH_DIR / "rootfs", ignore_errors=True)
    subprocess.run(["cp", "-al", str(SHARED_DIR / "rootfs"), str(PATCH_DIR / "rootfs")], check=True)
    shutil.copy(shared, ours)


def patch_lab() -> Iterator[Lab]:
    """Fresh hosts (down wipes their writable layers), up for the module, down after."""
    _script("down.sh")
    _seed_rootfs()
    _script("up.sh", str(HOSTS))
    try:
        yield Lab(json.loads((PATCH_DIR / "lab.json").read_text()))
    finally:
        _script("down.sh")


def on_host(lab: Lab, host: str, command: str) -> str:
    """Run a shell command on a lab host as root over plain OpenSSH; its stdout."""
    address = lab.host(host)["address"]
    proc = subprocess.run(
        [
            "ssh",
            "-n",
            "-i",
            str(lab.key),
            "-o",
            f"UserKnownHostsFile={lab.known_hosts}",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            f"root@{address}",
            command,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, f"{host}: {command}: {proc.stderr}"
    return proc.stdout


def on_hosts(lab: Lab, command: str) -> dict[str, str]:
    return {h["name"]: on_host(lab, h["name"], command).strip() for h in lab.hosts}


def labapp_versions(lab: Lab) -> dict[str, str]:
    """What dpkg says is installed, per host: "1.2", or "1.3 (half-configured)"."""
    raw = on_hosts(lab, "dpkg-query -W -f '${Version} ${db:Status-Abbrev}' labapp")
    return {h: v.split()[0] if v.split()[1:] == ["ii"] else f"{v} (not ii)" for h, v in raw.items()}


def apt_runs(lab: Lab) -> dict[str, int]:
    """apt-get update and dpkg runs per host (the lab's apt hook counts them)."""
    raw = on_hosts(lab, "cat /var/log/lab-apt-runs.log 2>/dev/null | wc -l")
    return {h: int(v) for h, v in raw.items()}


def boot_ids(lab: Lab) -> dict[str, str]:
    return on_hosts(lab, "cat /run/lab-boot-id")
