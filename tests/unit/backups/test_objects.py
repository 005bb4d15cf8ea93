"""Content-addressed objects on a real filesystem: dedup, atomic writes, corruption found."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.backups.objects import ObjectStore, sha256_of
from orchestrator.errors import StoreError


def test_put_dedups_and_reads_back(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    first = store.put(b"hostname r1\n")
    again = store.put(b"hostname r1\n")
    assert first.created
    assert not again.created
    assert first.digest == again.digest == sha256_of(b"hostname r1\n")
    assert store.read(first.digest) == b"hostname r1\n"
    assert list(store.digests()) == [first.digest]
    assert store.check(first.digest, first.size).ok


def test_altered_object_is_detected(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    obj = store.put(b"interface Gi0/1\n")
    path = store.path(obj.digest)
    os.chmod(path, 0o640)
    path.write_bytes(b"interface Gi0/2\n")
    check = store.check(obj.digest, obj.size)
    assert not check.ok
    assert "altered" in check.reason
    with pytest.raises(StoreError, match="corrupt"):
        store.read(obj.digest)


def test_missing_object_and_bad_name(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    digest = sha256_of(b"x")
    assert store.check(digest).reason == "missing"
    with pytest.raises(StoreError, match="missing"):
        store.read(digest)
    with pytest.raises(StoreError, match="not a sha256"):
        store.path("../../etc/passwd")


def test_killed_writer_leaves_no_partial_object(tmp_path: Path) -> None:
    """A child process is SIGKILLed in the middle of writing a large object."""
    script = (
        "import os, sys, signal\n"
        "from pathlib import Path\n"
        "import orchestrator.backups.objects as o\n"
        "real_fsync = os.fsync\n"
        "def die(fd):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "o.os.fsync = die\n"
        f"o.ObjectStore(Path({str(tmp_path)!r})).put(b'x' * 5_000_000)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -9
    store = ObjectStore(tmp_path)
    assert list(store.digests()) == []
    assert len(store.stale_temp_files()) == 1
    assert not store.exists(sha256_of(b"x" * 5_000_000))
