#!/usr/bin/env python3
"""`make bench`: the daily inspection over N lab hosts with three kinds of client.

  (a) orchestrator   `python -m orchestrator run` of the shipped daily inspection
  (b) ansible        the same commands as a playbook through ansible-runner
  (c) floor          bare SSH fan-outs, no orchestrator code: paramiko threads and
                     asyncssh; the faster of the two is the floor

Usage: bench.py [--hosts 50 200] [--repeat 3] [--forks 50] [--clients a,b,c]
                [--all-commands] [--keep-lab] [--no-doc]

Runs on its own lab (lab/bench_lab.py), never the shared one. Every client pins
curve25519 key exchange (the lab's sshd allows nothing else) and verifies host keys.
Each repetition runs the clients one after another (a, b, paramiko, asyncssh), so
load from elsewhere on the machine falls on all of them; medians of the repetitions
are reported. (b) and (c) run the runbook's `command:` steps, rendered with its vars
defaults — those that (a) runs on these hosts (steps whose `when` is false there are
left out) unless --all-commands. Prints the table, writes var/bench/results.json and
the results section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_lab
from bench_commands import retargeted_runbook, runbook_commands
from bench_measure import CpuGroup, Measured, measure
from bench_report import print_table, write_doc

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "var" / "bench" / "results.json"
CLIENTS = {"a": ("orchestrator",), "b": ("ansible",), "c": ("paramiko", "asyncssh")}


class Bench:
    def __init__(self, args: argparse.Namespace, manifest: dict[str, Any], tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.lab_dir = Path(manifest["lab_dir"])
        self.healthy = [h for h in manifest["hosts"] if h["state"] == "healthy"]
        self.book = retargeted_runbook(tmp)
        (tmp / "orchestrator.toml").write_text(
            "# The benchmark's lab has no change records: read-only runs without one\n"
            "# (each still audited), as the lab tests run.\n"
            "allow_unrecorded_readonly = true\n"
        )
        self.client = CpuGroup.create("orchestrator-bench-client")
        self.lab = CpuGroup.create("orchestrator-bench-lab")
        if self.lab is not None:
            for pid in bench_lab.namespace_pids(manifest):
                self.lab.add(pid)

    def close(self) -> None:
        for group in (self.client, self.lab):
            if group is not None:
                group.close()

    def env(self, n: int) -> dict[str, str]:
        drop = ("ORCH_", "PYTHONDONTWRITEBYTECODE")  # every client may cache its bytecode
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        env.update(
            ORCH_INVENTORY=str(self.lab_dir / "inventory" / "hosts.yml"),
            ORCH_KNOWN_HOSTS=str(self.lab_dir / "known_hosts"),
            ORCH_DATA_DIR=str(self.tmp / f"data-{n}"),
            ORCH_CONFIG=str(self.tmp / "orchestrator.toml"),
            COLUMNS="120",
        )
        return env

    def argv(self, name: str, n: int, spec: Path) -> list[str]:
        if name == "orchestrator":
            limit = ",".join(h["name"] for h in self.healthy[:n])
            return [sys.executable, "-m", "orchestrator", "run", str(self.book), "--limit", limit,
                    "--forks", str(self.args.forks)]  # fmt: skip
        if name == "ansible":
            return [sys.executable, str(ROOT / "lab" / "bench_ansible.py"), str(spec),
                    str(self.tmp / "ansible")]  # fmt: skip
        return [sys.executable, str(ROOT / "lab" / "bench_floor.py"), name, str(spec)]

    def once(self, name: str, n: int, spec: Path) -> Measured:
        done = measure(
            self.argv(name, n, spec),
            env=self.env(n),
            cwd=ROOT,
            workdir=self.tmp,
            client=self.client,
            lab=self.lab,
        )
        self.check(name, n, done)
        return done

    def check(self, name: str, n: int, done: Measured) -> None:
        if name == "orchestrator":
            if done.returncode != 0:
                raise SystemExit(
                    f"orchestrator run failed ({done.returncode}): {done.stderr[-3000:]}"
                )
            record = self.last_run(n)
            ok = sum(h["status"] == "ok" for h in record["hosts"])
        else:
            lines = done.stdout.strip().splitlines()
            ok = json.loads(lines[-1])["ok"] if lines else 0
        if ok != n:
            raise SystemExit(
                f"{name}: {ok} of {n} hosts ok\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )

    def last_run(self, n: int) -> dict[str, Any]:
        out = measure(
            [sys.executable, "-m", "orchestrator", "runs", "show", "last", "--json"],
            env=self.env(n),
            cwd=ROOT,
            workdir=self.tmp,
            client=None,
            lab=None,
        )
        record: dict[str, Any] = json.loads(out.stdout)
        return record

    def spec(self, n: int) -> tuple[Path, list[str], list[str]]:
        """Warm up (a) and write the spec of (b) and (c): the commands (a) ran on these hosts."""
        self.once("orchestrator", n, Path())
        record = self.last_run(n)
        ran = {s["name"] for h in record["hosts"] for s in h["steps"] if s["status"] != "skipped"}
        steps = [
            (name, cmd) for name, cmd in runbook_commands() if self.args.all_commands or name in ran
        ]
        spec = self.tmp / f"spec-{n}.json"
        hosts = [{k: h[k] for k in ("name", "address", "port")} for h in self.healthy[:n]]
        spec.write_text(
            json.dumps(
                {
                    "hosts": hosts,
                    "user": "root",
                    "key": str(self.lab_dir / "keys" / "id_ed25519"),
                    "known_hosts": str(self.lab_dir / "known_hosts"),
                    "commands": [cmd for _, cmd in steps],
                    "forks": self.args.forks,
                }
            )
        )
        return spec, [name for name, _ in steps], sorted(ran)

    def run(self, n: int, names: list[str]) -> dict[str, Any]:
        spec, commands, ran = self.spec(n)
        for name in names:  # warm-up (page cache, bytecode); ansible's would take minutes
            if name in ("paramiko", "asyncssh"):
                self.once(name, n, spec)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for rep in range(self.args.repeat):
            for name in names:
                done = self.once(name, n, spec)
                row = {k: v for k, v in asdict(done).items() if k not in ("stdout", "stderr")}
                runs[name].append(row)
                print(
                    f"  N={n} rep {rep + 1}/{self.args.repeat} {name:12s}",
                    f"{done.wall_s:7.2f} s wall {done.cpu_s:7.2f} s CPU",
                    f"peak {done.peak_rss_mb:6.0f} MB",
                    flush=True,
                )
        return {
            "hosts": n,
            "forks": self.args.forks,
            "repeat": self.args.repeat,
            "steps_run_by_a": ran,
            "commands_of_b_and_c": commands,
            "clients": {name: summary(rows) for name, rows in runs.items()},
        }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def median(key: str) -> float | None:
        values = [r[key] for r in rows if r[key] is not None]
        return round(statistics.median(values), 3) if values else None

    return {
        "wall_s": median("wall_s"),
        "cpu_s": median("cpu_s"),
        "lab_cpu_s": median("lab_cpu_s"),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in rows), 1),
        "max_rss_mb": round(max(r["max_rss_mb"] for r in rows), 1),
        "runs": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--forks", type=int, default=50)
    ap.add_argument("--clients", default="a,b,c", help="which of a, b, c (comma list)")
    ap.add_argument("--all-commands", action="store_true", help="(b), (c): every command step")
    ap.add_argument("--keep-lab", action="store_true", help="leave the benchmark lab up")
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("make bench needs root (the lab: network namespaces, mounts)")
    names = [n for key in args.clients.split(",") for n in CLIENTS[key.strip()]]
    started = datetime.now(UTC)
    manifest = bench_lab.up(bench_lab.size_for(max(args.hosts)))
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="orch-bench-") as tmp:
            bench = Bench(args, manifest, Path(tmp))
            try:
                for n in sorted(args.hosts):
                    results.append(bench.run(n, names))
            finally:
                bench.close()
    finally:
        if not args.keep_lab:
            bench_lab.down()
    report = {
        "started": started.isoformat(timespec="seconds"),
        "minutes": round((time.time() - started.timestamp()) / 60, 1),
        "load_average_after": os.getloadavg(),
        "machine": bench_lab.machine(),
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    if not args.no_doc:
        write_doc(report, ROOT / "docs" / "benchmarks.md")
    print(f"results: {RESULTS}")


if __name__ == "__main__":
    main()
