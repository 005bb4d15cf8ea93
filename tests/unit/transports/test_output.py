"""Bounded output: the head is kept, the rest counted, the text says it was cut."""

from __future__ import annotations

import pytest

from orchestrator.transports.output import BoundedOutput, bound_text, truncation_marker


def test_under_the_limit_everything_is_kept_without_marker() -> None:
    out = BoundedOutput(10)
    out.feed(b"abc")
    out.feed(b"def\n")
    assert out.text() == "abcdef\n"
    assert out.dropped == 0
    assert out.total == 7


def test_exactly_the_limit_is_not_truncated() -> None:
    out = BoundedOutput(4)
    out.feed(b"abcd")
    assert out.text() == "abcd"


def test_over_the_limit_keeps_the_head_and_counts_the_rest() -> None:
    out = BoundedOutput(5)
    for chunk in (b"12", b"345", b"678", b"90"):
        out.feed(chunk)
    assert out.dropped == 5
    assert out.total == 10
    assert out.text() == "12345" + truncation_marker(5, 10)
    assert "5 of 10 bytes dropped" in out.text()


def test_a_multibyte_character_split_across_chunks_decodes_whole() -> None:
    data = "巡检 ok".encode()
    out = BoundedOutput(100)
    for i in range(len(data)):  # one byte at a time
        out.feed(data[i : i + 1])
    assert out.text() == "巡检 ok"


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    out = BoundedOutput(100)
    out.feed(b"ok \xff\xfe end")
    assert out.text() == "ok \ufffd\ufffd end"


def test_zero_limit_keeps_nothing_and_negative_is_refused() -> None:
    out = BoundedOutput(0)
    out.feed(b"abc")
    assert out.text() == truncation_marker(3, 3)
    with pytest.raises(ValueError, match="limit"):
        BoundedOutput(-1)


def test_bound_text_counts_bytes_not_characters() -> None:
    assert bound_text("short", 100) == "short"
    cut = bound_text("巡检巡检", 6)  # 3 bytes per character
    assert cut.startswith("巡检\n[orchestrator: output truncated, 6 of 12 bytes dropped]")
