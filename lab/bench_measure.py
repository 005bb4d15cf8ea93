"""Measuring one benchmark client run: wall time, CPU of the client and of the lab, memory.

CPU is counted by cgroup (v1 ``cpuacct`` or v2 ``cpu.stat``) where the machine has one:
the client's cgroup holds every process it starts, daemonised ones too (ansible's
ssh ControlPersist masters), and the lab's cgroup holds every sshd and command of the
benchmark lab's hosts. Without cgroups the client's CPU comes from ``wait4`` (the
process and the children it waited for) and the lab's is not measured.
Peak memory is the largest sum of the resident sets of the client's processes, sampled
every 0.2 s, and the largest single process (``ru_maxrss``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

V1_ROOT = Path("/sys/fs/cgroup/cpuacct")
V2_ROOTS = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))
PAGE = os.sysconf("SC_PAGE_SIZE")


class CpuGroup:
    """A cgroup whose processes' CPU time is counted (created here, removed by close)."""

    def __init__(self, path: Path, v2: bool) -> None:
        self.path = path
        self.v2 = v2
        path.mkdir(exist_ok=True)

    @classmethod
    def create(cls, name: str) -> CpuGroup | None:
        if (V1_ROOT / "cpuacct.usage").exists():
            return cls(V1_ROOT / name, v2=False)
        for root in V2_ROOTS:
            if (root / "cgroup.procs").exists() and (root / "cgroup.controllers").exists():
                return cls(root / name, v2=True)
        return None

    @property
    def procs(self) -> str:
        return str(self.path / "cgroup.procs")

    def add(self, pid: int) -> None:
        with contextlib.suppress(OSError):  # gone meanwhile
            (self.path / "cgroup.procs").write_text(f"{pid}\n")

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def cpu_s(self) -> float:
        if self.v2:
            for line in (self.path / "cpu.stat").read_text().splitlines():
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) / 1e6
            return 0.0
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def close(self) -> None:
        parent = self.path.parent / "cgroup.procs"
        for pid in self.pids():
            with contextlib.suppress(OSError):
                parent.write_text(f"{pid}\n")
        with contextlib.suppress(OSError):
            self.path.rmdir()


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return total


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (for machines without cgroups)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


@dataclass
class Measured:
    returncode: int
    wall_s: float
    cpu_s: float  # the client: every process it started
    lab_cpu_s: float | None  # the lab's hosts (sshd, shells, commands) meanwhile
    peak_rss_mb: float  # largest sampled sum over the client's processes
    max_rss_mb: float  # largest single process
    stdout: str
    stderr: str


def measure(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    workdir: Path,
    client: CpuGroup | None,
    lab: CpuGroup | None,
) -> Measured:
    """Run ``argv`` to its end; stdout and stderr go through files, never pipes we poll."""
    out_path, err_path = workdir / "client.out", workdir / "client.err"
    cpu0, lab0 = (client.cpu_s() if client else 0.0), (lab.cpu_s() if lab else 0.0)
    peak = [0]
    done = threading.Event()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.monotonic()
        if client:  # into the client's cgroup before exec: everything it starts is counted
            argv = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', client.procs, *argv]
        proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )

        def sample() -> None:
            while not done.wait(0.2):
                pids = client.pids() if client else descendants(proc.pid)
                peak[0] = max(peak[0], rss_bytes(pids))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        done.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if client:  # daemonised leftovers (ssh masters being closed) still count: wait a little
        deadline = time.monotonic() + 15
        while client.pids() and time.monotonic() < deadline:
            time.sleep(0.1)
    cpu = client.cpu_s() - cpu0 if client else usage.ru_utime + usage.ru_stime
    return Measured(
        returncode=proc.returncode,
        wall_s=wall,
        cpu_s=cpu,
        lab_cpu_s=lab.cpu_s() - lab0 if lab else None,
        peak_rss_mb=max(peak[0], usage.ru_maxrss * 1024) / 2**20,
        max_rss_mb=usage.ru_maxrss / 1024,
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
    )
