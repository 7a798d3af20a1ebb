"""How often each credential was opened from its e-mail, shared to LinkedIn, or opened for checking (its QR code
or short link): counts per credential and event, never who, when, or from where."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from issuer.db import UNAVAILABLE, changed_rows
from issuer.models import CredentialEvent, table_of

if TYPE_CHECKING:
    from issuer.context import IssuerContext

EVENTS = ("opened", "linkedin", "verified")
log = logging.getLogger("issuer.events")


def count(ctx: IssuerContext, credential_id: str, event: str) -> None:
    """Add one to the count (run after the answer went out: a busy database never slows a page)."""
    if event not in EVENTS:
        return
    table = table_of(CredentialEvent)
    try:
        for _ in range(2):
            with ctx.db.write() as session:
                changed = changed_rows(
                    session.execute(
                        update(table)
                        .where(table.c.credential_id == credential_id, table.c.event == event)
                        .values(count=table.c.count + 1)
                    )
                )
                if changed:
                    return
                try:
                    with session.begin_nested():
                        session.add(CredentialEvent(credential_id=credential_id, event=event, count=1))
                    return
                except IntegrityError:
                    continue  # another request added the row first: add to it
    except (*UNAVAILABLE, IntegrityError) as exc:
        log.warning("event not counted: %s", type(exc).__name__)


def totals(ctx: IssuerContext, credential_ids: list[str] | None = None) -> dict[str, dict[str, int]]:
    """``{credential id: {event: count}}``."""
    query = select(CredentialEvent)
    if credential_ids is not None:
        query = query.where(table_of(CredentialEvent).c.credential_id.in_(credential_ids))
    found: dict[str, dict[str, int]] = {}
    with ctx.db.read() as session:
        for row in session.scalars(query):
            found.setdefault(row.credential_id, {})[row.event] = row.count
    return found
