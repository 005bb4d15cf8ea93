"""The report as the templates see it: every text already chosen, translated and formatted.

``build_view`` decides the content and its order — header, abnormal items grouped
by severity (critical, warning, unknown; failed and unreachable hosts are critical
findings with their error), then every host with every item — so the HTML and
Markdown templates only lay it out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import partial
from typing import Any

from orchestrator.engine.results import HostResult, StepResult
from orchestrator.reports.backups_view import BackupsView, backups_view
from orchestrator.reports.i18n import Lang, hint_text, item_name, status_label, text
from orchestrator.reports.model import ReportInput
from orchestrator.reports.patch_view import PatchView, patch_view
from orchestrator.reports.trend import Trend, compute_trend, format_number
from orchestrator.runbook.model import CheckResult, Grade

# Severity order of the abnormal sections.
SECTION_GRADES = (Grade.CRITICAL, Grade.WARNING, Grade.UNKNOWN)
# Order of the item counts in the header.
COUNT_GRADES = (Grade.CRITICAL, Grade.WARNING, Grade.UNKNOWN, Grade.NORMAL)
_VALUE_LIMIT = 120  # characters of a text value shown
_OUTPUT_LIMIT = 600  # characters of a step's output excerpt shown
_NOT_STARTED = "not_started"  # planned, but the run ended before it started


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Count:
    key: str  # a status or grade value, used for styling
    label: str
    n: int


@dataclass(frozen=True)
class Finding:
    host: str
    item: str
    grade: str  # critical | warning | unknown
    value: str
    threshold: str
    hint: str  # remediation hint, why it is unknown, or the host's error
    trend: str


@dataclass(frozen=True)
class Section:
    grade: str
    title: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class Row:
    """One line of a host's table: a check item, or a step that has no checks."""

    item: str
    value: str
    threshold: str
    grade: str  # a grade value for check items, "" for steps
    grade_label: str
    trend: str
    note: str = ""  # an unknown item's reason, a step's error
    output: str = ""  # a step's output excerpt
    status: str = ""  # a step's status, for steps

    @property
    def tone(self) -> str:
        """What colours the value: the grade of an item, the status of a step."""
        return self.grade or self.status


@dataclass(frozen=True)
class HostView:
    name: str
    address: str
    status: str
    status_label: str
    failed: bool
    grade: str
    grade_label: str
    error: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class ReportView:
    lang: str
    html_lang: str
    title: str
    runbook: str
    run_id: str
    fields: tuple[Field, ...]
    host_counts: tuple[Count, ...]
    host_total: int
    grade_counts: tuple[Count, ...]
    sections: tuple[Section, ...]
    hosts: tuple[HostView, ...]
    footer: str
    backups: BackupsView | None = None  # changed targets, restore verifications
    patch: PatchView | None = None  # rollout batches, per-host patch evidence

    @property
    def abnormal_count(self) -> int:
        return sum(len(s.findings) for s in self.sections)


def build_view(data: ReportInput, lang: Lang, tz: tzinfo, *, tz_name: str = "") -> ReportView:
    """The view of one run's report in ``lang``, with times in ``tz``."""
    t = partial(text, lang)
    result = data.result
    fmt = _Formatter(data, lang, tz)
    hosts = tuple(fmt.host(h) for h in result.hosts) + tuple(
        fmt.not_started(name) for name in not_started(data)
    )
    title = t("title.inspection") if data.is_inspection else t("title.run")
    return ReportView(
        lang=lang.value,
        html_lang=lang.html_lang,
        title=title,
        runbook=result.runbook,
        run_id=result.run_id,
        fields=_header_fields(data, lang, fmt, tz_name or str(tz)),
        host_counts=_host_counts(result.hosts, not_started(data), lang),
        host_total=len(hosts),
        grade_counts=tuple(
            Count(g.value, t(f"grade.{g.value}"), result.grade_counts()[g]) for g in COUNT_GRADES
        ),
        sections=_sections(data, lang, fmt),
        hosts=hosts,
        footer=t("footer").format(
            version=data.tool_version or "unknown",
            generated=fmt.moment(data.generated),
            run_id=result.run_id,
        ),
        backups=backups_view(result.meta, lang),
        patch=patch_view(result.meta, lang),
    )


