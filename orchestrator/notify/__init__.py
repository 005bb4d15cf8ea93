"""Notifications: e-mail (SMTP) and webhooks (JSON POST), retried, never fatal.

Standard library only (smtplib, urllib). The scheduler decides *what* to say
(``scheduler.alerts``); this package only delivers it, with retries and backoff,
and reports each channel's outcome instead of raising.
"""

from orchestrator.notify.config import NotifyConfig, parse_notify
from orchestrator.notify.dispatch import Delivery, Notifier
from orchestrator.notify.message import Attachment, Notification

__all__ = [
    "Attachment",
    "Delivery",
    "Notification",
    "Notifier",
    "NotifyConfig",
    "parse_notify",
]
