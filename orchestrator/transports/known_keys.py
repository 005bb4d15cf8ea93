"""The keys known_hosts records for a host, looked up in an index of the file.

``KnownHostsFile.keys_for`` reads and parses the whole file and matches every line
on each lookup; one lookup per host of a fan-out made connecting O(hosts²): with
200 hosts (and their 200 lines) that cost seconds. ``KnownKeysIndex`` parses the
file once per version of it (size, mtime, inode: a trusted key is appended by
replacing the file, so it is seen at the next lookup) and finds plainly named
hosts in a dict; lines with patterns, negations or hashed names are still
matched one by one with ``hostkeys.host_matches``, so the answer is the same.
"""

from __future__ import annotations

import os
import threading

from orchestrator.transports.hostkeys import (
    KnownHostsFile,
    KnownKey,
    host_id,
    host_matches,
    parse_known_hosts,
)

_PATTERN_CHARS = frozenset("*?!")


class KnownKeysIndex:
    def __init__(self, file: KnownHostsFile) -> None:
        self.file = file
        self._lock = threading.Lock()
        self._version: tuple[int, int, int] | None = None
        self._named: dict[str, list[KnownKey]] = {}  # lower-cased host name -> its lines
        self._matched: list[KnownKey] = []  # lines that need host_matches

    def keys_for(self, address: str, port: int) -> list[KnownKey]:
        """As ``KnownHostsFile.keys_for``: every line matching the host, in file order."""
        name = host_id(address, port)
        with self._lock:
            self._refresh()
            found = list(self._named.get(name.lower(), ()))
            found += [k for k in self._matched if host_matches(k.hosts, name)]
        return sorted(found, key=lambda k: k.line) if len(found) > 1 else found

    def _refresh(self) -> None:
        try:
            st = os.stat(self.file.path)
            version = (st.st_size, st.st_mtime_ns, st.st_ino)
        except FileNotFoundError:
            version = (-1, 0, 0)
        if version == self._version:
            return
        named: dict[str, list[KnownKey]] = {}
        matched: list[KnownKey] = []
        try:
            text = self.file.path.read_text("utf-8", errors="replace")
        except FileNotFoundError:
            text = ""
        for key in parse_known_hosts(text):
            names = key.hosts.split(",")
            if key.hosts.startswith("|") or any(_PATTERN_CHARS & set(n) for n in names):
                matched.append(key)
                continue
            for n in dict.fromkeys(n.lower() for n in names):
                named.setdefault(n, []).append(key)
        self._named, self._matched, self._version = named, matched, version
