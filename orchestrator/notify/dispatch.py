"""Send a notification on every configured channel, retrying with exponential backoff.

A channel that keeps failing is logged and reported as a failed ``Delivery``; nothing
here raises, so a mail server being down never fails the run being reported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from orchestrator.clock import Clock
from orchestrator.notify.config import NotifyConfig
from orchestrator.notify.mail import send_mail
from orchestrator.notify.message import Notification
from orchestrator.notify.webhook import post_json, shown_url

log = logging.getLogger(__name__)

Send = Callable[[Notification], None]


@dataclass(frozen=True)
class Delivery:
    channel: str  # "email" | "webhook"
    ok: bool
    attempts: int
    error: str = ""  # the last error when not ok
    target: str = ""  # recipients or the URL (without its query)


@dataclass(frozen=True)
class Channel:
    name: str
    target: str
    send: Send


class Notifier:
    def __init__(
        self,
        config: NotifyConfig,
        clock: Clock,
        *,
        env: Mapping[str, str] | None = None,
        channels: Sequence[Channel] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.env = os.environ if env is None else env
        self.channels = tuple(self._configured() if channels is None else channels)

    @property
    def enabled(self) -> bool:
        return bool(self.channels)

    def _configured(self) -> list[Channel]:
        config, found = self.config, []
        if config.mail_enabled:
            found.append(
                Channel(
                    "email",
                    ", ".join(config.mail_to),
                    lambda note: send_mail(config, note, self.clock.now(), self.env),
                )
            )
        if config.webhook_enabled:
            found.append(
                Channel(
                    "webhook",
                    shown_url(config.webhook_url),
                    lambda note: _post(config, note),
                )
            )
        return found

    def send(self, note: Notification) -> list[Delivery]:
        """One delivery per channel, each retried on its own."""
        return [self._deliver(channel, note) for channel in self.channels]

    def _deliver(self, channel: Channel, note: Notification) -> Delivery:
        attempts = self.config.retries + 1
        delay = self.config.retry_delay
        error = ""
        for attempt in range(1, attempts + 1):
            try:
                channel.send(note)
            except Exception as exc:  # any failure of a channel is retried, never raised
                error = str(exc) or type(exc).__name__
                log.warning(
                    "%s notification to %s failed (attempt %d of %d): %s",
                    channel.name,
                    channel.target,
                    attempt,
                    attempts,
                    error,
                )
                if attempt < attempts:
                    self.clock.sleep(delay)
                    delay *= 2
                continue
            log.info("%s notification sent to %s: %s", channel.name, channel.target, note.subject)
            return Delivery(channel.name, True, attempt, target=channel.target)
        log.error(
            "%s notification to %s given up after %d attempt(s): %s",
            channel.name,
            channel.target,
            attempts,
            error,
        )
        return Delivery(channel.name, False, attempts, error, channel.target)


def _post(config: NotifyConfig, note: Notification) -> None:
    post_json(config.webhook_url, note.payload(), timeout=config.timeout)
