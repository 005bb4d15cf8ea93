"""The backup step kinds on one host: ``fetch``, ``archive``, ``restore``, ``backup``, and
``save:`` on command/cli steps.

They run through ``StepRunner`` like any step (when, render, timeout, retries,
register, checks): the executor hands it an ``ArtifactConnection`` wrapping the
host's real connection, whose ``run`` performs the spec and answers with a
``CommandResult`` whose ``data[STEP_OUTCOME]`` carries the structured result
(``parsed``), the artifacts stored and the reasons it failed. Specs are rendered
per host; a string that is exactly one ``{{ expression }}`` renders to its value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from orchestrator.clock import Clock
from orchestrator.engine.artifacts import OUTPUT, Artifact, ArtifactOrigin, ArtifactSink
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import Status, StepResult
from orchestrator.errors import StoreError, TransportError
from orchestrator.inventory.model import Host, HostKind
from orchestrator.runbook.artifact_fields import is_whole_expression
from orchestrator.runbook.model import ARTIFACT_KINDS, Step, StepKind
from orchestrator.runbook.template import evaluate, render
from orchestrator.transports.base import Action, CommandResult, Connection

log = logging.getLogger(__name__)

STEP_OUTCOME = "_orchestrator_step"  # key of CommandResult.data read by StepRunner
MAX_FETCH_BYTES = 256 * 1024 * 1024  # per file or archive; bytes are held in memory


class NoSinkError(TransportError):
    """A backup step ran in a plan without an artifact repository (the step fails with it,
    as the engine turns a TransportError into a failed step)."""


@dataclass
class Outcome:
    """What a backup operation did: text for people, parsed for checks, artifacts, errors."""

    lines: list[str] = field(default_factory=list)
    parsed: dict[str, Any] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def result(self, command: str, duration: float) -> CommandResult:
        data = {
            STEP_OUTCOME: {
                "parsed": self.parsed,
                "artifacts": tuple(self.artifacts),
                "error": "; ".join(self.errors),
            }
        }
        stdout = "\n".join(self.lines) + ("\n" if self.lines else "")
        return CommandResult(command, stdout, "", 0, duration, data=data)


@dataclass(frozen=True)
class Job:
    """Everything an operation needs on one host."""

    conn: Connection  # the host's real connection (ssh or netmiko)
    sink: ArtifactSink
    plan: RunPlan
    host: Host
    step: Step
    index: int
    clock: Clock
    timeout: float
    max_bytes: int = MAX_FETCH_BYTES

    def origin(self, *, before_change: bool = False) -> ArtifactOrigin:
        return ArtifactOrigin(
            self.plan.run_id, self.host.name, self.index, self.step.name, before_change
        )

    def run(self, command: str) -> CommandResult:
        return self.conn.run(command, timeout=self.timeout)


def connection_kind(kind: StepKind, host: Host) -> StepKind:
    """Which transport a step kind uses on this host (backup steps ride ssh or netmiko)."""
    if kind not in ARTIFACT_KINDS:
        return kind
    return StepKind.CLI if host.kind is HostKind.NETWORK else StepKind.COMMAND


def artifact_line(artifact: Artifact) -> str:
    new = "new bytes" if artifact.stored_new else "deduplicated"
    delta = f" (+{artifact.added} -{artifact.removed})" if artifact.change == "changed" else ""
    return (
        f"{artifact.name}: {artifact.change}{delta}, version {artifact.version}, "
        f"{artifact.size} bytes, {new}"
    )


def render_spec(step: Step, context: Mapping[str, Any]) -> dict[str, Any]:
    """The step's spec rendered for one host (``{{ x }}`` alone keeps x's type)."""
    return {"spec": _native(step.action, context), "describe": f"{step.kind.value} {step.name}"}


def _native(value: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        if is_whole_expression(value):
            return evaluate(value.strip()[2:-2].strip(), context)
        return render(value, context) if "{{" in value or "{%" in value else value
    if isinstance(value, Mapping):
        return {k: _native(v, context) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_native(v, context) for v in value]
    return value


Operation = Callable[[Job, Any], Outcome]


class ArtifactConnection:
    """Wraps a host's connection for one backup step; ``run`` performs the step's spec."""

    def __init__(self, job: Job, operations: Mapping[StepKind, Operation]) -> None:
        self.host = job.host
        self.job = job
        self.operations = operations

    def run(self, action: Action, *, timeout: float) -> CommandResult:
        assert isinstance(action, Mapping)
        job = replace(self.job, timeout=timeout)
        start = job.clock.monotonic()
        outcome = self.operations[job.step.kind](job, action["spec"])
        return outcome.result(str(action.get("describe", "")), job.clock.monotonic() - start)

    def close(self) -> None:
        """The wrapped connection belongs to the host worker."""


def sink_of(plan: RunPlan) -> ArtifactSink:
    if plan.artifacts is None:
        raise NoSinkError(
            "this run has no backup repository (plan.artifacts): backup steps cannot store"
        )
    return plan.artifacts


def save_output(plan: RunPlan, host: Host, step: Step, result: StepResult) -> StepResult:
    """``save: NAME`` — store a successful command/cli step's output as a backup artifact."""
    if step.save is None or result.status not in (Status.OK, Status.CHANGED):
        return result
    origin = ArtifactOrigin(plan.run_id, host.name, result.index, step.name)
    try:
        artifact = sink_of(plan).save(origin, step.save, OUTPUT, result.stdout.encode())
    except (StoreError, NoSinkError) as exc:
        log.error("%s: cannot store %s: %s", host.name, step.save, exc)
        return replace(result, status=Status.FAILED, error=f"backup not stored: {exc}")
    # The content is in the repository (exact); the run keeps a summary, so configs and their
    # secrets are not copied into run output, reports and later steps.
    return replace(result, stdout=artifact_line(artifact) + "\n", artifacts=(artifact,))
