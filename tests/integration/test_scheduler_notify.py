"""Notifications of scheduled fires, delivered to an SMTP server and a webhook receiver that
the tests run on 127.0.0.1: a critical inspection finding on the lab (h3's full disk)
sends exactly one e-mail (report attached) and one webhook; a failed run notifies; a
channel that is down is retried with backoff, logged and audited — and the run is not
failed by it."""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from orchestrator.store.schedules import FireStatus
from tests.conftest import Lab
from tests.integration.test_scheduler_daemon import SHANGHAI_2AM, Bench, fires, make_bench

pytestmark = pytest.mark.lab


class SmtpServer:
    """Just enough SMTP for smtplib: every message received is kept, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.reply("220 test ESMTP")
                recipients: list[str] = []
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        self.reply("250-test", "250 8BITMIME")
                    elif verb == b"RCPT":
                        recipients.append(line.decode().split(":", 1)[1].strip(" <>\r\n"))
                        self.reply("250 OK")
                    elif verb == b"DATA":
                        self.reply("354 go on")
                        outer.envelopes.append(recipients)
                        outer.messages.append(self.read_message())
                        recipients = []
                        self.reply("250 queued")
                    elif verb == b"QUIT":
                        self.reply("221 bye")
                        return
                    else:  # HELO, MAIL, RSET, NOOP
                        self.reply("250 OK")

            def read_message(self) -> EmailMessage:
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                parsed = message_from_bytes(b"".join(lines), policy=policy.default)
                assert isinstance(parsed, EmailMessage)
                return parsed

            def reply(self, *lines: str) -> None:
                self.wfile.write("".join(f"{x}\r\n" for x in lines).encode())

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HookServer:
    """A webhook receiver: keeps each JSON body; answers 500 to the first ``fail_first``."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls += 1
                if outer.calls <= fail_first:
                    self.send_response(500)
                else:
                    outer.bodies.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?token=secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def notify_settings(smtp_port: int, hook_url: str) -> str:
    return (
        "[notify]\n"
        'smtp_host = "127.0.0.1"\n'
        f"smtp_port = {smtp_port}\n"
        'mail_from = "orchestrator@lab.test"\n'
        'mail_to = ["ops@lab.test", "lead@lab.test"]\n'
        f'webhook_url = "{hook_url}"\n'
        "retries = 2\n"
        "retry_delay = 5\n"
    )


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.close()


@pytest.fixture
def hook() -> Iterator[HookServer]:
    server = HookServer()
    yield server
    server.close()


def notifying_bench(lab: Lab, root: Path, smtp_port: int, hook_url: str) -> Bench:
    bench = make_bench(lab, root)
    bench.extra_settings = notify_settings(smtp_port, hook_url)
    bench.template("daily-inspection")
    bench.template("uptime-check")
    return bench


def fire_once(bench: Bench) -> None:
    daemon = bench.daemon()
    daemon.step()
    bench.at(SHANGHAI_2AM)
    daemon.step()
    daemon.shutdown()


def test_a_critical_finding_sends_one_email_and_one_webhook(
    lab: Lab, tmp_path: Path, smtp: SmtpServer, hook: HookServer
) -> None:
    full = lab.hosts_in_state("full_disk")[0]["name"]
    bench = notifying_bench(lab, tmp_path, smtp.port, hook.url)
    bench.write_schedules(
        {"name": "daily", "runbook": "daily-inspection", "limit": full, "notify": "critical"},
        {"name": "quiet", "limit": "h1", "notify": "critical"},  # no findings: no message
    )
    fire_once(bench)
    (fire,) = fires(bench, "daily")
    assert fire.status is FireStatus.SUCCEEDED  # findings are data, the run itself is fine
    assert [f.status for f in fires(bench, "quiet")] == [FireStatus.SUCCEEDED]

    (mail,) = smtp.messages
    assert smtp.envelopes == [["ops@lab.test", "lead@lab.test"]]
    assert mail["To"] == "ops@lab.test, lead@lab.test"
    assert "daily" in mail["Subject"]
    assert "critical finding" in mail["Subject"]
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert f"{full}  filesystem used /" in text
    assert fire.run_id is not None
    assert fire.run_id in text
    (report,) = list(mail.iter_attachments())
    assert report.get_filename() == f"{fire.run_id}.en.html"
    assert "filesystem used /" in report.get_content()

    (payload,) = hook.bodies
    assert payload["event"] == "schedule.fire"
    assert payload["schedule"] == "daily"
    assert payload["run_id"] == fire.run_id
    assert payload["slot"] == SHANGHAI_2AM.isoformat()
    items = {(c["host"], c["item"]) for c in payload["critical"]}
    assert (full, "filesystem used /") in items
    assert payload["grades"]["critical"] >= 1


