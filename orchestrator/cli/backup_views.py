"""Tables and text of `orchestrator backup ...` and the backups part of `runs show`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestrator.backups.diff import ChangeKind, ConfigDiff
from orchestrator.backups.retention import RetentionPolicy
from orchestrator.engine.artifacts import RestoreEvidence, StoredVersion
from orchestrator.errors import NotFoundError
from orchestrator.store.backup_maintenance import PruneReport, VerifyReport
from orchestrator.store.backups import ArtifactSummary

CHANGE_STYLE = {
    "new": "cyan",
    "unchanged": "dim",
    "secret rotated": "yellow",
    "changed": "bold yellow",
}
_DIFF_STYLE = {"+": "green", "-": "red", "@": "cyan"}


def when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def change_text(change: str) -> str:
    return f"[{CHANGE_STYLE.get(change, 'white')}]{change}[/]"


def version_json(v: StoredVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "target": v.target,
        "artifact": v.artifact,
        "kind": v.kind,
        "sha256": v.digest,
        "bytes": v.size,
        "created": v.created.isoformat(),
        "run_id": v.run_id,
        "manifest_sha256": v.manifest_digest,
        "meta": dict(v.meta),
    }


def summary_json(s: ArtifactSummary) -> dict[str, Any]:
    return {
        "target": s.target,
        "artifact": s.artifact,
        "kind": s.kind,
        "versions": s.versions,
        "last_change": s.last_change.isoformat() if s.last_change else None,
        "latest": version_json(s.latest),
    }


def default_artifact(summaries: Sequence[ArtifactSummary], target: str) -> str:
    names = [s.artifact for s in summaries]
    if not names:
        raise NotFoundError(f"no backups of {target!r}")
    if "running-config" in names:
        return "running-config"
    if len(names) == 1:
        return names[0]
    raise NotFoundError(
        f"{target} has several artifacts; pick one with --artifact: {', '.join(names)}"
    )


def show_summaries(console: Console, summaries: Sequence[ArtifactSummary]) -> None:
    table = Table(title="backups", title_justify="left")
    for column in ("target", "artifact", "kind", "versions", "newest", "taken", "changed", "size"):
        table.add_column(column, justify="right" if column in ("versions", "size") else "left")
    for s in summaries:
        table.add_row(
            escape(s.target),
            escape(s.artifact),
            s.kind,
            str(s.versions),
            s.latest.id,
            when(s.latest.created),
            when(s.last_change),
            size(s.latest.size),
        )
    console.print(table)


def show_history(console: Console, versions: Sequence[StoredVersion]) -> None:
    first = versions[0]
    table = Table(title=f"{first.target} {first.artifact}", title_justify="left")
    for column in ("version", "taken", "change", "sha256", "size", "run"):
        table.add_column(column)
    for v in versions:
        change = str(v.meta.get("change", ""))
        delta = (
            f" +{v.meta.get('added', 0)} -{v.meta.get('removed', 0)}" if change == "changed" else ""
        )
        table.add_row(
            v.id,
            when(v.created),
            change_text(change) + delta,
            v.digest[:12],
            size(v.size),
            v.run_id or "-",
        )
    console.print(table)


def show_version(console: Console, v: StoredVersion, checks: Sequence[RestoreEvidence]) -> None:
    meta = dict(v.meta)
    console.print(f"[bold]{escape(v.target)}[/] {escape(v.artifact)}  version {v.id} ({v.kind})")
    rows = [
        ("taken", when(v.created)),
        ("sha256", v.digest),
        ("size", f"{v.size} bytes"),
        ("change", f"{meta.get('change')} (previous {meta.get('previous') or '-'})"),
        ("run", f"{v.run_id or '-'} step {meta.get('step') or '-'}"),
    ]
    if v.manifest_digest:
        rows.append(("manifest", f"{v.manifest_digest} ({meta.get('files', '?')} files)"))
    if meta.get("recorded"):
        rows.append(("recorded", ", ".join(f"{k}={val}" for k, val in meta["recorded"].items())))
    if meta.get("before_change"):
        rows.append(("before change", "yes (stored by a backup: step)"))
    for label, value in rows:
        console.print(f"  {label:<14} {escape(str(value))}")
    if not checks:
        console.print("  restore checks none yet")
    for c in checks:
        verdict = "[green]pass[/]" if c.ok else "[red]FAIL[/] " + escape("; ".join(c.reasons))
        rto = f", RTO {c.rto_s:.1f}s" if c.rto_s is not None else ""
        console.print(
            f"  restore check  {when(c.verified)} on {escape(c.host)} "
            f"(run {c.run_id}){rto}: {verdict}"
        )


def show_diff(console: Console, old: StoredVersion, new: StoredVersion, diff: ConfigDiff) -> None:
    console.print(
        f"[bold]{escape(new.target)}[/] {escape(new.artifact)}: {old.id} → {new.id}  "
        + change_text(diff.kind.value)
    )
    if diff.rotated:
        console.print(
            f"secret rotated: {', '.join(diff.rotated)} (values masked; config otherwise unchanged)"
        )
    if diff.kind is ChangeKind.CHANGED:
        print_diff(console, diff.diff)
        console.print(f"+{diff.added} -{diff.removed} lines (secrets masked)")
    elif diff.kind is ChangeKind.UNCHANGED:
        console.print("no configuration change (volatile lines such as timestamps ignored)")


def print_diff(console: Console, text: str) -> None:
    for line in text.splitlines():
        style = _DIFF_STYLE.get(line[:1], "") if not line.startswith(("+++", "---")) else "bold"
        console.print(f"[{style}]{escape(line)}[/]" if style else escape(line), highlight=False)


def show_verify(console: Console, report: VerifyReport) -> None:
    for p in report.problems:
        console.print(
            f"[red]BAD[/] {escape(p.target)} {escape(p.artifact)} version {p.version}: "
            + escape(p.reason)
        )
    console.print(
        f"{report.versions} versions, {report.objects} objects checked: "
        + ("[green]all intact[/]" if report.ok else f"[red]{len(report.problems)} problem(s)[/]")
    )
    if report.stale_temp:
        console.print(
            f"{len(report.stale_temp)} temp file(s) of interrupted writes (not objects; "
            "`backup prune` removes them)"
        )
    if report.unreferenced:
        console.print(
            f"{report.unreferenced} object(s) no version refers to (`backup prune` removes them)"
        )


def show_prune(console: Console, report: PruneReport, policy: RetentionPolicy) -> None:
    head = "would remove" if report.dry_run else "removed"
    console.print(
        f"policy: keep last {policy.keep_last}, daily {policy.keep_daily}, weekly "
        f"{policy.keep_weekly}, monthly {policy.keep_monthly} (per target and artifact)"
    )
    for v in report.drop:
        console.print(f"  {head} {v.id} {escape(v.target)} {escape(v.artifact)} {when(v.created)}")
    console.print(f"{head} {len(report.drop)} version(s); kept {len(report.keep)}")
    if not report.dry_run:
        console.print(
            f"{len(report.objects_removed)} object(s) and "
            f"{len(report.temp_removed)} temp file(s) deleted"
        )


def show_run_backups(console: Console, meta: Mapping[str, Any]) -> None:
    """The backups part of `runs show`: changed targets with their masked diffs, restores."""
    items = list(meta.get("backups") or [])
    if items:
        new = sum(1 for i in items if i.get("stored_new"))
        changed = [i for i in items if i.get("change") in ("changed", "secret rotated")]
        console.print(
            f"[bold]backups[/] {len(items)} artifact(s) on {len({i['host'] for i in items})} "
            f"target(s), {new} new object(s); changed since the previous backup: {len(changed)}"
        )
        for i in changed:
            delta = f" +{i.get('added', 0)} -{i.get('removed', 0)}" if i.get("diff") else ""
            console.print(
                f"  {escape(i['host'])} {escape(i['artifact'])}: "
                f"{change_text(i['change'])}{delta} (version {i['version']})"
            )
            if i.get("diff"):
                print_diff(console, i["diff"])
    for r in meta.get("restore_verifications") or []:
        verdict = (
            "[green]pass[/]"
            if r.get("ok")
            else "[red]FAIL[/] " + escape("; ".join(r.get("reasons") or []))
        )
        console.print(
            f"[bold]restore check[/] {escape(str(r.get('source')))} "
            f"{escape(str(r.get('artifact')))} "
            f"version {r.get('version')} on {escape(str(r.get('host')))}: {verdict}"
        )
