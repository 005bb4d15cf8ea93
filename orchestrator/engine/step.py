"""One step on one host: when → render → run (with retries) → parse → grade checks."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from orchestrator.clock import Clock
from orchestrator.engine.artifact_steps import STEP_OUTCOME, render_spec
from orchestrator.engine.context import check_context
from orchestrator.engine.results import Status, StepResult
from orchestrator.errors import CommandTimeout, ConnectionLost, HostUnreachable, TransportError
from orchestrator.inventory.model import Host
from orchestrator.runbook.checks import grade_checks
from orchestrator.runbook.model import ARTIFACT_KINDS, Runbook, Step, StepKind
from orchestrator.runbook.parse import ParseError, parse_output
from orchestrator.runbook.template import RenderError, evaluate, render, render_value
from orchestrator.transports.base import Action, CommandResult, Connection

log = logging.getLogger(__name__)

# Exit codes meaning the shell could not run the command at all (not a measurement).
NOT_RUNNABLE = frozenset({126, 127})


class StepRunner:
    def __init__(self, runbook: Runbook, clock: Clock, *, default_timeout: float) -> None:
        self.runbook = runbook
        self.clock = clock
        self.timeout = default_timeout if runbook.timeout is None else runbook.timeout
        self.base_dir = runbook.path.parent if runbook.path else None

    def run(
        self, index: int, step: Step, conn: Connection, context: Mapping[str, Any], host: Host
    ) -> StepResult:
        """Run the step; ConnectionLost propagates (the host cannot go on)."""
        started = self.clock.now()
        try:
            if step.when is not None and not evaluate(step.when, context):
                return self._result(step, index, Status.SKIPPED, started, error="when: false")
            action = render_action(step, context)
        except RenderError as exc:
            return self._result(step, index, Status.FAILED, started, error=f"template: {exc}")
        shown = action if isinstance(action, str) else _describe(action)
        timeout = self.timeout if step.timeout is None else step.timeout
        attempts = 0
        while True:
            attempts += 1
            result = self._attempt(
                step, index, conn, action, shown, timeout, context, host, started
            )
            if not result.status.failed or attempts > step.retries:
                break
            log.info(
                "%s: step %r %s, retry %d/%d",
                host.name,
                step.name,
                result.status.value,
                attempts,
                step.retries,
            )
            self.clock.sleep(step.retry_delay)
        return _with(result, attempts=attempts, ignored=step.ignore_errors and result.status.failed)

    def _attempt(
        self,
        step: Step,
        index: int,
        conn: Connection,
        action: Action,
        shown: str,
        timeout: float,
        context: Mapping[str, Any],
        host: Host,
        started: datetime,
    ) -> StepResult:
        try:
            out = conn.run(action, timeout=timeout)
        except CommandTimeout as exc:
            return self._result(
                step,
                index,
                Status.TIMEOUT,
                started,
                command=shown,
                error=str(exc) or f"timed out after {timeout:g}s",
            )
        except (ConnectionLost, HostUnreachable):
            raise
        except TransportError as exc:
            return self._result(step, index, Status.FAILED, started, command=shown, error=str(exc))
        return self._graded(step, index, out, shown, context, host, started)

    def _graded(
        self,
        step: Step,
        index: int,
        out: CommandResult,
        shown: str,
        context: Mapping[str, Any],
        host: Host,
        started: datetime,
    ) -> StepResult:
        parsed, errors = self._parse(step, out.stdout, shown, host)
        outcome = out.data.get(STEP_OUTCOME)  # backup steps: their own parsed result and errors
        if outcome is not None:
            parsed = outcome["parsed"]
            errors += [outcome["error"]] if outcome["error"] else []
        # With checks, the checks grade the outcome; only "could not run" is a failure.
        failed = out.exit_code in NOT_RUNNABLE if step.checks else out.exit_code != 0
        if failed:
            stderr = out.stderr.strip()
            errors.insert(
                0, f"exit code {out.exit_code}" + (f": {stderr[-200:]}" if stderr else "")
            )
        status = Status.FAILED if errors else Status.CHANGED if out.changed else Status.OK
        result = StepResult(
            step.name,
            index,
            status,
            command=shown,
            stdout=out.stdout,
            stderr=out.stderr,
            exit_code=out.exit_code,
            started=started,
            ended=self.clock.now(),
            error="; ".join(errors),
            changed=bool(out.changed),
            parsed=parsed,
            artifacts=tuple(outcome["artifacts"]) if outcome is not None else (),
        )
        if step.checks:
            result = replace(
                result, checks=grade_checks(step.checks, check_context(context, result))
            )
        if step.changed_when is not None and not result.status.failed:
            result = self._changed(step, result, context)
        return result

    def _changed(self, step: Step, result: StepResult, context: Mapping[str, Any]) -> StepResult:
        """``changed_when`` decides, over the step's own output (as Ansible's does)."""
        assert step.changed_when is not None
        try:
            changed = bool(evaluate(step.changed_when, check_context(context, result)))
        except RenderError as exc:
            return replace(result, status=Status.FAILED, error=f"changed_when: {exc}")
        return replace(result, changed=changed, status=Status.CHANGED if changed else Status.OK)

    def _parse(self, step: Step, stdout: str, shown: str, host: Host) -> tuple[Any, list[str]]:
        if step.parse is None:
            return None, []
        try:
            return parse_output(
                step.parse, stdout, platform=host.platform, command=shown, base_dir=self.base_dir
            ), []
        except ParseError as exc:
            return None, [f"parse: {exc}"]

    def _result(
        self,
        step: Step,
        index: int,
        status: Status,
        started: datetime,
        *,
        command: str = "",
        error: str = "",
    ) -> StepResult:
        return StepResult(
            step.name,
            index,
            status,
            command=command,
            started=started,
            ended=self.clock.now(),
            error=error,
        )


def render_action(step: Step, context: Mapping[str, Any]) -> Action:
    """The step's command (shell-quoted for `command`) or ansible action, rendered."""
    if step.kind is StepKind.COMMAND:
        assert isinstance(step.action, str)
        return render(step.action, context, shell_quote=not step.raw)
    if step.kind is StepKind.CLI:
        assert isinstance(step.action, str)
        return render(step.action, context)
    if step.kind in ARTIFACT_KINDS:
        return render_spec(step, context)
    assert not isinstance(step.action, str)
    rendered: Mapping[str, Any] = render_value(step.action, context)
    return rendered


def _describe(action: Mapping[str, Any]) -> str:
    if "describe" in action:  # backup step specs (render_spec)
        return str(action["describe"])
    if "playbook" in action:
        return f"playbook {action['playbook']}"
    args = action.get("args") or {}
    rendered = " ".join(f"{k}={v}" for k, v in dict(args).items())
    return f"{action.get('module')} {rendered}".strip()


def _with(result: StepResult, *, attempts: int, ignored: bool) -> StepResult:
    return replace(result, attempts=attempts, ignored=ignored)
