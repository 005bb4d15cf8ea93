"""`orchestrator scheduler run | status`: the daemon and its health.

`run` stays in the foreground (systemd unit: docs/scheduler.md). Start it on two
machines for redundancy: one holds the leader lease and fires, the other stands by and
takes over when the lease expires. SIGTERM or Ctrl-C stops it cleanly: no new fires,
running ones stop like `run` on Ctrl-C (ABORTED), the lease is released at once.
"""

from __future__ import annotations

import json
import logging
import signal
from types import FrameType
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from orchestrator.cli.schedule import (
    STATE_STYLE,
    fire_json,
    fire_text,
    service_of,
    view_json,
    when,
)
from orchestrator.cli.state import console, err_console
from orchestrator.scheduler.service import SchedulerStatus
from orchestrator.store.schedules import FireStatus

app = typer.Typer(help="The scheduler daemon: run it, check its health.", no_args_is_help=True)


@app.command("run")
def run(
    ctx: typer.Context,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="schedules firing at once")
    ] = 4,
) -> None:
    """Run the scheduler in the foreground until SIGTERM / Ctrl-C."""
    if logging.getLogger().level > logging.INFO:
        logging.getLogger("orchestrator").setLevel(logging.INFO)  # a daemon says what it does
    service = service_of(ctx)
    schedule_file = service.load_file()  # a bad schedules.yml stops here (exit 2)
    daemon = service.daemon(workers=workers)

    def stop(signum: int, frame: FrameType | None) -> None:
        if daemon.stop.is_set():
            raise KeyboardInterrupt
        err_console.print("stopping: no new fires; running ones stop at the next step")
        daemon.stop.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    err_console.print(
        f"scheduler {daemon.identity.holder}: {len(schedule_file.specs)} schedule(s) in "
        f"{schedule_file.path}, lease {service.settings.scheduler_lease:g}s, "
        f"database {service.app.database.masked_url}",
        markup=False,
    )
    daemon.run()


@app.command("status")
def status(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The leader, every schedule's last and next fire, recent misfires."""
    service = service_of(ctx)
    health = service.status()
    if as_json:
        console.print_json(json.dumps(status_json(health)))
        return
    tz = service.settings.timezone
    lease = health.lease
    if lease is None:
        console.print("leader: [red]none[/] — no scheduler has run against this database")
    else:
        alive = "[green]active[/]" if health.leader_alive else "[red]lease expired[/]"
        console.print(
            f"leader: {escape(lease.holder)} {alive} (since {when(lease.acquired, tz)}, "
            f"renewed {when(lease.renewed, tz)}, expires {when(lease.expires, tz)})"
        )
    table = Table(show_edge=False, pad_edge=False)
    for column in ("schedule", "state", "next", "last", "missed 7d"):
        table.add_column(column)
    for view in health.schedules:
        spec = view.stored.spec
        table.add_row(
            escape(spec.name),
            f"[{STATE_STYLE[view.state]}]{view.state}[/]",
            when(view.next_run_time, spec.timezone),
            fire_text(view.last, spec.timezone),
            str(view.counts.get(FireStatus.MISSED, 0)),
        )
    console.print(table)
    if health.misfires:
        console.print("recent misfires:")
        for fire in health.misfires:
            console.print(
                f"  {escape(fire.schedule)} {when(fire.slot, tz)} {fire.status.value}: "
                f"{escape(fire.detail)}"
            )


def status_json(health: SchedulerStatus) -> dict[str, Any]:
    lease = health.lease
    return {
        "now": health.now.isoformat(),
        "leader": None
        if lease is None
        else {
            "holder": lease.holder,
            "node": lease.node,
            "pid": lease.pid,
            "acquired": lease.acquired.isoformat(),
            "renewed": lease.renewed.isoformat(),
            "expires": lease.expires.isoformat(),
            "active": health.leader_alive,
        },
        "schedules": [view_json(v) for v in health.schedules],
        "misfires": [{"schedule": f.schedule, **(fire_json(f) or {})} for f in health.misfires],
    }
