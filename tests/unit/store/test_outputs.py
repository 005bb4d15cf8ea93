"""Step output files: layout, atomic write, checksum on read, bounded excerpts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from orchestrator.errors import StoreError
from orchestrator.store.outputs import OutputStore, excerpt, render_output, slugify


def test_write_lays_out_run_host_and_numbered_step(tmp_path: Path) -> None:
    store = OutputStore(tmp_path)
    stored = store.write("r1", "web01.example.net", 3, "Root FS usage", stdout="87\n", stderr="")
    assert stored.path == "r1/web01.example.net/03-root-fs-usage.log"
    data = (tmp_path / stored.path).read_bytes()
    assert data == b"87\n"
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == 3


def test_stderr_gets_its_own_section(tmp_path: Path) -> None:
    store = OutputStore(tmp_path)
    stored = store.write("r1", "h", 0, "s", stdout="out", stderr="错误\n")
    assert store.read(stored.path, stored.sha256) == "out\n--- stderr ---\n错误\n"
    assert render_output("", "e") == "--- stderr ---\ne"
    assert render_output("o\n", "") == "o\n"


def test_write_leaves_no_temp_files_and_replaces_old_output(tmp_path: Path) -> None:
    store = OutputStore(tmp_path)
    store.write("r1", "h", 0, "s", stdout="first\n", stderr="")
    second = store.write("r1", "h", 0, "s", stdout="second\n", stderr="")
    assert [p.name for p in (tmp_path / "r1" / "h").iterdir()] == ["00-s.log"]
    assert store.read(second.path, second.sha256) == "second\n"


def test_host_and_run_names_cannot_escape_the_root(tmp_path: Path) -> None:
    store = OutputStore(tmp_path / "out")
    stored = store.write("..", "../../etc", 0, "x/../../y", stdout="z", stderr="")
    target = (tmp_path / "out" / stored.path).resolve()
    assert target.is_relative_to((tmp_path / "out").resolve())
    assert "/" not in stored.path.split("/", 2)[2]
    with pytest.raises(StoreError, match="outside"):
        store.read("../secret", "0" * 64)
    with pytest.raises(StoreError, match="outside"):
        store.read("/etc/passwd", "0" * 64)


def test_altered_file_is_reported(tmp_path: Path) -> None:
    store = OutputStore(tmp_path)
    stored = store.write("r1", "h", 1, "s", stdout="disk ok\n", stderr="")
    (tmp_path / stored.path).write_text("disk OK\n")
    with pytest.raises(StoreError, match="altered after it was recorded"):
        store.read(stored.path, stored.sha256)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="missing"):
        OutputStore(tmp_path).read("r1/h/00-s.log", "0" * 64)


def test_unwritable_root_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot write step output"):
        OutputStore(blocker).write("r1", "h", 0, "s", stdout="x", stderr="")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Root filesystem usage", "root-filesystem-usage"),
        ("内核版本", "内核版本"),
        ("  --weird// name!!  ", "weird-name"),
        ("../..", "step"),
        ("", "step"),
        ("x" * 100, "x" * 60),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_short_text_is_its_own_excerpt() -> None:
    assert excerpt("short 中文", limit=4096) == "short 中文"


def test_excerpt_is_bounded_and_counts_what_it_omits() -> None:
    text = "".join(f"{i:04d} 数据\n" for i in range(2000))
    cut = excerpt(text, limit=1000)
    assert len(cut.encode()) <= 1000
    head, rest = cut.split("\n… ", 1)
    count, tail = rest.split(" bytes omitted …\n", 1)
    assert text.startswith(head)
    assert text.endswith(tail)
    assert len(head.encode()) + int(count) + len(tail.encode()) == len(text.encode())


def test_excerpt_never_splits_a_character() -> None:
    cut = excerpt("中" * 5000, limit=301)
    assert "\ufffd" not in cut
    assert len(cut.encode()) <= 301


def test_excerpt_limit_must_leave_room() -> None:
    with pytest.raises(ValueError, match="too small"):
        excerpt("x" * 1000, limit=10)
