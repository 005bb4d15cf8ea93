"""known_hosts parsing, matching, appending and the accept/refuse policy.

Data: tests/data/transports/known_hosts, written with throwaway keys made by
ssh-keygen (hashed lines by ``ssh-keygen -H``), and the fingerprints
``ssh-keygen -lf`` printed for those keys (known_hosts_keys.json).
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from pathlib import Path

import pytest

from orchestrator.errors import HostKeyRejected
from orchestrator.transports.hostkeys import (
    HostKeyVerifier,
    KeyStatus,
    KnownHostsFile,
    classify,
    fingerprint,
    host_id,
    host_matches,
    parse_known_hosts,
)

DATA = Path(__file__).parents[2] / "data" / "transports"
KEYS = json.loads((DATA / "known_hosts_keys.json").read_text())


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text((DATA / "known_hosts").read_text())
    return path


def key(name: str) -> tuple[str, str]:
    return KEYS[name]["keytype"], KEYS[name]["key"]


@pytest.mark.parametrize("name", sorted(KEYS))
def test_fingerprint_matches_ssh_keygen(name: str) -> None:
    assert fingerprint(KEYS[name]["key"]) == KEYS[name]["fingerprint"]


def test_host_id_brackets_non_default_ports() -> None:
    assert host_id("10.0.0.5", 22) == "10.0.0.5"
    assert host_id("10.0.0.5", 2222) == "[10.0.0.5]:2222"


def test_parse_skips_comments_blanks_cert_authorities_and_bad_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        keys = parse_known_hosts((DATA / "known_hosts").read_text())
    assert [k.line for k in keys] == [3, 4, 5, 6, 7, 8, 9, 10]
    assert keys[0].hosts == "db1,10.0.0.5"
    assert keys[0].keytype == "ssh-ed25519"
    assert keys[6].marker == "@revoked"
    assert "line 12" in caplog.text
    assert "line 13" in caplog.text


@pytest.mark.parametrize(
    ("hosts", "name", "expected"),
    [
        ("db1,10.0.0.5", "10.0.0.5", True),
        ("db1,10.0.0.5", "db1", True),
        ("db1,10.0.0.5", "10.0.0.50", False),
        ("[10.0.0.5]:2222", "[10.0.0.5]:2222", True),  # brackets are literal, not a class
        ("[10.0.0.5]:2222", "10.0.0.5", False),
        ("10.0.0.5", "[10.0.0.5]:2222", False),
        ("*.lab.example,!bad.lab.example", "web.lab.example", True),
        ("*.lab.example,!bad.lab.example", "bad.lab.example", False),
        ("*.lab.example", "WEB.LAB.EXAMPLE", True),
        ("10.0.0.?", "10.0.0.7", True),
        ("10.0.0.?", "10.0.0.17", False),
    ],
)
def test_host_matches_plain_patterns(hosts: str, name: str, expected: bool) -> None:
    assert host_matches(hosts, name) is expected


def test_host_matches_hashed_names_written_by_ssh_keygen(known_hosts: Path) -> None:
    hashed = [k for k in parse_known_hosts(known_hosts.read_text()) if k.hosts.startswith("|1|")]
    assert len(hashed) == 2
    assert host_matches(hashed[0].hosts, "web7.example.net")
    assert not host_matches(hashed[0].hosts, "web8.example.net")
    assert host_matches(hashed[1].hosts, "[10.0.0.7]:2222")
    assert not host_matches(hashed[1].hosts, "10.0.0.7")


def test_keys_for_finds_plain_port_and_hashed_entries(known_hosts: Path) -> None:
    file = KnownHostsFile(known_hosts)
    assert [k.keytype for k in file.keys_for("10.0.0.5", 22)] == ["ssh-ed25519"]
    assert [k.keytype for k in file.keys_for("10.0.0.5", 2222)] == ["ssh-rsa"]
    assert [k.key for k in file.keys_for("web7.example.net", 22)] == [KEYS["ed"]["key"]]
    assert [k.key for k in file.keys_for("10.0.0.7", 2222)] == [KEYS["ec"]["key"]]
    assert file.keys_for("10.0.0.99", 22) == []


def test_missing_file_has_no_keys(tmp_path: Path) -> None:
    assert KnownHostsFile(tmp_path / "nope").keys_for("10.0.0.5", 22) == []


def test_classify() -> None:
    file_keys = parse_known_hosts((DATA / "known_hosts").read_text())
    db1 = [k for k in file_keys if host_matches(k.hosts, "10.0.0.5")]
    assert classify(db1, *key("ed")) is KeyStatus.KNOWN
    assert classify(db1, *key("other")) is KeyStatus.CHANGED  # same type, other key
    assert classify(db1, *key("ec")) is KeyStatus.CHANGED  # only another type is recorded
    assert classify([], *key("ed")) is KeyStatus.UNKNOWN
    revoked = [k for k in file_keys if host_matches(k.hosts, "10.0.0.8")]
    assert classify(revoked, *key("other")) is KeyStatus.REVOKED


def test_add_appends_one_line_and_keeps_everything_else(known_hosts: Path) -> None:
    before = known_hosts.read_text()
    os.chmod(known_hosts, 0o644)
    keytype, b64 = key("other")
    assert KnownHostsFile(known_hosts).add("10.0.0.42", 2200, keytype, b64) is True
    after = known_hosts.read_text()
    assert after == before + f"[10.0.0.42]:2200 {keytype} {b64}\n"
    assert stat.S_IMODE(known_hosts.stat().st_mode) == 0o644
    assert KnownHostsFile(known_hosts).add("10.0.0.42", 2200, keytype, b64) is False
    assert known_hosts.read_text() == after
    assert [p.name for p in known_hosts.parent.iterdir()] == ["known_hosts"]  # no temp left


def test_add_creates_a_private_file_and_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "new" / "known_hosts"
    assert KnownHostsFile(path).add("10.0.0.1", 22, *key("ed"))
    assert path.read_text() == f"10.0.0.1 {KEYS['ed']['keytype']} {KEYS['ed']['key']}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_add_terminates_a_last_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(f"10.0.0.1 {KEYS['ed']['keytype']} {KEYS['ed']['key']}")
    KnownHostsFile(path).add("10.0.0.2", 22, *key("ec"))
    assert [k.hosts for k in parse_known_hosts(path.read_text())] == ["10.0.0.1", "10.0.0.2"]


def test_concurrent_adds_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    keytype, b64 = key("ed")
    barrier = threading.Barrier(20)

    def add(i: int) -> None:
        barrier.wait()
        KnownHostsFile(path).add(f"10.1.0.{i}", 22, keytype, b64)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    hosts = sorted(k.hosts for k in parse_known_hosts(path.read_text()))
    assert hosts == sorted(f"10.1.0.{i}" for i in range(20))


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, host: str, keytype: str, fp: str) -> None:
        self.calls.append((host, keytype, fp))


def test_verifier_accepts_a_recorded_key_silently(known_hosts: Path) -> None:
    seen = Recorder()
    verifier = HostKeyVerifier(known_hosts, trust_new_host_keys=True, on_new_host_key=seen)
    verifier.verify("db1", "10.0.0.5", 22, *key("ed"))
    assert seen.calls == []


def test_verifier_refuses_an_unknown_key_with_type_fingerprint_and_hint(known_hosts: Path) -> None:
    before = known_hosts.read_text()
    with pytest.raises(HostKeyRejected) as raised:
        HostKeyVerifier(known_hosts).verify("new1", "10.0.0.77", 22, *key("ec"))
    message = str(raised.value)
    assert "new1 (10.0.0.77)" in message
    assert f"ecdsa-sha2-nistp256 {KEYS['ec']['fingerprint']}" in message
    assert (
        f"verify it, then add it to {known_hosts} or re-run with --trust-new-host-keys" in message
    )
    assert known_hosts.read_text() == before


def test_verifier_trusts_an_unknown_key_when_told_and_reports_it(known_hosts: Path) -> None:
    seen = Recorder()
    verifier = HostKeyVerifier(known_hosts, trust_new_host_keys=True, on_new_host_key=seen)
    verifier.verify("new1", "10.0.0.77", 2222, *key("ec"))
    assert seen.calls == [("new1", KEYS["ec"]["keytype"], KEYS["ec"]["fingerprint"])]
    assert verifier.is_known_host("10.0.0.77", 2222)
    verifier.verify("new1", "10.0.0.77", 2222, *key("ec"))  # now known: no second report
    assert len(seen.calls) == 1


@pytest.mark.parametrize("offered", ["other", "ec"])
def test_verifier_never_trusts_a_changed_key(known_hosts: Path, offered: str) -> None:
    seen = Recorder()
    before = known_hosts.read_text()
    verifier = HostKeyVerifier(known_hosts, trust_new_host_keys=True, on_new_host_key=seen)
    with pytest.raises(HostKeyRejected) as raised:
        verifier.verify("db1", "10.0.0.5", 22, *key(offered))
    message = str(raised.value)
    assert "HOST KEY CHANGED" in message
    assert KEYS[offered]["fingerprint"] in message  # what it offered
    assert KEYS["ed"]["fingerprint"] in message  # what we have
    assert "(line 3)" in message
    assert "--trust-new-host-keys" not in message
    assert seen.calls == []
    assert known_hosts.read_text() == before


def test_verifier_refuses_a_revoked_key(known_hosts: Path) -> None:
    verifier = HostKeyVerifier(known_hosts, trust_new_host_keys=True)
    with pytest.raises(HostKeyRejected, match="revoked"):
        verifier.verify("h8", "10.0.0.8", 22, *key("other"))
    assert not verifier.is_known_host("10.0.0.99", 22)
