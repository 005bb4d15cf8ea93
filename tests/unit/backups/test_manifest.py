"""Manifests: sha256sum output, archives read back, files checked against a manifest."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from orchestrator.backups.manifest import (
    Manifest,
    archive_digests,
    check_files,
    normalise,
    parse_sha256sum,
)
from orchestrator.errors import StoreError


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        directory = tarfile.TarInfo("./sub")
        directory.type = tarfile.DIRTYPE  # not a file: not in the digests
        tar.addfile(directory)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_sha256sum_output_is_read_with_paths_normalised() -> None:
    a, b = sha(b"a"), sha(b"b")
    text = f"{a}  ./app.db\n{b} *./uploads/x y.txt\n\n"
    assert parse_sha256sum(text) == {"app.db": a, "uploads/x y.txt": b}


def test_escaped_names_from_gnu_sha256sum_are_unescaped() -> None:
    digest = sha(b"x")
    # GNU sha256sum marks a line whose name has a newline or backslash with a leading "\".
    assert parse_sha256sum(f"\\{digest}  ./odd\\nname\\\\x\n") == {"odd\nname\\x": digest}


def test_a_line_that_is_not_sha256sum_output_is_refused() -> None:
    with pytest.raises(ValueError, match="not a sha256sum line"):
        parse_sha256sum("sha256sum: ./locked: Permission denied\n")


def test_archive_members_are_hashed_like_the_source_files() -> None:
    files = {"./app.db": b"sqlite", "./uploads/1.txt": b"one"}
    assert archive_digests(tar_gz(files)) == {
        "app.db": sha(b"sqlite"),
        "uploads/1.txt": sha(b"one"),
    }


def test_an_unreadable_archive_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="unreadable archive"):
        archive_digests(b"\x1f\x8b not really gzip")


def test_check_names_missing_mismatched_and_extra_files() -> None:
    manifest = Manifest({"a": sha(b"a"), "b": sha(b"b"), "c": sha(b"c")})
    check = check_files(manifest, {"a": sha(b"a"), "b": sha(b"B!"), "z": sha(b"z")})
    assert (check.files, check.verified) == (3, 1)
    assert check.missing == ("c",)
    assert check.mismatched == ("b",)
    assert check.extra == ("z",)
    assert not check.ok
    reasons = check.reasons()
    assert reasons == [
        "1 file(s) missing from the restored copy: c",
        "1 file(s) differ from the manifest: b",
    ]


def test_extra_files_alone_do_not_fail_a_check() -> None:
    check = check_files(Manifest({"a": sha(b"a")}), {"a": sha(b"a"), "new": sha(b"n")})
    assert check.ok
    assert check.reasons() == []


def test_manifest_round_trips_and_rejects_foreign_json() -> None:
    manifest = Manifest({"b": sha(b"b"), "a": sha(b"a")})
    assert Manifest.from_bytes(manifest.to_bytes()) == manifest
    assert manifest.to_bytes() == Manifest(dict(reversed(manifest.files.items()))).to_bytes()
    with pytest.raises(StoreError, match="unreadable backup manifest"):
        Manifest.from_bytes(b'{"format": 9, "files": {}}')
    with pytest.raises(StoreError):
        Manifest.from_bytes(b"not json")


def test_normalise() -> None:
    assert normalise("././a/b") == "a/b"
    assert normalise("/abs") == "abs"
