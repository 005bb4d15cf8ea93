"""Reports of real runs: `orchestrator run` over the lab twice, then `orchestrator report run`
as HTML and Markdown, English and Chinese; the HTML rendered by headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import Lab
from tests.integration.test_run_lab import ROOT, approve_template, orch, orch_env, run_json

pytestmark = pytest.mark.lab

REPORT_LINE = re.compile(r"^report: (.+)$", re.M)
TREND = re.compile(r"[↑↓→] (from|上次) \d")


@dataclass(frozen=True)
class Runs:
    env: dict[str, str]
    data_dir: Path
    first_id: str
    second_id: str
    first_stdout: str
    second_stdout: str  # --json
    second_stderr: str
    change_id: str


@pytest.fixture(scope="module")
def runs(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """daily-inspection twice into one data dir; the second run with a memory warning
    threshold so low that every reachable host also has a warning item."""
    data_dir = tmp_path_factory.mktemp("report-data")
    books = tmp_path_factory.mktemp("report-runbooks")
    shipped = (ROOT / "runbooks" / "daily-inspection.yml").read_text()
    runbook = books / "daily-inspection.yml"
    runbook.write_text(shipped)
    env = orch_env(lab, data_dir, ORCH_RUNBOOKS=str(books))
    change_id = approve_template(env, "daily-inspection")  # every run needs a change record
    first = orch(env, "run", "daily-inspection")
    assert first.returncode == 1, first.stdout + first.stderr  # h12 unreachable
    first_id = run_json(env)["id"]
    lowered = shipped.replace("mem_warn: 85 ", "mem_warn: 0.1 ")
    assert lowered != shipped
    runbook.write_text(lowered)
    # the approval pins the runbook: the edited one needs its own
    change_id = approve_template(env, "daily-inspection")
    second = orch(env, "run", "daily-inspection", "--json")
    assert second.returncode == 1, second.stdout + second.stderr
    second_id = run_json(env)["id"]
    return Runs(
        env, data_dir, first_id, second_id, first.stdout, second.stdout, second.stderr, change_id
    )


class Page(HTMLParser):
    """Start tags in document order, and the text of each abnormal-item row."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[dict[str, str | None]] = []
        self.rows: list[tuple[str | None, str | None, str]] = []  # grade, host, text
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marks = dict(attrs)
        self.tags.append({"tag": tag, **marks})
        if tag == "tr" and marks.get("class") == "finding":
            self.rows.append((marks.get("data-grade"), marks.get("data-host"), ""))
            self._row = []

    def handle_data(self, data: str) -> None:
        if self._row is not None:
            self._row.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None:
            grade, host, _ = self.rows[-1]
            self.rows[-1] = (grade, host, " ".join("".join(self._row).split()))
            self._row = None

    def index(self, **attrs: str) -> int:
        return next(
            i for i, t in enumerate(self.tags) if all(t.get(k) == v for k, v in attrs.items())
        )

    def first(self, cls: str) -> int:
        return next(i for i, t in enumerate(self.tags) if t.get("class") == cls)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def planted(lab: Lab) -> tuple[str, str, str]:
    full = lab.hosts_in_state("full_disk")[0]["name"]
    stopped = lab.hosts_in_state("service_stopped")[0]["name"]
    down = lab.hosts_in_state("unreachable")[0]["name"]
    return full, stopped, down


def test_run_writes_the_html_report_and_prints_its_path(runs: Runs) -> None:
    # with --json the path goes to stderr: stdout stays one JSON document
    assert json.loads(runs.second_stdout)["id"] == runs.second_id
    for run_id, printed in (
        (runs.first_id, runs.first_stdout),
        (runs.second_id, runs.second_stderr),
    ):
        match = REPORT_LINE.search(printed)
        assert match, printed
        path = Path(match.group(1).strip())
        assert path == runs.data_dir / "reports" / f"{run_id}.zh.html"  # settings default: zh
        text = path.read_text(encoding="utf-8")
        assert '<html lang="zh-CN">' in text
        assert "巡检报告" in text


