"""The reboot: step with a scripted host that goes down and comes back with a new boot id
(pure logic; tests/integration/test_patch_lab.py reboots real lab hosts)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from orchestrator.clock import ManualClock
from orchestrator.engine.reboot import Rebooter
from orchestrator.engine.results import Status
from orchestrator.errors import ConnectionLost, HostUnreachable
from orchestrator.runbook.model import Step, StepKind
from orchestrator.transports.base import Action, CommandResult


@dataclass
class Host:
    """A host whose boot id changes after ``down`` connection attempts fail."""

    boot_id: str = "boot-1"
    down: int = 2
    never_back: bool = False
    reboot_rc: int = 0
    drop_on_reboot: bool = False
    rebooting: bool = False
    log: list[str] = field(default_factory=list)

    def connect(self) -> Connection:
        if self.rebooting:
            if self.never_back or self.down > 0:
                self.down -= 1
                self.log.append("refused")
                raise HostUnreachable("connection refused")
            self.rebooting, self.boot_id = False, "boot-2"
        return Connection(self)


@dataclass
class Connection:
    host: Host

    def run(self, action: Action, *, timeout: float) -> CommandResult:
        command = str(action)
        self.host.log.append(command)
        if command.startswith("cat "):
            return CommandResult(command, self.host.boot_id + "\n", "", 0)
        if command == "reboot":
            self.host.rebooting = True
            if self.host.drop_on_reboot:
                raise ConnectionLost("closed by peer")
            return CommandResult(command, "", "no such command", self.host.reboot_rc)
        return CommandResult(command, "2026-11-22T04:00:00Z\n", "", 0)

    def close(self) -> None:
        self.host.log.append("close")


@dataclass
class Conns:
    host: Host
    open: Connection | None = None

    def get(self, kind: StepKind) -> Connection:
        if self.open is None:
            self.open = self.host.connect()
        return self.open

    def close(self) -> None:
        self.open = None


def reboot(host: Host, spec: dict[str, Any] | None = None, when: str | None = None) -> Any:
    clock = ManualClock()
    step = Step("reboot", StepKind.REBOOT, spec or {"boot_id_file": "/run/id"}, when=when)
    started = clock.now()
    result = Rebooter(clock).run(7, step, Conns(host), {"flag": False})
    return result, (clock.now() - started).total_seconds()


def test_waits_for_ssh_and_a_new_boot_id() -> None:
    host = Host()
    result, elapsed = reboot(host)
    assert result.status is Status.CHANGED
    assert result.index == 7
    assert result.parsed["boot_id_before"] == "boot-1"
    assert result.parsed["boot_id_after"] == "boot-2"
    assert result.parsed["boot_time"] == "2026-11-22T04:00:00Z"
    assert result.parsed["rebooted"] is True
    assert host.log[:2] == ["cat /run/id", "reboot"]
    assert host.log.count("refused") == 2
    assert elapsed == 6  # three polls of 2 s


def test_an_answer_with_the_old_boot_id_is_not_back_yet() -> None:
    host = Host(down=0)
    calls: Iterator[int] = iter(range(100))

    original = host.connect

    def slow_reboot() -> Connection:
        if host.rebooting and next(calls) == 0:
            return Connection(host)  # still up, old id
        return original()

    host.connect = slow_reboot  # type: ignore[method-assign]
    result, _ = reboot(host)
    assert result.status is Status.CHANGED
    assert host.log.count("cat /run/id") == 3  # before, still the old id, then the new one


def test_not_back_within_the_timeout_fails_the_step() -> None:
    host = Host(never_back=True)
    result, elapsed = reboot(host, {"timeout": "10s", "poll": "1s"})
    assert result.status is Status.FAILED
    assert "not back within 10s" in result.error
    assert "connection refused" in result.error
    assert elapsed == 10


def test_a_dropped_connection_is_what_a_reboot_looks_like() -> None:
    result, _ = reboot(Host(drop_on_reboot=True))
    assert result.status is Status.CHANGED


def test_a_reboot_command_that_cannot_run_fails() -> None:
    result, _ = reboot(Host(reboot_rc=127))
    assert result.status is Status.FAILED
    assert "exited 127" in result.error


def test_when_false_skips_and_bad_specs_fail() -> None:
    skipped, _ = reboot(Host(), when="flag")
    assert skipped.status is Status.SKIPPED
    bad, _ = reboot(Host(), {"timeout": "soon"})
    assert bad.status is Status.FAILED
    assert "reboot:" in bad.error
