"""Live progress of a run on stderr: hosts done / total and failures so far."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from orchestrator.engine.events import RunListener
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import HostResult, RunResult
from orchestrator.inventory.model import Host


class ProgressListener(RunListener):
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "hosts  [red]{task.fields[failed]} failed[/]  {task.fields[running]} running"
            ),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            # Redrawing costs the run's CPU: a few times a second on a terminal; into a
            # file or pipe only the final state is written (when the run ends).
            auto_refresh=console.is_terminal,
            refresh_per_second=4,
        )
        self.task = self.progress.add_task("run", total=0, failed=0, running=0, start=False)
        self._lock = threading.Lock()
        self._running = 0
        self._failed = 0

    def run_started(self, plan: RunPlan) -> None:
        self.progress.update(
            self.task, description=f"{plan.runbook.name} {plan.run_id}", total=len(plan.hosts)
        )
        self.progress.start_task(self.task)
        self.progress.start()

    def host_started(self, plan: RunPlan, host: Host) -> None:
        with self._lock:
            self._running += 1
            self.progress.update(self.task, running=self._running)

    def host_finished(self, plan: RunPlan, result: HostResult) -> None:
        with self._lock:
            self._running -= 1
            self._failed += int(result.failed)
            self.progress.update(self.task, advance=1, running=self._running, failed=self._failed)
        if result.failed:
            self.progress.console.print(
                f"  [red]{result.status.value}[/] {result.host}: {result.error}",
                markup=True,
                highlight=False,
            )

    def run_finished(self, plan: RunPlan, result: RunResult) -> None:
        self.stop()

    def stop(self) -> None:
        self.progress.stop()
