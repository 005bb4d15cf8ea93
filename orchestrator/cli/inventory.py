"""`orchestrator inventory list | show | graph`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from orchestrator.cli.state import console, state_of
from orchestrator.inventory.graph import graph_lines
from orchestrator.inventory.select import select_hosts

app = typer.Typer(help="Hosts and devices in the inventory.", no_args_is_help=True)


@app.command("list")
def list_hosts(
    ctx: typer.Context,
    pattern: Annotated[str, typer.Argument(help="Ansible host pattern")] = "all",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Hosts matching PATTERN (names, groups, a:b, a:&b, a:!b, globs, ~regex)."""
    inventory = state_of(ctx).app().inventory
    hosts = select_hosts(inventory, pattern)
    if as_json:
        console.print_json(
            json.dumps(
                [
                    {
                        "name": h.name,
                        "address": h.address,
                        "port": h.port,
                        "kind": h.kind.value,
                        "platform": h.platform,
                        "criticality": h.criticality.value,
                        "groups": list(h.groups),
                    }
                    for h in hosts
                ]
            )
        )
        return
    table = Table(
        "host",
        "address",
        "kind",
        "platform",
        "criticality",
        "groups",
        title=f"{len(hosts)} host(s) match {pattern!r} in {inventory.source}",
    )
    for h in hosts:
        table.add_row(
            h.name,
            f"{h.address}:{h.port}",
            h.kind.value,
            h.platform or "-",
            h.criticality.value,
            escape(",".join(g for g in h.groups if g != "all")),
        )
    console.print(table)


@app.command("show")
def show_host(ctx: typer.Context, host: str) -> None:
    """One host's resolved variables (secrets masked) and groups."""
    h = state_of(ctx).app().inventory.host(host)
    console.print(
        f"[bold]{h.name}[/] {h.address}:{h.port} kind {h.kind.value}"
        + (f" platform {h.platform}" if h.platform else "")
        + f" criticality {h.criticality.value}"
    )
    console.print("groups: " + ", ".join(h.groups))
    table = Table("variable", "value")
    for name, value in h.masked_vars().items():
        table.add_row(name, escape(json.dumps(value, ensure_ascii=False, default=str)))
    console.print(table)


@app.command("graph")
def graph(
    ctx: typer.Context, group: Annotated[str, typer.Argument(help="start at this group")] = "all"
) -> None:
    """The group tree, like `ansible-inventory --graph`."""
    for line in graph_lines(state_of(ctx).app().inventory, group):
        console.print(escape(line))
