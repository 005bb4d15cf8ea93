"""The ``[notify]`` table of orchestrator.toml: where notifications go and how hard to try.

```toml
[notify]
smtp_host = "mail.example.net"      # e-mail is off without smtp_host and mail_to
smtp_port = 587
smtp_security = "starttls"          # none | starttls | ssl
smtp_user = "orchestrator"          # password from $ORCH_SMTP_PASSWORD (never in the file)
mail_from = "orchestrator@example.net"
mail_to = ["ops@example.net"]
webhook_url = "https://chat.example.net/hooks/ops"   # JSON POST; off when empty
timeout = 10                        # seconds per attempt
retries = 3                         # extra attempts after the first
retry_delay = 5                     # seconds before the first retry; doubles each time
```
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from orchestrator.errors import Problem, SettingsError

SECURITY = ("none", "starttls", "ssl")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@dataclass(frozen=True)
class NotifyConfig:
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_user: str = ""
    # The SMTP password is read from this environment variable at send time.
    smtp_password_env: str = "ORCH_SMTP_PASSWORD"
    mail_from: str = ""
    mail_to: tuple[str, ...] = ()
    webhook_url: str = ""
    timeout: float = 10.0
    retries: int = 3
    retry_delay: float = 5.0

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_host and self.mail_to)

    @property
    def webhook_enabled(self) -> bool:
        return bool(self.webhook_url)

    @property
    def sender(self) -> str:
        return self.mail_from or f"orchestrator@{socket.getfqdn()}"


_KNOWN = {f.name for f in fields(NotifyConfig)}


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text")
    return value.strip()


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ValueError("expected a port number 1-65535")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 20:
        raise ValueError("expected a whole number from 0 to 20")
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError("expected a positive number of seconds")
    return float(value)


def _security(value: Any) -> str:
    if value not in SECURITY:
        raise ValueError("expected one of " + ", ".join(SECURITY))
    return str(value)


def _addresses(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(a, str) for a in items):
        raise ValueError("expected an address or a list of addresses")
    bad = [a for a in items if not _ADDRESS.match(a.strip())]
    if bad:
        raise ValueError(f"not an e-mail address: {bad[0]!r}")
    return tuple(a.strip() for a in items)


def _address(value: Any) -> str:
    return _addresses(_text(value))[0] if _text(value) else ""


def _url(value: Any) -> str:
    url = _text(value)
    if url and not url.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return url


def _env_name(value: Any) -> str:
    name = _text(value)
    if not _ENV_NAME.match(name):
        raise ValueError("expected an environment variable name such as ORCH_SMTP_PASSWORD")
    return name


_READERS: dict[str, Callable[[Any], Any]] = {
    "smtp_host": _text,
    "smtp_port": _port,
    "smtp_security": _security,
    "smtp_user": _text,
    "smtp_password_env": _env_name,
    "mail_from": _address,
    "mail_to": _addresses,
    "webhook_url": _url,
    "timeout": _seconds,
    "retries": _count,
    "retry_delay": _seconds,
}


def parse_notify(raw: Any, origin: str) -> NotifyConfig:
    """The ``[notify]`` table, or a SettingsError naming every bad key."""
    if not isinstance(raw, Mapping):
        raise SettingsError(
            [Problem("must be a table", file=origin, field="notify", hint="write [notify]")]
        )
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in raw.items():
        where = f"notify.{key}"
        if key not in _KNOWN:
            hint = "known keys: " + ", ".join(sorted(_KNOWN))
            problems.append(Problem(f"unknown key {key!r}", file=origin, field=where, hint=hint))
            continue
        try:
            values[key] = _READERS[key](value)
        except ValueError as exc:
            problems.append(Problem(f"{exc}, got {value!r}", file=origin, field=where))
    if values.get("smtp_host") and not values.get("mail_to"):
        problems.append(
            Problem(
                "smtp_host is set but nobody receives the mail",
                file=origin,
                field="notify.mail_to",
                hint='add mail_to = ["ops@example.net"]',
            )
        )
    if problems:
        raise SettingsError(problems)
    return NotifyConfig(**values)
