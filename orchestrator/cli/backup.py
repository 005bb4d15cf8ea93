"""`orchestrator backup list | show | diff | verify | prune`: the backup repository.

Backups are taken by runbooks (config-backup, data-backup; restore-verify proves them);
these commands read and maintain what they stored. `verify` exits 1 when any object
was altered or lost; diffs and `show` mask secrets (`--raw` prints the exact bytes).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from orchestrator.backups.secrets import mask
from orchestrator.cli import backup_views as views
from orchestrator.cli.state import console, err_console, state_of
from orchestrator.errors import NotFoundError
from orchestrator.store.backup_maintenance import diff_versions, prune, verify
from orchestrator.store.backups import text_of

app = typer.Typer(help="Backups: versions, diffs, integrity, retention.", no_args_is_help=True)


@app.command("list")
def list_backups(
    ctx: typer.Context,
    target: Annotated[str | None, typer.Argument(help="one host or device")] = None,
    artifact: Annotated[
        str | None, typer.Option("--artifact", "-a", help="with TARGET: every version of it")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every target's artifacts with their newest version (with --artifact: its history)."""
    store = state_of(ctx).app().backups
    if artifact is not None:
        if target is None:
            raise typer.BadParameter("give the TARGET too", param_hint="--artifact")
        versions = store.history(target, artifact)
        if not versions:
            raise NotFoundError(f"no backups of {artifact!r} on {target!r}")
        if as_json:
            console.print_json(json.dumps([views.version_json(v) for v in versions]))
        else:
            views.show_history(console, versions)
        return
    summaries = store.list(target)
    if as_json:
        console.print_json(json.dumps([views.summary_json(s) for s in summaries]))
    elif not summaries:
        console.print("no backups yet" + (f" of {target}" if target else ""))
    else:
        views.show_summaries(console, summaries)


@app.command("show")
def show(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="version id or a unique prefix")],
    content: Annotated[bool, typer.Option("--content", help="print it, secrets masked")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="write the exact bytes to stdout")] = False,
) -> None:
    """One version: what, when, checksum, run; its restore verifications."""
    store = state_of(ctx).app().backups
    found = store.get(version)
    if raw:
        sys.stdout.buffer.write(store.read(found))
        sys.stdout.flush()
        return
    views.show_version(console, found, store.verifications(version=found.id))
    if content:
        text = text_of(store.read(found))
        if text is None:
            console.print(f"({found.kind}, {found.size} bytes: not text; use --raw)")
        else:
            console.rule(f"{found.target} {found.artifact} (secrets masked)")
            console.print(mask(text).text, markup=False, highlight=False)


@app.command("diff")
def diff(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="host or device")],
    old: Annotated[
        str | None, typer.Argument(help="older version (default: the one before NEW)")
    ] = None,
    new: Annotated[str | None, typer.Argument(help="newer version (default: the newest)")] = None,
    artifact: Annotated[
        str | None,
        typer.Option("--artifact", "-a", help="default: running-config, or the only one"),
    ] = None,
) -> None:
    """What changed between two versions of an artifact (secrets masked; rotations named)."""
    store = state_of(ctx).app().backups
    name = artifact or views.default_artifact(store.list(target), target)
    history = store.history(target, name)
    if not history:
        raise NotFoundError(f"no backups of {name!r} on {target!r}")
    ids = [v.id for v in history]
    newer = store.find(target, name, new) if new else history[0]
    if newer is None:
        raise NotFoundError(f"no version {new!r} of {target} {name}")
    if old:
        older = store.find(target, name, old)
    else:
        position = ids.index(newer.id)
        older = history[position + 1] if position + 1 < len(history) else None
    if older is None:
        raise NotFoundError(f"{target} {name} has no version before {newer.id} to compare with")
    views.show_diff(console, older, newer, diff_versions(store, older, newer))


@app.command("verify")
def verify_backups(
    ctx: typer.Context,
    quick: Annotated[
        bool, typer.Option("--quick", help="objects only; do not read archives against manifests")
    ] = False,
) -> None:
    """Recompute every checksum; exit 1 if any object is altered or missing."""
    report = verify(state_of(ctx).app().backups, deep=not quick)
    views.show_verify(console, report)
    if not report.ok:
        err_console.print(
            f"[bold red]backups damaged:[/] {len(report.problems)} problem(s)", highlight=False
        )
        raise typer.Exit(1)


@app.command("prune")
def prune_backups(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show what would go; delete nothing")
    ] = False,
) -> None:
    """Apply the retention policy (backup_keep_* settings) per target and artifact."""
    app_ = state_of(ctx).app()
    report = prune(app_.backups, app_.settings.retention, app_.timezone, dry_run=dry_run)
    if not dry_run and (report.drop or report.objects_removed):
        details = {
            "versions": [f"{v.id} {v.target} {v.artifact}" for v in report.drop],
            "objects_removed": len(report.objects_removed),
        }
        app_.audit.record(app_.operator, "backup.prune", "backups", details)
    views.show_prune(console, report, app_.settings.retention)
