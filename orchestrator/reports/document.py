"""A rendered report and how it is saved: whole or not at all (temp file + ``os.replace``)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestrator.reports.i18n import Lang
from orchestrator.reports.model import ReportFormat


@dataclass(frozen=True)
class ReportDocument:
    run_id: str
    fmt: ReportFormat
    lang: Lang
    text: str

    @property
    def file_name(self) -> str:
        """The default file name: ``<run_id>.<lang>.<ext>``."""
        safe_id = self.run_id.replace(os.sep, "_")
        return f"{safe_id}.{self.lang.value}.{self.fmt.value}"

    def write(self, path: Path) -> Path:
        """Write to ``path`` atomically (a reader never sees half a report); returns it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path
