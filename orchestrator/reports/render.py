"""Rendering a report to HTML or Markdown (the home of jinja2 for reports).

HTML: one self-contained file — inline styles only (mail clients drop style
sheets), a small ``<style>`` just for ``@media print``, no scripts, fonts, images
or links to assets — so it reads the same mailed, opened offline or printed.
Autoescaping is on: command output and host errors are data, never markup.

Markdown: every interpolated value is escaped by the environment's ``finalize``
(backslash escapes, so a stray ``|`` cannot break a table and ``<script>`` is
shown as text), which templates cannot forget. This is not the runbook sandbox:
the templates are ours, the values are escaped.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from orchestrator.reports.document import ReportDocument
from orchestrator.reports.i18n import Lang, text
from orchestrator.reports.model import ReportFormat, ReportInput
from orchestrator.reports.view import ReportView, build_view

TEMPLATES = Path(__file__).resolve().parent / "templates"
_TEMPLATE = {ReportFormat.HTML: "report.html.j2", ReportFormat.MD: "report.md.j2"}

# (text colour, background) per grade/status; the label is always printed too, so the
# report stays readable in black and white.
_RED = ("#a4161a", "#fde8e8")
_AMBER = ("#8a4b00", "#fff1d6")
_VIOLET = ("#4b3f8f", "#eceaf8")
_GREEN = ("#1d6b35", "#e6f4ea")
_BLUE = ("#1a4f8a", "#e6eef8")
_GREY = ("#555555", "#eeeeee")
TONES: dict[str, tuple[str, str]] = {
    "critical": _RED,
    "warning": _AMBER,
    "unknown": _VIOLET,
    "normal": _GREEN,
    "ok": _GREEN,
    "succeeded": _GREEN,
    "changed": _BLUE,
    "running": _BLUE,
    "failed": _RED,
    "unreachable": _RED,
    "timeout": _RED,
    "refused": _RED,
    "interrupted": _VIOLET,
    "aborted": _VIOLET,
    "not_started": _VIOLET,
    "skipped": _GREY,
}

# Punctuation that can start markup inside a line: emphasis, code, links, raw HTML (<),
# entities (&), GFM strikethrough and table cells (|). CommonMark lets any be escaped.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<|~&])")


def badge(key: str) -> str:
    """Inline style of a grade/status label."""
    fg, bg = TONES.get(key, _GREY)
    return (
        f"display:inline-block;padding:1px 7px;border-radius:3px;white-space:nowrap;"
        f"font-weight:600;color:{fg};background:{bg};border:1px solid {fg}"
    )


def tone(key: str) -> str:
    """The text colour of a grade/status."""
    return TONES.get(key, _GREY)[0]


def md_escape(value: Any) -> str:
    """A value as literal Markdown text on one line (safe inside a table cell)."""
    if value is None:
        return ""
    if isinstance(value, Markup):  # `| safe`: the lines of a fenced code block, as they are
        return str(value)
    shown = str(value)
    if "\n" in shown or "\r" in shown:
        shown = " ↵ ".join(line.rstrip() for line in shown.strip().splitlines())
    return _MD_SPECIAL.sub(r"\\\1", shown)


@cache
def _environment(fmt: ReportFormat) -> jinja2.Environment:
    html = fmt is ReportFormat.HTML
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=None if html else md_escape,
    )
    env.globals.update(badge=badge, tone=tone)
    return env


def render_view(view: ReportView, fmt: ReportFormat) -> str:
    """The text of a report from its view."""
    lang = Lang(view.lang)
    template = _environment(fmt).get_template(_TEMPLATE[fmt])
    return template.render(v=view, t=lambda key: text(lang, key))


def render_report(
    data: ReportInput,
    *,
    fmt: ReportFormat = ReportFormat.HTML,
    lang: Lang = Lang.ZH,
    tz: tzinfo,
    tz_name: str = "",
) -> ReportDocument:
    """Render one run's report in ``fmt`` and ``lang`` with times in ``tz``."""
    view = build_view(data, lang, tz, tz_name=tz_name)
    return ReportDocument(data.result.run_id, fmt, lang, render_view(view, fmt))
