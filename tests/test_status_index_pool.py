"""Status-list indexes drawn in constant time however full the list: random, never twice, and from a quarter
full onwards out of the list's shuffled pool of free indexes (a couple of indexed reads, never a scan of the
indexes already handed out)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, insert
from sqlmodel import Session, select

from issuer import repository
from issuer.context import IssuerContext
from issuer.models import Credential, Provider, StatusIndexPool, StatusList, table_of
from issuer.status_lists import POOL_CHUNK, SPARSE_FILL, allocate
from tests.conftest import ProviderFixture

LENGTH = 131_072


def provider_and_signer(ctx: IssuerContext, session: Session, slug: str) -> tuple[Provider, Any]:
    found = repository.provider_by_slug(session, slug)
    assert found is not None
    _, signer = ctx.signer_for(session, found, datetime.now(UTC))
    return found, signer


def store(session: Session, provider_id: int, achievement_id: str, slots: list[tuple[StatusList, int]]) -> None:
    """Credential rows for allocated indexes (all the sparse draws consult), minimal but valid."""
    now = datetime.now(UTC)
    rows = [
        {
            "id": f"c-{listed.number}-{index}",
            "provider_id": provider_id,
            "achievement_id": achievement_id,
            "kid": "k",
            "jwt": "x.y.z",
            "recipient_key": "0" * 64,
            "issued_at": now,
            "status_list_id": listed.id,
            "status_index": index,
        }
        for listed, index in slots
    ]
    session.execute(insert(table_of(Credential)), rows)


@contextmanager
def statements(ctx: IssuerContext) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", note)


def test_allocation_is_sparse_then_pooled_and_never_repeats(
    ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    achievement_id = achievement["id"].rsplit("/", 1)[-1]
    quarter = LENGTH // SPARSE_FILL
    sparse_count = quarter - 2_000
    every: list[int] = []
    with ctx.db.write() as session:
        found, signer = provider_and_signer(ctx, session, provider.slug)
        assert found.id is not None
        sparse = allocate(ctx, session, found, sparse_count, signer)
        store(session, found.id, achievement_id, sparse)
        every += [index for _, index in sparse]
        listed = session.exec(select(StatusList)).one()
        assert listed.pool_start is None and listed.allocated == sparse_count

        crossing = allocate(ctx, session, found, 5_000, signer)  # passes a quarter: the pool is built now
        every += [index for _, index in crossing]
        listed = session.exec(select(StatusList)).one()
        assert listed.pool_start == sparse_count, "the pool holds what was free when it was built"
        chunks = session.exec(select(StatusIndexPool).where(StatusIndexPool.status_list_id == listed.id)).all()
        assert len(chunks) == -(-(LENGTH - sparse_count) // POOL_CHUNK)

        rest = allocate(ctx, session, found, LENGTH - len(every), signer)
        every += [index for _, index in rest]
        assert {item.number for item, _ in rest} == {1}
    assert len(every) == LENGTH and set(every) == set(range(LENGTH)), "every index exactly once"
    pooled = [index for _, index in crossing]
    assert pooled != sorted(pooled) and pooled != sorted(pooled, reverse=True), "drawn in a random order"


def test_a_nearly_full_list_draws_without_reading_what_is_taken(
    ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    """At 95 % full one index costs a few indexed statements; none of them reads the credentials' indexes."""
    with ctx.db.write() as session:
        found, signer = provider_and_signer(ctx, session, provider.slug)
        allocate(ctx, session, found, int(LENGTH * 0.95), signer)
    with statements(ctx) as seen, ctx.db.write() as session:
        found, signer = provider_and_signer(ctx, session, provider.slug)
        slots = allocate(ctx, session, found, 1, signer)
    assert len(slots) == 1
    drawing = [statement for statement in seen if "status_index" in statement or "credential" in statement]
    assert not [statement for statement in drawing if "FROM credential" in statement], drawing
    assert sum("status_index_pool" in statement for statement in seen) == 1, seen


def test_lists_from_before_the_pool_get_one_when_they_fill(
    ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    """A list filled past a quarter by the earlier code (no pool yet) builds its pool from the credentials it
    holds, and goes on without repeating any of them."""
    achievement_id = achievement["id"].rsplit("/", 1)[-1]
    with ctx.db.write() as session:
        found, signer = provider_and_signer(ctx, session, provider.slug)
        assert found.id is not None
        first = allocate(ctx, session, found, 20_000, signer)
        store(session, found.id, achievement_id, first)
        listed = session.exec(select(StatusList)).one()
        listed.allocated = 40_000  # as far as the earlier code had got...
        extra = [(listed, index) for index in sorted(set(range(LENGTH)) - {i for _, i in first})[:20_000]]
        store(session, found.id, achievement_id, extra)  # ...with the credentials to show for it
        session.add(listed)
    with ctx.db.write() as session:
        found, signer = provider_and_signer(ctx, session, provider.slug)
        more = allocate(ctx, session, found, 1_000, signer)
        listed = session.exec(select(StatusList)).one()
    taken = {index for _, index in first} | {index for _, index in extra}
    drawn = {index for _, index in more}
    assert len(drawn) == 1_000 and not drawn & taken
    assert (listed.pool_start, listed.allocated) == (40_000, 41_000)
