"""What a notification says: a subject, a text body, JSON data, optional attachments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class NotifyError(Exception):
    """One delivery attempt failed (server down, refused, bad status); retried."""


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes
    mime: str = "text/html"


@dataclass(frozen=True)
class Notification:
    subject: str
    text: str  # the e-mail body; also ``text`` in the webhook payload
    data: Mapping[str, Any] = field(default_factory=dict)  # the webhook's JSON fields
    attachments: tuple[Attachment, ...] = ()

    def payload(self) -> dict[str, Any]:
        """The webhook body: the data plus subject and text (chat tools show ``text``)."""
        return {"subject": self.subject, "text": self.text, **self.data}