def _header_fields(
    data: ReportInput, lang: Lang, fmt: _Formatter, tz_name: str
) -> tuple[Field, ...]:
    t = partial(text, lang)
    result = data.result
    fields = [
        Field(t("runbook"), result.runbook),
        Field(t("description"), data.description),
        Field(t("run_id"), result.run_id),
        Field(t("kind"), _translated(lang, "kind", data.kind)),
        Field(t("run_status"), status_label(lang, result.status.value)),
        Field(t("reason"), result.reason),
        Field(t("started"), fmt.moment(result.started)),
        Field(t("ended"), fmt.moment(result.ended)),
        Field(t("duration"), _duration(result.started, result.ended)),
        Field(t("timezone"), tz_name),
        Field(t("operator"), data.operator),
        Field(t("trigger"), _translated(lang, "trigger", data.trigger)),
        Field(t("change"), _change(data, lang)),
        Field(t("gate"), data.gate_reason),
        Field(t("limit"), data.limit or ""),
    ]
    return tuple(f for f in fields if f.value)


def _translated(lang: Lang, group: str, value: str) -> str:
    label = text(lang, f"{group}.{value}")
    return value if label == f"{group}.{value}" else label


def _change(data: ReportInput, lang: Lang) -> str:
    if data.change_id:
        return data.change_id
    if data.change_policy in {"standard", "none", "required"}:
        return text(lang, f"change.{data.change_policy}")
    return text(lang, "change.unknown")


def _duration(started: datetime | None, ended: datetime | None) -> str:
    if started is None or ended is None:
        return ""
    seconds = max(0, round((ended - started).total_seconds()))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def not_started(data: ReportInput) -> tuple[str, ...]:
    """Planned hosts with no result: the run stopped (aborted, refused) before them."""
    done = {h.host for h in data.result.hosts}
    return tuple(name for name in data.planned_hosts if name not in done)


def _host_counts(
    hosts: Sequence[HostResult], missing: Sequence[str], lang: Lang
) -> tuple[Count, ...]:
    counts: dict[str, int] = {}
    for host in hosts:
        counts[host.status.value] = counts.get(host.status.value, 0) + 1
    if missing:
        counts[_NOT_STARTED] = len(missing)
    return tuple(Count(s, status_label(lang, s), n) for s, n in counts.items())


def _sections(data: ReportInput, lang: Lang, fmt: _Formatter) -> tuple[Section, ...]:
    found: dict[Grade, list[Finding]] = {g: [] for g in SECTION_GRADES}
    for host in data.result.hosts:
        if host.failed:
            found[Grade.CRITICAL].append(fmt.host_finding(host))
        for check in host.checks:
            if check.grade in found:
                found[check.grade].append(fmt.check_finding(host.host, check))
    found[Grade.UNKNOWN].extend(fmt.not_started_finding(name) for name in not_started(data))
    return tuple(
        Section(g.value, text(lang, f"section.{g.value}"), tuple(found[g]))
        for g in SECTION_GRADES
        if found[g]
    )