def test_a_failed_run_notifies(
    lab: Lab, tmp_path: Path, smtp: SmtpServer, hook: HookServer
) -> None:
    down = lab.hosts_in_state("unreachable")[0]["name"]
    bench = notifying_bench(lab, tmp_path, smtp.port, hook.url)
    bench.write_schedules({"name": "uptime", "limit": down, "notify": "failed"})
    fire_once(bench)
    (fire,) = fires(bench, "uptime")
    assert fire.status is FireStatus.FAILED
    (mail,) = smtp.messages
    assert "failed" in mail["Subject"]
    (payload,) = hook.bodies
    assert payload["status"] == "failed"
    assert payload["failed_hosts"][0]["host"] == down
    assert payload["failed_hosts"][0]["status"] == "unreachable"


def test_a_channel_that_is_down_is_retried_logged_and_audited_never_failing_the_run(
    lab: Lab, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nobody listens on: SMTP refused every time
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    flaky = HookServer(fail_first=2)  # the webhook answers 500 twice, then takes it
    try:
        bench = notifying_bench(lab, tmp_path, closed_port, flaky.url)
        bench.write_schedules({"name": "uptime", "limit": "h1", "notify": "always"})
        slept_before = bench.clock.monotonic()
        with caplog.at_level(logging.WARNING, logger="orchestrator.notify"):
            fire_once(bench)
    finally:
        flaky.close()
    (fire,) = fires(bench, "uptime")
    assert fire.status is FireStatus.SUCCEEDED  # the notification never fails the run
    assert flaky.calls == 3
    assert len(flaky.bodies) == 1
    # backoff: 5 s then 10 s before the retries of each failing channel (on the injected clock)
    assert bench.clock.monotonic() - slept_before >= 2 * (5 + 10)
    assert "given up after 3 attempt(s)" in caplog.text
    assert "secret" not in caplog.text  # the webhook's token is not logged
    audit = bench.app().audit.entries(subject="schedule:uptime")
    (failed,) = [e for e in audit if e.action == "notify.failed"]
    assert failed.details["channel"] == "email"
    assert failed.details["attempts"] == 3
    (fired,) = [e for e in audit if e.action == "schedule.fire"]
    assert fired.details["notified"] == ["webhook"]


def test_missed_slots_notify_once(
    lab: Lab, tmp_path: Path, smtp: SmtpServer, hook: HookServer
) -> None:
    bench = notifying_bench(lab, tmp_path, smtp.port, hook.url)
    bench.write_schedules({"name": "uptime", "limit": "h1", "grace": "10m", "notify": "failed"})
    bench.daemon().step()
    bench.at(SHANGHAI_2AM + timedelta(days=1, hours=1))  # two slots, both too late
    bench.daemon().step()
    assert [f.status for f in fires(bench, "uptime")] == [FireStatus.MISSED] * 2
    (mail,) = smtp.messages
    assert "missed 2 slot(s)" in mail["Subject"]
    (payload,) = hook.bodies
    assert payload["event"] == "schedule.missed"
    assert len(payload["slots"]) == 2
