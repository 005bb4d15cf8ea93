"""Host identifiers with an optional port: ``web01:2222``, ``10.0.0.[1:9]``, ``[fe80::1]:22``.

``parse_address`` follows Ansible's rules (``ansible.parsing.utils.addresses``):
a port is a ``:NN`` suffix on a host name or IPv4 address, or on any
square-bracketed identifier (the only way to give an IPv6 address a port). The
identifier must be a host name, an IPv4 or an IPv6 address, each possibly with
``[x:y]`` ranges. The inventory readers use it to split off a port; host patterns
use it to tell ``web01:22`` (one address) from ``web:db`` (two patterns).
"""

from __future__ import annotations

import ipaddress
import re

from orchestrator.inventory.location import Where
from orchestrator.inventory.ranges import HostRangeError, expand_host_range

# Ranges allowed inside each kind of identifier.
_ALNUM_RANGE = r"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_DEC_RANGE = re.compile(r"\[[0-9]+:[0-9]+(?::[0-9]+)?\]")
_HEX_RANGE = re.compile(r"\[[0-9a-f]+:[0-9a-f]+(?::[0-9]+)?\]", re.I)

# A label starts with a word character or range, goes on with those or '-', and
# does not end with '-' or '_'.
_LABEL = rf"(?:\w|{_ALNUM_RANGE})(?:[\w-]|{_ALNUM_RANGE})*(?<![_-])"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.I)
_IPV4_PART = re.compile(r"[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|" + _DEC_RANGE.pattern)

_BRACKETED_PORT = re.compile(r"\[(.+)\]:([0-9]+)")
# Anything without ':' (ranges may contain ':') followed by :port.
_HOST_PORT = re.compile(r"((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)")


def parse_address(text: str, *, allow_ranges: bool = True) -> tuple[str, int | None]:
    """Split ``text`` into (host, port); ``ValueError`` if it is not a host identifier."""
    host, port = text, None
    for pattern in (_BRACKETED_PORT, _HOST_PORT):
        match = pattern.fullmatch(host)
        if match:
            host, port = match.group(1), int(match.group(2))
    if not (_is_ipv4(host) or _is_ipv6(host) or _HOSTNAME.fullmatch(host)):
        raise ValueError(f"not a valid host name or address: {text!r}")
    if not allow_ranges and "[" in host:
        raise ValueError(f"ranges are not allowed here: {text!r}")
    return host, port


def _is_ipv4(host: str) -> bool:
    parts = host.split(".")
    return len(parts) == 4 and all(_IPV4_PART.fullmatch(part) for part in parts)


def _is_ipv6(host: str) -> bool:
    if ":" not in host or "%" in host:
        return False
    # A range stands for one 16-bit group; test the shape with a placeholder.
    candidate = _HEX_RANGE.sub("0", host)
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def expand_host_entry(entry: str, where: Where) -> tuple[list[str], int | None]:
    """The host names and port of one inventory host entry (``web[01:03]:2222``).

    As in Ansible, an entry that is not a valid address is taken whole as a name
    (without a port); ranges are expanded either way.
    """
    try:
        pattern, port = parse_address(entry, allow_ranges=True)
    except ValueError:
        pattern, port = entry, None
    try:
        return expand_host_range(pattern), port
    except HostRangeError as exc:
        raise where.error(
            str(exc), field="hosts", hint="ranges look like web[01:20], web[1:9:2] or db-[a:c]"
        ) from None
