"""The transport contract: a Connector opens one Connection per host; the engine
reuses it for every step of a run on that host, then closes it.

Failures of a host are raised as ``TransportError`` subclasses (``errors.py``):
``HostUnreachable`` (and its ``AuthenticationFailed`` / ``HostKeyRejected``) from
``connect`` or from ``run`` when the transport connects lazily, ``CommandTimeout``
and ``ConnectionLost`` from ``run``. A command that runs and exits non-zero is
*not* an error: it is a ``CommandResult`` with that exit code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from orchestrator.inventory.model import Host

# What one step asks a connection to do: a command line (ssh, netmiko) or an
# ansible action ({"module": name, "args": {...}} or {"playbook": path}).
Action = str | Mapping[str, Any]


@dataclass(frozen=True)
class CommandResult:
    command: str  # what ran, for display (ansible: "module args" or the playbook path)
    stdout: str
    stderr: str = ""
    exit_code: int = 0
    duration: float = 0.0  # seconds
    changed: bool | None = None  # ansible reports it; None where a transport cannot tell
    data: Mapping[str, Any] = field(default_factory=dict)  # structured result (ansible module)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class Connection(Protocol):
    host: Host

    def run(self, action: Action, *, timeout: float) -> CommandResult:
        """Run one action; raise CommandTimeout past ``timeout`` seconds."""
        ...

    def close(self) -> None:
        """Release the connection; safe to call twice."""
        ...


class Connector(Protocol):
    name: str

    def connect(self, host: Host, *, timeout: float) -> Connection:
        """Open (or prepare) a connection to ``host``; ``timeout`` bounds the connect."""
        ...


# Called when a previously unknown host key is trusted (--trust-new-host-keys):
# host name, key type, SHA256 fingerprint. The app records it in the audit trail.
NewHostKeyCallback = Callable[[str, str, str], None]
