"""KnownKeysIndex answers exactly as KnownHostsFile.keys_for, and sees the file change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.transports.hostkeys import KnownHostsFile
from orchestrator.transports.known_keys import KnownKeysIndex

DATA = Path(__file__).parents[2] / "data" / "transports"
# Every name the test file has a line for, some it has not, and case variants.
NAMES = [
    ("db1", 22),
    ("DB1", 22),
    ("10.0.0.5", 22),
    ("10.0.0.5", 2222),
    ("web.lab.example", 22),
    ("bad.lab.example", 22),
    ("10.0.0.6", 22),
    ("web7.example.net", 22),
    ("web8.example.net", 22),
    ("10.0.0.7", 2222),
    ("10.0.0.7", 22),
    ("10.0.0.8", 22),
    ("10.0.0.9", 22),
    ("nowhere", 22),
]


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text((DATA / "known_hosts").read_text())
    return path


@pytest.mark.parametrize(("address", "port"), NAMES)
def test_same_keys_as_the_file_lookup(known_hosts: Path, address: str, port: int) -> None:
    file = KnownHostsFile(known_hosts)
    assert KnownKeysIndex(file).keys_for(address, port) == file.keys_for(address, port)


def test_lines_of_a_name_and_of_a_pattern_come_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    key = KnownHostsFile(DATA / "known_hosts").keys_for("db1", 22)[0].key
    path.write_text(f"h* ssh-ed25519 {key}\nh1 ssh-ed25519 {key}\nh? ssh-rsa {key}\n")
    keys = KnownKeysIndex(KnownHostsFile(path)).keys_for("h1", 22)
    assert [k.line for k in keys] == [1, 2, 3]


def test_a_changed_file_is_read_again(known_hosts: Path) -> None:
    file = KnownHostsFile(known_hosts)
    index = KnownKeysIndex(file)
    assert index.keys_for("10.0.0.42", 22) == []
    key = file.keys_for("db1", 22)[0]
    assert file.add("10.0.0.42", 22, key.keytype, key.key)  # replaces the file
    assert [k.key for k in index.keys_for("10.0.0.42", 22)] == [key.key]


def test_a_file_written_in_place_is_read_again(known_hosts: Path) -> None:
    index = KnownKeysIndex(KnownHostsFile(known_hosts))
    assert index.keys_for("db1", 22)
    text = known_hosts.read_text().replace("db1,", "db2,")
    with known_hosts.open("r+") as f:  # same inode, same size: only the mtime moves
        f.write(text)
    stat = known_hosts.stat()
    os.utime(known_hosts, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert index.keys_for("db1", 22) == []
    assert index.keys_for("db2", 22)


def test_missing_file_has_no_keys_until_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    index = KnownKeysIndex(KnownHostsFile(path))
    assert index.keys_for("db1", 22) == []
    path.write_text((DATA / "known_hosts").read_text())
    assert index.keys_for("db1", 22)
