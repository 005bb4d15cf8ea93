"""The database connection: one engine per process, short sessions, Alembic upgrades.

SQLite is the default (a file under the data directory), PostgreSQL is chosen by
URL. SQLite is tuned for many writers: WAL (readers never block the writer),
``busy_timeout`` (a writer waits for the lock instead of failing), and write
sessions begin with ``BEGIN IMMEDIATE`` so a transaction takes the write lock up
front — a deferred transaction that reads first and writes later can fail with
"database is locked" without waiting, whatever the timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from orchestrator.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest migration; a test keeps it equal to Alembic's head. Bump with each revision.
HEAD_REVISION = "0005_host_locks"
# How long a SQLite writer waits for another writer (thread or process) to finish.
SQLITE_BUSY_TIMEOUT_S = 30.0
# Execution option read by the ``begin`` hook: how a SQLite transaction starts.
_BEGIN_OPTION = "orchestrator_sqlite_begin"
# PostgreSQL advisory lock key held while migrating ("orch" in ASCII).
_MIGRATION_LOCK = 0x6F726368


def mask_url(url: str | URL) -> str:
    """The URL as text with any password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unparseable database URL>"


class Database:
    """An engine plus session factories for one database URL."""

    def __init__(self, url: str) -> None:
        try:
            self._url = make_url(url)
        except exc.ArgumentError as err:
            raise StoreError(f"invalid database URL {mask_url(url)!r}: {err}") from None
        self.masked_url = mask_url(self._url)
        self.is_sqlite = self._url.get_backend_name() == "sqlite"
        try:
            self.engine = self._create_engine()
        except (exc.SQLAlchemyError, ImportError) as err:
            raise StoreError(f"cannot use database {self.masked_url}: {err}") from None
        # Writes take the SQLite write lock at BEGIN; reads do not need it.
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(
            self.engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"}),
            expire_on_commit=False,
        )

    def _create_engine(self) -> Engine:
        if not self.is_sqlite:
            return create_engine(self._url, pool_pre_ping=True)
        path = self._sqlite_path()
        if path is None:
            # One in-memory database shared by every thread (tests, dry runs).
            engine = create_engine(
                self._url,
                poolclass=StaticPool,
                connect_args={"check_same_thread": False},
            )
        else:
            self._prepare_sqlite_dir(path)
            engine = create_engine(self._url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine

    def _sqlite_path(self) -> Path | None:
        database = self._url.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            return None
        if self._url.query.get("uri") in ("true", "1") and database.startswith("file:"):
            database = database[len("file:") :].split("?", 1)[0]
        return Path(database).expanduser()

    def _prepare_sqlite_dir(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(
                f"cannot create the directory for SQLite database {self.masked_url}: {err}"
            ) from None

    def current_revision(self) -> str | None:
        """The schema revision recorded in the database (None: no schema yet)."""
        try:
            with self.engine.connect() as connection:
                row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        except exc.SQLAlchemyError:
            return None
        return None if row is None else str(row[0])

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision (no-op when current)."""
        # Every CLI command opens the store: skip importing and running Alembic
        # (about half a second) when the schema is already at head.
        if self.current_revision() == HEAD_REVISION:
            return
        from alembic import command  # noqa: PLC0415 - imported only when migrating

        config = alembic_config()
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    # Two processes starting at once (CLI + scheduler) must not both
                    # create the tables; SQLite serialises them with BEGIN IMMEDIATE.
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except exc.SQLAlchemyError as err:
            raise StoreError(self._describe(err, "cannot migrate")) from err
        log.debug("database %s is at the newest schema revision", self.masked_url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on error."""
        with self._run(self._writer) as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only transaction; on SQLite it does not take the write lock."""
        with self._run(self._reader) as session:
            yield session

    @contextmanager
    def _run(self, factory: sessionmaker[Session]) -> Iterator[Session]:
        try:
            with factory() as session, session.begin():
                yield session
        except exc.SQLAlchemyError as err:
            raise StoreError(self._describe(err, "database error on")) from err

    def _describe(self, err: exc.SQLAlchemyError, what: str) -> str:
        detail = err.orig if isinstance(err, exc.DBAPIError) and err.orig else err
        text = str(detail).strip().splitlines()[0] if str(detail).strip() else type(err).__name__
        return f"{what} {self.masked_url}: {text}"

    def dispose(self) -> None:
        """Close every pooled connection (at exit, or before a fork)."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.masked_url!r})"


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations shipped inside this package."""
    from alembic.config import Config  # noqa: PLC0415 - see upgrade()

    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        # WAL + NORMAL is durable against process crashes; only power loss can drop
        # the last commits, which is acceptable for run records.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")