def test_html_report_lists_the_planted_problems_first(lab: Lab, runs: Runs) -> None:
    proc = orch(runs.env, "report", "run", "last", "--format", "html", "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    path = Path(REPORT_LINE.search(proc.stdout).group(1).strip())  # type: ignore[union-attr]
    assert path == runs.data_dir / "reports" / f"{runs.second_id}.en.html"
    page = parse(path.read_text(encoding="utf-8"))
    full, stopped, down = planted(lab)

    hosts_table = page.index(id="host-table")
    assert page.first("finding") < hosts_table
    assert page.index(id="grade-critical") < page.index(id="grade-warning") < hosts_table
    critical = {(host, text) for grade, host, text in page.rows if grade == "critical"}
    assert any(h == full and "filesystem used / " in t for h, t in critical), critical
    assert any(h == stopped and "process running cron" in t for h, t in critical), critical
    assert any(h == down and "unreachable" in t and "refused" in t.lower() for h, t in critical)
    healthy = {h["name"] for h in lab.hosts_in_state("healthy")}
    assert not {h for h, _ in critical} & healthy
    # every reachable host has the lowered memory warning, after all critical items
    warnings = [host for grade, host, _ in page.rows if grade == "warning"]
    assert full in warnings
    grades = [grade for grade, _, _ in page.rows]
    assert grades == sorted(grades, key=["critical", "warning", "unknown"].index)
    # the second run has a trend for the planted items
    full_row = next(t for g, h, t in page.rows if h == full and "filesystem used / " in t)
    assert TREND.search(full_row), full_row
    # the per-host table holds every host of the run
    blocks = [t["data-host"] for t in page.tags if t.get("class") == "host"]
    assert set(blocks) == {h["host"] for h in run_json(runs.env)["hosts"]}


def test_markdown_in_chinese_to_a_file_and_to_stdout(lab: Lab, runs: Runs, tmp_path: Path) -> None:
    target = tmp_path / "out" / "巡检.md"
    proc = orch(
        runs.env, "report", "run", "last", "--format", "md", "--lang", "zh", "-o", str(target)
    )
    assert proc.returncode == 0, proc.stderr
    assert f"report: {target}" in proc.stdout
    text = target.read_text(encoding="utf-8")
    full, stopped, down = planted(lab)
    order = [
        text.index(h) for h in ("# 巡检报告", "## 异常项", "### 严重", "### 警告", "## 主机明细")
    ]
    assert order == sorted(order)
    critical = text[text.index("### 严重") : text.index("### 警告")]
    fs_line = next(
        line for line in critical.splitlines() if f"| {full} | 文件系统使用率 / |" in line
    )
    assert TREND.search(fs_line), fs_line
    assert f"| {stopped} | 进程运行 cron |" in critical
    assert f"| {down} | 主机状态 | **不可达** |" in critical
    assert runs.change_id in text  # the covering standard change is named in the header
    for word in ("执行编号", "操作人", "变更单", "阈值", "建议", "严重", "警告", "正常"):
        assert word in text
    printed = orch(runs.env, "report", "run", runs.second_id, "-f", "md", "--lang", "zh", "-o", "-")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.split("\n---\n")[0] == text.split("\n---\n")[0]  # footer has the time


def test_the_first_run_has_no_trend(runs: Runs) -> None:
    proc = orch(
        runs.env, "report", "run", runs.first_id[:-2], "-f", "md", "--lang", "en", "-o", "-"
    )
    assert proc.returncode == 0, proc.stderr
    assert runs.first_id in proc.stdout
    assert not TREND.search(proc.stdout)


def test_bad_report_requests_exit_2(runs: Runs) -> None:
    missing = orch(runs.env, "report", "run", "no-such-run")
    assert missing.returncode == 2
    assert "no run 'no-such-run'" in missing.stderr
    assert orch(runs.env, "report", "run", "last", "--lang", "fr").returncode == 2
    assert orch(runs.env, "report", "run", "last", "--format", "pdf").returncode == 2


# --- headless Chromium: the report opens with no network, in order, and prints ----------------

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # any network lookup fails
)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("chromium is not installed: run lab/system-deps.sh as root (Debian chromium)")
    return path


def browse(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_chromium_renders_abnormal_items_first_and_prints(
    chromium: str, lab: Lab, runs: Runs, tmp_path: Path
) -> None:
    report = runs.data_dir / "reports" / f"{runs.second_id}.en.html"
    if not report.exists():
        proc = orch(runs.env, "report", "run", runs.second_id, "--lang", "en")
        assert proc.returncode == 0, proc.stderr
    dumped = browse(chromium, tmp_path, "--dump-dom", report.as_uri())
    assert dumped.returncode == 0, dumped.stderr
    page = parse(dumped.stdout)  # the DOM as the browser built it
    full, _, down = planted(lab)
    assert page.first("finding") < page.index(id="host-table")
    assert page.index(id="grade-critical") < page.index(id="grade-warning")
    assert page.rows[0][0] == "critical"
    assert {h for g, h, _ in page.rows if g == "critical"} >= {full, down}

    pdf = tmp_path / "report.pdf"
    printed = browse(
        chromium, tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri()
    )
    assert printed.returncode == 0, printed.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 1
