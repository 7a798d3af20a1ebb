"""Bulk rows (credentials, their audit entries and e-mails, a cohort's rows) go through ``RowWriter``: COPY on
PostgreSQL, the driver's executemany on SQLite. Both must store exactly what an INSERT through SQLAlchemy would,
write nothing when the block fails, and never put a row's values into an error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, LargeBinary, MetaData, Table, Text, exc, func, select

from issuer.db import Database, RowWriter, insert_rows, make_engine, update_rows
from issuer.models import UTCDateTime, utcnow

metadata = MetaData()
people = Table(
    "row_writer_people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("joined", UTCDateTime, nullable=False),
    Column("notes", JSON, nullable=True),
    Column("sealed", LargeBinary, nullable=True),
    Column("tier", Integer, nullable=False, default=3),
    Column("added", UTCDateTime, nullable=False, default=utcnow),
)
JOINED = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    yield Database(engine)
    engine.dispose()


def person(name: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "joined": JOINED, "notes": {"city": "Lublin", "levels": [1, 2]}, "sealed": b"\x00\xff"} | more


def stored(db: Database) -> list[dict[str, Any]]:
    with db.read() as session:
        return [dict(row) for row in session.execute(select(people).order_by(people.c.id)).mappings()]


def test_rows_are_stored_as_an_insert_would_store_them(db: Database) -> None:
    before = datetime.now(UTC)
    with db.write() as session:
        insert_rows(session, people, [person("Łukasz Żółć"), person("Оксана Бондаренко", notes=None)])
    rows = stored(db)
    assert [row["name"] for row in rows] == ["Łukasz Żółć", "Оксана Бондаренко"]
    assert rows[0]["joined"] == JOINED
    assert rows[0]["notes"] == {"city": "Lublin", "levels": [1, 2]}
    assert rows[1]["notes"] is None
    assert rows[0]["sealed"] == b"\x00\xff"
    # Columns left out get their defaults: a constant, and a function called for the row.
    assert [row["tier"] for row in rows] == [3, 3]
    assert all(before - timedelta(seconds=1) <= row["added"] <= datetime.now(UTC) for row in rows)


def test_a_block_that_fails_writes_nothing_and_the_next_one_works(db: Database) -> None:
    with (
        pytest.raises(RuntimeError, match="stopped by the caller"),
        db.write() as session,
        RowWriter(session, people, ["name", "joined", "notes", "sealed"]) as writer,
    ):
        writer.write(person("Zofia Wiśniewska"))
        writer.write(person("Jędrzej Kołodziej"))
        raise RuntimeError("stopped by the caller")
    assert stored(db) == []
    with db.write() as session:
        insert_rows(session, people, [person("Zofia Wiśniewska")])
    assert [row["name"] for row in stored(db)] == ["Zofia Wiśniewska"]


def test_a_refused_row_rolls_back_the_block_and_its_values_stay_out_of_the_error(db: Database) -> None:
    with db.write() as session:
        insert_rows(session, people, [person("Małgorzata Dąbrowska")])
    with pytest.raises(exc.IntegrityError) as raised, db.write() as session:
        insert_rows(session, people, [person("Grzegorz Ślusarczyk"), person("Małgorzata Dąbrowska")])
    assert "Dąbrowska" not in str(raised.value) and "Ślusarczyk" not in str(raised.value)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(people)) == 1


def test_a_value_the_database_cannot_read_is_not_quoted_back(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite keeps a text given for an integer column as text: there is nothing to refuse")
    with pytest.raises(exc.DataError) as raised, db.write() as session:
        insert_rows(session, people, [person("Ścibor Łęcki", tier="Ścibor Łęcki")])
    assert "Ścibor" not in str(raised.value)
    assert "row_writer_people" in str(raised.value)
    assert stored(db) == []


def test_more_rows_than_one_statement_takes_are_all_stored_in_order(db: Database) -> None:
    # SQLite gets up to 500 rows to a statement: 1,234 rows take three, the last one short.
    names = [f"Uczestnik {number:04d}" for number in range(1234)]
    with db.write() as session:
        insert_rows(session, people, [person(name) for name in names])
    rows = stored(db)
    assert [row["name"] for row in rows] == names
    assert {row["joined"] for row in rows} == {JOINED}


def test_a_refused_row_in_a_later_statement_still_writes_nothing(db: Database) -> None:
    with db.write() as session:
        insert_rows(session, people, [person("Oksana Bondarenko")])
    batch = [person(f"Uczestnik {number:04d}") for number in range(700)] + [person("Oksana Bondarenko")]
    with pytest.raises(exc.IntegrityError), db.write() as session:
        insert_rows(session, people, batch)
    assert [row["name"] for row in stored(db)] == ["Oksana Bondarenko"]


def test_values_shared_by_rows_are_each_stored_as_given(db: Database) -> None:
    later = JOINED + timedelta(days=1)
    with db.write() as session, RowWriter(session, people, ["name", "joined", "notes", "sealed"]) as writer:
        writer.write(person("Anna", sealed=b"\x01"))
        writer.write(person("Zofia", sealed=b"\x02"))
        writer.write(person("Jan", joined=later, sealed=None))
        writer.write(person("Ewa", sealed=None))
    rows = stored(db)
    assert [row["sealed"] for row in rows] == [b"\x01", b"\x02", None, None]
    assert [row["joined"] for row in rows] == [JOINED, JOINED, later, JOINED]


def test_update_rows_gives_each_row_found_by_its_key_its_own_values(db: Database) -> None:
    with db.write() as session:
        insert_rows(session, people, [person(f"Uczestnik {number}", tier=1) for number in range(600)])
    changes = [
        {"name": f"Uczestnik {number}", "tier": number % 7, "notes": {"row": number}} for number in range(0, 600, 2)
    ]
    with db.write() as session:
        update_rows(session, people, ("name",), changes)
    rows = {row["name"]: row for row in stored(db)}
    for number in range(600):
        row = rows[f"Uczestnik {number}"]
        if number % 2:
            assert (row["tier"], row["notes"]) == (1, {"city": "Lublin", "levels": [1, 2]})
        else:
            assert (row["tier"], row["notes"]) == (number % 7, {"row": number})
