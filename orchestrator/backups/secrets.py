"""Secrets in configuration text: found, masked for display and diffs, never altered in storage.

Devices re-encrypt secrets on every save (Cisco type 7/5/8/9, Junos ``$9$``,
Huawei/H3C ``cipher``), so a raw diff shows "changes" nobody made — Oxidized
users' main complaint. Masking replaces each secret by a placeholder that names
its kind, so two configs differing only in secrets mask to the same text; the
per-secret fingerprints still tell *that* a secret changed ("secret rotated").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

PLACEHOLDER = "<secret:{kind}>"


@dataclass(frozen=True)
class SecretRule:
    kind: str
    pattern: re.Pattern[str]  # group "secret" is the part to mask


def _rule(kind: str, pattern: str) -> SecretRule:
    return SecretRule(kind, re.compile(pattern, re.IGNORECASE))


# Order matters only for overlapping matches: the first rule to claim a span wins.
RULES: tuple[SecretRule, ...] = (
    # Cisco IOS/NX-OS/EOS: enable secret 5 $1$…, username x secret 9 $9$…, password 7 0822…
    _rule("cisco-secret", r"\bsecret (?:[0-9] )?(?P<secret>\S+)"),
    _rule(
        "password",
        r"\bpassword (?:[0-9] |cipher |simple |hash |irreversible-cipher )?"
        r"(?P<secret>\S+)",
    ),
    _rule("key", r"\bkey-string (?:[0-9] )?(?P<secret>\S+)"),
    _rule("key", r"\bauthentication-key (?:\d+ md5 )?(?:[0-9] )?(?P<secret>\S+)"),
    _rule(
        "key",
        r"\bpre-shared-key (?:(?:local|remote|address \S+) )?(?:[0-9] )?"
        r"(?P<secret>\S+)",
    ),
    _rule(
        "key",
        r"\b(?:tacacs|radius)(?:-server)? (?:host \S+ )?key (?:[0-9] )?"
        r"(?P<secret>\S+)",
    ),
    # SNMP communities: snmp-server community NAME RO / snmp-agent community read NAME
    _rule("snmp-community", r"\bsnmp-server community (?P<secret>\S+)"),
    _rule(
        "snmp-community",
        r"\bsnmp-agent community (?:read|write) (?:cipher |simple )?"
        r"(?P<secret>\S+)",
    ),
    # Huawei/H3C: cipher %^%#…%^%#, $c$3$…, $h$6$…
    _rule("cipher", r"\b(?:cipher|irreversible-cipher) (?P<secret>\S+)"),
    _rule("cipher", r"(?P<secret>%\^%#\S+?%\^%#|\$[ch]\$\d\$\S+)"),
    # Junos: $9$…, encrypted-password "$6$…"
    _rule("junos-9", r"(?P<secret>\$9\$[^\s;\"]+)"),
    _rule("password-hash", r"encrypted-password \"(?P<secret>[^\"]+)\""),
)

PEM_BLOCK = re.compile(
    r"-----BEGIN (?P<what>[A-Z0-9 ]*PRIVATE KEY)-----.*?-----END (?P=what)-----", re.DOTALL
)


@dataclass(frozen=True)
class Secret:
    line: int  # 1-based line in the masked text (a private-key block becomes one line)
    kind: str
    fingerprint: str  # short sha256 of the secret value: compares without showing it


@dataclass(frozen=True)
class MaskedText:
    text: str
    secrets: tuple[Secret, ...]


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def _mask_line(line: str, number: int) -> tuple[str, list[Secret]]:
    spans: list[tuple[int, int, str, str]] = []
    for rule in RULES:
        for match in rule.pattern.finditer(line):
            start, end = match.span("secret")
            if match.group("secret").startswith("<secret:"):
                continue
            if any(start < e and s < end for s, e, _, _ in spans):
                continue  # already claimed by an earlier rule
            spans.append((start, end, rule.kind, match.group("secret")))
    found: list[Secret] = []
    for start, end, kind, value in sorted(spans, reverse=True):
        line = line[:start] + PLACEHOLDER.format(kind=kind) + line[end:]
        found.append(Secret(number, kind, _fingerprint(value)))
    return line, sorted(found, key=lambda s: s.kind)


def mask(text: str) -> MaskedText:
    """Replace every recognised secret by a placeholder naming its kind."""
    secrets: list[Secret] = []

    def pem(match: re.Match[str]) -> str:
        line = text.count("\n", 0, match.start()) + 1
        secrets.append(Secret(line, "private-key", _fingerprint(match.group(0))))
        return f"<secret:private-key {match.group('what').lower()}>"

    text = PEM_BLOCK.sub(pem, text)
    lines = []
    for number, line in enumerate(text.split("\n"), 1):
        masked, found = _mask_line(line, number)
        lines.append(masked)
        secrets.extend(found)
    return MaskedText("\n".join(lines), tuple(sorted(secrets, key=lambda s: s.line)))
