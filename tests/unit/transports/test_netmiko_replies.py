"""Device replies that mean "error" (exit 1) vs normal output, and ConnectHandler settings.

Replies in tests/data/transports/device_replies/ were captured from the lab's fakenos
devices; the rest are the documented error formats of the platforms.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from netmiko.exceptions import ReadTimeout

from orchestrator.clock import ManualClock
from orchestrator.errors import CommandTimeout, ConnectionLost, HostUnreachable
from orchestrator.inventory.model import Host
from orchestrator.transports.netmiko import NetmikoConnector, is_device_error

REPLIES = Path(__file__).parents[2] / "data" / "transports" / "device_replies"


@pytest.mark.parametrize("path", sorted(REPLIES.glob("error-*.txt")), ids=lambda p: p.stem)
def test_captured_error_replies_are_errors(path: Path) -> None:
    assert is_device_error(path.read_text())


@pytest.mark.parametrize("path", sorted(REPLIES.glob("ok-*.txt")), ids=lambda p: p.stem)
def test_captured_normal_output_is_not_an_error(path: Path) -> None:
    text = path.read_text()
    assert len(text.splitlines()) > 5  # a real, multi-line capture
    assert not is_device_error(text)


@pytest.mark.parametrize(
    "reply",
    [
        "                ^\n% Invalid input detected at '^' marker.\n",  # IOS, with the caret line
        "% Incomplete command.",
        '% Ambiguous command:  "sh i"',
        "Error: Unrecognized command found at '^' position.",  # VRP
        "                      ^\nError: Wrong parameter found at '^' position.",
        "syntax error, expecting <command>.",  # Junos
        "Invalid command: foo",
        "% Unknown command or computer name, or unable to find computer address",
    ],
)
def test_platform_error_formats(reply: str) -> None:
    assert is_device_error(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "interface Gi0/1\n description uplink\n",
        # error-looking text deep inside a config is not a reply to our command
        "hostname sw1\n!\ninterface Gi0/1\n!\ninterface Gi0/2\n!\n"
        "banner motd ^C\n% Invalid input\n^C\n",
        "Interface  Status\nGi0/1      up  Error: none\n",
    ],
)
def test_normal_output_is_not_an_error(reply: str) -> None:
    assert not is_device_error(reply)


def test_connect_handler_settings_check_host_keys_strictly(tmp_path: Path) -> None:
    kh = tmp_path / "known_hosts"
    connector = NetmikoConnector(kh)
    sw = Host(
        "sw1",
        {
            "ansible_host": "127.0.0.1",
            "ansible_port": 6001,
            "ansible_user": "lab",
            "ansible_password": "pw",
            "platform": "cisco_ios",
        },
    )
    params = connector.params(sw, 7.5)
    assert params["device_type"] == "cisco_ios"
    assert (params["host"], params["port"], params["username"]) == ("127.0.0.1", 6001, "lab")
    assert params["password"] == params["secret"] == "pw"  # no become password: reuse it
    assert params["ssh_strict"] is True
    assert params["system_host_keys"] is False
    assert params["alt_host_keys"] is True
    assert params["alt_key_file"] == str(kh)
    assert params["allow_agent"] is False
    assert params["use_keys"] is False
    assert params["ssh_config_file"] is None
    assert params["conn_timeout"] == params["auth_timeout"] == 7.5
    enable = Host("sw2", {**sw.vars, "ansible_become_password": "en"})
    assert connector.params(enable, 5)["secret"] == "en"


def test_a_device_without_platform_is_refused() -> None:
    with pytest.raises(HostUnreachable, match="platform"):
        NetmikoConnector(Path("/nonexistent")).params(Host("sw9", {}), 5)


class StubSession:
    """Stands in for a netmiko session: replies from a list (exceptions are raised)."""

    def __init__(self, replies: list[object]) -> None:
        self.replies = replies
        self.sent: list[tuple[str, float]] = []
        self.disconnected = False

    def send_command(self, command: str, read_timeout: float) -> str:
        self.sent.append((command, read_timeout))
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return str(reply)

    def disconnect(self) -> None:
        self.disconnected = True


class StubConnector(NetmikoConnector):
    def __init__(self, sessions: list[StubSession], limit: int = 1000) -> None:
        super().__init__(Path("/nonexistent"), max_output_bytes=limit, clock=ManualClock())
        self.sessions = sessions
        self.opened = 0

    def open_session(self, host: Host, timeout: float) -> StubSession:
        self.opened += 1
        return self.sessions.pop(0)


SW = Host("sw1", {"platform": "cisco_ios"})


def test_run_sends_the_command_with_the_timeout_and_grades_the_reply() -> None:
    session = StubSession(["Cisco IOS XE Software", "% Invalid input detected at '^' marker."])
    conn = StubConnector([session]).connect(SW, timeout=5)
    ok = conn.run("show version", timeout=12)
    bad = conn.run("show bogus", timeout=12)
    assert (ok.exit_code, ok.stdout, ok.command) == (0, "Cisco IOS XE Software", "show version")
    assert (bad.exit_code, bad.stdout) == (1, "% Invalid input detected at '^' marker.")
    assert session.sent == [("show version", 12), ("show bogus", 12)]


def test_timeout_drops_the_session_and_the_next_run_reconnects() -> None:
    first = StubSession([ReadTimeout("pattern not detected")])
    second = StubSession(["fine"])
    connector = StubConnector([first, second])
    conn = connector.connect(SW, timeout=5)
    with pytest.raises(CommandTimeout, match="sw1"):
        conn.run("show tech-support", timeout=1)
    assert first.disconnected
    assert conn.run("show clock", timeout=5).stdout == "fine"
    assert connector.opened == 2


@pytest.mark.parametrize("error", [OSError("Socket is closed"), EOFError(), RuntimeError("odd")])
def test_a_broken_session_is_connection_lost(error: BaseException) -> None:
    session = StubSession([error])
    conn = StubConnector([session]).connect(SW, timeout=5)
    with pytest.raises(ConnectionLost, match=type(error).__name__):
        conn.run("show version", timeout=5)
    assert session.disconnected


def test_long_replies_are_bounded() -> None:
    conn = StubConnector([StubSession(["x" * 50])], limit=10).connect(SW, timeout=5)
    assert conn.run("show run", timeout=5).stdout.startswith("x" * 10 + "\n[orchestrator: output")


def test_closed_connection_refuses_to_run_and_close_is_idempotent() -> None:
    session = StubSession([])
    conn = StubConnector([session]).connect(SW, timeout=5)
    conn.close()
    conn.close()
    assert session.disconnected
    with pytest.raises(ConnectionLost):
        conn.run("show version", timeout=5)
    with pytest.raises(TypeError):
        StubConnector([StubSession([])]).connect(SW, timeout=5).run({"module": "x"}, timeout=5)
