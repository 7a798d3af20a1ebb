"""Engines and transactions.

SQLite runs in WAL mode with ``synchronous=FULL``; every write transaction starts with ``BEGIN IMMEDIATE``
so two writers never deadlock on a lock upgrade. On PostgreSQL, writers that must not interleave take an
advisory lock (``serialize_on``) and unique constraints back up what must never happen twice. The SQLite file
and its folder are created private (0600 and 0700): the database holds the learners' names.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import CursorResult, Engine, Result, event, exc, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from issuer.audit import AuditSeal

_IMMEDIATE = "odznaka_begin_immediate"
log = logging.getLogger("issuer.db")


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
            _private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    # hide_parameters: an error message must never quote a row's values (learners' names) into a log.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


def _private_file(path: Path) -> None:
    """Create the database file (and its folder) readable by this user alone; SQLite gives its WAL and
    shared-memory files the same mode as the database file."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, exc.DisconnectionError)
"""Errors that mean the database cannot be reached or used right now (lost connection, locked, pool exhausted):
worth a retry, never a sign that the request was wrong."""


class Database:
    """The issuer's only way to a session: ``read()`` for queries, ``write()`` for one atomic change."""

    def __init__(self, engine: Engine, audit_seal: AuditSeal | None = None) -> None:
        self.engine = engine
        self.audit_seal = audit_seal
        """Keys the audit chain; without it a transaction that appends to the audit log is refused."""

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
                session.info["audit_seal"] = self.audit_seal
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
                for callback in session.info.pop("after_commit", ()):
                    try:
                        callback()
                    except Exception as exc:  # committed is committed: the caller must not be told otherwise
                        log.error("after-commit step failed: %s", type(exc).__name__)


def changed_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (the conditional claims of leases and codes count on it)."""
    assert isinstance(result, CursorResult)
    return result.rowcount
