"""The benchmark's table: printed, and written into docs/benchmarks.md between markers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN, END = "<!-- bench:begin (written by make bench) -->", "<!-- bench:end -->"
LABELS = {
    "orchestrator": "(a) orchestrator",
    "ansible": "(b) ansible-playbook (ansible-runner)",
    "paramiko": "(c) bare paramiko, threads",
    "asyncssh": "(c) bare asyncssh, asyncio",
}
TARGET_FLOOR = 1.3  # a <= 1.3 x c
TARGET_ANSIBLE = 10.0  # a >= 10 x faster than b


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def ratios(row: dict[str, Any]) -> dict[str, float | None]:
    clients = row["clients"]
    wall = {name: c["wall_s"] for name, c in clients.items()}
    floors = [wall[n] for n in ("paramiko", "asyncssh") if n in wall]
    a, b = wall.get("orchestrator"), wall.get("ansible")
    c = min(floors) if floors else None
    return {
        "floor_s": c,
        "a_over_c": a / c if a and c else None,
        "a_over_b": a / b if a and b else None,
        "b_over_a": b / a if a and b else None,
    }


def table(row: dict[str, Any]) -> list[str]:
    lines = [
        f"**{row['hosts']} hosts**, forks {row['forks']}, medians of {row['repeat']} runs",
        "",
        "| client | wall (s) | client CPU (s) | lab CPU (s) | peak RSS (MB) |",
        "|---|--:|--:|--:|--:|",
    ]
    for name, c in row["clients"].items():
        lines.append(
            f"| {LABELS[name]} | {_num(c['wall_s'])} | {_num(c['cpu_s'])} | "
            f"{_num(c['lab_cpu_s'])} | {_num(c['peak_rss_mb'], 0)} |"
        )
    r = ratios(row)
    lines.append("")
    if r["a_over_c"] is not None:
        ok = "met" if r["a_over_c"] <= TARGET_FLOOR else "MISSED"
        lines.append(
            f"- a/c = {r['a_over_c']:.2f} (floor c = {r['floor_s']:.2f} s; "
            f"target ≤ {TARGET_FLOOR}: {ok})"
        )
    if r["a_over_b"] is not None and r["b_over_a"] is not None:
        ok = "met" if r["b_over_a"] >= TARGET_ANSIBLE else "MISSED"
        lines.append(
            f"- a/b = {r['a_over_b']:.3f}: the orchestrator is {r['b_over_a']:.1f}× faster "
            f"than ansible (target ≥ {TARGET_ANSIBLE:g}×: {ok})"
        )
    return lines


def machine_lines(m: dict[str, Any]) -> list[str]:
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    return [
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram_gib']} GiB",
        f"- Debian {m['debian']}, kernel {m['kernel']}, Python {m['python']}",
        f"- {m['openssh_client']}; lab sshd: openssh-server {m['openssh_server_lab']}, "
        f"KexAlgorithms {m['sshd_kex']}",
        f"- {packages}",
    ]


def section(report: dict[str, Any]) -> list[str]:
    lines = [
        f"Measured {report['started']} ({report['minutes']} min; load average after: "
        + ", ".join(f"{x:.1f}" for x in report["load_average_after"])
        + ").",
        "",
        *machine_lines(report["machine"]),
        "",
    ]
    for row in report["results"]:
        lines += [*table(row), ""]
        lines.append(
            f"Steps (a) ran per host: {len(row['steps_run_by_a'])}; commands of (b) and (c): "
            f"{len(row['commands_of_b_and_c'])} ({', '.join(row['commands_of_b_and_c'])})."
        )
        lines.append("")
    return lines


def print_table(report: dict[str, Any]) -> None:
    print("\n".join(section(report)))


def write_doc(report: dict[str, Any], path: Path) -> None:
    """Replace the text between the markers (or append them with it)."""
    text = path.read_text() if path.exists() else ""
    body = "\n".join([BEGIN, *section(report), END])
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + body + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + body + "\n"
    path.write_text(text)
