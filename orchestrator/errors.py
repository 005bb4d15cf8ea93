"""The exception tree. The CLI maps each branch to an exit code (DESIGN.md §6).

Host failures are *not* exceptions: they become results with a status. These
exceptions are for the run as a whole (bad input, refused by the gate, aborted)
and, inside a transport, for the failure of one connection or command, which
the engine turns into data at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class OrchestratorError(Exception):
    """Root of every error this package raises on purpose."""

    exit_code = 2


# --- usage, configuration and validation: exit 2 -------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located well enough to fix it."""

    message: str
    file: Path | str | None = None
    line: int | None = None
    field: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        text = where + (f"{self.field}: " if self.field else "") + self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class ConfigError(OrchestratorError):
    """Bad settings, a missing file, a bad command-line value."""


class ValidationError(ConfigError):
    """One or more problems in a user file; every problem names file, line and field."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("ValidationError needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(
        cls,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> ValidationError:
        return cls([Problem(message, file=file, line=line, field=field, hint=hint)])


class InventoryError(ValidationError):
    """The inventory cannot be read or a host pattern is invalid."""


class RunbookError(ValidationError):
    """A runbook failed validation; nothing from it may run."""


class SettingsError(ValidationError):
    """orchestrator.toml (or an ORCH_* variable) is invalid."""


class NotFoundError(ConfigError):
    """A named thing (runbook, run, host) does not exist."""


# --- refused by the change gate: exit 3 ------------------------------------------------------


class ChangeGateError(OrchestratorError):
    """The gate refused the run; nothing was started."""

    exit_code = 3

    def __init__(self, reason: str, *, change_id: str | None = None) -> None:
        self.reason = reason
        self.change_id = change_id
        super().__init__(reason)


# --- aborted: exit 4 ---------------------------------------------------------------------------


class RolloutAborted(OrchestratorError):
    """The run stopped before finishing (threshold breached, window closed, interrupted).

    ``partial`` carries whatever result was collected; it is typed loosely here
    because errors sit below the engine that defines results.
    """

    exit_code = 4

    def __init__(self, reason: str, partial: object | None = None) -> None:
        self.reason = reason
        self.partial = partial
        super().__init__(reason)


# --- transports: raised inside a transport, turned into a status by the engine -----------------


class TransportError(OrchestratorError):
    """A connection or command failed on one host."""

    exit_code = 1


class HostUnreachable(TransportError):
    """No connection: refused, no route, DNS, connect timeout."""


class AuthenticationFailed(HostUnreachable):
    """The host answered but refused our credentials."""


class HostKeyRejected(HostUnreachable):
    """The host key is unknown (and not trusted) or does not match known_hosts."""


class CommandTimeout(TransportError):
    """A command ran longer than its timeout; the channel was closed."""


class ConnectionLost(TransportError):
    """The connection dropped while a command was running."""


# --- store ---------------------------------------------------------------------------------------


class StoreError(OrchestratorError):
    """The database or the output directory cannot be used."""
