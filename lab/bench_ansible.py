#!/usr/bin/env python3
"""The benchmark's client (b): the same commands as an ansible-playbook run via ansible-runner.

Usage: bench_ansible.py SPEC.json WORKDIR

SPEC.json is the floor clients' (lab/bench_floor.py): hosts, user, key, known_hosts,
commands, forks. The playbook has one ``shell`` task per command (``register``,
``changed_when: false``), no fact gathering, forks from the spec. Set up as ansible
is run carefully (FINDINGS pitfalls): host key checking on against the lab's
known_hosts, pipelining on, curve25519 pinned, the interpreter given (no discovery),
an empty ansible.cfg and every ansible directory inside WORKDIR, and the
ControlPersist masters closed at the end so runs do not overlap.
Prints one JSON line: {"client", "hosts", "ok", "commands", "wall_s", "status", "errors"}.
"""

from __future__ import annotations

import glob
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

CURVE = "curve25519-sha256"


def playbook(commands: list[str]) -> str:
    tasks = [
        {
            "name": f"command {i}",
            "ansible.builtin.shell": command,
            "register": f"r{i}",
            "changed_when": False,
        }
        for i, command in enumerate(commands, 1)
    ]
    play = [{"name": "daily inspection", "hosts": "all", "gather_facts": False, "tasks": tasks}]
    return yaml.safe_dump(play, sort_keys=False, allow_unicode=True)


def inventory(spec: dict[str, Any]) -> str:
    ssh_args = (
        f"-o UserKnownHostsFile={spec['known_hosts']} -o StrictHostKeyChecking=yes "
        f"-o KexAlgorithms={CURVE}"
    )
    lines = ["[bench]"]
    lines += [
        f"{h['name']} ansible_host={h['address']} ansible_port={h['port']}" for h in spec["hosts"]
    ]
    lines += [
        "",
        "[bench:vars]",
        f"ansible_user={spec['user']}",
        f"ansible_ssh_private_key_file={spec['key']}",
        "ansible_python_interpreter=/usr/bin/python3",
        f"ansible_ssh_common_args={shlex.quote(ssh_args)}",
    ]
    return "\n".join(lines) + "\n"


def prepare(spec: dict[str, Any], work: Path) -> dict[str, str]:
    shutil.rmtree(work, ignore_errors=True)
    (work / "project").mkdir(parents=True)
    (work / "inventory").mkdir()
    (work / "project" / "bench.yml").write_text(playbook(spec["commands"]))
    (work / "inventory" / "hosts.ini").write_text(inventory(spec))
    (work / "ansible.cfg").write_text("[defaults]\n")  # ANSIBLE_CONFIG=/dev/null is refused
    return {
        "ANSIBLE_CONFIG": str(work / "ansible.cfg"),
        "ANSIBLE_HOME": str(work / "home"),
        "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(work / "cp"),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_PIPELINING": "True",
    }


def close_masters(work: Path) -> None:
    # ControlPersist masters outlive the run by 60 s: close them so runs don't overlap.
    for sock in glob.glob(str(work / "cp" / "*")):
        close = ["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "x"]
        subprocess.run(close, capture_output=True, check=False)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    import ansible_runner  # after the argument check: it takes a while to import

    spec = json.loads(Path(argv[1]).read_text())
    work = Path(argv[2]).resolve()
    env = prepare(spec, work)
    # ansible-runner execs ansible-playbook by name: the venv's, whether active or not.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    started = time.monotonic()
    try:
        run = ansible_runner.run(
            private_data_dir=str(work),
            playbook="bench.yml",
            forks=spec["forks"],
            envvars=env,
            quiet=True,
            rotate_artifacts=1,
        )
    finally:
        close_masters(work)
    wall = time.monotonic() - started
    stats = run.stats or {}
    bad = {h for key in ("failures", "dark") for h in (stats.get(key) or {})}
    ok = sum(1 for h in (stats.get("ok") or {}) if h not in bad)
    print(
        json.dumps(
            {
                "client": "ansible",
                "hosts": len(spec["hosts"]),
                "ok": ok,
                "commands": len(spec["commands"]),
                "wall_s": round(wall, 3),
                "status": run.status,
                "errors": sorted(bad)[:5],
            }
        )
    )
    return 0 if ok == len(spec["hosts"]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
