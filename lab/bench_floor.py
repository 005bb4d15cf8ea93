#!/usr/bin/env python3
"""The benchmark's floor (c): bare SSH fan-outs with no orchestrator code.

Usage: bench_floor.py paramiko|asyncssh SPEC.json

SPEC.json (written by lab/bench.py): {"hosts": [{"name", "address", "port"}], "user",
"key", "known_hosts", "commands": [...], "forks"}. Every host gets one connection and one
exec per command, in order; stdout, stderr and the exit status of each are read in full.

* paramiko: one thread per host, at most ``forks`` at once, ``SSHClient`` with the lab's
  known_hosts loaded and ``RejectPolicy`` (an unknown or changed key fails the host).
* asyncssh: one task per host under a semaphore of ``forks``, ``known_hosts=`` the same file.

Both pin curve25519 key exchange (paramiko knows it only by its pre-RFC name
``curve25519-sha256@libssh.org``: the same algorithm). Prints one JSON line:
{"client", "hosts", "ok", "commands", "wall_s", "errors"}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

CURVE_OPENSSH = "curve25519-sha256"
CURVE_PARAMIKO = "curve25519-sha256@libssh.org"


def run_paramiko(spec: dict[str, Any]) -> list[str | None]:
    from concurrent.futures import ThreadPoolExecutor

    import paramiko

    # Everything paramiko prefers except curve25519 is disabled: the kex is pinned.
    others = [k for k in paramiko.Transport._preferred_kex if k != CURVE_PARAMIKO]

    def one(host: dict[str, Any]) -> str | None:
        client = paramiko.SSHClient()
        client.load_host_keys(spec["known_hosts"])
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                host["address"],
                port=host["port"],
                username=spec["user"],
                key_filename=spec["key"],
                look_for_keys=False,
                allow_agent=False,
                timeout=30,
                disabled_algorithms={"kex": others},
            )
            for command in spec["commands"]:
                _, stdout, stderr = client.exec_command(command)
                stdout.read()
                stderr.read()
                stdout.channel.recv_exit_status()
            return None
        except Exception as exc:
            return f"{host['name']}: {type(exc).__name__}: {exc}"
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=spec["forks"]) as pool:
        return list(pool.map(one, spec["hosts"]))


def run_asyncssh(spec: dict[str, Any]) -> list[str | None]:
    import asyncio

    import asyncssh

    async def one(host: dict[str, Any], sem: asyncio.Semaphore) -> str | None:
        async with sem:
            try:
                async with asyncssh.connect(
                    host["address"],
                    port=host["port"],
                    username=spec["user"],
                    client_keys=[spec["key"]],
                    known_hosts=spec["known_hosts"],
                    agent_path=None,
                    kex_algs=[CURVE_OPENSSH],
                    connect_timeout=30,
                ) as conn:
                    for command in spec["commands"]:
                        await conn.run(command, check=False)
                return None
            except Exception as exc:
                return f"{host['name']}: {type(exc).__name__}: {exc}"

    async def main() -> list[str | None]:
        sem = asyncio.Semaphore(spec["forks"])
        return list(await asyncio.gather(*(one(h, sem) for h in spec["hosts"])))

    return asyncio.run(main())


CLIENTS = {"paramiko": run_paramiko, "asyncssh": run_asyncssh}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in CLIENTS:
        print(__doc__, file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[2]).read_text())
    started = time.monotonic()
    errors = CLIENTS[argv[1]](spec)
    wall = time.monotonic() - started
    failed = [e for e in errors if e]
    print(
        json.dumps(
            {
                "client": argv[1],
                "hosts": len(errors),
                "ok": len(errors) - len(failed),
                "commands": len(spec["commands"]),
                "wall_s": round(wall, 3),
                "errors": failed[:5],
            }
        )
    )
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
