"""Per-invocation CLI state: global options, lazily built settings and App."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import typer
from rich.console import Console

from orchestrator.app import App
from orchestrator.settings import Settings, load_settings

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class State:
    config_path: Path | None = None
    inventory_path: Path | None = None
    _app: App | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        settings = load_settings(self.config_path)
        if self.inventory_path is not None:
            settings = replace(settings, inventory=self.inventory_path)
        return settings

    def app(self) -> App:
        if self._app is None:
            self._app = App(self.settings())
        return self._app


def state_of(ctx: typer.Context) -> State:
    state = ctx.find_root().obj
    assert isinstance(state, State)
    return state
