"""Shared fixtures: the lab (real sshd hosts + fakenos devices) and a PostgreSQL URL.

Lab and PostgreSQL tests skip with a reason on machines without them; `make test`
sets ORCH_REQUIRE_LAB=1 / ORCH_REQUIRE_PG=1 so that in CI a missing peer fails
the run instead of silently skipping it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

LAB_DIR = Path(os.environ.get("LAB_DIR", "/var/tmp/orchestrator-lab"))
DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def _unavailable(reason: str, required_env: str) -> None:
    if os.environ.get(required_env) == "1":
        pytest.fail(f"{reason} (and {required_env}=1 forbids skipping)")
    pytest.skip(reason)


@dataclass(frozen=True)
class Lab:
    """What lab/up.sh wrote to $LAB_DIR/lab.json."""

    data: dict[str, Any]

    @property
    def dir(self) -> Path:
        return Path(self.data["lab_dir"])

    @property
    def inventory(self) -> Path:
        return Path(self.data["inventory"])

    @property
    def known_hosts(self) -> Path:
        return Path(self.data["known_hosts"])

    @property
    def key(self) -> Path:
        return Path(self.data["key"])

    @property
    def hosts(self) -> list[dict[str, Any]]:
        return list(self.data["hosts"])

    @property
    def devices(self) -> list[dict[str, Any]]:
        return list(self.data["devices"])

    def hosts_in_state(self, state: str) -> list[dict[str, Any]]:
        return [h for h in self.hosts if h["state"] == state]

    def host(self, name: str) -> dict[str, Any]:
        return next(h for h in self.hosts if h["name"] == name)


@pytest.fixture(scope="session")
def lab() -> Lab:
    path = LAB_DIR / "lab.json"
    if os.geteuid() != 0:
        _unavailable(
            "lab tests need root (network namespaces): run `make test` as root", "ORCH_REQUIRE_LAB"
        )
    if not path.exists():
        _unavailable(
            f"the lab is not up ({path} missing): run `make lab-up` as root", "ORCH_REQUIRE_LAB"
        )
    return Lab(json.loads(path.read_text()))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL URL that answers, from ORCH_TEST_PG_URL or the local default."""
    url = os.environ.get("ORCH_TEST_PG_URL", DEFAULT_PG_URL)
    try:
        import sqlalchemy

        engine = sqlalchemy.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:
        _unavailable(
            f"PostgreSQL not reachable at {url} ({type(exc).__name__}); "
            "set ORCH_TEST_PG_URL or run `make test`, which starts one",
            "ORCH_REQUIRE_PG",
        )
    return url
