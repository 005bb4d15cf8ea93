"""Webhooks: the notification as a JSON POST (urllib); any 2xx answer is a delivery."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from orchestrator.notify.message import NotifyError


def shown_url(url: str) -> str:
    """The URL without its query and credentials: chat webhooks carry tokens there."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def post_json(url: str, payload: Mapping[str, Any], *, timeout: float) -> int:
    """POST ``payload``; the HTTP status, or NotifyError (the caller retries)."""
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "orchestrator"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise NotifyError(f"webhook {shown_url(url)}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NotifyError(f"webhook {shown_url(url)}: {reason}") from exc
    if not 200 <= status < 300:
        raise NotifyError(f"webhook {shown_url(url)}: HTTP {status}")
    return status
