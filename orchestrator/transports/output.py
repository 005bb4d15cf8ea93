"""Bounded command output: keep the head of a stream, count what was dropped.

A runaway command (``cat`` of a huge log, ``yes``) must not eat the controller's
memory across hundreds of hosts, so each stream keeps at most ``limit`` bytes and
the text ends with a marker saying how much was dropped.
"""

from __future__ import annotations


def truncation_marker(dropped: int, total: int) -> str:
    return f"\n[orchestrator: output truncated, {dropped} of {total} bytes dropped]\n"


class BoundedOutput:
    """Collects bytes up to ``limit``; later bytes are only counted."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("limit must be >= 0")
        self.limit = limit
        self._chunks: list[bytes] = []
        self._kept = 0
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.limit - self._kept
        if room > 0:
            piece = data[:room]
            self._chunks.append(piece)
            self._kept += len(piece)

    @property
    def dropped(self) -> int:
        return self.total - self._kept

    def text(self) -> str:
        """The kept bytes as UTF-8 (bad bytes replaced), plus the marker if any were dropped."""
        # Decoding once at the end: chunks may split a multi-byte character.
        text = b"".join(self._chunks).decode("utf-8", errors="replace")
        if self.dropped:
            text += truncation_marker(self.dropped, self.total)
        return text


def bound_text(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, with the marker if it was cut."""
    buffer = BoundedOutput(limit)
    buffer.feed(text.encode("utf-8", errors="replace"))
    return buffer.text()
