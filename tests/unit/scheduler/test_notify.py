"""Notifications: the [notify] settings, when a fire notifies, retries with backoff that
never raise, and how the e-mail is built."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrator.clock import ManualClock
from orchestrator.errors import SettingsError
from orchestrator.notify.config import NotifyConfig, parse_notify
from orchestrator.notify.dispatch import Channel, Notifier
from orchestrator.notify.mail import build_mail
from orchestrator.notify.message import Attachment, Notification, NotifyError
from orchestrator.notify.webhook import shown_url
from orchestrator.runbook.model import Grade
from orchestrator.scheduler.model import NotifyWhen
from orchestrator.store.schedules import FireStatus

NOTE = Notification("[orchestrator] daily: failed", "body\n", {"status": "failed"})


def test_notify_settings_parse() -> None:
    config = parse_notify(
        {
            "smtp_host": "mail.example.net",
            "smtp_port": 587,
            "smtp_security": "starttls",
            "mail_to": "ops@example.net",
            "webhook_url": "https://chat.example.net/hook?token=t",
            "retries": 0,
        },
        "orchestrator.toml",
    )
    assert config.mail_to == ("ops@example.net",)
    assert config.mail_enabled
    assert config.webhook_enabled
    assert config.retries == 0
    assert not NotifyConfig().mail_enabled
    assert not NotifyConfig().webhook_enabled


def test_bad_notify_settings_name_every_key() -> None:
    with pytest.raises(SettingsError) as info:
        parse_notify(
            {
                "smtp_host": "mail",
                "smtp_port": 70000,
                "smtp_security": "tls",
                "webhook_url": "ftp://x",
                "mail_from": "nobody",
                "retries": -1,
                "smtp_pasword_env": "X",
                "smtp_password_env": "lower-case",
            },
            "o.toml",
        )
    text = str(info.value)
    for field in (
        "notify.smtp_port",
        "notify.smtp_security",
        "notify.webhook_url",
        "notify.mail_from",
        "notify.retries",
        "notify.smtp_pasword_env",
        "notify.smtp_password_env",
        "notify.mail_to",  # smtp_host without recipients
    ):
        assert f"o.toml: {field}: " in text, field


@pytest.mark.parametrize(
    ("when", "status", "worst", "expected"),
    [
        (NotifyWhen.NEVER, FireStatus.FAILED, Grade.CRITICAL, False),
        (NotifyWhen.FAILED, FireStatus.FAILED, None, True),
        (NotifyWhen.FAILED, FireStatus.REFUSED, None, True),
        (NotifyWhen.FAILED, FireStatus.MISSED, None, True),
        (NotifyWhen.FAILED, FireStatus.SUCCEEDED, Grade.CRITICAL, False),
        (NotifyWhen.CRITICAL, FireStatus.SUCCEEDED, Grade.CRITICAL, True),
        (NotifyWhen.CRITICAL, FireStatus.SUCCEEDED, Grade.WARNING, False),
        (NotifyWhen.CRITICAL, FireStatus.SUCCEEDED, Grade.UNKNOWN, False),
        (NotifyWhen.WARNING, FireStatus.SUCCEEDED, Grade.WARNING, True),
        (NotifyWhen.WARNING, FireStatus.SUCCEEDED, Grade.NORMAL, False),
        (NotifyWhen.ALWAYS, FireStatus.SUCCEEDED, None, True),
        (NotifyWhen.CRITICAL, FireStatus.ERROR, None, True),
    ],
)
def test_when_a_fire_notifies(
    when: NotifyWhen, status: FireStatus, worst: Grade | None, expected: bool
) -> None:
    assert when.wants(status, worst) is expected


class Flaky:
    """A channel failing its first ``failures`` calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, note: Notification) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise NotifyError(f"down ({self.calls})")


def notifier(clock: ManualClock, *channels: Channel) -> Notifier:
    config = NotifyConfig(retries=3, retry_delay=2.0)
    return Notifier(config, clock, channels=channels)


def test_retries_back_off_and_a_dead_channel_does_not_stop_the_others() -> None:
    clock = ManualClock(datetime(2026, 6, 1, tzinfo=UTC))
    dead, flaky = Flaky(99), Flaky(2)
    got = notifier(clock, Channel("email", "ops@x", dead), Channel("webhook", "url", flaky)).send(
        NOTE
    )
    assert [(d.channel, d.ok, d.attempts) for d in got] == [
        ("email", False, 4),
        ("webhook", True, 3),
    ]
    assert got[0].error == "down (4)"
    assert dead.calls == 4
    # 2 + 4 + 8 s before the email's retries, 2 + 4 s before the webhook's
    assert clock.monotonic() == 14 + 6


def test_a_channel_raising_anything_is_contained() -> None:
    def broken(note: Notification) -> None:
        raise RuntimeError("bug")

    clock = ManualClock()
    (delivery,) = notifier(clock, Channel("webhook", "url", broken)).send(NOTE)
    assert not delivery.ok
    assert delivery.error == "bug"


def test_nothing_configured_means_no_channels() -> None:
    assert not Notifier(NotifyConfig(), ManualClock()).enabled
    configured = NotifyConfig(smtp_host="m", mail_to=("a@b",), webhook_url="http://h/x")
    assert [c.name for c in Notifier(configured, ManualClock()).channels] == ["email", "webhook"]


def test_the_mail() -> None:
    config = NotifyConfig(
        smtp_host="m", mail_from="orch@lab.test", mail_to=("a@lab.test", "b@lab.test")
    )
    note = Notification(
        "巡检: 1 critical", "正文\n", attachments=(Attachment("r.html", b"<p>x</p>"),)
    )
    mail = build_mail(config, note, datetime(2026, 6, 1, 18, 0, tzinfo=UTC))
    assert mail["Subject"] == "巡检: 1 critical"
    assert mail["To"] == "a@lab.test, b@lab.test"
    assert mail["From"] == "orch@lab.test"
    assert mail["Message-ID"].endswith("@lab.test>")
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content() == "正文\n"
    (attached,) = mail.iter_attachments()
    assert attached.get_filename() == "r.html"
    assert attached.get_content_type() == "text/html"


def test_webhook_urls_are_shown_without_their_tokens() -> None:
    assert shown_url("https://user:pw@chat.example.net:8443/hook?access_token=s3cret") == (
        "https://chat.example.net:8443/hook"
    )
    assert NOTE.payload()["subject"] == NOTE.subject
    assert NOTE.payload()["status"] == "failed"