class _Formatter:
    """Turns results into display text for one report (language, time zone, history)."""

    def __init__(self, data: ReportInput, lang: Lang, tz: tzinfo) -> None:
        self.data = data
        self.lang = lang
        self.tz = tz
        self.t: Callable[[str], str] = partial(text, lang)
        started = data.result.started or data.generated
        self.run_day = started.astimezone(tz).date()

    def moment(self, value: datetime | None) -> str:
        return "" if value is None else value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S")

    def item(self, name: str) -> str:
        return item_name(name, self.lang, self.data.item_names)

    def trend(self, host: str, check: CheckResult) -> str:
        trend = compute_trend(check.value, self.data.history.get((host, check.name), ()))
        return "" if trend is None else self._trend_text(trend, check.unit)

    def _trend_text(self, trend: Trend, unit: str) -> str:
        when = trend.previous_when.astimezone(self.tz)
        # Same day as this run: the date alone would not say which run.
        shown = f"{when:%Y-%m-%d %H:%M}" if when.date() == self.run_day else f"{when:%Y-%m-%d}"
        previous = with_unit(format_number(trend.previous), unit)
        return f"{trend.direction.value} {self.t('trend.from')} {previous} ({shown})"

    def check_finding(self, host: str, check: CheckResult) -> Finding:
        return Finding(
            host=host,
            item=self.item(check.name),
            grade=check.grade.value,
            value=value_text(check.value, check.unit),
            threshold=check.threshold,
            hint=hint_text(check.message, self.lang),
            trend=self.trend(host, check),
        )

    def host_finding(self, host: HostResult) -> Finding:
        return Finding(
            host=host.host,
            item=self.t("host_status"),
            grade=Grade.CRITICAL.value,
            value=status_label(self.lang, host.status.value),
            threshold="",
            hint=host_error(host),
            trend="",
        )

    def not_started_finding(self, name: str) -> Finding:
        return Finding(
            host=name,
            item=self.t("host_status"),
            grade=Grade.UNKNOWN.value,
            value=status_label(self.lang, _NOT_STARTED),
            threshold="",
            hint=self.data.result.reason,
            trend="",
        )

    def not_started(self, name: str) -> HostView:
        return HostView(
            name=name,
            address="",
            status=_NOT_STARTED,
            status_label=status_label(self.lang, _NOT_STARTED),
            failed=False,
            grade="",
            grade_label="",
            error=self.data.result.reason,
            rows=(),
        )

    def host(self, host: HostResult) -> HostView:
        rows: list[Row] = []
        for step in host.steps:
            if step.checks:
                rows.extend(self.check_row(host.host, c) for c in step.checks)
            else:
                rows.append(self.step_row(step))
        grade = host.grade
        return HostView(
            name=host.host,
            address=host.address,
            status=host.status.value,
            status_label=status_label(self.lang, host.status.value),
            failed=host.failed,
            grade=grade.value if grade else "",
            grade_label=self.t(f"grade.{grade.value}") if grade else "",
            error=host.error,
            rows=tuple(rows),
        )

    def check_row(self, host: str, check: CheckResult) -> Row:
        return Row(
            item=self.item(check.name),
            value=value_text(check.value, check.unit),
            threshold=check.threshold,
            grade=check.grade.value,
            grade_label=self.t(f"grade.{check.grade.value}"),
            trend=self.trend(host, check),
            note=check.message if check.grade is Grade.UNKNOWN else "",
        )

    def step_row(self, step: StepResult) -> Row:
        value = status_label(self.lang, step.status.value)
        if step.exit_code not in (None, 0):
            value += f" ({self.t('exit_code')} {step.exit_code})"
        output = (step.stdout.strip() or step.stderr.strip())[:_OUTPUT_LIMIT]
        return Row(
            item=self.item(step.name),
            value=value,
            threshold="",
            grade="",
            grade_label="",
            trend="",
            note=step.error,
            output=output,
            status=step.status.value,
        )


def host_error(host: HostResult) -> str:
    """Why a host failed: its own error, else the errors of its failed steps."""
    if host.error:
        return host.error
    failed = [f"{s.name}: {s.error}" for s in host.steps if s.status.failed and s.error]
    return "; ".join(failed)


def with_unit(number: str, unit: str) -> str:
    if not unit:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def value_text(value: Any, unit: str) -> str:
    """A measured value with its unit; "—" when nothing was measured."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return with_unit(format_number(value), unit)
    shown = str(value)
    if len(shown) > _VALUE_LIMIT:
        shown = shown[: _VALUE_LIMIT - 1] + "…"
    return with_unit(shown, unit)
