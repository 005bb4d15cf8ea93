"""E-mail through SMTP (smtplib): plain-text body, attachments such as the HTML report."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from orchestrator.notify.config import NotifyConfig
from orchestrator.notify.message import Notification, NotifyError


def build_mail(config: NotifyConfig, note: Notification, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = note.subject
    message["From"] = config.sender
    message["To"] = ", ".join(config.mail_to)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=config.sender.rsplit("@", 1)[-1])
    message.set_content(note.text)
    for item in note.attachments:
        maintype, _, subtype = item.mime.partition("/")
        message.add_attachment(
            item.content, maintype=maintype, subtype=subtype or "octet-stream", filename=item.name
        )
    return message


def send_mail(
    config: NotifyConfig, note: Notification, now: datetime, env: Mapping[str, str]
) -> None:
    """Deliver one message; any failure is a NotifyError (the caller retries)."""
    message = build_mail(config, note, now)
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if config.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(
                config.smtp_host, config.smtp_port, timeout=config.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout)
        with smtp:
            if config.smtp_security == "starttls":
                smtp.starttls(context=context)
            if config.smtp_user:
                smtp.login(config.smtp_user, env.get(config.smtp_password_env, ""))
            refused = smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise NotifyError(f"SMTP {config.smtp_host}:{config.smtp_port}: {exc}") from exc
    if refused:
        raise NotifyError(f"SMTP refused recipient(s): {', '.join(sorted(refused))}")
