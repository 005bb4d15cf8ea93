"""strategy.batch: a host count or a percentage; anything else is a located error."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import RunbookError
from orchestrator.runbook.loader import load_runbook

TEMPLATE = """name: b
kind: inspection
change: standard
targets: all
strategy:
  forks: 5
  batch: {batch}
steps:
  - name: s
    command: uptime
"""


@pytest.mark.parametrize(
    ("batch", "count", "percent"), [("3", 3, None), ('"25%"', None, 25), ("'100 %'", None, 100)]
)
def test_batch_forms(tmp_path: Path, batch: str, count: int | None, percent: int | None) -> None:
    path = tmp_path / "b.yml"
    path.write_text(TEMPLATE.format(batch=batch))
    strategy = load_runbook(path).strategy
    assert (strategy.batch, strategy.batch_percent, strategy.forks) == (count, percent, 5)


@pytest.mark.parametrize("batch", ["0", '"0%"', '"150%"', "lots", "true", "[1]"])
def test_bad_batch_is_located(tmp_path: Path, batch: str) -> None:
    path = tmp_path / "b.yml"
    path.write_text(TEMPLATE.format(batch=batch))
    with pytest.raises(RunbookError) as info:
        load_runbook(path)
    assert f"{path}:7" in str(info.value)
    assert "batch" in str(info.value)
