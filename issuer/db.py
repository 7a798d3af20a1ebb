"""Engines and transactions.

SQLite runs in WAL mode with ``synchronous=FULL``; every write transaction starts with ``BEGIN IMMEDIATE``
so two writers never deadlock on a lock upgrade. PostgreSQL needs nothing special here: its guarantees come
from unique constraints and ``ON CONFLICT`` in the queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

_IMMEDIATE = "odznaka_begin_immediate"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """Return an engine for ``url``; for SQLite the database's folder is created if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """The issuer's only way to a session: ``read()`` for queries, ``write()`` for one atomic change."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self, serialize_on: int | None = None) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        ``serialize_on`` (e.g. a provider id) makes transactions with the same value run one after another
        on PostgreSQL, as ``BEGIN IMMEDIATE`` already does for every writer on SQLite.
        """
        with self.engine.connect() as connection:
            connection = connection.execution_options(**{_IMMEDIATE: True})
            with Session(bind=connection, expire_on_commit=False) as session:
                try:
                    if serialize_on is not None and self.dialect == "postgresql":
                        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": serialize_on})
                    yield session
                    for callback in session.info.pop("before_commit", ()):
                        callback()
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
