"""Host ranges in inventory host names: ``web[01:20]``, ``node[1:9:2]``, ``db-[a:c]``.

Semantics follow Ansible's ``expand_hostname_range``: ``[begin:end]`` or
``[begin:end:step]``, both ends inclusive; a begin with a leading zero pads every
number to its width (so begin and end must be written with the same width); single
letters give an alphabetic range; several ranges in one name multiply out, left
range varying slowest. An empty begin means 0.

Where Ansible silently yields no hosts (``web[5:1]``, a zero or negative step) we
raise instead: an inventory line that defines nothing is almost always a typo.
"""

from __future__ import annotations

import re
import string

_LETTERS = string.ascii_letters
_NUMBER = re.compile(r"[0-9]+")
# A guard against a typo such as web[1:10000000] eating the machine.
MAX_HOSTS_PER_RANGE = 100_000


class HostRangeError(ValueError):
    """A malformed ``[begin:end(:step)]`` range; the caller adds file and line."""


def has_range(name: str) -> bool:
    """True if ``name`` would be expanded (Ansible treats any ``[`` as a range)."""
    return "[" in name


def expand_host_range(name: str) -> list[str]:
    """Every host name ``name`` stands for, in order (``[name]`` if it has no range)."""
    if not has_range(name):
        return [name]
    head, _, rest = name.partition("[")
    body, closed, tail = rest.partition("]")
    if not closed or "]" in head:
        raise HostRangeError(f"unbalanced brackets in host range {name!r}")
    names: list[str] = []
    for item in _range_items(body, name):
        names.extend(expand_host_range(head + item + tail))
    return names


def _range_items(body: str, name: str) -> list[str]:
    """The values one ``begin:end(:step)`` expression stands for, as strings."""
    bounds = body.split(":")
    if len(bounds) not in (2, 3):
        raise HostRangeError(f"host range [{body}] in {name!r} must be begin:end or begin:end:step")
    begin = bounds[0] or "0"
    end = bounds[1]
    if not end:
        raise HostRangeError(f"host range [{body}] in {name!r} must give an end value")
    step = _parse_step(bounds[2] if len(bounds) == 3 else "1", body, name)
    if len(begin) == 1 and len(end) == 1 and begin in _LETTERS and end in _LETTERS:
        first, last = _LETTERS.index(begin), _LETTERS.index(end)
        if first > last:
            raise HostRangeError(f"host range [{body}] in {name!r}: begin must not come after end")
        return list(_LETTERS[first : last + 1 : step])
    if not (_NUMBER.fullmatch(begin) and _NUMBER.fullmatch(end)):
        raise HostRangeError(
            f"host range [{body}] in {name!r}: bounds must be numbers or single letters"
        )
    width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
    if width and len(end) != width:
        raise HostRangeError(
            f"host range [{body}] in {name!r}: zero-padded begin and end must have the same width"
        )
    first, last = int(begin), int(end)
    if first > last:
        raise HostRangeError(f"host range [{body}] in {name!r}: begin must not be greater than end")
    if (last - first) // step + 1 > MAX_HOSTS_PER_RANGE:
        raise HostRangeError(
            f"host range [{body}] in {name!r} gives more than {MAX_HOSTS_PER_RANGE} hosts"
        )
    return [str(number).zfill(width) for number in range(first, last + 1, step)]


def _parse_step(text: str, body: str, name: str) -> int:
    if not _NUMBER.fullmatch(text) or int(text) == 0:
        raise HostRangeError(f"host range [{body}] in {name!r}: step must be a positive integer")
    return int(text)
