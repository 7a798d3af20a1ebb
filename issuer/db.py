"""Engines and transactions.

SQLite runs in WAL mode with ``synchronous=FULL``; every write transaction starts with ``BEGIN IMMEDIATE``
so two writers never deadlock on a lock upgrade. On PostgreSQL, writers that must not interleave take an
advisory lock (``serialize_on``) and unique constraints back up what must never happen twice. The SQLite file
and its folder are created private (0600 and 0700): the database holds the learners' names.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import orjson
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    CursorResult,
    Dialect,
    Engine,
    LargeBinary,
    MetaData,
    Result,
    Table,
    any_,
    bindparam,
    event,
    exc,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine
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


def one_of(session: Session, column: ColumnElement[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN values`` for a list that may be long (a cohort's batch): on PostgreSQL one array parameter
    (``= ANY``), so the statement reads the same whatever its length and is parsed once; elsewhere ``IN``."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(values))


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows (dicts with the same keys) in the session's transaction (see :class:`RowWriter`)."""
    if rows:
        with RowWriter(session, table, list(rows[0])) as writer:
            for row in rows:
                writer.write(row)


def _rows_per_statement(connection: Connection, columns: int) -> int:
    """How many rows of ``columns`` values one SQLite statement may carry: up to 500, within the library's limit on
    parameters (999 before SQLite 3.32)."""
    driver = connection.connection.driver_connection
    limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if driver is not None else 999
    return max(1, min(500, limit // columns))


def _bind(kind: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """How a value of this column type is handed to the driver (``None``: as it is). Outside JSON columns (whose
    dicts may change between rows), the very value converted last is not converted again: rows written together
    often share one, say their issue date, or an empty column. (A bytearray changed between two rows would be
    written as first converted: the writers here hand over bytes.)"""
    if isinstance(kind, JSON):
        # As JSON text (which COPY reads into the column on PostgreSQL), written by orjson.
        return _json_text
    if isinstance(kind, LargeBinary):
        return None  # bytes as they are: both drivers take them for a blob (wrapped, psycopg's COPY would not)
    process = kind.dialect_impl(dialect).bind_processor(dialect)
    return _remembering(process) if process is not None else None


def _remembering(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    given: Any = _NOTHING_YET
    converted: Any = None

    def convert(value: Any) -> Any:
        nonlocal given, converted
        if value is not given:
            given, converted = value, process(value)
        return converted

    return convert


_NOTHING_YET = object()


def _json_text(value: Any) -> str | None:
    """The JSON text of a value for a JSON column, written by orjson (a value it refuses, say a date, is left to
    the standard library, which refuses it too). The rows written this way (a cohort's rows and outcomes, audit
    details) hold text, numbers, lists and maps; NaN, which PostgreSQL's json type would refuse, would be written
    as null."""
    if value is None:
        return None
    try:
        return orjson.dumps(value, option=_JSON_COLUMN).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(value)


_JSON_COLUMN = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def update_rows(session: Session, table: Table, key: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """Give many rows, each found by its ``key`` columns, the values of their other columns (dicts with the
    same keys), in the session's transaction: the new values go into a temporary table (see :class:`RowWriter`)
    and one ``UPDATE … FROM`` applies them. An UPDATE per row would cost a round trip each on PostgreSQL, and on
    SQLite a wait for Python's lock each (an SQLite older than 3.33, which has no ``UPDATE … FROM``, gets them)."""
    if not rows:
        return
    names = list(rows[0])
    changed = [name for name in names if name not in key]
    connection = session.connection()
    if connection.dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 33):
        statement = (
            update(table)
            .where(*(table.c[name] == bindparam(f"key_{name}") for name in key))
            .values({name: bindparam(f"new_{name}") for name in changed})
        )
        connection.execute(
            statement,
            [{(f"key_{name}" if name in key else f"new_{name}"): row[name] for name in names} for row in rows],
        )
        return
    staged = Table(
        f"staged_{table.name}",
        MetaData(),
        *(Column(name, table.c[name].type) for name in names),
        prefixes=["TEMPORARY"],
    )
    staged.create(connection)
    insert_rows(session, staged, rows)
    connection.execute(
        update(table)
        .where(*(table.c[name] == staged.c[name] for name in key))
        .values({name: staged.c[name] for name in changed})
    )
    staged.drop(connection)


class RowWriter:
    """Rows for one table (dicts with the keys ``names``), written as they are made, in the session's transaction.

    Each row's values go through their columns' own conversions (as SQLAlchemy would bind them), then: on
    PostgreSQL they stream through ``COPY``, so the server stores each row while the caller makes the next (say,
    signs the next credential), where psycopg's executemany would send every row as a statement of its own; on
    SQLite they are gathered and inserted by the driver's own executemany, which loops in C, when the block ends.
    No other statement may use the session inside the block; if the block raises, nothing is written."""

    def __init__(self, session: Session, table: Table, names: Sequence[str]) -> None:
        self._connection = session.connection()
        dialect = self._connection.dialect
        self._table = table
        self._names = list(names)
        # Columns left out get their Python-side defaults, as an INSERT through SQLAlchemy would give them.
        defaults = [
            column
            for column in table.columns
            if column.name not in self._names and column.default is not None and not column.default.is_sequence
        ]
        self._filled = [
            column.default.arg if column.default.is_scalar else column.default.arg(None)  # type: ignore[union-attr]
            for column in defaults
        ]
        columns = self._names + [column.name for column in defaults]
        # Only the columns whose values need converting are visited per row.
        processors = [_bind(table.c[name].type, dialect) for name in columns]
        self._converting = [(position, process) for position, process in enumerate(processors) if process]
        preparer = dialect.identifier_preparer
        listed = f"{preparer.format_table(table)} ({', '.join(preparer.quote(name) for name in columns)})"
        if dialect.name == "postgresql":
            self._statement = f"COPY {listed} FROM STDIN"
        else:
            assert dialect.paramstyle == "qmark"
            # Names quoted by the dialect, from the table's own columns; the values go as parameters.
            self._statement = f"INSERT INTO {listed} VALUES "  # noqa: S608
            self._row_marks = f"({', '.join('?' * len(columns))})"
            self._rows_per_statement = _rows_per_statement(self._connection, len(columns))
        self._gathered: list[tuple[Any, ...]] = []
        self._copying: Any = None
        self._copy: Any = None

    def __enter__(self) -> RowWriter:
        if self._connection.dialect.name == "postgresql":
            self._start_copy()
        return self

    def write(self, row: Mapping[str, Any]) -> None:
        values = [row[name] for name in self._names]
        values += self._filled
        for position, process in self._converting:
            values[position] = process(values[position])
        bound = tuple(values)
        if self._copy is None:
            self._gathered.append(bound)
            return
        try:
            self._copy.write_row(bound)
        except Exception as error:
            self._reraise(error)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _trace: object) -> None:
        if self._copying is None:
            if kind is None:
                self._insert_gathered()
            return
        self._copy = None
        try:
            if kind is None:
                self._copying.__exit__(None, None, None)
            else:
                # The server is told only that the writer stopped, never why: the reason may name a learner's value.
                self._copying.__exit__(RuntimeError, RuntimeError("the rows' writer stopped"), None)
        except Exception as failure:
            if kind is None:
                self._reraise(failure)
        finally:
            self._cursor.close()

    def _insert_gathered(self) -> None:
        """SQLite: the gathered rows, many to a statement. The driver lets go of Python's lock while SQLite runs a
        statement and takes it back after; one statement per row would take it back a thousand times, each time
        waiting for whatever else this process runs (say, the thread signing the next batch)."""
        rows, size = self._gathered, self._rows_per_statement
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            marks = ",".join([self._row_marks] * len(chunk))
            self._connection.exec_driver_sql(self._statement + marks, tuple(value for row in chunk for value in row))

    def _start_copy(self) -> None:
        import psycopg

        driver = self._connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        self._cursor = driver.cursor()
        try:
            self._copying = self._cursor.copy(self._statement)
            self._copy = self._copying.__enter__()
        except psycopg.Error as error:
            self._cursor.close()
            self._copying = None
            self._reraise(error)

    def _reraise(self, error: Exception) -> NoReturn:
        import psycopg

        if not isinstance(error, psycopg.Error):
            raise error
        # The server's detail and context quote the row it stopped at (a learner's name, say), and so does the
        # message of a data error (class 22: "invalid input syntax …: <value>"): only what names the problem,
        # never a value, goes into the exception and so into a log.
        primary = error.diag.message_primary or ""
        told = f"{type(error).__name__} ({error.sqlstate}) writing rows into {self._table.name}"
        if primary and not (error.sqlstate or "").startswith("22"):
            told += f": {primary}"
        raise exc.DBAPIError.instance(
            self._statement,
            None,
            type(error)(told),
            psycopg.Error,
            hide_parameters=True,
            dialect=self._connection.dialect,
        ) from None
