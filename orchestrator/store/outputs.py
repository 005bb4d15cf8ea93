"""Full step output in files beside the database, each checked by its sha256.

Rows keep a bounded excerpt; the whole output lives in
``<root>/<run_id>/<host>/<NN>-<slug>.log`` (stdout, then a ``--- stderr ---``
section). Files are written to a temp file in the same directory, fsync'd and
``os.replace``d, so a reader never sees half a file and a crash never leaves
one under the final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import StoreError

STDERR_MARKER = "--- stderr ---\n"
SLUG_MAX = 60
_UNSAFE_COMPONENT = re.compile(r"[^\w.@:+=-]+")
_SLUG_SEPARATORS = re.compile(r"[^\w.]+")


@dataclass(frozen=True)
class StoredOutput:
    path: str  # relative to the output root, with forward slashes
    sha256: str
    size: int  # bytes


def slugify(name: str) -> str:
    """A filename-safe form of a step name; keeps letters of any script (e.g. 中文)."""
    slug = _SLUG_SEPARATORS.sub("-", name.strip().lower()).strip("-.")
    return slug[:SLUG_MAX].rstrip("-.") or "step"


def _component(name: str) -> str:
    # Run ids and host names become directory names: no separators, no "..".
    safe = _UNSAFE_COMPONENT.sub("_", name)
    return safe if safe.strip(".") else f"_{safe}"


def excerpt(text: str, limit: int = 4096) -> str:
    """At most ``limit`` UTF-8 bytes of ``text``: its head and tail around an omission marker."""
    data = text.encode("utf-8", errors="backslashreplace")
    if len(data) <= limit:
        return text
    # Reserve room for the widest marker this text could need.
    widest = len(_marker(len(data)).encode("utf-8"))
    if limit < widest + 16:
        raise ValueError(f"excerpt limit {limit} is too small (need at least {widest + 16})")
    budget = limit - widest
    head = data[: budget // 2].decode("utf-8", errors="ignore")
    tail = data[len(data) - (budget - budget // 2) :].decode("utf-8", errors="ignore")
    omitted = len(data) - len(head.encode("utf-8")) - len(tail.encode("utf-8"))
    return head + _marker(omitted) + tail


def _marker(omitted: int) -> str:
    return f"\n… {omitted} bytes omitted …\n"


def render_output(stdout: str, stderr: str) -> str:
    """The text of an output file: stdout, then the stderr section when there is any."""
    if not stderr:
        return stdout
    separator = "" if not stdout or stdout.endswith("\n") else "\n"
    return stdout + separator + STDERR_MARKER + stderr


class OutputStore:
    """Step output files under one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        # Directories made so far: a fan-out writes many files into each (plain strings,
        # no pathlib, on this path that runs for every step of every host).
        self._made: set[str] = set()

    def write(
        self,
        run_id: str,
        host: str,
        step_index: int,
        step_name: str,
        *,
        stdout: str,
        stderr: str,
    ) -> StoredOutput:
        rel = f"{_component(run_id)}/{_component(host)}/{step_index:02d}-{slugify(step_name)}.log"
        data = render_output(stdout, stderr).encode("utf-8", errors="backslashreplace")
        target = os.path.join(self.root, rel)
        directory = os.path.dirname(target)
        try:
            if directory not in self._made:
                os.makedirs(directory, exist_ok=True)
                self._made.add(directory)
            try:
                _write_atomically(target, directory, data)
            except FileNotFoundError:  # the directory was removed meanwhile
                os.makedirs(directory, exist_ok=True)
                _write_atomically(target, directory, data)
        except OSError as err:
            raise StoreError(f"cannot write step output {target}: {err}") from None
        return StoredOutput(rel, hashlib.sha256(data).hexdigest(), len(data))

    def read(self, rel_path: str, sha256: str) -> str:
        """The file's text, after checking it still has the recorded checksum."""
        path = self._resolve(rel_path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"step output {path} is missing") from None
        except OSError as err:
            raise StoreError(f"cannot read step output {path}: {err}") from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise StoreError(
                f"step output {path} was altered after it was recorded: "
                f"sha256 is {actual}, the run record says {sha256}"
            )
        return data.decode("utf-8", errors="replace")

    def _resolve(self, rel_path: str) -> Path:
        root = self.root.resolve()
        path = (root / rel_path).resolve()
        if Path(rel_path).is_absolute() or not path.is_relative_to(root):
            raise StoreError(f"step output path {rel_path!r} is outside {root}")
        return path


def _write_atomically(target: str, directory: str, data: bytes) -> None:
    # A temp name of this process and thread: nobody else writes it, so no random
    # names to try (one left by a crashed process is simply overwritten).
    name = os.path.basename(target)
    tmp = os.path.join(directory, f".{name}.{os.getpid()}-{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: str) -> None:
    # Makes the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
