"""Secret masking and config diffs on captured configurations (data files in tests/data/backups)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.backups.diff import ChangeKind, compare
from orchestrator.backups.secrets import mask

DATA = Path(__file__).resolve().parents[2] / "data" / "backups"


def read(name: str) -> str:
    return (DATA / name).read_text()


@pytest.mark.parametrize(
    ("name", "hidden"),
    [
        (
            "ios-a.cfg",
            [
                "$9$nhEmQVczB7dqsO",
                "$1$mERr$",
                "0822455D0A16",
                "s3cr3tRO",
                "045802150C2E",
                "121A0C041104",
                "094F471A1A0A",
            ],
        ),
        ("vrp.cfg", ["$1a$3N;(Av}5", "%^%#A8y=Z!sY", "%^%#w4Lq0]9vS2$%^%#"]),
        ("junos.cfg", ["$6$abc$Zq9c2mJ1p", "$9$kHqfQ3nCpu1R"]),
        ("key.pem.cfg", ["MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"]),
    ],
)
def test_every_secret_is_masked_and_the_rest_kept(name: str, hidden: list[str]) -> None:
    text = read(name)
    masked = mask(text)
    for secret in hidden:
        assert secret in text
        assert secret not in masked.text, secret
    assert masked.secrets
    assert "<secret:" in masked.text
    # non-secret content survives
    for keep in ("hostname", "sysname", "ip address", "system {", "hostname r1"):
        if keep in text:
            assert keep in masked.text


def test_ordinary_words_are_not_masked() -> None:
    text = (
        "service password-encryption\nPasswordAuthentication no\n"
        "crypto key generate rsa modulus 2048\nPermitEmptyPasswords no\n"
    )
    assert mask(text).text == text
    assert mask(text).secrets == ()


def test_identical_config_is_unchanged() -> None:
    assert compare(read("ios-a.cfg"), read("ios-a.cfg")).kind is ChangeKind.UNCHANGED


def test_reencrypted_secrets_and_timestamps_are_secret_rotated_not_changed() -> None:
    diff = compare(read("ios-a.cfg"), read("ios-rotated.cfg"))
    assert diff.kind is ChangeKind.SECRET_ROTATED
    assert diff.diff == ""
    assert diff.rotated == ("password",)
    assert not diff.changed


def test_real_change_shows_masked_diff_and_rotation() -> None:
    diff = compare(read("ios-a.cfg"), read("ios-changed.cfg"))
    assert diff.kind is ChangeKind.CHANGED
    assert "+ description uplink to core-2" in diff.diff
    assert "- description uplink" in diff.diff
    assert "n3wc0mmun1ty" not in diff.diff
    assert "s3cr3tRO" not in diff.diff
    assert diff.rotated == ("snmp-community",)
    assert (diff.added, diff.removed) == (1, 1)


def test_first_version_is_new() -> None:
    diff = compare(None, read("vrp.cfg"))
    assert diff.kind is ChangeKind.NEW
    assert diff.changed
