"""Alembic environment for the orchestrator schema.

``Database.upgrade`` passes its own connection in ``config.attributes``; the
``alembic`` command line (developers only) builds one from ``ORCH_DATABASE_URL``
so the same SQLite settings apply. Logging is left to the application.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from orchestrator.store.db import Database
from orchestrator.store.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("ORCH_DATABASE_URL") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set ORCH_DATABASE_URL to the database to migrate")
    database = Database(url)
    try:
        with database.engine.begin() as conn:
            _run(conn)
    finally:
        database.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run them online")
_run_online()
