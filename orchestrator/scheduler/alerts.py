"""What a scheduled fire tells people: one notification per fire (or per batch of missed
slots), the same facts as e-mail text and as webhook JSON.

Abnormal items come first, as in the reports: critical findings (host, item, value,
threshold, hint), then hosts that failed or were unreachable. The HTML report of the
run is attached to the e-mail (it is self-contained, so it reads the same mailed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from orchestrator.changes.moments import show_moment
from orchestrator.engine.results import RunResult
from orchestrator.notify.message import Attachment, Notification
from orchestrator.runbook.model import Grade
from orchestrator.store.records import RunRecord
from orchestrator.store.schedules import FireStatus, ScheduleSpec

_SHOWN = 20  # findings / hosts listed in the text (the JSON and the report have all)


def _critical(result: RunResult) -> list[dict[str, Any]]:
    return [
        {
            "host": host.host,
            "item": check.name,
            "value": check.value,
            "unit": check.unit,
            "threshold": check.threshold,
            "hint": check.message,
        }
        for host in result.hosts
        for check in host.checks
        if check.grade is Grade.CRITICAL
    ]


def _failed_hosts(result: RunResult) -> list[dict[str, str]]:
    return [
        {"host": h.host, "status": h.status.value, "error": h.error}
        for h in result.hosts
        if h.failed
    ]


def _headline(status: FireStatus, critical: int, failed: int, detail: str) -> str:
    parts = [f"{failed} host(s) failed"] if failed else []
    if critical:
        parts.append(f"{critical} critical finding(s)")
    if not parts and detail and status is not FireStatus.SUCCEEDED:
        parts.append(detail.splitlines()[0][:120])
    return status.value + (" — " + ", ".join(parts) if parts else "")


def fire_notification(
    spec: ScheduleSpec,
    *,
    slot: datetime,
    status: FireStatus,
    detail: str,
    record: RunRecord | None,
    tz: tzinfo,
    report: Path | None = None,
) -> Notification:
    result = record.result if record is not None else None
    critical = _critical(result) if result is not None else []
    failed = _failed_hosts(result) if result is not None else []
    headline = _headline(status, len(critical), len(failed), detail)
    lines = [
        f"Schedule:  {spec.name} (runbook {spec.runbook}, cron '{spec.cron}' {spec.timezone})",
        f"Slot:      {show_moment(slot, tz)}",
        f"Outcome:   {headline}",
    ]
    if detail and (result is None or detail != result.reason):
        lines.append(f"Detail:    {detail}")
    if record is not None:
        lines += _run_lines(record)
    if report is not None:
        lines.append(f"Report:    {report} (attached)")
    lines += _listing("Critical findings", [_finding_line(f) for f in critical])
    lines += _listing(
        "Failed hosts", [f"  {h['host']}  {h['status']}: {h['error']}" for h in failed]
    )
    if record is not None:
        lines += ["", f"Details: orchestrator runs show {record.run_id}"]
    data = {
        "event": "schedule.fire",
        "schedule": spec.name,
        "runbook": spec.runbook,
        "slot": slot.isoformat(),
        "status": status.value,
        "detail": detail,
        "run_id": record.run_id if record is not None else None,
        **_run_data(result),
        "report": str(report) if report is not None else None,
    }
    return Notification(
        subject=f"[orchestrator] {spec.name}: {headline}",
        text="\n".join(lines) + "\n",
        data=data,
        attachments=_attachments(report),
    )


def _run_data(result: RunResult | None) -> dict[str, Any]:
    return {
        "hosts": _host_counts(result),
        "grades": _grade_counts(result),
        "critical": _critical(result) if result is not None else [],
        "failed_hosts": _failed_hosts(result) if result is not None else [],
    }


def missed_notification(
    spec: ScheduleSpec, slots: Sequence[datetime], more: bool, tz: tzinfo, why: str
) -> Notification:
    count = f"{len(slots)}{'+' if more else ''}"
    shown = ", ".join(show_moment(s, tz) for s in slots[:_SHOWN])
    text = (
        f"Schedule:  {spec.name} (runbook {spec.runbook}, cron '{spec.cron}' {spec.timezone})\n"
        f"Missed:    {count} slot(s): {shown}{' …' if more or len(slots) > _SHOWN else ''}\n"
        f"Why:       {why}\n"
        f"Grace:     {spec.misfire_grace} s (misfire_grace)\n"
    )
    return Notification(
        subject=f"[orchestrator] {spec.name}: missed {count} slot(s)",
        text=text,
        data={
            "event": "schedule.missed",
            "schedule": spec.name,
            "runbook": spec.runbook,
            "status": FireStatus.MISSED.value,
            "slots": [s.isoformat() for s in slots],
            "more": more,
            "detail": why,
        },
    )


def _run_lines(record: RunRecord) -> list[str]:
    result = record.result
    hosts = ", ".join(f"{n} {s}" for s, n in _host_counts(result).items())
    grades = ", ".join(f"{n} {g}" for g, n in _grade_counts(result).items() if n)
    change = record.change_id or "-"
    return [
        f"Run:       {record.run_id} — {result.status.value}"
        + (f" ({result.reason})" if result.reason else ""),
        f"Hosts:     {hosts or 'none'}",
        f"Findings:  {grades or 'none graded'}",
        f"Change:    {change} ({record.gate_reason or record.gate_policy})",
    ]


def _finding_line(finding: dict[str, Any]) -> str:
    value = "" if finding["value"] is None else f"{finding['value']}{finding['unit']}"
    threshold = f" (threshold {finding['threshold']})" if finding["threshold"] else ""
    hint = f" — {finding['hint']}" if finding["hint"] else ""
    return f"  {finding['host']}  {finding['item']}  {value}{threshold}{hint}"


def _listing(title: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    more = [f"  … and {len(lines) - _SHOWN} more (see the report)"] if len(lines) > _SHOWN else []
    return ["", f"{title}:", *lines[:_SHOWN], *more]


def _host_counts(result: RunResult | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for host in result.hosts if result is not None else ():
        counts[host.status.value] = counts.get(host.status.value, 0) + 1
    return counts


def _grade_counts(result: RunResult | None) -> dict[str, int]:
    if result is None:
        return {}
    return {grade.value: n for grade, n in result.grade_counts().items()}


def _attachments(report: Path | None) -> tuple[Attachment, ...]:
    if report is None:
        return ()
    try:
        content = report.read_bytes()
    except OSError:
        return ()
    mime = "text/html" if report.suffix == ".html" else "text/markdown"
    return (Attachment(report.name, content, mime),)
